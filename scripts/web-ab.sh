#!/usr/bin/env bash
# CPU A/B of published web apps under the load test (issue 13): each app in turn, alternating, for ROUNDS rounds, with a
# fresh database each time; prints images/s, latency and the load test's phases (submit, queue, worker, answer) per load.
#   scripts/web-ab.sh NAME=APP_DIR [NAME=APP_DIR ...]      (publish with: dotnet publish src/DiffusionGallery.Web -c Release -o DIR)
#   env: ROUNDS (2), SIZE (64), STEPS (4), LOADS ("16 16 4,32 8 2": users jobs depth), OUT (/tmp/dg-web-ab)
set -u
cd "$(dirname "$0")/.."
apps=("$@")
ROUNDS=${ROUNDS:-2}; SIZE=${SIZE:-64}; STEPS=${STEPS:-4}; LOADS=${LOADS:-16 16 4,32 8 2}; OUT=${OUT:-/tmp/dg-web-ab}
mkdir -p "$OUT"
dotnet build tools/DiffusionGallery.LoadTest -c Release -v q -nologo > /dev/null
BIN=tools/DiffusionGallery.LoadTest/bin/Release/net10.0/dg-loadtest
. scripts/web-instance.sh
IFS=, read -ra loads <<< "$LOADS"
users_needed=1; for load in "${loads[@]}"; do set -- $load; users_needed=$((users_needed + $1)); done
for round in $(seq "$ROUNDS"); do
  for spec in "${apps[@]}"; do
    name=${spec%%=*}; app=${spec#*=}
    data=$(mktemp -d /tmp/dg-web-ab-data.XXXXXX)
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'); url=http://127.0.0.1:$port
    web_start "$data" "$url" "$PWD/models" Cpu "$OUT/app-$name-$round.log" -- dotnet "$app/DiffusionGallery.Web.dll"
    pid=$WEB_PID; web_wait "$url"
    tokens=$data/tokens.txt
    "$BIN" --url "$url" --users "$users_needed" --jobs 1 --warmup 2 --steps "$STEPS" --width "$SIZE" --height "$SIZE" --token-file "$tokens" > /dev/null 2>&1
    offset=0
    for load in "${loads[@]}"; do
      set -- $load
      log="$OUT/$name-$round-$1x$2-d$3"
      "$BIN" --url "$url" --users "$1" --jobs "$2" --depth "$3" --steps "$STEPS" --width "$SIZE" --height "$SIZE" --via rest \
        --token-file "$tokens" --user-offset "$offset" --json "$log.json" > "$log.log" 2>&1
      echo "[$name r$round $1x$2 d$3] $(grep -E 'images/s|latency|phases' "$log.log" | tr -s ' ' | tr '\n' ' ')"
      offset=$((offset + $1))
    done
    kill "$pid"; wait "$pid" 2>/dev/null
    rm -rf "$data"
  done
done
