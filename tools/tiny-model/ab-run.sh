#!/usr/bin/env bash
# One device call: two continues of the committed model (checkpoint/tiny-shapes.pt) side by side on one GPU, each
# exported and scored by the committed checker at 128² (checker.py evaluate: the same sets, captions and seeds as
# docs/adherence.json, so the committed model's own figures are the third column).
#   run (from the repo root): bash tools/tiny-model/ab-run.sh MINUTES "COMMON" "A" "B"
#     MINUTES: UNet training time of each arm; COMMON: train.py options for both; A / B: each arm's own.
#   e.g. bash tools/tiny-model/ab-run.sh 3 "--scenes 60000 --lr 5e-4" "--text-attention causal" "--text-attention bidirectional"
#   SMOKE=1: CPU-sized (seconds of training, a few captions) to check the script.
# $OUT: a.json, b.json (adherence reports), logs.txt. The checkpoints must travel with the call (scripts/gpu/slim-tree.sh
# off, or carry tools/tiny-model/checkpoint), in every call until this one has ended: a later call without them removes
# them on the device.
set -uo pipefail
cd "$(dirname "$0")"
MIN=$1; read -r -a COMMON <<< "${2:-}"; read -r -a ARM_A <<< "${3:-}"; read -r -a ARM_B <<< "${4:-}"
OUT=${OUT:-/tmp/out}; RUN=${RUN:-/tmp/ab}
mkdir -p "$OUT" "$RUN"
LOG="$OUT/logs.txt"
T0=$(date +%s)
stamp() { echo "[$(( $(date +%s) - T0 )) s] $*" | tee -a "$LOG"; }
DEV=cpu; python3 -c "import torch,sys; sys.exit(0 if torch.cuda.is_available() else 1)" 2>/dev/null && DEV=cuda
{ nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null || echo "no GPU"; } >> "$LOG" 2>&1
if [ "${SMOKE:-0}" = 1 ]; then
  EXTRA=(--smoke --processes 1); EVAL=(--sizes 64 --n 6 --n-held 3 --n-vae 6 --batch 6 --steps 3); TRAIN_T=900; EVAL_T=600
else
  EXTRA=(--max-minutes 0 --unet-minutes "$MIN" --processes 8); EVAL=(--sizes 128); TRAIN_T=$(python3 -c "print(int($MIN*60+240))"); EVAL_T=200
fi
stamp "start: $MIN min each on $DEV; common: ${COMMON[*]}; A: ${ARM_A[*]}; B: ${ARM_B[*]}"

arm() {  # name, options...
  local name=$1; shift
  timeout "$TRAIN_T" python3 train.py --out "$RUN/$name" --resume checkpoint/tiny-shapes.pt "${EXTRA[@]}" "${COMMON[@]}" "$@" \
    > "$RUN/$name.train.log" 2>&1
  echo "train exit $?" >> "$RUN/$name.train.log"
  # (two exports side by side are slow: where the limit struck after model.pt was written, the scoring needs only the
  # model folder's diffusion_gallery.json and tokenizer, which the committed model's serve: the vocabulary is the same)
  [ -f "$RUN/$name.work/model.pt" ] && [ ! -f "$RUN/$name/diffusion_gallery.json" ] && cp ../../models/tiny-shapes/diffusion_gallery.json "$RUN/$name/"
  timeout "$EVAL_T" python3 checker.py evaluate --model "$RUN/$name" --checkpoint "$RUN/$name.work/model.pt" \
    --checker checkpoint/checker.pt --device $DEV --out "$OUT/$name.json" "${EVAL[@]}" > "$RUN/$name.eval.log" 2>&1
  echo "evaluate exit $?" >> "$RUN/$name.eval.log"
}
arm a "${ARM_A[@]}" &
arm b "${ARM_B[@]}" &
wait
stamp "both arms done"
for name in a b; do
  if [ $name = a ]; then echo "== a: ${ARM_A[*]}" >> "$LOG"; else echo "== b: ${ARM_B[*]}" >> "$LOG"; fi
  grep -v -i "warn\|_C._jit\|^  " "$RUN/$name.train.log" | tail -25 >> "$LOG"
  grep -v -i "warn" "$RUN/$name.eval.log" | tail -30 >> "$LOG"
done
python3 - "$OUT" >> "$LOG" 2>&1 <<'EOF'
import json, sys, os
for name in ("a", "b"):
    p = os.path.join(sys.argv[1], name + ".json")
    if os.path.exists(p):
        t = json.load(open(p))["table"]
        print(name, json.dumps(t))
EOF
stamp "end"
