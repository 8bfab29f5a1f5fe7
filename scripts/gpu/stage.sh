#!/bin/bash
# Here (no GPU): publish what the GPU benchmarks run — the CLI, the web app, the load test, and optionally a baseline
# web app published from an older commit — into one folder, with ONNX Runtime's CUDA provider once at the top and
# files identical across the apps replaced by links, then stage it with ../shared/gpu/prepare (with the tree slimmed by
# scripts/gpu/slim-tree.sh on: put the checkpoints back with `scripts/gpu/slim-tree.sh off` after the device calls).
#   scripts/gpu/stage.sh [BASELINE_PUBLISH_DIR]      (run from the repository root)
set -euo pipefail
root=$(git rev-parse --show-toplevel); cd "$root"
pub=${GPU_PUBLISH:-/tmp/gpu-app}
base=${1:-}
mkdir -p "$pub"
for app in cli:src/DiffusionGallery.Cli web:src/DiffusionGallery.Web loadtest:tools/DiffusionGallery.LoadTest; do
  [[ -n ${SKIP_PUBLISH:-} ]] && break
  name=${app%%:*}; project=${app#*:}
  [[ -d $project ]] || { echo "stage: no $project, skipped"; continue; }
  rm -rf "$pub/$name"
  nice dotnet publish "$project" -c Release -r linux-x64 --self-contained -o "$pub/$name" -v q -nologo
done
if [[ -n $base && $base != "$pub/web-base" ]]; then rm -rf "$pub/web-base"; cp -a "$base" "$pub/web-base"; fi
# one CUDA provider at the top (prepare sends it apart); each app links to it
for d in "$pub"/*/; do
  if [[ -f $d/libonnxruntime_providers_cuda.so && ! -L $d/libonnxruntime_providers_cuda.so ]]; then
    [[ -f $pub/libonnxruntime_providers_cuda.so ]] || cp "$d/libonnxruntime_providers_cuda.so" "$pub/"
    rm "$d/libonnxruntime_providers_cuda.so"
  fi
  ln -sf ../libonnxruntime_providers_cuda.so "$d/libonnxruntime_providers_cuda.so"
done
# identical files in later apps become relative links to the first app's copy
python3 - "$pub" <<'PY'
import hashlib, os, sys
pub = sys.argv[1]
apps = sorted(d for d in os.listdir(pub) if os.path.isdir(os.path.join(pub, d)))
seen, saved = {}, 0
for app in apps:
    for dirpath, _, files in os.walk(os.path.join(pub, app)):
        for f in files:
            p = os.path.join(dirpath, f)
            # not the app hosts (executables other than libraries): a host finds its app beside its real path, so a linked one
            # would start the other build
            host = os.access(p, os.X_OK) and not f.endswith((".so", ".dll")) and ".so." not in f
            if os.path.islink(p) or os.path.getsize(p) < 4096 or host: continue
            h = hashlib.sha256(open(p, "rb").read()).hexdigest()
            if h in seen:
                saved += os.path.getsize(p); os.remove(p)
                os.symlink(os.path.relpath(seen[h], dirpath), p)
            else:
                seen[h] = p
print(f"dedupe: {saved / 2**20:.0f} MiB replaced by links across {apps}")
PY
du -sh "$pub"
# a small tree leaves room for the parts (the training checkpoints stay out until `scripts/gpu/slim-tree.sh off`)
scripts/gpu/slim-tree.sh on
GPU_RESERVE_MB=${GPU_RESERVE_MB:-2} ../shared/gpu/prepare "$pub" cli/DiffusionGallery.Cli
