#!/usr/bin/env bash
# Installs what the browser tests need: Debian's Chromium and Node.js
# (install-deps.sh browser), then puppeteer-core from npm into
# tests/browser/node_modules, exactly as package-lock.json pins it. It
# downloads no browser of its own. Does nothing when all is there.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh browser
lock=tests/browser/package-lock.json
stamp=tests/browser/node_modules/.callq-installed
if [ -f "$stamp" ] && cmp -s "$lock" "$stamp"; then
  exit 0
fi
echo "browser-deps: installing puppeteer-core with npm" >&2
PUPPETEER_SKIP_DOWNLOAD=1 npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error
cp "$lock" "$stamp"
