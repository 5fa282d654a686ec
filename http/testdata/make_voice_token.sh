#!/usr/bin/env bash
# Regenerates voice_token.jwt with Twilio's Node.js helper library,
# installed into a temporary directory (nothing is kept):
#   http/testdata/make_voice_token.sh > http/testdata/voice_token.jwt
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
npm install --prefix "$tmp" --no-audit --no-fund --loglevel=error twilio@6.3.1 >&2
NODE_PATH="$tmp/node_modules" node "$here/make_voice_token.js"
