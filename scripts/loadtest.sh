#!/usr/bin/env bash
# Load test (issue 13): N concurrent users over REST or the hub against a running DiffusionGallery
# (tools/DiffusionGallery.LoadTest; options: scripts/loadtest.sh run --help).
#
#   scripts/loadtest.sh publish [DIR]     self-contained linux-x64 build into DIR (default /tmp/dg-loadtest); a GPU host needs no .NET
#   scripts/loadtest.sh cpu               the CPU figures of docs/benchmarks.md: publishes and starts the app on CPU
#                                         (temporary data, free port), runs 1 and 4 users over REST and the hub, stops it
#   scripts/loadtest.sh join              continuous batching on CPU: 4 users in phase, staggered by 150 ms, and 2 jobs in
#                                         flight each, against the app with Generation:JoinRunningRuns on and off
#   (the GPU table of issue 13: scripts/gpu/serving-bench.sh, which starts the app itself and runs this tool)
#   scripts/loadtest.sh run ARGS...       any other run, e.g. run --url http://127.0.0.1:5000 --users 8 --jobs 16 --via hub
#
# Users: the tool registers missing users through the sign-up form and keeps their tokens in --token-file
# (here OUT/tokens.txt), so only the first run registers; registration is one rate-limited request per user and a 429
# (30 a minute per address by default) is waited out for its Retry-After. JSON reports land in OUT (default /tmp/dg-loadtest-out).
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
OUT="${OUT:-/tmp/dg-loadtest-out}"
mkdir -p "$OUT"

tool() {
    if [ -n "${BIN:-}" ]; then "$BIN" "$@"
    else dotnet run --project tools/DiffusionGallery.LoadTest -c Release -- "$@"; fi
}

case "${1:-}" in
publish)
    dotnet publish tools/DiffusionGallery.LoadTest -c Release -r linux-x64 --self-contained -o "${2:-/tmp/dg-loadtest}"
    ;;
cpu)
    dotnet build tools/DiffusionGallery.LoadTest -c Release >/dev/null
    BIN="tools/DiffusionGallery.LoadTest/bin/Release/net10.0/dg-loadtest"
    APP="${DG_APP_DIR:-}"   # an already published app (of this commit); otherwise published now
    if [ -z "$APP" ]; then APP=/tmp/dg-loadtest-app; dotnet publish src/DiffusionGallery.Web -c Release -o "$APP" >/dev/null; fi
    DATA="$(mktemp -d /tmp/dg-loadtest-data.XXXXXX)"
    PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
    URL="http://127.0.0.1:$PORT"
    . scripts/web-instance.sh
    web_start "$DATA" "$URL" "$PWD/models" Cpu "$DATA/app.log" -- dotnet "$APP/DiffusionGallery.Web.dll"
    APP_PID=$WEB_PID
    trap 'kill "$APP_PID" 2>/dev/null; wait "$APP_PID" 2>/dev/null; rm -rf "$DATA"' EXIT
    web_wait "$URL"
    rm -f "$DATA/tokens.txt"
    # Disjoint users per run (--user-offset): fair share remembers each user's recent GPU use.
    T="$DATA/tokens.txt"
    "$BIN" --url "$URL" --users 1 --jobs 16 --steps 25 --via rest --token-file "$T" --user-offset 0 --json "$OUT/cpu-1x16-rest.json"
    "$BIN" --url "$URL" --users 4 --jobs 8 --steps 25 --via rest --token-file "$T" --user-offset 1 --json "$OUT/cpu-4x8-rest.json"
    "$BIN" --url "$URL" --users 1 --jobs 16 --steps 25 --via hub --token-file "$T" --user-offset 5 --json "$OUT/cpu-1x16-hub.json"
    "$BIN" --url "$URL" --users 4 --jobs 8 --steps 25 --via hub --token-file "$T" --user-offset 6 --json "$OUT/cpu-4x8-hub.json"
    ;;
join)
    # Continuous batching on CPU: the same loads against the app with Generation:JoinRunningRuns on and off
    dotnet build tools/DiffusionGallery.LoadTest -c Release >/dev/null
    BIN="tools/DiffusionGallery.LoadTest/bin/Release/net10.0/dg-loadtest"
    APP="${DG_APP_DIR:-}"
    if [ -z "$APP" ]; then APP=/tmp/dg-loadtest-app; dotnet publish src/DiffusionGallery.Web -c Release -o "$APP" >/dev/null; fi
    . scripts/web-instance.sh
    for join in true false; do
        DATA="$(mktemp -d /tmp/dg-loadtest-data.XXXXXX)"
        PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
        URL="http://127.0.0.1:$PORT"
        web_start "$DATA" "$URL" "$PWD/models" Cpu "$DATA/app.log" Generation__JoinRunningRuns=$join -- dotnet "$APP/DiffusionGallery.Web.dll"
        APP_PID=$WEB_PID
        web_wait "$URL"
        T="$DATA/tokens.txt"
        "$BIN" --url "$URL" --users 13 --jobs 1 --warmup 2 --token-file "$T" > /dev/null
        for run in "4 8 0 1 0" "4 8 150 1 4" "4 8 0 2 8"; do
            set -- $run
            name="cpu-join-$join-$1x$2-stagger$3-d$4"
            "$BIN" --url "$URL" --users "$1" --jobs "$2" --stagger-ms "$3" --depth "$4" --steps 25 --via rest --token-file "$T" \
                --user-offset "$5" --json "$OUT/$name.json" | sed "s/^/[$name] /" | grep -E "images/s|latency|worker|batch"
        done
        grep -h "Joinable run of\|Run of" "$DATA/app.log" | sed 's/.*\(Joinable run of\|Run of\)/\1/' | sort | uniq -c | sort -rn | head -5
        kill "$APP_PID"; wait "$APP_PID" 2>/dev/null || true; rm -rf "$DATA"
    done
    ;;
run)
    shift
    tool "$@"
    ;;
*)
    sed -n '2,15p' "$0"
    exit 2
    ;;
esac
