#!/bin/bash
# Device side (GPU host, after `. .gpu/assemble.sh`): SD-1.5-shaped UNet speed, our engine on the export as built,
# optimised without our attention fusion (ONNX Runtime's optimizer only) and optimised with it (MultiHeadAttention,
# packed QKV/KV), at 1 and 4 images, beside PyTorch on the same card; plus each variant's output difference from
# the fp32 export on fixed inputs (tools/sd-optimize/compare_unet.py). Needs ../shared/sdscale copied into
# .sdscale/ (carried) and the CLI at $GPU_APP/cli/DiffusionGallery.Cli.
#   bash scripts/gpu/sd-bench.sh [DEADLINE_S]      → $OUT/sd-results.json (with a "summary"), $OUT/sd-logs.txt
# With DEADLINE_S 560 (one device call each): call 1 builds (~2 min) and optimises (~3-5 min, both variants at
# once), call 2 runs the six benches and the comparison, call 3 PyTorch and the rest.
# Resumable on one warm machine: finished steps are marked in $SDRES (/tmp/sdres); a step that would not fit before
# the deadline is left for the next call. Order: build, both optimisations (in parallel), the 1-image benches,
# the 4-image benches, the output comparison, (with SD_BENCH_NOPACK=1: fused attention without packing, 2 benches),
# PyTorch, then the rest.
deadline=$((SECONDS + ${1:-420}))
R=${SDRES:-/tmp/sdres}; M=${SDM:-/tmp/sdm}; OUT=${OUT:-/tmp/out}
mkdir -p "$R" "$OUT"
export PYTHONUNBUFFERED=1
cli="$GPU_APP/cli/DiffusionGallery.Cli"
P="a photo of an astronaut riding a horse on the moon"
step() { # NAME MAX_SECONDS COMMAND...
  local name=$1 max=$2; shift 2
  [[ -f $R/$name.done ]] && return 0
  if (( deadline - SECONDS < max )); then echo "=== $name deferred ($((deadline - SECONDS)) s left)"; return 0; fi
  echo "=== $name start $(date +%T)"; local t0=$SECONDS
  timeout "$max" "$@" > "$R/$name.log" 2>&1; local rc=$?
  echo "{\"rc\": $rc, \"seconds\": $((SECONDS - t0))}" > "$R/$name.done"
  echo "=== $name rc=$rc in $((SECONDS - t0)) s"; tail -c 1500 "$R/$name.log" | tr '\r' '\n' | grep -v '^step ' | tail -12
}
bench() { # NAME MODEL BATCH [extra CLI args]
  local name=$1 model=$2 batch=$3; shift 3
  step "$name" 150 "$cli" bench --models $M --model "$model" --prompt "$P" --provider cuda --steps 25 --cfg 7 -W 512 -H 512 \
    --batch "$batch" --runs 5 --warmup 2 --json "$R/$name.json" "$@"
}
step build 300 python3 .sdscale/build_sd15.py --root $M --fp16 --device cuda
opt=tools/sd-optimize/optimize_sd.py
# the two optimisations are single-threaded Python (~2-3 min each on the 3.4 GB UNet): run them side by side
step optimize_both 360 bash -c "python3 $opt --src $M/sd15-fp32 --dst $M/sd15-opt --json $R/optimize.json > $R/optimize_attn.log 2>&1 & a=\$!
  python3 $opt --src $M/sd15-fp32 --dst $M/sd15-opt-noattn --no-attention-fusion --json $R/optimize_noattn.json > $R/optimize_noattn.log 2>&1; b=\$?
  wait \$a; a=\$?; echo \"attention fusion rc=\$a, without rc=\$b\"; exit \$((a | b))"
bench opt_b1 sd15-opt 1
bench noattn_b1 sd15-opt-noattn 1
bench fp16_b1 sd15-fp16 1
bench opt_b4 sd15-opt 4
bench noattn_b4 sd15-opt-noattn 4
bench fp16_b4 sd15-fp16 4
# fp16 variants, and the fp32 graph with our fused attention alone (separate Q/K/V: the packed layouts are meant for
# the fp16 kernels, and "opt" has them), against the fp32 export
step compare 300 bash -c "python3 tools/sd-optimize/fuse_attention.py $M/sd15-fp32/unet/model.onnx $M/unet-attn-fp32/model.onnx --no-pack --json $R/fuse_fp32.json
  python3 tools/sd-optimize/compare_unet.py --ref $M/sd15-fp32/unet/model.onnx --cand attn_fp32=$M/unet-attn-fp32/model.onnx \
    --cand fp16=$M/sd15-fp16/unet/model.onnx --cand opt_noattn=$M/sd15-opt-noattn/unet/model.onnx \
    --cand opt=$M/sd15-opt/unet/model.onnx --json $R/compare.json"
if [[ -n ${SD_BENCH_NOPACK:-} ]]; then  # optional: fused attention with separate Q/K/V instead of packed QKV/KV
  step optimize_nopack 300 python3 $opt --src $M/sd15-fp32 --dst $M/sd15-opt-nopack --no-pack --json $R/optimize_nopack.json
  bench nopack_b1 sd15-opt-nopack 1
  bench nopack_b4 sd15-opt-nopack 4
fi
step torch 150 python3 .sdscale/bench_torch.py --state $M/unet_state.pt --json $R/torch.json --iters 20
step torch_compile 240 python3 .sdscale/bench_torch.py --state $M/unet_state.pt --json $R/torch_compile.json --compile --iters 20
step gen_opt 120 "$cli" generate --models $M --model sd15-opt --prompt "$P" --steps 25 --cfg 7 -W 512 -H 512 --provider cuda --out $R/gen_opt
bench opt_b1_exhaustive sd15-opt 1 --cudnn-conv-algo-search EXHAUSTIVE
python3 scripts/gpu/collect.py "$R" "$OUT" sd
