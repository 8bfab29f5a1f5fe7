#!/usr/bin/env bash
# CPU before/after of the web path's own cost (issue 13): starts each published app in turn (fresh data, CPU provider,
# timestamped log), runs the load test against it, and keeps the app's log for the worker's per-run lines
# ("Run of N jobs (M images): engine X ms, saved in Y ms", where the build has them).
#
#   scripts/save-bench.sh NAME=APP_DIR [NAME=APP_DIR ...]
#   env: USERS (8) JOBS (4) STEPS (25) SIZE (64) ROUNDS (1) MODES ("poll long hub": REST polling every 50 ms, REST
#        ?wait= long poll, hub) OUT (/tmp/dg-save-bench). A build without ?wait= is only run in "poll" and "hub".
# Publish an app with: dotnet publish src/DiffusionGallery.Web -c Release -o DIR (of the commit to measure).
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
OUT="${OUT:-/tmp/dg-save-bench}"; mkdir -p "$OUT"
USERS=${USERS:-8}; JOBS=${JOBS:-4}; STEPS=${STEPS:-25}; SIZE=${SIZE:-64}; ROUNDS=${ROUNDS:-1}; MODES=${MODES:-poll long hub}
. scripts/web-instance.sh
dotnet build tools/DiffusionGallery.LoadTest -c Release >/dev/null
BIN=tools/DiffusionGallery.LoadTest/bin/Release/net10.0/dg-loadtest
for round in $(seq "$ROUNDS"); do
  for spec in "$@"; do
    name=${spec%%=*}; app=${spec#*=}
    data=$(mktemp -d /tmp/dg-save-bench-data.XXXXXX)
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    url=http://127.0.0.1:$port
    web_start "$data" "$url" "$PWD/models" Cpu "$OUT/app-$name-$round.log" \
        Logging__Console__FormatterName=simple Logging__Console__FormatterOptions__SingleLine=true \
        "Logging__Console__FormatterOptions__TimestampFormat=HH:mm:ss.fff " -- dotnet "$app/DiffusionGallery.Web.dll"
    pid=$WEB_PID
    web_wait "$url"
    offset=0
    for mode in $MODES; do
      case $mode in
        poll) args=(--via rest --poll) ;;
        long) args=(--via rest) ;;
        hub) args=(--via hub) ;;
      esac
      "$BIN" --url "$url" --users "$USERS" --jobs "$JOBS" --steps "$STEPS" --width "$SIZE" --height "$SIZE" "${args[@]}" \
        --warmup 2 --token-file "$data/tokens.txt" --user-offset $offset --json "$OUT/$name-$round-$mode.json" > "$OUT/$name-$round-$mode.txt" 2>&1 || true
      offset=$((offset + USERS))
      echo "$name round $round $mode: $(grep -E 'images/s|latency|worker' "$OUT/$name-$round-$mode.txt" | tr -s ' ' | tr '\n' ' ')"
    done
    kill "$pid"; wait "$pid" 2>/dev/null || true
    echo "$name round $round runs: $(grep -c 'Run of' "$OUT/app-$name-$round.log" || true) logged"
    rm -rf "$data"
  done
done
