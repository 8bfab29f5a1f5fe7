# Sourced by the benchmark and load-test scripts: one web app with throwaway data (the settings they all share).
#   web_start DATA URL MODELS PROVIDER LOG [NAME=VALUE ...] -- COMMAND...   starts COMMAND in DATA; sets WEB_PID
#   web_wait URL [TRIES]                                                   waits for /healthz (0.5 s a try; 240)
# Shared: Production environment, the SQLite file, images, uploads and mail under DATA, account rate limits and the
# queue length raised so that load tests measure generation, not refusals. NAME=VALUE settings follow and win.
web_start() {
  local data=$1 url=$2 models=$3 provider=$4 log=$5
  shift 5
  local settings=()
  while [[ $# -gt 0 && $1 != -- ]]; do settings+=("$1"); shift; done
  [[ ${1:-} == -- ]] && shift
  mkdir -p "$data"
  ( cd "$data" && exec env ASPNETCORE_URLS="$url" ASPNETCORE_ENVIRONMENT=Production Inference__Provider="$provider" \
      Inference__ModelsRoot="$models" Database__ConnectionString="Data Source=$data/app.db" Storage__Root="$data/images" \
      Uploads__Root="$data/uploads" Email__PickupDirectory="$data/mail" \
      AccountRateLimits__PerAddressPermitLimit=100000 AccountRateLimits__PerAccountPermitLimit=100000 \
      Generation__MaxQueueLength=5000 ${settings[@]+"${settings[@]}"} "$@" > "$log" 2>&1 ) &
  WEB_PID=$!
}

web_wait() {
  local url=$1 tries=${2:-240}
  for _ in $(seq "$tries"); do
    curl -fs "$url/healthz" > /dev/null && return 0
    sleep 0.5
  done
  echo "web_wait: $url did not answer /healthz" >&2
  return 1
}
