#!/usr/bin/env bash
# demo.sh - `make run`: check the demo config, list its tools, make one call
# from the command line, then drive a real `moat serve` session with the
# official MCP SDK client (examples/demo.mjs), then serve over HTTP, and
# finally import the CRM's OpenAPI description (`moat import openapi`) and
# call one imported tool. A small CRM stand-in (examples/crm_upstream.mjs)
# runs on 127.0.0.1:47811 meanwhile, for the declared API tools of
# examples/moat.json and the imported ones. The git tools read moat's own
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
echo
echo "# HTTP mode: examples/http.json, a loopback listener with one demo token"
export MOAT_DEMO_TOKEN=${MOAT_DEMO_TOKEN:-$(openssl rand -hex 32)}
url=http://127.0.0.1:47812/mcp
log=$(mktemp)
echo "\$ $moat serve --config examples/http.json &   # token from \$MOAT_DEMO_TOKEN"
"$moat" serve --config examples/http.json 2>"$log" &
server=$!
trap 'kill $upstream $server 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 50); do
	grep -q 'listening on' "$log" && break
	sleep 0.1
done
grep 'listening on' "$log"
# mcp ARGS... - POST to the listener with the headers a client sends; prints
# the status line and the session header, then the body.
mcp() {
	curl -sS -i "$url" -H 'Content-Type: application/json' \
		-H 'Accept: application/json, text/event-stream' "$@" |
		tr -d '\r' | grep -iE '^(HTTP/|mcp-session-id:|www-authenticate:|\{)'
}
auth="Authorization: Bearer \$MOAT_DEMO_TOKEN"
init='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"curl","version":"1"}}}'
echo
echo "\$ curl $url -H '$auth' -d '<initialize>'"
sid=$(mcp -H "Authorization: Bearer $MOAT_DEMO_TOKEN" -d "$init" | tee /dev/stderr |
	sed -n 's/^mcp-session-id: *//Ip' | cut -c1-100) 2>&1
echo
echo "\$ curl $url -H '$auth' -H 'Mcp-Session-Id: ...' -d '<tools/call read_text_file path=README.md>'"
mcp -H "Authorization: Bearer $MOAT_DEMO_TOKEN" -H "Mcp-Session-Id: $sid" -H 'MCP-Protocol-Version: 2025-11-25' \
	-d '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"read_text_file","arguments":{"path":"README.md","head":1}}}'
echo
echo "\$ curl $url -d '<initialize>'   # no token"
mcp -d "$init"
echo
echo "\$ curl $url -H '$auth' -H 'Host: evil.example' -d '<initialize>'   # DNS rebinding"
mcp -H "Authorization: Bearer $MOAT_DEMO_TOKEN" -H 'Host: evil.example' -d "$init"
kill -TERM $server
wait $server && echo "(moat stopped on SIGTERM, exit 0)"
echo
echo "# Import: the CRM's OpenAPI description (examples/crm.openapi.yaml) as declared tools."
echo "# The section is printed for review; reads only (writes need --allow-writes),"
echo "# the API key as a placeholder filled from the environment."
spec=examples/crm.openapi.yaml
echo "\$ $moat import openapi $spec --name crm2 --allow-address 127.0.0.1"
"$moat" import openapi "$spec" --name crm2 --allow-address 127.0.0.1
tmp=$(mktemp -d)
trap 'kill $upstream $server 2>/dev/null || true; rm -rf "$log" "$tmp"' EXIT
cfg2=$tmp/crm2.json
echo
echo "\$ echo '{\"log\": {\"level\": \"warning\"}}' > $cfg2"
echo '{"log": {"level": "warning"}}' >"$cfg2"
echo "\$ $moat import openapi $spec --name crm2 --allow-address 127.0.0.1 --into $cfg2"
"$moat" import openapi "$spec" --name crm2 --allow-address 127.0.0.1 --into "$cfg2"
echo "\$ export CRM2_API_KEY=demo   # the demo upstream's key, as the section's \$comment says"
export CRM2_API_KEY=demo
echo "\$ $moat check --config $cfg2 | sed -n '/^http /,/^listener/p'   # the imported API explained"
"$moat" check --config "$cfg2" | sed -n '/^http /,/^listener/p'
echo "\$ $moat call crm2_search_contacts q=grace limit=1 --config $cfg2"
"$moat" call crm2_search_contacts q=grace limit=1 --config "$cfg2"
echo
