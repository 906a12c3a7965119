#!/usr/bin/env bash
# smoke.sh - run an installed moat on its own, outside the build tree.
#
#   tests/package/smoke.sh ROOT LABEL      (sourced cases: ok/bad from lib.sh)
#
# Copies ROOT (an installation: DESTDIR, a dpkg -x tree, an exported image)
# to a scratch directory, completes it with scripts/rootfs.sh unless it
# already holds its libraries (an image does), and runs inside it with
# chroot as user 65532, no build tree reachable: `moat version` (every
# family and module loads, the commit is known), `moat check` on the
# installed /etc/moat/moat.json, and a stdio session with the official SDK
# client (tests/package/stdio_session.mjs: initialize, tools/list, a read
# under the root, a ../ escape refused). Needs root for chroot.
smoke() { # smoke ROOT LABEL
	local src=$1 label=$2 here
	here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
	local r
	r=$(mktemp -d /tmp/moat-smoke.XXXXXX)
	cp -a "$src/." "$r/"
	if [ ! -e "$r/usr/lib64/ld-linux-x86-64.so.2" ] && [ ! -e "$r/lib64/ld-linux-x86-64.so.2" ]; then
		"$here/../../scripts/rootfs.sh" "$r" >/dev/null || { bad "$label: rootfs" "rootfs.sh failed"; return; }
	fi
	local run=(env -i XDG_STATE_HOME=/var/lib PATH=/usr/bin /usr/sbin/chroot --userspec=65532:65532 "$r")
	local v
	v=$("${run[@]}" /usr/bin/moat version 2>&1)
	if [ $? -eq 0 ] && ! grep -q "not available" <<<"$v" &&
		grep -qE '^  http +/usr/lib/[^ ]+/moat/moat_http.so \(libcurl' <<<"$v" &&
		grep -qE '^  git +/usr/lib/[^ ]+/moat/moat_git.so \(libgit2' <<<"$v" &&
		grep -qE 'PostgreSQL: /usr/lib/[^ ]+/moat/moat_sql_pg.so \(libpq' <<<"$v" &&
		grep -qE '^  auth +/usr/lib/[^ ]+/moat/moat_auth.so' <<<"$v" &&
		grep -qE '^commit [0-9a-f]{7,}' <<<"$v"; then
		ok "$label: moat version lists every family from the installed modules"
	else
		bad "$label: moat version" "$v"
	fi
	check "$label: moat check --config /etc/moat/moat.json" "${run[@]}" /usr/bin/moat check --config /etc/moat/moat.json
	check "$label: stdio session with the SDK client" node "$here/stdio_session.mjs" \
		"${run[@]}" /usr/bin/moat serve --config /etc/moat/moat.json
	rm -rf "$r"
}
