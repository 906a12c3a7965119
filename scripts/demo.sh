#!/usr/bin/env bash
# demo.sh - `make run`: check the demo config, list its tools, make one call
# from the command line, then drive a real `moat serve` session with the
# official MCP SDK client (examples/demo.mjs).
set -euo pipefail
cd "$(dirname "$0")/.."
moat=${1:-build-test/moat}
cfg=examples/moat.json

echo "\$ $moat check --config $cfg"
"$moat" check --config "$cfg"
echo
echo "\$ $moat call add a=1 b=2 --config $cfg"
"$moat" call add a=1 b=2 --config "$cfg"
echo
echo "\$ node examples/demo.mjs $moat   # the official SDK client over stdio"
node examples/demo.mjs "$moat"
