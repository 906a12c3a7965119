#!/usr/bin/env bash
# transport_http.sh - what moat's Streamable HTTP transport costs a trivial
# tool call, against the floor of a null libmicrohttpd responder and beside
# the same call over stdio; and what 10,000 idle sessions cost in memory.
#
# In one run:
#
#   floor        bench/mhd_null.c: libmicrohttpd in the transport's threading
#                mode (internal polling thread, epoll, keep-alive) answering
#                every POST /mcp with one fixed small JSON-RPC result
#   HTTP         moat serve --http 127.0.0.1:PORT (release build with the
#                test provider): tools/call of the testing family's `echo`
#                {"text":"x"}, on one session opened with initialize
#   stdio        the same call through bench/mcpbench.c over stdio
#
# HTTP and the floor are driven by wrk (bench/http_call.lua): 1 connection
# (sequential: one call in flight) and 64 connections (64 in flight), with
# keep-alive; stdio by mcpbench, sequential and 64 in flight. The floor and
# moat run side by side and their runs alternate (REPEAT rounds of
# BENCH_SECONDS each, after a warm-up), each run on a session of its own;
# a figure is the median of the clean runs (wrk saw no error and no non-2xx
# answer), the ratio the median of the rounds' ratios. Then a
# fresh moat gets 10,000 initialize POSTs (bench/http_sessions.lua), each
# opening a session left idle, and the growth of its resident set (VmRSS)
# is read. Targets: HTTP at least half the floor's calls/s, 10,000 idle
# sessions at most 64 MB.
#
# Prints a markdown table and writes it, with the machine and its load, to
# bench/out/transport-http-results.md; appends nothing to docs.
#
# Knobs (environment): BENCH_SECONDS (default 3), REPEAT (default 3),
# SESSIONS (default 10000), WRK_THREADS (for the 64-connection runs,
# default 2), MOAT (a moat binary to measure instead of building one),
# AUDIT=off (moat without its audit trail, which is on by default and here),
# TARGET=null (measure a second null responder in moat's place: checks the
# harness itself on a tree without the HTTP transport; skips stdio).
# Takes about two minutes after the build.
set -euo pipefail

cd "$(dirname "$0")/.."
root=$PWD
out=$root/bench/out
build=$out/build
. "$root/bench/lib.sh"
secs=${BENCH_SECONDS:-3}
repeat=${REPEAT:-3}
nsessions=${SESSIONS:-10000}
wrk_threads=${WRK_THREADS:-2}
target=${TARGET:-moat}
started=$(date +%s)

bench_need meson ninja wrk curl jq awk pkg-config python3 "${CC:-cc}"
pkg-config --exists libmicrohttpd || { echo "$bench: libmicrohttpd-dev is required" >&2; exit 2; }
mkdir -p "$out"

# 1. moat: MOAT, or the release build all the bench scripts share.
if [ "$target" = moat ]; then
	bench_moat moat
fi

# 2. the floor and the stdio driver.
flags=(-O2 -std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes
	-Wmissing-prototypes -Wformat=2 -Wvla)
# shellcheck disable=SC2046
"${CC:-cc}" "${flags[@]}" bench/mhd_null.c $(pkg-config --cflags --libs libmicrohttpd) \
	-o "$out/mhd_null"
"${CC:-cc}" "${flags[@]}" bench/mcpbench.c -ljansson -o "$out/mcpbench"

# 3. moat's config: the testing family, every limit that would refuse a
# benchmark's traffic raised or off, sessions that outlive the run.
audit=
[ "${AUDIT:-on}" = off ] && audit='"audit":false,'
cat >"$out/transport-http-moat.json" <<EOF
{"testing":{"enabled":true},$audit
 "limits":{"calls_per_minute":0,"tool_calls_per_minute":0,"max_concurrent_calls":64},
 "listen":{"session_idle_s":3600,"max_sessions":$((nsessions + 100)),
           "max_sessions_per_principal":$((nsessions + 100)),
           "max_connections":1024,"max_connections_per_ip":1024,
           "requests_per_second_per_ip":0}}
EOF
call='{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"x"}}}'
printf '%s' "$call" >"$out/transport-http-call.json"
init='{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"transport_http.sh","version":"1"}}}'

pids=()
cleanup() {
	local p
	for p in ${pids[@]+"${pids[@]}"}; do kill "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_server KIND -> sets url and spid: "null" (mhd_null) or "moat".
start_server() {
	local kind=$1 port log
	if [ "$kind" = null ]; then
		: >"$out/mhd_null.port"
		"$out/mhd_null" 0 >"$out/mhd_null.port" &
		spid=$!
		for _ in $(seq 50); do [ -s "$out/mhd_null.port" ] && break; sleep 0.1; done
		port=$(cat "$out/mhd_null.port")
	else
		port=$(free_port)
		log=$out/transport-http-moat.log
		"$moat" serve --config "$out/transport-http-moat.json" --http "127.0.0.1:$port" \
			2>"$log" &
		spid=$!
		for _ in $(seq 50); do
			curl -s -o /dev/null "http://127.0.0.1:$port/healthz" && break
			kill -0 "$spid" 2>/dev/null || break
			sleep 0.1
		done
		if ! kill -0 "$spid" 2>/dev/null; then
			echo "$bench: moat did not start an HTTP listener:" >&2
			tail -5 "$log" >&2
			exit 1
		fi
	fi
	pids+=("$spid")
	[ -n "$port" ] || { echo "$bench: the $kind server did not start" >&2; exit 1; }
	url="http://127.0.0.1:$port/mcp"
}

stop_server() {
	kill "$spid" 2>/dev/null || true
	wait "$spid" 2>/dev/null || true
}

# open_session -> sets session (the Mcp-Session-Id of a new initialize;
# "-" when the server gave none) and checks one call's answer.
open_session() {
	local hdr=$out/transport-http.headers answer
	curl -s -D "$hdr" -o /dev/null -H 'Content-Type: application/json' \
		-H 'Accept: application/json, text/event-stream' -d "$init" "$url"
	session=$(tr -d '\r' <"$hdr" | awk -F': ' 'tolower($1) == "mcp-session-id" { print $2 }')
	[ -n "$session" ] || session=-
	local sh=()
	[ "$session" = - ] || sh=(-H "Mcp-Session-Id: $session")
	curl -s -o /dev/null -H 'Content-Type: application/json' \
		-H 'Accept: application/json, text/event-stream' -H 'MCP-Protocol-Version: 2025-11-25' \
		${sh[@]+"${sh[@]}"} -d '{"jsonrpc":"2.0","method":"notifications/initialized"}' "$url"
	answer=$(curl -s -H 'Content-Type: application/json' \
		-H 'Accept: application/json, text/event-stream' -H 'MCP-Protocol-Version: 2025-11-25' \
		${sh[@]+"${sh[@]}"} -d "$call" "$url")
	case $answer in
	*'"text":"x"'*) ;;
	*)
		echo "$bench: unexpected answer to the call: ${answer:0:300}" >&2
		exit 1
		;;
	esac
}

# drive CONNECTIONS THREADS SECONDS -> prints requests/s, or "" when wrk
# saw errors or non-2xx answers.
drive() {
	local res
	res=$(wrk -t"$2" -c"$1" -d"${3}s" -s bench/http_call.lua "$url" -- \
		"$out/transport-http-call.json" "$session" 2>&1) || true
	echo "$res" >>"$out/transport-http-wrk.log"
	if grep -qE 'Non-2xx|Socket errors' <<<"$res"; then
		echo "$bench: wrk saw errors against $url:" >&2
		grep -E 'Non-2xx|Socket errors' <<<"$res" >&2
		echo ""
		return
	fi
	awk '/^Requests\/sec:/ { print $2 }' <<<"$res"
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'; }

# run URL CONNECTIONS THREADS SECONDS -> prints calls/s of one run on a
# session of its own ("" when it was not clean), so a session the server
# lost fails that run only.
run() {
	url=$1
	open_session
	drive "$2" "$3" "$4"
}

# measure MODE CONNECTIONS THREADS -> sets floor_MODE, http_MODE (median
# calls/s of the clean runs), floor_MODE_n, http_MODE_n (how many of the
# REPEAT runs were clean) and ratio_MODE (the median over the rounds where
# both were clean of http/floor). The two servers run side by side and
# their runs alternate, so load from elsewhere on the machine falls on
# both alike.
measure() {
	local mode=$1 c=$2 t=$3 f h fl=() ht=() ra=()
	echo "== $c connection(s): floor and $target alternating, $repeat rounds" >&2
	run "$floor_url" "$c" "$t" 1 >/dev/null # warm-up
	run "$http_url" "$c" "$t" 1 >/dev/null
	for _ in $(seq "$repeat"); do
		f=$(run "$floor_url" "$c" "$t" "$secs")
		h=$(run "$http_url" "$c" "$t" "$secs")
		[ -n "$f" ] && fl+=("$f")
		[ -n "$h" ] && ht+=("$h")
		if [ -n "$f" ] && [ -n "$h" ]; then
			ra+=("$(awk -v a="$h" -v b="$f" 'BEGIN { printf "%.4f", a / b }')")
		fi
	done
	printf -v "floor_$mode" '%s' "$(printf '%s\n' ${fl[@]+"${fl[@]}"} | median)"
	printf -v "http_$mode" '%s' "$(printf '%s\n' ${ht[@]+"${ht[@]}"} | median)"
	printf -v "ratio_$mode" '%s' "$(printf '%s\n' ${ra[@]+"${ra[@]}"} | median)"
	printf -v "floor_${mode}_n" '%s' "${#fl[@]}"
	printf -v "http_${mode}_n" '%s' "${#ht[@]}"
}

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

: >"$out/transport-http-wrk.log"
bench_settle 0

# 4. the floor and moat over HTTP (or, with TARGET=null, a second null
# responder), side by side.
start_server null
floor_url=$url
floor_pid=$spid
start_server "$target"
http_url=$url
http_pid=$spid
measure seq 1 1
measure par 64 "$wrk_threads"
spid=$floor_pid stop_server
spid=$http_pid stop_server

# 6. the same call over stdio.
stdio_seq="" stdio_par=""
if [ "$target" = moat ]; then
	echo "== stdio: sequential, then 64 in flight" >&2
	timeout --kill-after=5 120 "$out/mcpbench" --only call --modes seq,inflight --inflight 64 \
		--seconds "$secs" --repeat "$repeat" --tool echo --args '{"text":"x"}' \
		--label stdio -- "$moat" serve --config "$out/transport-http-moat.json" \
		>"$out/transport-http-stdio.jsonl" || true
	get() { jq -r --arg mode "$1" 'select(.metric == "tools_call" and .mode == $mode and
		.ok != false) | .per_second' "$out/transport-http-stdio.jsonl" | head -1; }
	stdio_seq=$(get sequential)
	stdio_par=$(get concurrent)
fi

# 7. idle sessions: RSS of a fresh server after one session, then after
# SESSIONS more, each opened by an initialize and left idle.
echo "== $nsessions idle sessions" >&2
start_server "$target"
open_session
sleep 0.5
rss0=$(rss_kb "$spid")
donefile=$out/transport-http-sessions.done
rm -f "$donefile"
wrk -t1 -c16 -d600s -s bench/http_sessions.lua "$url" -- "$nsessions" "$donefile" \
	>"$out/transport-http-sessions.log" 2>&1 &
wpid=$!
for _ in $(seq 6000); do [ -s "$donefile" ] && break; kill -0 "$wpid" 2>/dev/null || break; sleep 0.1; done
kill -INT "$wpid" 2>/dev/null || true
wait "$wpid" 2>/dev/null || true
sleep 1
rss1=$(rss_kb "$spid")
opened=$(sed -n 's/.*opened=\([0-9]*\).*/\1/p' "$donefile" 2>/dev/null || true)
# Sessions moat let go meanwhile (it logs each expiry): none should, with
# listen.session_idle_s far above the run's length.
expired=0
if [ "$target" = moat ]; then
	expired=$(grep -c 'session expired' "$out/transport-http-moat.log" || true)
fi
stop_server
growth_mb=$(awk -v a="$rss0" -v b="$rss1" 'BEGIN { printf "%.1f", (b - a) / 1024 }')
per_session_kb=$(awk -v a="$rss0" -v b="$rss1" -v n="${opened:-0}" \
	'BEGIN { if (n > 0) printf "%.2f", (b - a) / n }')

load_after=$(cut -d' ' -f1-3 /proc/loadavg)
busy_after=$(bench_busy)

# 8. the table.
. "$root/bench/table.sh"
name=moat
[ "$target" = moat ] || name="null responder (TARGET=null)"
table=$out/transport-http-table.md
{
	echo "| Figure | calls/s | clean runs | HTTP / floor | target | meets it |"
	echo "|---|---:|---:|---:|---:|:---:|"
	echo "| floor: null responder, 1 connection | $(fmt 0 "$floor_seq") | $floor_seq_n/$repeat | – | – | – |"
	echo "| $name over HTTP, 1 connection | $(fmt 0 "$http_seq") | $http_seq_n/$repeat | $(ratio "$ratio_seq" 1) | ≥ 0.5× | $(meets "$ratio_seq" ">=" 0.5) |"
	echo "| moat over stdio, sequential | $(fmt 0 "$stdio_seq") | – | – | – | – |"
	echo "| floor: null responder, 64 connections | $(fmt 0 "$floor_par") | $floor_par_n/$repeat | – | – | – |"
	echo "| $name over HTTP, 64 connections | $(fmt 0 "$http_par") | $http_par_n/$repeat | $(ratio "$ratio_par" 1) | ≥ 0.5× | $(meets "$ratio_par" ">=" 0.5) |"
	echo "| moat over stdio, 64 in flight | $(fmt 0 "$stdio_par") | – | – | – | – |"
	echo
	echo "| Idle sessions | value | target | meets it |"
	echo "|---|---:|---:|:---:|"
	echo "| sessions opened (initialize answered with Mcp-Session-Id) | $(fmt 0 "$opened") | $nsessions | $(meets "$opened" ">=" "$nsessions") |"
	echo "| sessions moat expired meanwhile (its log; should be 0) | $expired | 0 | $(meets "$expired" "<=" 0) |"
	echo "| RSS before → after (MB) | $(fmt 1 "$(awk -v v="$rss0" 'BEGIN { print v / 1024 }')") → $(fmt 1 "$(awk -v v="$rss1" 'BEGIN { print v / 1024 }')") | – | – |"
	echo "| RSS growth for the sessions (MB) | $growth_mb | ≤ 64 | $(meets "$growth_mb" "<=" 64) |"
	echo "| per session (KB) | ${per_session_kb:-n/a} | – | – |"
} >"$table"

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git status --porcelain -- src meson.build 2>/dev/null)" ]; then commit="$commit+local changes"; fi
{
	echo "# moat HTTP transport benchmark"
	echo
	echo "Run $(date -u '+%Y-%m-%d %H:%M UTC') by bench/transport_http.sh on $(nproc) CPUs ($cpu), Linux $(uname -r);"
	echo "moat $commit (release, test provider, audit trail ${AUDIT:-on}); libmicrohttpd $(pkg-config --modversion libmicrohttpd); $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2)."
	echo "Call: tools/call \`echo {\"text\":\"x\"}\` on one session; wrk with keep-alive (1 connection;" \
		"64 connections on $wrk_threads wrk threads); stdio through mcpbench."
	echo "Each calls/s figure is the median of the clean runs (no non-2xx answer, no socket error)" \
		"among $repeat runs of $secs s, each on a session of its own, after a 1 s warm-up; the floor" \
		"and moat run side by side, their runs alternating; HTTP / floor is the median of the" \
		"rounds' ratios."
	echo "Other load: CPUs $busy_before% busy in the second before the run, $busy_after% in the" \
		"second after; load average $load_before before, $load_after after."
	echo
	cat "$table"
} >"$out/transport-http-results.md"

echo >&2
cat "$table"
echo >&2
echo "$bench: results in bench/out/transport-http-results.md; took $(($(date +%s) - started)) s" >&2
