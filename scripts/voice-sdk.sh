#!/usr/bin/env bash
# Fetches Twilio's Voice JavaScript SDK (@twilio/voice-sdk, Apache-2.0,
# published on npm only) into http/web/voice-sdk/node_modules, exactly as
# http/web/voice-sdk/package-lock.json pins it. The build embeds its
# dist/twilio.min.js into callq, which serves it as
# /assets/twilio-voice.js for the agent page's softphone. Needs Node.js
# and npm (install-deps.sh node) and the npm registry. Does nothing
# when it is there already. Without it the build still works: the page
# then says that the softphone is not part of the build.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=http/web/voice-sdk
lock=$dir/package-lock.json
stamp=$dir/node_modules/.callq-installed
if [ -f "$stamp" ] && cmp -s "$lock" "$stamp"; then
  exit 0
fi
if ! command -v npm > /dev/null; then
  ./scripts/install-deps.sh node
fi
echo "voice-sdk: installing @twilio/voice-sdk with npm" >&2
npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error
cp "$lock" "$stamp"
