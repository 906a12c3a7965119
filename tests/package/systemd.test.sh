#!/usr/bin/env bash
# systemd.test.sh - the hardened moat.service (dist/systemd/moat.service.in)
# as installed: `systemd-analyze verify` clean, `systemd-analyze security`
# at 2.0 or lower, every directive issue 16 names present, and a behaviour
# check that its system-call filter and address families admit what moat
# really does.
#
# The behaviour check runs the built moat (build/moat, else build-test/moat)
# under strace through `moat check`, a stdio session with the SDK client
# (tests/package/stdio_session.mjs: initialize, tools/list, read_text_file,
# a refused ../ escape) and an HTTP start (`moat serve --http 127.0.0.1:0`
# answering one initialize, then SIGTERM), collects every system call made
# from the execve on (the unit's filter applies from the execve), and
# checks each against the unit's SystemCallFilter= lines expanded with
# `systemd-analyze syscall-filter`, and each socket family against
# RestrictAddressFamilies=. The test fails when moat starts using a call
# the unit would refuse. The unit itself cannot be started here: systemd is
# not PID 1 in this container, so the unit's own sandbox is never entered.
cd "$(dirname "$0")/../.." || exit 2
. tests/package/lib.sh

t0=$(date +%s)
d=$(mktemp -d /tmp/moat-systemd.XXXXXX)
trap 'rm -rf "$d"' EXIT

build=
for b in build build-test; do
	[ -x "$b/moat" ] && [ -f "$b/build.ninja" ] && { build=$b; break; }
done
if [ -z "$build" ]; then
	bad "a built moat" "neither build/moat nor build-test/moat (run make build)"
	finish
fi
for tool in systemd-analyze strace node curl; do
	command -v "$tool" >/dev/null || bad "$tool available" "missing (scripts/install-deps.sh)"
done
ninja -C "$build" >/dev/null || bad "ninja -C $build" "failed"

# ---- the unit as installed (meson install into a scratch root)
root=$d/root
if meson install -C "$build" --no-rebuild --quiet --destdir "$root" >"$d/install.txt" 2>&1; then
	ok "meson install into a scratch root"
else
	bad "meson install" "$(tail -5 "$d/install.txt")"
fi
unit=$(find "$root" -path '*/systemd/system/moat.service' | head -1)
if [ -z "$unit" ]; then
	bad "moat.service installed" "not under $root"
	finish
fi
ok "moat.service installed at ${unit#"$root"}"
exec_path=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$unit")
manpath=$(dirname "$(find "$root" -path '*/man1/moat.1' | head -1)")/..
if [ -x "$root$exec_path" ]; then ok "ExecStart names the installed binary ($exec_path)"; else bad "ExecStart binary" "$exec_path not in the root"; fi

# systemd-analyze verify: (1) the unit file by path, with ExecStart pointed
# into the scratch root, so that every parse warning (an unknown key, an
# unknown system-call group) is printed; (2) --root, where the unit loads
# from the root's unit path and ExecStart must exist at its installed
# path (the host's units are copied in for the dependencies such as
# sysinit.target). Clean means exit 0 and not a line of output.
mkdir -p "$d/verify"
sed "s|^ExecStart=$exec_path|ExecStart=$root$exec_path|" "$unit" >"$d/verify/moat.service"
out=$(MANPATH=$manpath systemd-analyze verify "$d/verify/moat.service" 2>&1)
if [ $? -eq 0 ] && [ -z "$out" ]; then ok "systemd-analyze verify moat.service: clean"; else bad "systemd-analyze verify" "$out"; fi
vroot=$d/vroot
mkdir -p "$vroot/usr/lib/systemd"
cp -a "$root/." "$vroot/"
cp -a /lib/systemd/system "$vroot/usr/lib/systemd/"
cp "$unit" "$vroot/usr/lib/systemd/system/moat.service"
out=$(MANPATH=$manpath systemd-analyze verify --root="$vroot" moat.service 2>&1)
if [ $? -eq 0 ] && [ -z "$out" ]; then ok "systemd-analyze verify --root: clean"; else bad "systemd-analyze verify --root" "$out"; fi
# ... and it does catch a misspelt directive (the check above can fail).
sed 's/^ProtectSystem=/ProtectSytem=/' "$d/verify/moat.service" >"$d/verify/typo.service"
out=$(MANPATH=$manpath systemd-analyze verify "$d/verify/typo.service" 2>&1)
if grep -q "Unknown key 'ProtectSytem'" <<<"$out"; then ok "verify reports a misspelt directive"; else bad "verify catches a typo" "$out"; fi

# ---- systemd-analyze security: 2.0 or lower
sec=$(systemd-analyze security --offline=true "$d/verify/moat.service" 2>&1)
score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' <<<"$sec")
if [ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }'; then
	ok "systemd-analyze security --offline=true: $score (<= 2.0)"
	grep '✗' <<<"$sec" | sed 's/  */ /g; s/^/     remaining: /'
else
	bad "systemd-analyze security <= 2.0" "score '${score:-none}': $(grep '✗' <<<"$sec")"
fi

# ---- the directives issue 16 names (and the brief's additions), as set
want=(
	'DynamicUser=yes' 'ProtectSystem=strict' 'ProtectHome=read-only' 'PrivateTmp=yes'
	'PrivateDevices=yes' 'NoNewPrivileges=yes' 'CapabilityBoundingSet=' 'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX'
	'MemoryDenyWriteExecute=yes' 'LockPersonality=yes' 'RestrictNamespaces=yes' 'RestrictRealtime=yes'
	'RestrictSUIDSGID=yes' 'ProtectKernelTunables=yes' 'ProtectKernelModules=yes' 'ProtectKernelLogs=yes'
	'ProtectControlGroups=yes' 'ProtectClock=yes' 'ProtectHostname=yes' 'ProtectProc=invisible'
	'ProcSubset=pid' 'UMask=0077' 'StateDirectory=moat' 'SystemCallArchitectures=native'
	'Environment=XDG_STATE_HOME=%S' 'Environment=MOAT_HTTP=127.0.0.1:8765'
	"ExecStart=$exec_path serve --config "
)
for w in "${want[@]}"; do
	if grep -qxF -- "$w" "$unit" || { [ "${w: -1}" = ' ' ] && grep -qF -- "$w" "$unit"; }; then
		ok "unit sets $w"
	else
		bad "unit sets $w" "missing"
	fi
done
if grep -qE '^SystemCallFilter=@system-service( |$)' "$unit"; then ok "unit sets SystemCallFilter=@system-service"; else bad "SystemCallFilter=@system-service" "missing"; fi
if grep -qE '^#? *LoadCredential=' "$unit"; then ok "unit shows LoadCredential="; else bad "LoadCredential= shown" "missing"; fi

# ---- what the filter admits: the expansion of every SystemCallFilter= line
declare -A seen_group=()
expand() { # expand NAME...: the system calls, groups expanded recursively
	local n
	for n in "$@"; do
		if [ "${n#@}" != "$n" ]; then
			[ -z "${seen_group[$n]:-}" ] || continue
			seen_group[$n]=1
			# shellcheck disable=SC2046
			expand $(systemd-analyze syscall-filter "$n" | sed -n '2,$p' | sed 's/#.*//')
		else
			echo "$n"
		fi
	done
}
declare -A allow=() deny=()
while read -r line; do
	v=${line#SystemCallFilter=}
	if [ "${v#\~}" != "$v" ]; then
		seen_group=()
		for s in $(expand ${v#\~}); do deny[$s]=1; done
	else
		seen_group=()
		for s in $(expand $v); do allow[$s]=1; done
	fi
done < <(grep '^SystemCallFilter=' "$unit")
for s in "${!deny[@]}"; do unset "allow[$s]"; done
if [ ${#allow[@]} -gt 100 ] && [ -n "${allow[read]:-}" ] && [ -z "${allow[setuid]:-}" ] && [ -n "${allow[landlock_restrict_self]:-}" ]; then
	ok "the unit's filter expands to ${#allow[@]} system calls (read, landlock_* in; setuid out)"
else
	bad "filter expansion" "${#allow[@]} calls"
fi
families=$(sed -n 's/^RestrictAddressFamilies=//p' "$unit")

# ---- moat under strace: check, a stdio session, an HTTP start
mkdir -p "$d/moat/welcome" "$d/state"
cp dist/welcome/README.md "$d/moat/welcome/"
cat >"$d/moat.json" <<EOF
{"server": {"name": "moat"}, "roots": ["$d/moat/welcome"]}
EOF
moat=$PWD/$build/moat
export XDG_STATE_HOME=$d/state
check "strace: moat check" strace -f -qq -o "$d/check.st" "$moat" check --config "$d/moat.json"
check "strace: stdio session" node tests/package/stdio_session.mjs \
	strace -f -qq -o "$d/stdio.st" "$moat" serve --config "$d/moat.json"
MOAT_HTTP=127.0.0.1:0 strace -f -qq -o "$d/http.st" "$moat" serve --config "$d/moat.json" 2>"$d/http.err" &
spid=$!
url=
for _ in $(seq 100); do
	url=$(grep -o 'listening on http://[^ ]*' "$d/http.err" | sed 's/listening on //')
	[ -n "$url" ] && break
	sleep 0.1
done
if [ -n "$url" ]; then
	resp=$(curl -s -m 10 -X POST -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \
		-d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}' "$url")
	if grep -q '"serverInfo"' <<<"$resp"; then ok "strace: HTTP start ($url) answers initialize"; else bad "HTTP initialize" "$resp"; fi
else
	bad "strace: HTTP start" "$(cat "$d/http.err")"
fi
# SIGTERM to moat itself (strace holds on to a signal sent to it).
mpid=$(pgrep -P "$spid" | head -1)
[ -n "$mpid" ] && kill -TERM "$mpid"
for _ in $(seq 100); do kill -0 "$spid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$spid" 2>/dev/null && { kill -KILL "$mpid" "$spid" 2>/dev/null; bad "moat stops on SIGTERM" "still running after 10 s"; }
wait "$spid" 2>/dev/null

calls=$(cat "$d"/*.st | sed -nE 's/^[0-9]+ +([a-z0-9_]+)\(.*/\1/p' | sort -u)
n=$(wc -w <<<"$calls")
missing=()
for s in $calls; do [ -n "${allow[$s]:-}" ] || missing+=("$s"); done
if [ "$n" -gt 30 ] && [ ${#missing[@]} -eq 0 ]; then
	ok "every one of the $n system calls moat made is in the unit's SystemCallFilter="
else
	bad "moat's system calls admitted by the unit" "$n calls; not admitted: ${missing[*]:-} (seen: $(tr '\n' ' ' <<<"$calls"))"
fi
# The check can fail: moat makes calls @system-service alone refuses (the
# Landlock ruleset and its own seccomp filter), which the unit adds by name.
seen_group=()
declare -A base=()
for s in $(expand @system-service); do base[$s]=1; done
extra=()
for s in $calls; do [ -n "${base[$s]:-}" ] || extra+=("$s"); done
if printf '%s\n' "${extra[@]}" | grep -qx landlock_restrict_self && printf '%s\n' "${extra[@]}" | grep -qx seccomp; then
	ok "calls outside @system-service, admitted by name: ${extra[*]}"
else
	bad "moat's calls outside @system-service" "expected landlock_* and seccomp, got: ${extra[*]:-none}"
fi
fams=$(cat "$d"/*.st | grep -ohE '(^| )socket\(AF_[A-Z0-9]+' | sed 's/.*(//' | sort -u)
fmiss=()
for f in $fams; do grep -qw "$f" <<<"$families" || fmiss+=("$f"); done
if [ -n "$fams" ] && [ ${#fmiss[@]} -eq 0 ]; then
	ok "every socket family moat opened ($(tr '\n' ' ' <<<"$fams" | sed 's/ $//')) is in RestrictAddressFamilies="
else
	bad "socket families admitted" "opened: $fams; not admitted: ${fmiss[*]:-}"
fi
echo "     ($(($(date +%s) - t0)) s)"
finish
