#!/usr/bin/env bash
# era.sh - what the 2026-07-28 era's per-request _meta costs a tool call,
# against the initialize era's session, on both transports.
#
# In one run, the same call (tools/call of the testing family's `echo`
# {"text":"x"}, or TOOL/ARGS) to the same moat binary (release build with
# the test provider):
#
#   old era   stdio: initialize once, then calls without _meta;
#             HTTP: initialize once (an Mcp-Session-Id), then calls on
#             that session
#   new era   stdio: every call carries params._meta (protocol version,
#             client capabilities, client info, as the 2.x SDK sends it),
#             served statelessly (the driver's initialize goes unused);
#             HTTP: no session, every POST with MCP-Protocol-Version,
#             Mcp-Method and Mcp-Name beside the _meta in the body
#
# stdio through bench/mcpbench.c (--meta), sequential and INFLIGHT in
# flight, a fresh server per figure; HTTP through wrk (bench/http_call.lua)
# against one listener serving both eras, 1 connection and 64. The two
# eras' runs alternate (REPEAT rounds of BENCH_SECONDS), so load from
# elsewhere falls on both alike; a figure is the median of the clean runs
# and new / old the median of the rounds' ratios. Target: the new era at
# least 0.90× the old (the per-request _meta costs at most 10 %). Beside
# each, the server's CPU time per call (user + system, all threads: from
# mcpbench for stdio, from /proc/PID/stat around each wrk run for HTTP),
# which load from other processes moves far less than calls/s.
#
# Prints a markdown table and writes it, with the machine and its load, to
# bench/out/era-results.md; appends nothing to docs.
#
# Knobs (environment): BENCH_SECONDS (default 3), REPEAT (default 5),
# INFLIGHT (default 64), WRK_THREADS (default 2), TOOL and ARGS (default
# echo and {"text":"x"}), MOAT (a binary to measure instead of building
# one), AUDIT=off (moat without its audit trail), ONLY=stdio|http.
set -euo pipefail

cd "$(dirname "$0")/.."
root=$PWD
out=$root/bench/out
build=$out/build
. "$root/bench/lib.sh"
secs=${BENCH_SECONDS:-3}
repeat=${REPEAT:-5}
inflight=${INFLIGHT:-64}
wrk_threads=${WRK_THREADS:-2}
tool=${TOOL:-echo}
args=${ARGS:-'{"text":"x"}'}
only=${ONLY:-}
started=$(date +%s)

bench_need meson ninja wrk curl jq awk python3 "${CC:-cc}"
mkdir -p "$out"
bench_moat moat
"${CC:-cc}" -O2 -std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wformat=2 -Wvla bench/mcpbench.c -ljansson -o "$out/mcpbench"

audit=
[ "${AUDIT:-on}" = off ] && audit='"audit":false,'
cat >"$out/era-moat.json" <<EOF
{"testing":{"enabled":true},$audit
 "limits":{"calls_per_minute":0,"tool_calls_per_minute":0,"max_concurrent_calls":64},
 "listen":{"session_idle_s":3600,"max_sessions":1000,"max_sessions_per_principal":1000,
           "max_connections":1024,"max_connections_per_ip":1024,
           "requests_per_second_per_ip":0}}
EOF
meta='{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"era.sh","version":"1"}}'
jq -cn --arg t "$tool" --argjson a "$args" \
	'{jsonrpc:"2.0",id:1,method:"tools/call",params:{name:$t,arguments:$a}}' >"$out/era-old.json"
jq -cn --arg t "$tool" --argjson a "$args" --argjson m "$meta" \
	'{jsonrpc:"2.0",id:1,method:"tools/call",params:{name:$t,arguments:$a,_meta:$m}}' \
	>"$out/era-new.json"
init='{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"era.sh","version":"1"}}}'
accept='Accept: application/json, text/event-stream'
ctype='Content-Type: application/json'

pids=()
cleanup() {
	local p
	for p in ${pids[@]+"${pids[@]}"}; do kill "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'; }
div() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f", a / b }'; }

# keep NAME VALUE: append VALUE (when not empty) to the array NAME.
keep() { [ -n "$2" ] && eval "$1+=(\"\$2\")"; return 0; }

: >"$out/era-wrk.log"
bench_settle 0

# ---- stdio ---------------------------------------------------------------
# stdio_run ERA -> "SEQ PAR SEQ_CPU PAR_CPU": calls/s of one mcpbench run (a
# fresh server per figure) and the server's CPU µs per call; "-" for a
# figure that failed.
stdio_run() {
	local extra=() res s p sc pc
	[ "$1" = new ] && extra=(--meta "$meta")
	res=$(timeout --kill-after=5 $((4 * secs + 60)) "$out/mcpbench" --only call \
		--modes seq,inflight --inflight "$inflight" --seconds "$secs" --repeat 1 \
		--tool "$tool" --args "$args" ${extra[@]+"${extra[@]}"} --label "$1" -- \
		"$moat" serve --config "$out/era-moat.json" 2>>"$out/era-stdio.log") || true
	echo "$res" >>"$out/era-stdio.jsonl"
	s=$(jq -r 'select(.metric == "tools_call" and .mode == "sequential" and .ok != false)
		| .per_second' <<<"$res" | head -1)
	p=$(jq -r 'select(.metric == "tools_call" and .mode == "concurrent" and .ok != false)
		| .per_second' <<<"$res" | head -1)
	sc=$(jq -r 'select(.metric == "tools_call" and .mode == "sequential" and .ok != false
		and .server_cpu_us > 0) | .server_cpu_us' <<<"$res" | head -1)
	pc=$(jq -r 'select(.metric == "tools_call" and .mode == "concurrent" and .ok != false
		and .server_cpu_us > 0) | .server_cpu_us' <<<"$res" | head -1)
	echo "${s:--} ${p:--} ${sc:--} ${pc:--}"
}

sold=() snew=() sr=() pold=() pnew=() pr=()
csold=() csnew=() cpold=() cpnew=() # server CPU µs per call
if [ "$only" != http ]; then
	: >"$out/era-stdio.jsonl"
	: >"$out/era-stdio.log"
	# The new era's answer, checked once: served, and marked as complete.
	answer=$( (cat "$out/era-new.json"; sleep 0.5) | "$moat" serve --config "$out/era-moat.json" \
		2>/dev/null | head -1)
	case $answer in
	*'"resultType":"complete"'*) ;;
	*)
		echo "$bench: stdio: a call with _meta was not served statelessly: ${answer:0:300}" >&2
		exit 1
		;;
	esac
	echo "== stdio: old and new era alternating, $repeat rounds" >&2
	for _ in $(seq "$repeat"); do
		read -r os op osc opc < <(stdio_run old)
		read -r ns np nsc npc < <(stdio_run new)
		[ "$os" = - ] && os=
		[ "$op" = - ] && op=
		[ "$ns" = - ] && ns=
		[ "$np" = - ] && np=
		[ "$osc" = - ] || keep csold "$osc"
		[ "$opc" = - ] || keep cpold "$opc"
		[ "$nsc" = - ] || keep csnew "$nsc"
		[ "$npc" = - ] || keep cpnew "$npc"
		keep sold "$os"
		keep snew "$ns"
		keep pold "$op"
		keep pnew "$np"
		[ -n "$os" ] && [ -n "$ns" ] && sr+=("$(div "$ns" "$os")")
		[ -n "$op" ] && [ -n "$np" ] && pr+=("$(div "$np" "$op")")
	done
fi

# ---- HTTP ----------------------------------------------------------------
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# open_session -> sets session (an initialize's Mcp-Session-Id).
open_session() {
	local hdr=$out/era.headers
	curl -s -D "$hdr" -o /dev/null -H "$ctype" -H "$accept" -d "$init" "$url"
	session=$(tr -d '\r' <"$hdr" | awk -F': ' 'tolower($1) == "mcp-session-id" { print $2 }')
	[ -n "$session" ] || { echo "$bench: initialize opened no session" >&2; exit 1; }
	curl -s -o /dev/null -H "$ctype" -H "$accept" -H 'MCP-Protocol-Version: 2025-11-25' \
		-H "Mcp-Session-Id: $session" \
		-d '{"jsonrpc":"2.0","method":"notifications/initialized"}' "$url"
}

new_headers=('Mcp-Method: tools/call' "Mcp-Name: $tool")

# cpu_ticks: the listener's CPU time so far (utime + stime, clock ticks).
cpu_ticks() { awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$spid/stat"; }

# drive ERA CONNECTIONS THREADS SECONDS -> "REQUESTS/S CPU_US" (the
# listener's CPU µs per request), or "" when wrk saw errors or non-2xx
# answers. The old era runs on a session of its own.
drive() {
	local res t0 t1 n
	t0=$(cpu_ticks)
	if [ "$1" = old ]; then
		open_session
		res=$(wrk -t"$3" -c"$2" -d"${4}s" -s bench/http_call.lua "$url" -- \
			"$out/era-old.json" "$session" 2025-11-25 2>&1) || true
	else
		res=$(wrk -t"$3" -c"$2" -d"${4}s" -s bench/http_call.lua "$url" -- \
			"$out/era-new.json" - 2026-07-28 "${new_headers[@]}" 2>&1) || true
	fi
	t1=$(cpu_ticks)
	echo "== $1 $2" >>"$out/era-wrk.log"
	echo "$res" >>"$out/era-wrk.log"
	if grep -qE 'Non-2xx|Socket errors' <<<"$res"; then
		echo "$bench: wrk saw errors ($1 era, $2 connections):" >&2
		grep -E 'Non-2xx|Socket errors' <<<"$res" >&2
		echo ""
		return
	fi
	n=$(awk '/requests in/ { print $1 }' <<<"$res")
	awk -v n="$n" -v d="$((t1 - t0))" -v hz="$(getconf CLK_TCK)" \
		'/^Requests\/sec:/ { printf "%s %.2f\n", $2, (n > 0 ? d * 1e6 / hz / n : 0) }' <<<"$res"
}

# measure MODE CONNECTIONS THREADS -> sets hold_MODE, hnew_MODE (medians of
# the clean runs), their counts and hratio_MODE (median of the rounds'
# new/old).
measure() {
	local mode=$1 c=$2 t=$3 o n oc nc ol=() nl=() ra=() ocl=() ncl=()
	echo "== HTTP, $c connection(s): old and new era alternating, $repeat rounds" >&2
	drive old "$c" "$t" 1 >/dev/null # warm-up
	drive new "$c" "$t" 1 >/dev/null
	for _ in $(seq "$repeat"); do
		read -r o oc < <(drive old "$c" "$t" "$secs"; echo)
		read -r n nc < <(drive new "$c" "$t" "$secs"; echo)
		keep ol "$o"
		keep nl "$n"
		keep ocl "$oc"
		keep ncl "$nc"
		[ -n "$o" ] && [ -n "$n" ] && ra+=("$(div "$n" "$o")")
	done
	printf -v "hold_$mode" '%s' "$(printf '%s\n' ${ol[@]+"${ol[@]}"} | median)"
	printf -v "hnew_$mode" '%s' "$(printf '%s\n' ${nl[@]+"${nl[@]}"} | median)"
	printf -v "hratio_$mode" '%s' "$(printf '%s\n' ${ra[@]+"${ra[@]}"} | median)"
	printf -v "hcold_$mode" '%s' "$(printf '%s\n' ${ocl[@]+"${ocl[@]}"} | median)"
	printf -v "hcnew_$mode" '%s' "$(printf '%s\n' ${ncl[@]+"${ncl[@]}"} | median)"
	printf -v "hold_${mode}_n" '%s' "${#ol[@]}"
	printf -v "hnew_${mode}_n" '%s' "${#nl[@]}"
}

http_note=
hold_seq= hnew_seq= hratio_seq= hold_par= hnew_par= hratio_par=
hcold_seq= hcnew_seq= hcold_par= hcnew_par=
hold_seq_n=0 hnew_seq_n=0 hold_par_n=0 hnew_par_n=0
if [ "$only" != stdio ]; then
	port=$(free_port)
	"$moat" serve --config "$out/era-moat.json" --http "127.0.0.1:$port" 2>"$out/era-moat.log" &
	spid=$!
	pids+=("$spid")
	url="http://127.0.0.1:$port/mcp"
	for _ in $(seq 50); do
		curl -s -o /dev/null "http://127.0.0.1:$port/healthz" && break
		kill -0 "$spid" 2>/dev/null || { tail -5 "$out/era-moat.log" >&2; exit 1; }
		sleep 0.1
	done
	answer=$(curl -s -H "$ctype" -H "$accept" -H 'MCP-Protocol-Version: 2026-07-28' \
		-H "${new_headers[0]}" -H "${new_headers[1]}" -d @"$out/era-new.json" "$url")
	case $answer in
	*'"resultType":"complete"'*)
		measure seq 1 1
		measure par 64 "$wrk_threads"
		;;
	*)
		http_note="a sessionless 2026-07-28 POST was not served (${answer:0:160}); HTTP skipped"
		echo "$bench: $http_note" >&2
		;;
	esac
	kill "$spid" 2>/dev/null || true
	wait "$spid" 2>/dev/null || true
fi

load_after=$(cut -d' ' -f1-3 /proc/loadavg)
busy_after=$(bench_busy)

# ---- the table -------------------------------------------------------------
. "$root/bench/table.sh"
med() { printf '%s\n' "$@" | median; }
n_or() { echo "${1:-0}/$repeat"; }
row() { # row LABEL OLD NEW RATIO CLEAN OLD_CPU NEW_CPU
	echo "| $1 | $(fmt 0 "$2") | $(fmt 0 "$3") | $5 | $(ratio "$4" 1) | ≥ 0.90× | $(meets "$4" ">=" 0.9) | $(fmt 1 "$6") → $(fmt 1 "$7") |"
}
table=$out/era-table.md
{
	echo "| Call | old era calls/s | 2026-07-28 calls/s | clean rounds | new / old | target | meets it | server CPU µs/call, old → new |"
	echo "|---|---:|---:|---:|---:|---:|:---:|---:|"
	if [ "$only" != http ]; then
		row "stdio, sequential" "$(med ${sold[@]+"${sold[@]}"})" "$(med ${snew[@]+"${snew[@]}"})" \
			"$(med ${sr[@]+"${sr[@]}"})" "${#sr[@]}/$repeat" \
			"$(med ${csold[@]+"${csold[@]}"})" "$(med ${csnew[@]+"${csnew[@]}"})"
		row "stdio, $inflight in flight" "$(med ${pold[@]+"${pold[@]}"})" \
			"$(med ${pnew[@]+"${pnew[@]}"})" "$(med ${pr[@]+"${pr[@]}"})" "${#pr[@]}/$repeat" \
			"$(med ${cpold[@]+"${cpold[@]}"})" "$(med ${cpnew[@]+"${cpnew[@]}"})"
	fi
	if [ "$only" != stdio ]; then
		row "HTTP, 1 connection" "$hold_seq" "$hnew_seq" "$hratio_seq" \
			"$hold_seq_n+$hnew_seq_n/$((2 * repeat))" "$hcold_seq" "$hcnew_seq"
		row "HTTP, 64 connections" "$hold_par" "$hnew_par" "$hratio_par" \
			"$hold_par_n+$hnew_par_n/$((2 * repeat))" "$hcold_par" "$hcnew_par"
	fi
} >"$table"

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git status --porcelain -- src meson.build 2>/dev/null)" ]; then commit="$commit+local changes"; fi
{
	echo "# moat: the 2026-07-28 era against the initialize era"
	echo
	echo "Run $(date -u '+%Y-%m-%d %H:%M UTC') by bench/era.sh on $(nproc) CPUs ($cpu), Linux $(uname -r);"
	echo "moat $commit (release, test provider, audit trail ${AUDIT:-on}); $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2)."
	echo "Call: tools/call \`$tool $args\`; old era on a session (stdio: after initialize), new era with"
	echo "params._meta on every call (HTTP: no session, MCP-Protocol-Version, Mcp-Method and Mcp-Name)."
	echo "The eras' runs alternate, $repeat rounds of $secs s; figures are medians of the clean runs,"
	echo "new / old the median of the rounds' ratios; server CPU per call is the median over the runs."
	echo "Other load: CPUs $busy_before% busy in the second before the run, $busy_after% in the" \
		"second after; load average $load_before before, $load_after after."
	[ -n "$http_note" ] && echo && echo "HTTP: $http_note."
	echo
	cat "$table"
} >"$out/era-results.md"

echo >&2
cat "$table"
[ -n "$http_note" ] && echo "HTTP: $http_note" >&2
echo "$bench: results in bench/out/era-results.md; took $(($(date +%s) - started)) s" >&2
