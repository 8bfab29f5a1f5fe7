#!/usr/bin/env bash
# One device call: train the bundled model from nothing, score it, pack what comes back (under $OUT).
#   run: bash tools/tiny-model/gpu-run.sh [train.py options]
# Back here: cat $OUT/work.tar.part* | tar x, then export.py --work ... as README.md lists.
set -uo pipefail
cd "$(dirname "$0")"
OUT=${OUT:-/tmp/out}; RUN=${RUN:-/tmp/run}
mkdir -p "$OUT" "$RUN"
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader > "$OUT/train.log" 2>&1
start=$(date +%s)
python3 train.py --out "$RUN/tiny-shapes" "$@" >> "$OUT/train.log" 2>&1
echo "train.py exit $? after $(( $(date +%s) - start )) s" >> "$OUT/train.log"
cp "$RUN/tiny-shapes/training.json" "$OUT/" 2>/dev/null
tar -C "$RUN" -cf - tiny-shapes.work/vae.pt tiny-shapes.work/unet_ema.pt | split -b 15M -d - "$OUT/work.tar.part"
timeout 120 python3 checker.py evaluate --model "$RUN/tiny-shapes" --checkpoint "$RUN/tiny-shapes.work/model.pt" \
  --device cuda --out "$OUT/adherence.json" > "$OUT/evaluate.log" 2>&1
echo "evaluate exit $?" >> "$OUT/evaluate.log"
ls -l "$OUT" >> "$OUT/evaluate.log"
