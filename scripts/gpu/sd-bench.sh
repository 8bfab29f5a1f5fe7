#!/bin/bash
# Device side (GPU host, after `. .gpu/assemble.sh`): SD-1.5-shaped UNet speed, our engine before and after the
# export optimisation (tools/sd-optimize), beside PyTorch on the same card. Needs ../shared/sdscale copied into
# .sdscale/ (carried) and the CLI at $GPU_APP/cli/DiffusionGallery.Cli.
#   bash scripts/gpu/sd-bench.sh [DEADLINE_S]      → $OUT/sd-results.json, $OUT/sd-logs.txt
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
step optimize 240 python3 tools/sd-optimize/optimize_sd.py --src $M/sd15-fp32 --dst $M/sd15-opt --json $R/optimize.json
bench opt_b1 sd15-opt 1
bench fp16_b1 sd15-fp16 1
bench opt_b4 sd15-opt 4
bench fp16_b4 sd15-fp16 4
bench opt_b1_exhaustive sd15-opt 1 --cudnn-conv-algo-search EXHAUSTIVE
step torch 150 python3 .sdscale/bench_torch.py --state $M/unet_state.pt --json $R/torch.json --iters 20
step torch_compile 240 python3 .sdscale/bench_torch.py --state $M/unet_state.pt --json $R/torch_compile.json --compile --iters 20
step gen_opt 120 "$cli" generate --models $M --model sd15-opt --prompt "$P" --steps 25 --cfg 7 -W 512 -H 512 --provider cuda --out $R/gen_opt
python3 - "$R" "$OUT" <<'PY'
import glob, json, os, sys
r, out = sys.argv[1], sys.argv[2]
res = {}
for f in sorted(glob.glob(f"{r}/*.json")):
    try: res[os.path.basename(f)[:-5]] = json.load(open(f))
    except Exception as e: res[os.path.basename(f)] = str(e)
for f in sorted(glob.glob(f"{r}/*.done")):
    try: res.setdefault("steps", {})[os.path.basename(f)[:-5]] = json.load(open(f))
    except Exception: pass
json.dump(res, open(f"{out}/sd-results.json", "w"), indent=2)
with open(f"{out}/sd-logs.txt", "w") as o:
    for f in sorted(glob.glob(f"{r}/*.log")):
        text = open(f, errors="replace").read().replace("\r", "\n")
        o.write(f"===== {os.path.basename(f)}\n" + "\n".join(l for l in text.splitlines() if not l.startswith("step "))[-20000:] + "\n")
PY
