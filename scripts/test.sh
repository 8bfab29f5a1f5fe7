#!/usr/bin/env bash
# Runs every test of the repository: unit, component (bUnit), integration (real SQLite + bundled model on CPU),
# and end-to-end (Playwright driving Debian's Chromium against the published app). Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
CONFIG="${CONFIG:-Release}"
CHROMIUM="${DG_CHROMIUM:-/usr/bin/chromium}"

if [ ! -x "$CHROMIUM" ]; then
    echo "== Chromium not found at $CHROMIUM: installing Debian's chromium"
    if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends chromium
    CHROMIUM=/usr/bin/chromium
fi
export DG_CHROMIUM="$CHROMIUM"

echo "== Build ($CONFIG)"
nice -n 5 dotnet build DiffusionGallery.sln -c "$CONFIG"

echo "== Publish the web app (the end-to-end tests run the published build)"
rm -rf artifacts/publish
nice -n 5 dotnet publish src/DiffusionGallery.Web -c "$CONFIG" -o artifacts/publish --no-build
export DG_E2E_APP_DIR="$PWD/artifacts/publish"

failed=()
summary="$(mktemp)"
for project in tests/*/*.csproj; do
    name="$(basename "$project" .csproj)"
    runner="$(dirname "$project")/bin/$CONFIG/net10.0/$name"
    echo "== $name"
    if ! nice -n 5 "$runner" -noColor | tee -a "$summary"; then
        failed+=("$name")
    fi
done
# one closing line over all projects, from the runners' "Total: N, Errors: E, Failed: F, Skipped: S" lines
grep -Eo 'Total: [0-9]+, Errors: [0-9]+, Failed: [0-9]+, Skipped: [0-9]+' "$summary" \
    | awk -F'[:,] *' '{t+=$2; e+=$4; f+=$6; s+=$8} END {printf "%d passed, %d failed, %d skipped\n", t-e-f-s, f+e, s}'
# the failing tests' names once more at the end, where a truncated log still shows them
if grep -q '\[FAIL\]' "$summary"; then
    echo "== Failing tests:"
    grep -E -A 12 '\[FAIL\]' "$summary" | grep -v -E '^\s+at (Xunit|System\.Runtime|Microsoft\.Playwright\.Transport)' | head -n 120
fi
rm -f "$summary"

if [ "${#failed[@]}" -gt 0 ]; then
    echo "== FAILED: ${failed[*]}"
    exit 1
fi
echo "== All tests passed"
