#!/usr/bin/env bash
# hardening.sh - what issue 11's hardening costs a call: the audit trail
# (one hash-chained record per call) and the seccomp filter, measured on
# the fs benchmark's sequential read_text_file of a 4 KiB file.
#
# Three servers answer the same calls with the same driver (bench/mcpbench.c):
#   base       moat as it was before the hardening (BASE, default dc3c330:
#              no audit unless configured, no seccomp), built in
#              bench/out/base-build from a git worktree of that commit
#   no-audit   this tree's moat with "audit": false (seccomp and the rest on)
#   hardened   this tree's moat as it ships: the audit trail on, seccomp on
# in interleaved rounds (ROUNDS, default 7; each a fresh server per figure,
# BENCH_SECONDS long, default 2), so load that comes and goes hits all three
# alike; medians and ratios to base are printed and written to
# bench/out/hardening-results.md. Also, with PIN_CPU (default the last CPU),
# the same with driver and server on one CPU (the software path without
# cross-CPU wake-ups). The target: hardened >= 0.95 x base.
set -euo pipefail

cd "$(dirname "$0")/.."
root=$PWD
out=$root/bench/out
build=$out/build
. "$root/bench/lib.sh"
base_rev=${BASE:-dc3c330}
rounds=${ROUNDS:-7}
secs=${BENCH_SECONDS:-2}
pin=${PIN_CPU:-$(($(nproc) - 1))}
quiet_wait=${QUIET_WAIT:-30}

bench_need meson ninja jq awk git taskset "${CC:-cc}"
mkdir -p "$out"
bench_moat moat

# The baseline, from a worktree of BASE (kept between runs).
if [ ! -x "$out/base-build/moat" ] || [ "$(cat "$out/base-build/.rev" 2>/dev/null)" != "$base_rev" ]; then
	echo "== building the baseline $base_rev" >&2
	rm -rf "$out/base-src" "$out/base-build"
	git worktree prune
	git worktree add -f --detach "$out/base-src" "$base_rev" >/dev/null
	meson setup "$out/base-build" "$out/base-src" -Dtests=false --buildtype=release >/dev/null
	ninja -C "$out/base-build" >/dev/null
	echo "$base_rev" >"$out/base-build/.rev"
fi
"${CC:-cc}" -O2 -std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror bench/mcpbench.c -ljansson -o "$out/mcpbench"

fix=$out/hard-fixture
mkdir -p "$fix/root" "$fix/state"
awk 'BEGIN { for (i = 1; i <= 64; i++)
	printf "line %06d of the fixture: the quick brown fox jumps over him.\n", i }' >"$fix/root/small.txt"
limits='"limits":{"calls_per_minute":0,"tool_calls_per_minute":0}'
echo "{\"roots\":[\"$fix/root\"],$limits}" >"$fix/base.json"
echo "{\"roots\":[\"$fix/root\"],$limits,\"audit\":false}" >"$fix/no-audit.json"
echo "{\"roots\":[\"$fix/root\"],$limits,\"audit\":{\"file\":\"$fix/state/audit.jsonl\"}}" >"$fix/hardened.json"

bench_settle "$quiet_wait"
: >"$out/hardening.jsonl"
one() { # one NAME BINARY CONFIG CPU
	local cpu=()
	[ "$4" = - ] || cpu=(taskset -c "$4")
	rm -f "$fix/state/"audit.jsonl*
	timeout --kill-after=5 60 ${cpu[@]+"${cpu[@]}"} "$out/mcpbench" --label "$1" --only call \
		--modes seq --seconds "$secs" --repeat 1 --tool read_text_file \
		--args "{\"path\":\"$fix/root/small.txt\"}" -- "$2" serve --config "$3" \
		2>/dev/null | jq -c --arg cpu "$4" '. + {cpu: $cpu}' >>"$out/hardening.jsonl"
}
for r in $(seq 1 "$rounds"); do
	echo "== round $r of $rounds" >&2
	for cpu in - "$pin"; do
		one base "$out/base-build/moat" "$fix/base.json" "$cpu"
		one no-audit "$moat" "$fix/no-audit.json" "$cpu"
		one hardened "$moat" "$fix/hardened.json" "$cpu"
	done
done
[ -s "$fix/state/audit.jsonl" ] || { echo "$bench: the hardened runs wrote no audit trail" >&2; exit 1; }

med() { # med NAME CPU -> median calls/s
	jq -r --arg n "$1" --arg c "$2" 'select(.label == $n and .cpu == $c and .ok != false) | .per_second' \
		"$out/hardening.jsonl" | sort -n | awk '{ v[NR] = $1 } END { if (NR) printf "%.0f\n", (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}
res=$out/hardening-results.md
{
	echo "| sequential read_text_file, calls/s (median of $rounds) | base ($base_rev) | no-audit | hardened | hardened / base |"
	echo "|---|---:|---:|---:|---:|"
	for cpu in - "$pin"; do
		b=$(med base "$cpu") n=$(med no-audit "$cpu") h=$(med hardened "$cpu")
		where=$([ "$cpu" = - ] && echo "unpinned" || echo "one CPU ($cpu)")
		awk -v w="$where" -v b="$b" -v n="$n" -v h="$h" \
			'BEGIN { printf "| %s | %d | %d | %d | %.3f |\n", w, b, n, h, h / b }'
	done
	echo
	echo "Load average before: ${load_before:-?}, after: $(cut -d' ' -f1-3 /proc/loadavg)."
} | tee "$res"
