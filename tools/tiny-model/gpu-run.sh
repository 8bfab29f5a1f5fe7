#!/usr/bin/env bash
# One device call (v2): train the bundled model from nothing, train the checker beside it, export, score, draw.
#   run (from the repo root): bash tools/tiny-model/gpu-run.sh [--smoke] [train.py options]
#   --smoke: every step shrunk to seconds (CPU is fine): proves the script end to end.
# Budget on one H100: train.py <= 7.3 min (render, VAE, UNet, export), checker in parallel (<= 3 min), evaluate
# 128 + 256 (<= 100 s), two grids; the whole <= 9.5 min. Every step is under `timeout`, so something comes back.
# $OUT (8 files at most, each <= 15 MiB): bundle.tar.partNN (model folder, model.pt, export_check.json, checker.pt),
# adherence.json, logs.txt, grid128.png, grid256.png. Back here: cat bundle.tar.part* | tar -x -C out
set -uo pipefail
cd "$(dirname "$0")"
ARGS_ALL=$(printf "%q " "$@")
SMOKE=0; CONTINUE=0
if [ "${1:-}" = "--smoke" ]; then SMOKE=1; shift; fi
# --continue: start from the committed model (checkpoint/tiny-shapes.pt) instead of nothing: fine-tune its VAE decoder
# (frozen encoder, so the latent space stays) in one process while another continues its text encoder + UNet; the
# committed checker scores the result (no checker training). Extra train.py options go to the UNet process.
if [ "${1:-}" = "--continue" ]; then CONTINUE=1; shift; fi
# --full: the whole model in one command, two stages: (1) train.py from nothing with its defaults (the v2 recipe,
# `--base-args "..."` adds options; no ONNX export), then (2) --continue from stage 1's model.pt instead of the committed
# checkpoint (decoder fine-tuning beside the UNet; the options after it go to the UNet process). The committed checker
# scores it. Takes longer than one device call: start it detached and collect it in a second call (see README).
FULL=0; BASE_EXTRA=()
if [ "${1:-}" = "--full" ]; then FULL=1; CONTINUE=1; shift; fi
if [ "${1:-}" = "--base-args" ]; then read -r -a BASE_EXTRA <<< "${2:-}"; shift 2; fi
# --decoder-args "...": with --continue, extra train.py options for the decoder fine-tuning process (after DEC_ARGS, so
# they win), e.g. --decoder-args "--vae-minutes 6.5 --vae-bucket-shares 0.7,0.1,0.1,0.1"
DEC_EXTRA=()
if [ "${1:-}" = "--decoder-args" ]; then read -r -a DEC_EXTRA <<< "${2:-}"; shift 2; fi
OUT=${OUT:-/tmp/out}; RUN=${RUN:-/tmp/run}
mkdir -p "$OUT" "$RUN"
LOG="$OUT/logs.txt"
T0=$(date +%s)
stamp() { echo "[$(( $(date +%s) - T0 )) s] $*" | tee -a "$LOG"; }
left() { echo $(( ${BUDGET} - ($(date +%s) - T0) )); }

DEC_ARGS=(--vae-minutes 4 --vae-lr 2e-4 --vae-steps 100000 --scenes 60000 --processes 4)
if [ $SMOKE = 1 ]; then
  BUDGET=3000; TRAIN_T=1500; CHECK_T=900; EVAL_MAX=900; BASE_T=900
  TRAIN_ARGS=(--smoke --processes 2); DEC_ARGS=(--smoke --processes 1)
  CHECK_ARGS=(--n 300 --n-val 100 --epochs 1 --processes 1 --batch 32)
  EVAL_ARGS=(--sizes 64,128 --n 6 --n-held 3 --n-vae 6 --batch 6 --steps 3)
  GRID_ARGS=(--seeds 1 --steps 3); G1=64; G2=128
else
  BUDGET=565; TRAIN_T=450; CHECK_T=240; EVAL_MAX=150
  [ $CONTINUE = 1 ] && { BUDGET=585; TRAIN_T=495; }  # no checker training: train.py may take longer (--max-minutes <= 6)
  [ $FULL = 1 ] && { BUDGET=1035; BASE_T=450; }       # stage 1 <= 450 s (v2: 6.9 min with export), then as --continue
  TRAIN_ARGS=()
  CHECK_ARGS=()
  EVAL_ARGS=(--sizes 128,256)
  GRID_ARGS=(--seeds 4); G1=128; G2=256
fi
DEV=cpu; python3 -c "import torch,sys; sys.exit(0 if torch.cuda.is_available() else 1)" 2>/dev/null && DEV=cuda
{ nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null || echo "no GPU"; python3 -c "import torch; print('torch', torch.__version__)"; } >> "$LOG" 2>&1
stamp "start (smoke=$SMOKE, continue=$CONTINUE, full=$FULL, device $DEV): gpu-run.sh ${ARGS_ALL}"

RESUME=checkpoint/tiny-shapes.pt
if [ $FULL = 1 ]; then
  # 0 (full): stage 1 from nothing, alone on the GPU; its model.pt is what stage 2 continues
  timeout $BASE_T python3 train.py --out "$RUN/base" --no-export "${TRAIN_ARGS[@]}" ${BASE_EXTRA[@]+"${BASE_EXTRA[@]}"} \
    > "$RUN/base.log" 2>&1
  stamp "stage 1 (train.py from nothing) exit $?"
  grep -v -i "warn\|_C._jit\|^  " "$RUN/base.log" | sed 's/^/[stage 1] /' >> "$LOG"
  RESUME="$RUN/base.work/model.pt"
  [ -f "$RESUME" ] || { stamp "stage 1 wrote no model.pt: stopping"; exit 1; }
fi

if [ $CONTINUE = 0 ]; then
  # 1. the checker, in the background on the same GPU (its own renders and training, <= CHECK_T s)
  ( timeout $CHECK_T python3 checker.py train --device $DEV --out "$RUN/checker.pt" "${CHECK_ARGS[@]}" > "$RUN/checker.log" 2>&1
    echo "checker.py train exit $?" >> "$RUN/checker.log" ) &
  CHECKER_PID=$!
  # 2. the model: render, VAE, text encoder + UNet, ONNX export, model.pt
  timeout $TRAIN_T python3 train.py --out "$RUN/tiny-shapes" "${TRAIN_ARGS[@]}" "$@" > "$RUN/train.log" 2>&1
else
  # 1-2 (continue): from the committed one-file checkpoint; decoder fine-tuning beside the UNet's
  cp checkpoint/checker.pt "$RUN/checker.pt"; echo "committed checker (checkpoint/checker.pt)" > "$RUN/checker.log"
  ( timeout $TRAIN_T python3 train.py --out "$RUN/decoder" --resume "$RESUME" --decoder-only "${DEC_ARGS[@]}" ${DEC_EXTRA[@]+"${DEC_EXTRA[@]}"} \
      > "$RUN/decoder.log" 2>&1; echo "decoder exit $?" >> "$RUN/decoder.log" ) &
  CHECKER_PID=$!
  timeout $TRAIN_T python3 train.py --out "$RUN/tiny-shapes" --resume "$RESUME" --decoder-from "$RUN/decoder.work/vae.pt" \
    "${TRAIN_ARGS[@]}" "$@" > "$RUN/train.log" 2>&1
fi
stamp "train.py exit $? ($(grep -c . "$RUN/train.log") log lines)"
grep -v -i "warn\|_C._jit\|^  " "$RUN/train.log" >> "$LOG"
[ -f "$RUN/decoder.log" ] && grep -v -i "warn\|_C._jit\|^  " "$RUN/decoder.log" >> "$LOG"

wait $CHECKER_PID
cat "$RUN/checker.log" | grep -v "checker step" >> "$LOG"; grep "checker step" "$RUN/checker.log" | tail -2 >> "$LOG"
stamp "checker done"

# 3. evaluate at both sizes (writes adherence.json as it goes)
if [ -f "$RUN/tiny-shapes.work/model.pt" ] && [ -f "$RUN/checker.pt" ]; then
  T=$(( $(left) - 45 )); [ $T -gt $EVAL_MAX ] && T=$EVAL_MAX; [ $T -lt 10 ] && T=10
  timeout $T python3 checker.py evaluate --model "$RUN/tiny-shapes" --checkpoint "$RUN/tiny-shapes.work/model.pt" \
    --checker "$RUN/checker.pt" --device $DEV --out "$OUT/adherence.json" "${EVAL_ARGS[@]}" > "$RUN/evaluate.log" 2>&1
  stamp "evaluate exit $? (limit $T s)"
  cat "$RUN/evaluate.log" | grep -v -i "warn" >> "$LOG"
  # 4. sample grids
  for S in $G1 $G2; do
    T=$(( $(left) - 20 )); [ $T -gt 40 ] && T=40; [ $T -lt 5 ] && T=5
    timeout $T python3 grid.py --model "$RUN/tiny-shapes" --checkpoint "$RUN/tiny-shapes.work/model.pt" --device $DEV \
      --size $S --out "$RUN/grid$S.png" "${GRID_ARGS[@]}" >> "$LOG" 2>&1
    stamp "grid $S exit $?"
  done
else
  stamp "no model.pt or no checker.pt: evaluation skipped"
fi

# (full) one training.json for both stages: stage 2's, with stage 1's as "base" and the command
if [ $FULL = 1 ] && [ -f "$RUN/tiny-shapes/training.json" ]; then
  python3 - "$RUN/tiny-shapes/training.json" "$RUN/base/training.json" "bash tools/tiny-model/gpu-run.sh ${ARGS_ALL}" <<'PY'
import json, sys
final, base = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
final["base"], final["command"] = base, sys.argv[3]
final["train_minutes_both_stages"] = base.get("train_minutes", 0) + final.get("train_minutes", 0)
json.dump(final, open(sys.argv[1], "w"), indent=2)
print(f"both stages: {final['train_minutes_both_stages']:.1f} min of training")
PY
  stamp "training.json: stage 1 as base"
fi

# 5. pack: one tar (model folder, model.pt, export check, checker), in 15 MB parts
cp "$RUN/tiny-shapes/training.json" "$RUN/training.json" 2>/dev/null
( cd "$RUN" && tar -cf - --ignore-failed-read tiny-shapes tiny-shapes.work/model.pt tiny-shapes.work/export_check.json \
    checker.pt training.json train.log checker.log decoder.log evaluate.log grid*.png 2>/dev/null ) | split -b 15M -d - "$OUT/bundle.tar.part"
PARTS=$(ls "$OUT"/bundle.tar.part* | wc -l)
for S in $G1 $G2; do  # the grids also on their own while the 8-file limit allows (they are in the tar anyway)
  [ -f "$RUN/grid$S.png" ] && [ $(( PARTS + 3 )) -le 8 ] && cp "$RUN/grid$S.png" "$OUT/grid$S.png" && PARTS=$(( PARTS + 1 ))
done
[ -f "$OUT/adherence.json" ] || echo '{"error": "evaluation did not run; see logs.txt"}' > "$OUT/adherence.json"
stamp "packed: $(ls "$OUT" | tr '\n' ' ')"
ls -l "$OUT" >> "$LOG"
# the headline figures on stdout too (the device call shows the tail of it)
grep -h "validation accuracy\|vae round trip\|trained in\|unet done\|vae done\|rendered" "$LOG" | cut -c1-300
python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(json.dumps(d.get('table', d)))" "$OUT/adherence.json" 2>/dev/null
