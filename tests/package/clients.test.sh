#!/usr/bin/env bash
# clients.test.sh - the client entries of docs/clients.md and the
# repository's server.json, each run against a real moat (MOAT_BIN, default
# build-test/moat): JSON and YAML blocks parse, stdio entries start moat
# exactly as written and answer initialize and tools/list through the
# official SDK client, HTTP entries connect with their URL and header,
# container entries name this version's image and their arguments are run by
# the local binary, server.json follows the registry's rules and carries
# meson.build's version. The cases are tests/package/clients_check.mjs's;
# this script counts its "ok"/"FAIL" lines. About 4 s.
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/package/lib.sh
. tests/package/lib.sh

bin=${MOAT_BIN:-$PWD/build-test/moat}
if [ ! -x "$bin" ]; then
	bad "moat binary" "$bin is not an executable (build it: meson setup build-test && ninja -C build-test)"
	finish
fi
if ! command -v node >/dev/null || [ ! -d node_modules/@modelcontextprotocol/sdk ]; then
	bad "node and the MCP SDK" "node or node_modules/@modelcontextprotocol/sdk missing (npm ci)"
	finish
fi

out=$(mktemp /tmp/moat-clients.XXXXXX)
trap 'rm -f "$out"' EXIT
node tests/package/clients_check.mjs "$bin" . >"$out" 2>&1
rc=$?
while IFS= read -r line; do
	case $line in
	"ok   "*) ok "${line#ok   }" ;;
	"FAIL "*)
		rest=${line#FAIL }
		bad "${rest%%: *}" "${rest#*: }"
		;;
	esac
done <"$out"
# A helper that died (a syntax error, an exception outside a case) fails
# even when every line it printed was "ok", and so does one that printed
# nothing.
if [ "$rc" -ne 0 ] && ! grep -q '^FAIL ' "$out"; then
	bad "clients_check.mjs" "exit $rc: $(tail -15 "$out")"
fi
if [ "$pk_pass" -lt 40 ]; then
	bad "clients_check.mjs ran every case" "only $pk_pass cases passed: $(tail -5 "$out")"
fi
finish
