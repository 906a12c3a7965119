#!/usr/bin/env bash
# http.sh - benchmark moat's declared API tools against the raw HTTP round
# trip to the same upstream.
#
# Starts bench/http_upstream.mjs (a small JSON API on 127.0.0.1, Node,
# keep-alive) and measures, in one run:
#
#   floor        bench/httpfloor.c: the same GET straight to the upstream
#                with libcurl (handle kept alive), 1 thread and 16 threads
#   cache hit    tools/call of a declared GET tool whose answer is in moat's
#                response cache (the API's cache on): sequential on one
#                CPU, unpinned, and 16 in flight (mcpbench)
#   cache miss   the same tool with the API's cache off, so every call goes
#                to the upstream: sequential and 16 in flight
#
# For the one-CPU figures the driver, moat and the upstream share one CPU
# (taskset), so the round trips are not paying the VM's cross-CPU wake-ups.
# Prints a markdown table and writes it with the machine and load to
# bench/out/http-results.md; raw JSON lines in bench/out/http-*.jsonl.
#
# Knobs (environment): BENCH_SECONDS (default 2), REPEAT (default 3),
# INFLIGHT (default 16), PIN_CPU (default the last CPU), MOAT (a binary to
# measure instead of building one). Takes about a minute after the build.
set -euo pipefail

cd "$(dirname "$0")/.."
root=$PWD
out=$root/bench/out
build=$out/build
. "$root/bench/lib.sh"
secs=${BENCH_SECONDS:-2}
repeat=${REPEAT:-3}
inflight=${INFLIGHT:-16}
pin=${PIN_CPU:-$(($(nproc) - 1))}
started=$(date +%s)

bench_need meson ninja node jq awk taskset "${CC:-cc}"
mkdir -p "$out"

# 1. moat: MOAT, or the release build all the bench scripts share.
bench_moat moat moat_http.so

# 2. the driver and the floor.
flags=(-O2 -std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes
	-Wmissing-prototypes -Wformat=2 -Wvla)
"${CC:-cc}" "${flags[@]}" bench/mcpbench.c -ljansson -o "$out/mcpbench"
"${CC:-cc}" "${flags[@]}" bench/httpfloor.c -lcurl -lpthread -o "$out/httpfloor"

# 3. the upstream, on the pinned CPU like everything measured on one CPU.
upport=$out/http-upstream.port
: >"$upport"
taskset -c "$pin" node bench/http_upstream.mjs 0 >"$upport" &
upstream=$!
trap 'kill $upstream 2>/dev/null || true' EXIT
for _ in $(seq 50); do [ -s "$upport" ] && break; sleep 0.1; done
port=$(cat "$upport")
[ -n "$port" ] || { echo "http.sh: the upstream did not start" >&2; exit 1; }
url="http://127.0.0.1:$port/items/1"

# 4. moat's configs: one declared GET tool; cache on, then off.
config() { # config CACHE -> the config JSON
	cat <<EOF
{"http":{"apis":{"bench":{"base_url":"http://127.0.0.1:$port","allow_http":true,
  "allow_addresses":["127.0.0.1"],"cache":$1,
  "tools":[{"name":"get_item","description":"One item.","method":"GET","path":"/items/{id}",
   "input_schema":{"type":"object","properties":{"id":{"type":"integer","minimum":1}},
     "required":["id"],"additionalProperties":false},
   "select":["/id","/name","/owner"]}]}}},
 "limits":{"calls_per_minute":0,"tool_calls_per_minute":0,"max_concurrent_calls":64}}
EOF
}
config '{"ttl_s":3600}' >"$out/http-hit.json"
config false >"$out/http-miss.json"

# 5. the runs.
: >"$out/http-floor.jsonl"
: >"$out/http-moat.jsonl"
echo "== floor: raw GET with libcurl" >&2
taskset -c "$pin" "$out/httpfloor" "$url" "$secs" 1 floor-pin >>"$out/http-floor.jsonl"
"$out/httpfloor" "$url" "$secs" 1 floor >>"$out/http-floor.jsonl"
"$out/httpfloor" "$url" "$secs" "$inflight" floor >>"$out/http-floor.jsonl"
for part in hit miss; do
	echo "== moat: cache $part" >&2
	"$out/mcpbench" --runs 0 --only call --seconds "$secs" --repeat "$repeat" --pin "$pin" \
		--inflight "$inflight" --tool get_item --args '{"id":1}' --label "$part" \
		-- "$moat" serve --config "$out/http-$part.json" >>"$out/http-moat.jsonl"
done

# 6. the table.
get() { # get FILE LABEL MODE FIELD -> number, or ""
	jq -r --arg l "$2" --arg m "$3" --arg f "$4" \
		'select(.label == $l and (.mode // "") == $m and .ok != false) | .[$f]' \
		"$out/http-$1.jsonl" 2>/dev/null | head -1
}
. "$root/bench/table.sh"
table=$out/http-table.md
{
	echo "| Metric | moat | raw GET (floor) | moat / floor | target | moat meets it |"
	echo "|---|---:|---:|---:|---:|:---:|"
	row() { # row NAME MOAT FLOOR DECIMALS OP LIMIT TARGET_TEXT [RATIO_FOR_TARGET]
		local q
		q=$(ratio "$2" "$3")
		echo "| $1 | $(fmt "$4" "$2") | $(fmt "$4" "$3") | $q | ${7:-–} | $(meets "${8:-$2}" "$5" "$6") |"
	}
	hit_pin=$(get moat hit sequential-pinned per_second)
	row "cache hit, sequential, one CPU (calls/s)" "$hit_pin" "" 0 ">=" 50000 "≥ 50,000/s"
	row "cache hit, sequential, unpinned (calls/s)" "$(get moat hit sequential per_second)" "" 0 "" "" ""
	row "cache hit, $inflight in flight (calls/s)" "$(get moat hit concurrent per_second)" "" 0 "" "" ""
	row "cache hit, one CPU, p50 latency (µs)" "$(get moat hit sequential-pinned p50_us)" "" 1 "" "" ""
	for mode in pin seq; do
		if [ $mode = pin ]; then
			mm=sequential-pinned fl=floor-pin what="one CPU (driver, moat, upstream)"
		else
			mm=sequential fl=floor what="unpinned"
		fi
		m=$(get moat miss "$mm" p50_us)
		f=$(get floor "$fl" sequential p50_us)
		r=$(awk -v a="$m" -v b="$f" 'BEGIN { if (b > 0) printf "%.3f", a / b }')
		row "cache miss vs raw GET, $what, p50 latency (µs)" "$m" "$f" 1 "<=" 1.5 "≤ 1.5× floor" "$r"
	done
	row "cache miss, sequential, unpinned (calls/s)" "$(get moat miss sequential per_second)" \
		"$(get floor floor sequential per_second)" 0 "" "" ""
	row "cache miss, $inflight in flight (calls/s)" "$(get moat miss concurrent per_second)" \
		"$(get floor floor concurrent per_second)" 0 "" "" ""
} >"$table"

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git status --porcelain -- src meson.build 2>/dev/null)" ]; then commit="$commit+local changes"; fi
{
	echo "# moat http benchmark results"
	echo
	echo "Run $(date -u '+%Y-%m-%d %H:%M UTC') by bench/http.sh on $(nproc) CPUs ($cpu), Linux $(uname -r);"
	echo "moat $commit (release); upstream bench/http_upstream.mjs on node $(node --version), 127.0.0.1, keep-alive;"
	echo "floor bench/httpfloor.c ($(curl-config --version 2>/dev/null || echo libcurl), one handle per thread, kept alive)."
	echo "Each moat figure is the median of $repeat runs of $secs s (after 0.5 s of warm-up), each in a fresh server; \"one CPU\": driver, server and upstream on CPU $pin."
	echo "The declared tool: GET /items/{id} with select [/id, /name, /owner]; \"hit\": the API's cache on (every call after the first is answered from it); \"miss\": the cache off."
	echo "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
	echo
	cat "$table"
} >"$out/http-results.md"
cat "$table"
echo
echo "http.sh: results in bench/out/http-results.md; took $(($(date +%s) - started)) s" >&2
