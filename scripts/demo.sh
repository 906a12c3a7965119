#!/usr/bin/env bash
# demo.sh - `make run`: check the demo config, list its tools, make one call
# from the command line, then drive a real `moat serve` session with the
# official MCP SDK client (examples/demo.mjs). A small CRM stand-in
# (examples/crm_upstream.mjs) runs on 127.0.0.1:47811 meanwhile, for the
# declared API tools of examples/moat.json. The git tools read moat's own
# repository (the checkout this script runs in).
set -euo pipefail
cd "$(dirname "$0")/.."
moat=${1:-build/moat}
cfg=examples/moat.json

node examples/crm_upstream.mjs 47811 &
upstream=$!
trap 'kill $upstream 2>/dev/null || true' EXIT
for _ in $(seq 50); do
	(exec 3<>/dev/tcp/127.0.0.1/47811) 2>/dev/null && break
	sleep 0.1
done

echo "\$ $moat check --config $cfg"
"$moat" check --config "$cfg"
echo
echo "\$ $moat call list_directory path=files --config $cfg"
"$moat" call list_directory path=files --config "$cfg"
echo
echo "\$ $moat call crm_get_contact id=1 --config $cfg"
"$moat" call crm_get_contact id=1 --config "$cfg"
echo
echo "\$ $moat call git_log repo_path=moat max_count=2 --config $cfg"
"$moat" call git_log repo_path=moat max_count=2 --config "$cfg"
echo
echo "\$ node examples/demo.mjs $moat   # the official SDK client over stdio"
node examples/demo.mjs "$moat"
