#!/usr/bin/env bash
# run.sh - benchmark moat against the reference MCP filesystem server.
#
# Builds moat (release, with the test-only tool provider) into
# bench/out/build, compiles bench/mcpbench.c (and bench/nullserver.c) into
# bench/out/, makes sure node_modules holds the reference server (npm ci if
# not), then runs the same driver against both servers in this one run:
# cold start (spawn,
# initialize, tools/list, exit), peak RSS, and round trips per second for
# ping and a trivial tools/call: sequential with driver and server on one
# CPU, sequential left to the scheduler, and 16 in flight. Prints a markdown
# table and writes it, with the machine it ran on, to bench/out/results.md;
# the raw JSON lines go to bench/out/*.jsonl.
#
# Knobs (environment): RUNS (cold-start runs, default 50), BENCH_SECONDS
# (length of each throughput run, default 1), REPEAT (fresh-server runs per
# throughput figure, median reported, default 3), INFLIGHT (default 16),
# PIN_CPU (the CPU for the one-CPU sequential figures, default the last),
# MOAT (a moat binary to measure instead of building one).
# Typical wall time is a minute and a half after the build; the driver runs
# are capped at 50 s (moat) and 100 s (reference). Other load on the machine
# shows up in the figures, so how busy the CPUs were just before and after
# is written into the results.
set -euo pipefail

cd "$(dirname "$0")/.."
root=$PWD
out=$root/bench/out
build=$out/build
. "$root/bench/lib.sh"
runs=${RUNS:-50}
secs=${BENCH_SECONDS:-1}
repeat=${REPEAT:-3}
inflight=${INFLIGHT:-16}
pin=${PIN_CPU:-$(($(nproc) - 1))}
started=$(date +%s)

bench_need meson ninja node npm jq "${CC:-cc}"
mkdir -p "$out"

# 1. moat, release build with the test provider (or MOAT).
bench_moat moat

# 2. the driver, and the null server that calibrates it (docs/benchmarks.md; not run here).
for prog in mcpbench nullserver; do
	"${CC:-cc}" -O2 -std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror "bench/$prog.c" -ljansson \
		-o "$out/$prog"
done

# 3. the reference server.
refjs=node_modules/@modelcontextprotocol/server-filesystem/dist/index.js
if [ ! -f "$refjs" ]; then
	npm ci --no-audit --no-fund >&2
fi

# 4. run both with the same driver and the same settings.
cat >"$out/moat-bench.json" <<'EOF'
{"testing":{"enabled":true},"limits":{"calls_per_minute":0,"tool_calls_per_minute":0,"max_concurrent_calls":64}}
EOF
mkdir -p "$out/fsroot"
bench_settle 0
status=0
bench() { # bench LABEL CAP_SECONDS TOOL ARGS -- COMMAND...
	local label=$1 cap=$2 tool=$3 args=$4
	shift 5
	echo "== $label" >&2
	timeout --kill-after=5 "$cap" "$out/mcpbench" --runs "$runs" --seconds "$secs" \
		--repeat "$repeat" --inflight "$inflight" --pin "$pin" --tool "$tool" \
		--args "$args" --label "$label" -- "$@" >"$out/$label.jsonl" || status=1
}
bench moat 50 echo '{"text":"x"}' -- "$moat" serve --config "$out/moat-bench.json"
bench reference 100 list_allowed_directories '{}' -- node "$refjs" "$out/fsroot"

load_after=$(cut -d' ' -f1-3 /proc/loadavg)
busy_after=$(bench_busy)

# 5. the table.
get() { # get LABEL METRIC MODE FIELD -> number, or "" when missing or failed
	jq -r --arg m "$2" --arg mode "$3" --arg f "$4" \
		'select(.metric == $m and (.mode // "") == $mode and .ok != false) | .[$f]' \
		"$out/$1.jsonl" 2>/dev/null | head -1
}
. "$(dirname "${BASH_SOURCE[0]}")/table.sh"
table=$out/table.md
{
	echo "| Metric | moat | reference | ratio | target | moat meets it |"
	echo "|---|---:|---:|---:|---:|:---:|"
	row() { # row NAME METRIC MODE FIELD DECIMALS LOWER_IS_BETTER OP LIMIT TARGET_TEXT
		local m r q
		m=$(get moat "$2" "$3" "$4")
		r=$(get reference "$2" "$3" "$4")
		if [ "$6" = yes ]; then q=$(ratio "$r" "$m"); else q=$(ratio "$m" "$r"); fi
		echo "| $1 | $(fmt "$5" "$m") | $(fmt "$5" "$r") | $q | ${9:-–} | $(meets "$m" "$7" "$8") |"
	}
	row "Cold start, median (ms)" cold_start "" median_ms 2 yes "<=" 3 "≤ 3 ms"
	row "Cold start, p90 (ms)" cold_start "" p90_ms 2 yes "" "" ""
	row "Peak RSS, median (MB)" cold_start "" rss_median_mb 2 yes "<=" 4 "≤ 4 MB"
	row "Peak RSS, max (MB)" cold_start "" rss_max_mb 2 yes "" "" ""
	row "Peak RSS after the $inflight-in-flight tools/call run (MB)" tools_call concurrent \
		hwm_mb 2 yes "" "" ""
	row "ping, sequential, one CPU (req/s)" ping sequential-pinned per_second 0 no "" "" ""
	row "ping, sequential, unpinned (req/s)" ping sequential per_second 0 no "" "" ""
	row "ping, $inflight in flight (req/s)" ping concurrent per_second 0 no "" "" ""
	row "trivial tools/call, sequential, one CPU (req/s)" tools_call sequential-pinned \
		per_second 0 no ">=" 60000 "≥ 60,000/s"
	row "trivial tools/call, sequential, unpinned (req/s)" tools_call sequential \
		per_second 0 no ">=" 60000 "≥ 60,000/s"
	row "trivial tools/call, $inflight in flight (req/s)" tools_call concurrent per_second 0 no \
		"" "" ""
	row "trivial tools/call, sequential, one CPU, p50 latency (µs)" tools_call \
		sequential-pinned p50_us 1 yes "" "" ""
} >"$table"

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
refver=$(jq -r .version node_modules/@modelcontextprotocol/server-filesystem/package.json)
if [ -n "$(git status --porcelain -- src meson.build 2>/dev/null)" ]; then commit="$commit+local changes"; fi
{
	echo "# moat benchmark results"
	echo
	echo "Run $(date -u '+%Y-%m-%d %H:%M UTC') by bench/run.sh on $(nproc) CPUs ($cpu), Linux $(uname -r);"
	echo "moat $commit (release, test provider), reference @modelcontextprotocol/server-filesystem $refver on node $(node --version)."
	echo "$runs cold-start runs; each throughput figure is the median of $repeat runs of $secs s" \
		"(after 0.5 s of warm-up), each in a fresh server."
	echo "\"One CPU\": driver and server bound to CPU $pin; \"unpinned\": left to the scheduler."
	echo "Other load: CPUs $busy_before% busy in the second before the run, $busy_after% in the" \
		"second after; load average $load_before before, $load_after after."
	echo "Trivial call: moat \`echo {\"text\":\"x\"}\`, reference \`list_allowed_directories {}\`."
	echo "Ratios: reference/moat for time and memory, moat/reference for throughput (above 1× favours moat)."
	echo
	cat "$table"
} >"$out/results.md"

echo >&2
cat "$table"
echo >&2
echo "run.sh: results in bench/out/results.md (raw: bench/out/moat.jsonl, bench/out/reference.jsonl);" \
	"took $(($(date +%s) - started)) s" >&2
exit "$status"
