#!/usr/bin/env bash
# Re-takes docs/screenshots/*.png with headless Chromium (the end-to-end journey saves them when asked).
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build tests/DiffusionGallery.EndToEnd.Tests -c Release
dotnet publish src/DiffusionGallery.Web -c Release -o artifacts/publish
mkdir -p docs/screenshots
DG_SCREENSHOTS_DIR="$PWD/docs/screenshots" DG_E2E_APP_DIR="$PWD/artifacts/publish" \
    tests/DiffusionGallery.EndToEnd.Tests/bin/Release/net10.0/DiffusionGallery.EndToEnd.Tests -method "*RegisterSignInGenerate*"
ls -l docs/screenshots
