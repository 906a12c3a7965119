#!/usr/bin/env bash
# demo.sh - `make run`: check the demo config, list its tools, make one call
# from the command line, then drive a real `moat serve` session with the
# official MCP SDK client (examples/demo.mjs).
set -euo pipefail
cd "$(dirname "$0")/.."
moat=${1:-build/moat}
cfg=examples/moat.json

echo "\$ $moat check --config $cfg"
"$moat" check --config "$cfg"
echo
echo "\$ $moat call list_directory path=files --config $cfg"
"$moat" call list_directory path=files --config "$cfg"
echo
echo "\$ node examples/demo.mjs $moat   # the official SDK client over stdio"
node examples/demo.mjs "$moat"
