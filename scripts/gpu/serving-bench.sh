#!/bin/bash
# Device side (GPU host, after `. .gpu/assemble.sh`, apps staged by scripts/gpu/stage.sh): the web app serving many
# users on the GPU, the baseline build (web-base) and this one side by side, plus the CLI's single-image figure.
#   bash scripts/gpu/serving-bench.sh [MODES]    MODES default "base shared" → $OUT/serving-results.json, serving-logs.txt
# base = this build with shared runs, gathering and fixed shapes off (MaxImagesPerRun 1, one run in flight: the old
# worker's behaviour); shared = this build as configured (on CUDA: fixed-shape UNets replayed as CUDA graphs, runs
# gathered for 25 ms); ordinary = without the fixed shapes; nogather = without gathering; graphs = fixed shapes and
# CUDA graphs named explicitly (for builds from before they were the default); nojoin = without continuous batching
# (Generation:JoinRunningRuns false); capN = at most N images a run (Generation:MaxImagesPerRun N, e.g. cap32, cap256);
# dec0 / dec1 = shared / one-image VAE calls; decoff = decoding off the step loop's thread (decoff0: with shared calls); gen0 = a 256 MB gen0 GC budget; lanesN = N engines on the GPU
# (Inference:EnginesPerDevice N), lanesNra = the same with ready-ahead forced on (Generation:ReadyAhead true).
# A staged web-base/ (an older build) can be named as a mode too, alone (its defaults) or as APP+MODE with a mode's
# settings (e.g. web-base+statall: the baseline build with statall's settings, beside statall on this build).
set -u
OUT=${OUT:-/tmp/out}; R=${SERVRES:-/tmp/servres}; mkdir -p "$OUT" "$R"
for d in "$GPU_APP"/*/; do ln -sf ../libonnxruntime_providers_cuda.so "$d/libonnxruntime_providers_cuda.so"; done
LT="$GPU_APP/loadtest/dg-loadtest"; CLI="$GPU_APP/cli/DiffusionGallery.Cli"
models=$PWD/models
. scripts/web-instance.sh
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$R/gpu.txt"
# CLI_BENCH=short: only the single-image and the 32-request shared figures (the same commands); none: no CLI figures
# default: fixed-shape UNet sessions replayed as CUDA graphs (automatic on CUDA); then the ordinary session (shapes 0),
# without the UNet's IOBinding, and fixed shapes without CUDA graphs, side by side
cli_bench() {
  B="timeout 90 $CLI bench --models $models --provider cuda --steps 25"
  $B --batch 1 --runs 30 --warmup 5 --json "$R/cli-b1.json" > "$R/cli-b1.log" 2>&1
  $B --batch 1 --runs 30 --warmup 5 --static-unet-shapes 0 --json "$R/cli-b1-ordinary.json" > "$R/cli-b1-ordinary.log" 2>&1
  $B --batch 1 --runs 30 --warmup 5 --static-unet-shapes 0 --no-io-binding --json "$R/cli-b1-nobind.json" > "$R/cli-b1-nobind.log" 2>&1
  $B --batch 1 --runs 30 --warmup 5 --static-unet-shapes 8 --no-cuda-graphs --json "$R/cli-b1-static.json" > "$R/cli-b1-static.log" 2>&1
  [[ ${CLI_BENCH:-} == short ]] || \
    $B --batch 8 --runs 10 --warmup 3 --json "$R/cli-b8.json" > "$R/cli-b8.log" 2>&1
  # cuDNN's convolution algorithm search (Inference:Cuda:CudnnConvAlgoSearch, HEURISTIC by default) side by side
  for search in EXHAUSTIVE DEFAULT; do
    $B --batch 1 --runs 30 --warmup 5 --cudnn-conv-algo-search $search --json "$R/cli-b1-cudnn-$search.json" > "$R/cli-b1-cudnn-$search.log" 2>&1
  done
  $B --shared 32 --runs 3 --warmup 1 > "$R/cli-shared32.log" 2>&1
  $B --shared 32 --runs 3 --warmup 1 --static-unet-shapes 0 > "$R/cli-shared32-ordinary.log" 2>&1
  $B --shared 32 --runs 3 --warmup 1 --static-unet-shapes 0 --no-io-binding > "$R/cli-shared32-nobind.log" 2>&1
}
# CLI_BENCH=none: the load runs only
[[ ${CLI_BENCH:-} == none ]] || cli_bench
# the load runs ("users jobs via user-offset [depth [stagger-ms]]", comma-separated): RUNS for this build, BASE_RUNS for
# an older build (web-base*), which has no long poll (?wait=), so its REST runs poll. depth (default 1): jobs each user
# keeps in flight (the load test's --depth; 1 = wait for each image, more = queue ahead like scripts/api-smoke.py);
# stagger-ms (default 0): user k starts k times that later (out of phase)
RUNS=${RUNS:-1 32 rest 0,8 16 rest 1,32 8 rest 9,8 16 hub 41,1 32 rest-poll 49,8 16 rest-poll 50}
BASE_RUNS=${BASE_RUNS:-1 32 rest-poll 49,8 16 rest-poll 50,32 8 rest-poll 58,8 16 hub 41}
port=5100
modes=${1:-base shared}   # (each load run below sets the positional parameters)
for mode in $modes; do
  on=""; settings=$mode
  if [[ $mode == *+* ]]; then on=${mode%%+*}; settings=${mode#*+}; fi
  case $settings in
    base) app=web; env="Generation__MaxImagesPerRun=1 Generation__RunsInFlight=1 Generation__GatherWindowMs=0 Generation__JoinRunningRuns=false Inference__StaticUnetShapes=0" ;;
    shared) app=web; env="" ;;
    ordinary) app=web; env="Inference__StaticUnetShapes=0" ;;
    nogather) app=web; env="Generation__GatherWindowMs=0" ;;
    nojoin) app=web; env="Generation__JoinRunningRuns=false" ;;
    dec1) app=web; env="Inference__DecodeImagesPerCall=1" ;;  # every image decoded alone (the default since 743aa2f)
    dec0) app=web; env="Inference__DecodeImagesPerCall=0" ;;  # (reaches the engine since 03bd949; before, dec0/dec1 changed nothing)
    admoff) app=web; env="Inference__AdmitOffLoop=true" ;;   # joiners admitted on the engine's side thread
    offloop) app=web; env="Inference__AdmitOffLoop=true Inference__DecodeOffLoop=true" ;;   # both admission and decoding off the loop
    statvae) app=web; env="Inference__StaticVaeDecoder=true" ;;   # fixed-shape VAE decoder sessions (CUDA graphs)
    statoff) app=web; env="Inference__StaticVaeDecoder=true Inference__AdmitOffLoop=true" ;;   # those, and admission off the loop
    statall) app=web; env="Inference__StaticVaeDecoder=true Inference__AdmitOffLoop=true Inference__DecodeOffLoop=true" ;;   # fixed-shape decoder, admission and decoding off the loop
    devlat) app=web; env="Inference__StaticVaeDecoder=true Inference__AdmitOffLoop=true Inference__DecodeOffLoop=true Inference__LatentsOnDevice=true" ;;   # statall with the latents kept on the device (the latent step graph)
    devcap*) app=web; env="Inference__StaticVaeDecoder=true Inference__AdmitOffLoop=true Inference__DecodeOffLoop=true Inference__LatentsOnDevice=true Generation__MaxImagesPerRun=${settings#devcap}" ;;   # devlat with at most N images a run
    statcap*) app=web; env="Inference__StaticVaeDecoder=true Inference__AdmitOffLoop=true Inference__DecodeOffLoop=true Generation__MaxImagesPerRun=${settings#statcap}" ;;   # statall with at most N images a run (e.g. statcap64)
    statlanes*) app=web; env="Inference__StaticVaeDecoder=true Inference__AdmitOffLoop=true Inference__DecodeOffLoop=true Inference__EnginesPerDevice=${settings#statlanes}" ;;   # statall with N engines on the GPU
    statdect) app=web; env="Inference__StaticVaeDecoder=true Inference__AdmitOffLoop=true Inference__DecodeOffLoop=true Inference__DecodeThread=true" ;;   # statall with decoding on a thread of its own (admissions alone on the side thread)
    statdec0) app=web; env="Inference__StaticVaeDecoder=true Inference__AdmitOffLoop=true Inference__DecodeOffLoop=true Inference__DecodeImagesPerCall=0" ;;   # statall with a step's leavers decoded in shared VAE calls
    statnogather) app=web; env="Inference__StaticVaeDecoder=true Inference__AdmitOffLoop=true Inference__DecodeOffLoop=true Generation__GatherWindowMs=0" ;;   # statall without gathering
    quickjit) app=web; env="DOTNET_TC_QuickJitForLoops=1" ;;   # methods with loops start as tier-0 code (the web app before 2026-12-07 15:00)
    par) app=web; env="Inference__SamplerParallelFrom=1" ;;   # sampler steps in parallel across members whenever 4+ (before 2026-12-07)
    decoff) app=web; env="Inference__DecodeOffLoop=true" ;;   # images decoded on the engine's second thread while the loop goes on
    decoff0) app=web; env="Inference__DecodeOffLoop=true Inference__DecodeImagesPerCall=0" ;;  # both  # images finishing together share VAE calls (by latent size)
    gen0) app=web; env="DOTNET_GCgen0size=0x10000000" ;;      # a 256 MB gen0 budget: fewer GC pauses on the loop's thread?
    lanes*ra) n=${settings#lanes}; app=web; env="Inference__EnginesPerDevice=${n%ra} Generation__ReadyAhead=true" ;;
    lanes*) app=web; env="Inference__EnginesPerDevice=${settings#lanes}" ;;
    cap*) app=web; env="Generation__MaxImagesPerRun=${settings#cap}" ;;  # e.g. cap32: at most 32 images in one run
    graphs) app=web; env="Inference__StaticUnetShapes=8 Inference__Cuda__CudaGraphs=true" ;;
    *) app=$mode; env="" ;;
  esac
  [[ -n $on ]] && app=$on
  port=$((port + 1)); data=/tmp/data-$mode; rm -rf "$data"; mkdir -p "$data"; url=http://127.0.0.1:$port
  # shellcheck disable=SC2086 # $env and APP_ENV are lists of NAME=VALUE settings
  web_start "$data" "$url" "$models" Cuda "$R/app-$mode.log" $env ${APP_ENV:-} -- "$GPU_APP/$app/DiffusionGallery.Web"
  pid=$WEB_PID
  web_wait "$url" 120
  t=$R/tokens-$mode.txt
  # disjoint users per run (fair share remembers each user's recent use): register users 0-89 once (the runs' offsets
  # below stay inside them) + the warm-up user
  timeout 120 "$LT" --url $url --users 90 --jobs 1 --warmup 8 --token-file $t --user-offset 0 > "$R/warm-$mode.log" 2>&1
  # REST long-polls (?wait=); rest-poll is the old 50 ms polling, for the polling's own cost
  runs=$RUNS; [[ $mode == web-base* ]] && runs=$BASE_RUNS
  IFS=, read -ra list <<< "$runs"
  for run in "${list[@]}"; do
    set -- $run
    case $3 in rest-poll) via="rest --poll" ;; *) via=$3 ;; esac
    depth=${5:-1}; stagger=${6:-0}; name=$mode-$1x$2-$3; (( depth > 1 )) && name=$name-d$depth; (( stagger > 0 )) && name=$name-s$stagger
    opts="--depth $depth"; (( stagger > 0 )) && opts="$opts --stagger-ms $stagger"
    timeout 150 "$LT" --url $url --users $1 --jobs $2 $opts --via $via --warmup 4 --user-offset $4 --gpu-sample --token-file $t \
      --json "$R/$name.json" > "$R/$name.log" 2>&1
    echo "$name rc=$?: $(grep -iE 'images/s|p50' "$R/$name.log" | head -4 | tr '\n' ' ')"
  done
  grep -hE "Run of|Joinable run" "$R/app-$mode.log" | sed -E "s/.*(Run of|Joinable run)/\1/" > "$R/runs-$mode.log" || true
  kill $pid; wait $pid 2>/dev/null
done
# where each mode's jobs spent their time in the step loop at its busiest load (into serving-logs.txt via gpu.txt)
python3 scripts/gpu/loop-life.py "$R" $modes >> "$R/gpu.txt" 2>&1 || true
python3 scripts/gpu/collect.py "$R" "$OUT" serving --extra "$R/gpu.txt"
