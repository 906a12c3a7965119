#!/usr/bin/env bash
# fs.sh - benchmark moat's filesystem tools against the reference server.
#
# Builds moat (release) into bench/out/build as run.sh does, or reuses that
# build; compiles bench/mcpbench.c and bench/nullserver.c into bench/out/;
# runs npm ci if node_modules lacks the reference server; generates a
# fixture under bench/out/fs-fixture (once; it is deterministic and reused
# while bench/out/fs-fixture.stamp matches): 20,000 small files in 2,111
# directories under tree/, a 4 KiB text file (small.txt) and a 10 MiB text
# file of 163,840 lines (big.txt). Then it runs the same driver with the
# same settings against moat (serving the fixture read-only, limits raised
# so every output is complete) and against the reference
# @modelcontextprotocol/server-filesystem serving the same directory:
#
#   cold start and peak RSS         spawn, initialize, tools/list, exit; also
#                                   with driver and server on one CPU
#   read_text_file small.txt        calls/s sequential (one CPU and unpinned)
#                                   and 16 in flight; p50 latency
#   peak RSS after 5,000 calls      read_text_file small.txt, 16 in flight
#   search_files "**/*.txt"         p50 latency of CALLS sequential calls over
#   directory_tree                  the whole fixture, and the size of the
#                                   text returned, compared between servers
#   read_text_file big.txt head=10  p50 latency, one CPU and unpinned
#
# and, for scale, the read_text_file runs against bench/nullserver.c
# answering every call with 4 KiB of text it serialized once: the floor of
# the machine and the driver for such a call.
#
# Prints a markdown table and writes it, with the machine and the load it
# ran under, to bench/out/fs-results.md; the raw JSON lines go to
# bench/out/fs-moat.jsonl and bench/out/fs-reference.jsonl, one response of
# each large call to bench/out/fs-*-{search,tree}.json.
#
# Knobs (environment): RUNS (cold-start runs, default 50), BENCH_SECONDS
# (length of each throughput run, default 1), REPEAT (fresh-server runs per
# throughput figure, median reported, default 3), INFLIGHT (default 16),
# PIN_CPU (the CPU for the one-CPU figures, default the last), CALLS (timed
# calls of search_files and directory_tree, default 7), HEAD_CALLS (timed
# head=10 calls, default 1000), QUIET_WAIT (seconds to wait for the CPUs to
# go quiet before starting, default 30), MOAT (a moat binary to measure
# instead of building one), BEFORE (a second moat binary, "before" a
# change: measured in the same run with the same settings, alternating
# with MOAT part by part, and compared in a second table with the ratio of
# each to the floor; its modules must be beside it), REFERENCE=0 (skip the
# reference server: its rows read n/a; saves most of the wall time). Typical wall time is two minutes after the
# build, a third of it the reference's search_files (about 3 s a call).
# Other load on the machine shows up in the figures, so how busy the CPUs
# were just before and after is written into the results.
set -euo pipefail

cd "$(dirname "$0")/.."
root=$PWD
out=$root/bench/out
build=$out/build
. "$root/bench/lib.sh"
fix=$out/fs-fixture
runs=${RUNS:-50}
secs=${BENCH_SECONDS:-1}
repeat=${REPEAT:-3}
inflight=${INFLIGHT:-16}
pin=${PIN_CPU:-$(($(nproc) - 1))}
calls=${CALLS:-7}
head_calls=${HEAD_CALLS:-1000}
quiet_wait=${QUIET_WAIT:-30}
started=$(date +%s)

bench_need meson ninja node npm jq awk cmp taskset "${CC:-cc}"
mkdir -p "$out"

# 1. moat: MOAT, or the release build all the bench scripts share.
bench_moat moat

# 2. the driver, and the null server that gives the floor.
for prog in mcpbench nullserver; do
	"${CC:-cc}" -O2 -std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
		-Wmissing-prototypes -Wformat=2 -Wvla "bench/$prog.c" -ljansson -o "$out/$prog"
done

# 3. the reference server.
refjs=node_modules/@modelcontextprotocol/server-filesystem/dist/index.js
if [ ! -f "$refjs" ]; then
	npm ci --no-audit --no-fund >&2
fi

# 4. the fixture. Every name and byte is fixed; only timestamps vary. The
# stamp is written last, so an interrupted generation is redone.
stamp="fs-fixture v1: 10x10x20 directories of 10 files, small.txt 4096, big.txt 10485760"
if [ "$(cat "$out/fs-fixture.stamp" 2>/dev/null)" != "$stamp" ]; then
	echo "== generating the fixture in $fix" >&2
	rm -rf "$fix" "$out/fs-fixture.stamp"
	mkdir -p "$fix"
	(
		cd "$fix"
		lines() { # lines N -> N numbered lines of 64 bytes
			awk -v n="$1" 'BEGIN { for (i = 1; i <= n; i++)
				printf "line %06d of the fixture: the quick brown fox jumps over him.\n", i }'
		}
		lines 64 >small.txt
		lines 163840 >big.txt
		mkdir -p tree/a{00..09}/b{00..09}/c{00..19}
		for d in tree/a*/b*/c*; do
			for i in 0 1 2 3 4 5 6; do
				printf 'file %s/f%d.txt\n' "$d" "$i" >"$d/f$i.txt"
			done
			printf '{"dir":"%s","n":0}\n' "$d" >"$d/meta0.json"
			printf '{"dir":"%s","n":1}\n' "$d" >"$d/meta1.json"
			printf '# %s\n' "$d" >"$d/README.md"
		done
	)
	if [ "$(stat -c %s "$fix/small.txt")" -ne 4096 ] ||
		[ "$(stat -c %s "$fix/big.txt")" -ne 10485760 ] ||
		[ "$(find "$fix" -type f | wc -l)" -ne 20002 ]; then
		echo "fs.sh: the fixture came out wrong" >&2
		exit 1
	fi
	echo "$stamp" >"$out/fs-fixture.stamp"
fi
nfiles=$(find "$fix" -type f | wc -l)
ndirs=$(find "$fix" -mindepth 1 -type d | wc -l)

# 5. moat's config: the fixture as its one read-only root, rate limits off,
# entry and output limits raised so search_files and directory_tree return
# everything, as the reference (which has no cap) does.
cat >"$out/fs-moat.json" <<EOF
{"roots":["$fix"],
 "fs":{"max_entries":1000000,"max_depth":64,"max_file_size":16777216},
 "limits":{"calls_per_minute":0,"tool_calls_per_minute":0,"max_concurrent_calls":64,
           "max_output_bytes":67108864}}
EOF

bench_settle "$quiet_wait"

# 6. the runs: the same driver and settings for both servers.
small=$fix/small.txt
big=$fix/big.txt
status=0
drive_one() { # drive_one SERVER PART CAP_SECONDS CPU DRIVER_OPTIONS... -- COMMAND...
	# CPU: "-" leaves the driver (and so the server) to the scheduler;
	# a number binds both to that CPU for the whole run.
	local server=$1 part=$2 cap=$3 affinity=()
	[ "$4" = - ] || affinity=(taskset -c "$4")
	shift 4
	echo "== $server: $part" >&2
	timeout --kill-after=5 "$cap" ${affinity[@]+"${affinity[@]}"} "$out/mcpbench" \
		--label "$part" --pin "$pin" --inflight "$inflight" "$@" \
		>>"$out/fs-$server.jsonl" || status=1
}
run_server() { # [only=PART] run_server NAME CAP_SCALE COMMAND...
	local name=$1 k=$2
	shift 2
	if [ -n "${only:-}" ]; then
		drive() { [ "$2" = "$only" ] && drive_one "$@" || true; }
	else
		: >"$out/fs-$name.jsonl"
		drive() { drive_one "$@"; }
	fi
	drive "$name" cold $((30 * k)) - --only cold --runs "$runs" -- "$@"
	drive "$name" cold1 $((30 * k)) "$pin" --only cold --runs "$runs" -- "$@"
	drive "$name" read $((40 * k)) - --only call --seconds "$secs" --repeat "$repeat" \
		--tool read_text_file --args "{\"path\":\"$small\"}" -- "$@"
	drive "$name" read5k $((10 * k)) - --only call --modes inflight --seconds 0 \
		--requests 5000 --warmup 0 --tool read_text_file --args "{\"path\":\"$small\"}" \
		-- "$@"
	drive "$name" search $((20 * k)) - --only call --modes seq --seconds 0 --requests "$calls" \
		--timeout 60000 --tool search_files --save "$out/fs-$name-search.json" \
		--args "{\"path\":\"$fix\",\"pattern\":\"**/*.txt\"}" -- "$@"
	drive "$name" tree $((20 * k)) - --only call --modes seq --seconds 0 --requests "$calls" \
		--timeout 60000 --tool directory_tree --save "$out/fs-$name-tree.json" \
		--args "{\"path\":\"$fix\"}" -- "$@"
	drive "$name" head $((20 * k)) - --only call --modes seq,pin --seconds 0 \
		--requests "$head_calls" --tool read_text_file \
		--args "{\"path\":\"$big\",\"head\":10}" -- "$@"
}
: >"$out/fs-null.jsonl"
null_read() {
	drive_one null read 40 - --only call --seconds "$secs" --repeat "$repeat" --tool x -- \
		"$out/nullserver" --text 4096
}
if [ -n "${BEFORE:-}" ]; then
	# before and after part by part (the floor between them), so a change
	# in the machine's load hits both alike.
	before=$(readlink -f "$BEFORE")
	[ -x "$before" ] || { echo "fs.sh: BEFORE=$BEFORE is not an executable" >&2; exit 2; }
	: >"$out/fs-before.jsonl"
	: >"$out/fs-moat.jsonl"
	for part in cold cold1 read null read5k search tree head; do
		if [ "$part" = null ]; then null_read; continue; fi
		only=$part run_server before 1 "$before" serve --config "$out/fs-moat.json"
		only=$part run_server moat 1 "$moat" serve --config "$out/fs-moat.json"
	done
else
	run_server moat 1 "$moat" serve --config "$out/fs-moat.json"
	null_read
fi
if [ "${REFERENCE:-1}" != 0 ]; then
	run_server reference 3 node "$refjs" "$fix"
else
	: >"$out/fs-reference.jsonl"
fi

load_after=$(cut -d' ' -f1-3 /proc/loadavg)
busy_after=$(bench_busy)

# 7. the table.
get() { # get SERVER PART METRIC MODE FIELD -> number, or "" when missing or failed
	jq -r --arg p "$2" --arg m "$3" --arg mode "$4" --arg f "$5" \
		'select(.label == $p and .metric == $m and (.mode // "") == $mode and .ok != false)
		 | .[$f]' "$out/fs-$1.jsonl" 2>/dev/null | head -1
}
. "$(dirname "${BASH_SOURCE[0]}")/table.sh"
scale() { # scale FACTOR NUMBER -> NUMBER * FACTOR, or "" when NUMBER is ""
	if [ -z "$2" ]; then echo ""; return; fi
	LC_ALL=C awk -v f="$1" -v v="$2" 'BEGIN { printf "%.6f\n", v * f }'
}
texts() { # texts FILE -> the text of a saved response's content blocks
	jq -j '[.result.content[]? | .text // empty] | join("\n")' "$1" 2>/dev/null
}
same() { # same PART -> how moat's saved response compares with the reference's
	local m=$out/fs-moat-$1.json r=$out/fs-reference-$1.json
	if [ ! -s "$m" ] || [ ! -s "$r" ]; then echo "n/a"; return; fi
	if cmp -s <(texts "$m") <(texts "$r"); then echo "identical"; else echo "**differs**"; fi
}
table=$out/fs-table.md
{
	echo "| Metric | moat | reference | ratio | target | moat meets it |"
	echo "|---|---:|---:|---:|---:|:---:|"
	# row NAME PART METRIC MODE FIELD DECIMALS LOWER_IS_BETTER OP LIMIT TARGET_TEXT [SCALE]
	row() {
		local m r q
		m=$(scale "${11:-1}" "$(get moat "$2" "$3" "$4" "$5")")
		r=$(scale "${11:-1}" "$(get reference "$2" "$3" "$4" "$5")")
		if [ "$7" = yes ]; then q=$(ratio "$r" "$m"); else q=$(ratio "$m" "$r"); fi
		echo "| $1 | $(fmt "$6" "$m") | $(fmt "$6" "$r") | $q | ${10:-–} | $(meets "$m" "$8" "$9") |"
	}
	size_row() { # size_row NAME PART -> text bytes of both, and whether the texts are equal
		local m r
		m=$(get moat "$2" tools_call sequential text_bytes)
		r=$(get reference "$2" tools_call sequential text_bytes)
		echo "| $1 | $(fmt 0 "$m") | $(fmt 0 "$r") | $(ratio "$m" "$r") | same text | $(same "$2") |"
	}
	row "Cold start, median (ms)" cold cold_start "" median_ms 2 yes "<=" 3 "≤ 3 ms"
	row "Cold start, p90 (ms)" cold cold_start "" p90_ms 2 yes "" "" ""
	row "Cold start, one CPU, median (ms)" cold1 cold_start "" median_ms 2 yes "<=" 3 "≤ 3 ms"
	row "Peak RSS, cold, median (MB)" cold cold_start "" rss_median_mb 2 yes "<=" 4 "≤ 4 MB"
	row "read_text_file 4 KiB, sequential, one CPU (calls/s)" read tools_call \
		sequential-pinned per_second 0 no ">=" 40000 "≥ 40,000/s"
	row "read_text_file 4 KiB, sequential, unpinned (calls/s)" read tools_call sequential \
		per_second 0 no ">=" 40000 "≥ 40,000/s"
	row "read_text_file 4 KiB, $inflight in flight (calls/s)" read tools_call concurrent \
		per_second 0 no ">=" 90000 "≥ 90,000/s"
	row "read_text_file 4 KiB, one CPU, p50 latency (µs)" read tools_call sequential-pinned \
		p50_us 1 yes "" "" ""
	row "Peak RSS after 5,000 read_text_file calls, $inflight in flight (MB)" read5k \
		tools_call concurrent hwm_mb 2 yes "<=" 6 "≤ 6 MB"
	row "search_files \`**/*.txt\`, whole fixture, p50 latency (ms)" search tools_call \
		sequential p50_us 1 yes "<=" 30 "≤ 30 ms" 0.001
	size_row "search_files, text returned (bytes)" search
	row "directory_tree, whole fixture, p50 latency (ms)" tree tools_call sequential p50_us 1 \
		yes "<=" 30 "≤ 30 ms" 0.001
	size_row "directory_tree, text returned (bytes)" tree
	row "read_text_file 10 MiB head=10, one CPU, p50 latency (µs)" head tools_call \
		sequential-pinned p50_us 1 yes "" "" ""
	row "read_text_file 10 MiB head=10, unpinned, p50 latency (µs)" head tools_call \
		sequential p50_us 1 yes "" "" ""
} >"$table"

# 7b. before and after (BEFORE): each against the other and against the
# floor of the same run.
if [ -n "${BEFORE:-}" ]; then
	floor_in=$(get null read tools_call concurrent per_second)
	{
		echo
		echo "| Metric (BEFORE = $before) | before | after | after/before | before/floor | after/floor |"
		echo "|---|---:|---:|---:|---:|---:|"
		# brow NAME PART MODE FIELD DECIMALS LOWER_IS_BETTER [SCALE] [FLOOR]
		brow() {
			local b a q
			b=$(scale "${7:-1}" "$(get before "$2" tools_call "$3" "$4")")
			a=$(scale "${7:-1}" "$(get moat "$2" tools_call "$3" "$4")")
			if [ "$6" = yes ]; then q=$(ratio "$b" "$a"); else q=$(ratio "$a" "$b"); fi
			echo "| $1 | $(fmt "$5" "$b") | $(fmt "$5" "$a") | $q |" \
				"$(if [ -n "${8:-}" ]; then ratio "$b" "$8"; else echo –; fi) |" \
				"$(if [ -n "${8:-}" ]; then ratio "$a" "$8"; else echo –; fi) |"
		}
		brow "read_text_file 4 KiB, $inflight in flight (calls/s)" read concurrent \
			per_second 0 no 1 "$floor_in"
		brow "read_text_file 4 KiB, $inflight in flight, server CPU per call (µs)" read \
			concurrent server_cpu_us 1 yes
		brow "read_text_file 4 KiB, sequential, unpinned (calls/s)" read sequential \
			per_second 0 no
		brow "search_files, whole fixture, p50 latency (ms)" search sequential p50_us 1 yes \
			0.001
		brow "search_files, server CPU per call (ms)" search sequential server_cpu_us 1 yes \
			0.001
		brow "directory_tree, whole fixture, p50 latency (ms)" tree sequential p50_us 1 yes \
			0.001
		brow "directory_tree, server CPU per call (ms)" tree sequential server_cpu_us 1 yes \
			0.001
		echo
		echo "Ratios: after/before above 1× favours after (time and CPU: before/after);" \
			"x/floor: calls/s as a share of the null server's with the same driver."
	} >>"$table"
fi

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
refver=$(jq -r .version node_modules/@modelcontextprotocol/server-filesystem/package.json)
if [ -n "$(git status --porcelain -- src meson.build 2>/dev/null)" ]; then commit="$commit+local changes"; fi
if [ -n "${MOAT:-}" ]; then commit="$commit, binary $moat"; fi
paths=$(texts "$out/fs-moat-search.json" | grep -c . || true)
entries=$(texts "$out/fs-moat-tree.json" | grep -c '"name": ' || true)
cut=$(cat "$out/fs-moat-search.json" "$out/fs-moat-tree.json" 2>/dev/null | grep -c 'output cut\|incomplete' || true)
floor_pin=$(fmt 0 "$(get null read tools_call sequential-pinned per_second)")
floor_seq=$(fmt 0 "$(get null read tools_call sequential per_second)")
floor_par=$(fmt 0 "$(get null read tools_call concurrent per_second)")
{
	echo "# moat filesystem benchmark results"
	echo
	echo "Run $(date -u '+%Y-%m-%d %H:%M UTC') by bench/fs.sh on $(nproc) CPUs ($cpu), Linux $(uname -r);"
	echo "moat $commit (release), reference @modelcontextprotocol/server-filesystem $refver on node $(node --version)."
	echo "Fixture bench/out/fs-fixture: $(fmt 0 "$nfiles") files in $(fmt 0 "$ndirs") directories" \
		"(small.txt 4 KiB, big.txt 10 MiB)."
	echo "$runs cold-start runs; each throughput figure is the median of $repeat runs of $secs s" \
		"(after 0.5 s of warm-up), each in a fresh server; search_files and directory_tree:" \
		"p50 of $calls sequential calls after 0.5 s of warm-up; head=10: p50 of $head_calls calls."
	echo "\"One CPU\": driver and server bound to CPU $pin; \"unpinned\" and rows that do not say:" \
		"left to the scheduler."
	echo "Floor for a call answered with 4 KiB of text (bench/nullserver --text 4096, same driver):" \
		"$floor_pin/s on one CPU, $floor_seq/s unpinned, $floor_par/s with $inflight in flight."
	echo "Responses: search_files returned $(fmt 0 "$paths") paths and directory_tree" \
		"$(fmt 0 "$entries") entries from moat" \
		"($cut responses carried a cut note); \"same text\" compares the text both servers returned."
	echo "Other load: CPUs $busy_before% busy in the second before the run, $busy_after% in the" \
		"second after; load average $load_before before, $load_after after."
	echo "Ratios: reference/moat for time and memory, moat/reference for throughput (above 1×" \
		"favours moat) and for the size of the text returned (1× when they agree)."
	echo
	cat "$table"
} >"$out/fs-results.md"

echo >&2
cat "$table"
echo >&2
echo "fs.sh: results in bench/out/fs-results.md (raw: bench/out/fs-moat.jsonl," \
	"bench/out/fs-reference.jsonl, bench/out/fs-null.jsonl); took $(($(date +%s) - started)) s" >&2
exit "$status"
