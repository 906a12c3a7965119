#!/usr/bin/env bash
# cluster.sh - what the cluster costs a tool call: the shared rate limit
# (one Redis round trip a call) against local buckets, and nginx in front
# of one and of three replicas.
#
# Every figure is wrk (bench/http_call.lua) POSTing a 2026-07-28 tools/call
# of the testing family's `echo` {"text":"x"} (no session, the era's
# headers, as bench/era.sh does), against local clusters that
# scripts/cluster.sh starts on 127.0.0.1:
#
#   (a) the shared limit: one replica with a cluster section (Redis) and one
#       without (NO_REDIS), the same config otherwise: a global limit of
#       10^8 calls a minute (so every call takes a token and none is
#       refused; with the cluster section the take is one EVAL in Redis),
#       wrk straight at the replica, 1 connection (sequential) and 64;
#       the two alternate, REPEAT rounds of BENCH_SECONDS.
#   (b) through nginx: the same config with the shared limit, nginx in front
#       of 1 replica and of 3, 64 connections; beside them the replica
#       without nginx (from (a)). On a machine with two CPUs three replicas
#       cannot be faster than one: the figures say what nginx and the extra
#       processes cost, not how a real deployment scales (docs/deploy.md
#       has the capacity model).
#
# Beside calls/s, the replica's CPU time per call (user + system, from
# /proc/PID/stat around each run) and, for (a), the difference in time per
# sequential call, which is the round trip to Redis.
#
# Prints a markdown table and writes it with the machine and its load to
# bench/out/cluster-results.md.
#
# Knobs (environment): BENCH_SECONDS (default 3), REPEAT (default 5),
# INFLIGHT (default 64), WRK_THREADS (default 2), MOAT (a binary to measure
# instead of building one).
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
started=$(date +%s)

bench_need meson ninja wrk curl jq awk python3 nginx redis-server
mkdir -p "$out"
bench_moat moat moat_http.so

cat >"$out/cluster-moat.json" <<EOF
{"testing":{"enabled":true},"audit":false,
 "limits":{"calls_per_minute":100000000,"tool_calls_per_minute":0,"max_concurrent_calls":128,"workers":16},
 "listen":{"max_connections":1024,"max_connections_per_ip":1024,"requests_per_second_per_ip":0}}
EOF
meta='{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"bench/cluster.sh","version":"1"}}'
jq -cn --argjson m "$meta" \
	'{jsonrpc:"2.0",id:1,method:"tools/call",params:{name:"echo",arguments:{text:"x"},_meta:$m}}' \
	>"$out/cluster-call.json"
headers=('Mcp-Method: tools/call' 'Mcp-Name: echo')

dirs=()
cleanup() {
	local d
	for d in ${dirs[@]+"${dirs[@]}"}; do scripts/cluster.sh down "$d" >/dev/null 2>&1 || true; done
}
trap cleanup EXIT

# up NAME [ENV...]: start a cluster in $out/cluster-NAME with the bench
# config; its cluster.env is then read with env_of NAME KEY.
up() {
	local name=$1 d=$out/cluster-$1
	shift
	if [ -d "$d" ]; then scripts/cluster.sh down "$d" >/dev/null 2>&1 || rm -rf "$d"; fi
	env MOAT="$moat" CONFIG="$out/cluster-moat.json" CLUSTER_DIR="$d" "$@" \
		scripts/cluster.sh up >"$out/cluster-$name.up.log" 2>&1 ||
		{ cat "$out/cluster-$name.up.log" >&2; echo "$bench: the $name cluster did not start" >&2; exit 1; }
	dirs+=("$d")
}
env_of() { sed -n "s/^$2=//p" "$out/cluster-$1/cluster.env" | tail -1; }

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'; }
div() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.4f", a / b }'; }
keep() { [ -n "$2" ] && eval "$1+=(\"\$2\")"; return 0; }

# cpu_ticks PID...: their CPU time so far (utime + stime, clock ticks).
cpu_ticks() {
	local p t=0
	for p in "$@"; do
		t=$((t + $(awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$p/stat")))
	done
	echo "$t"
}

# drive URL CONNECTIONS THREADS SECONDS PID... -> "REQUESTS/S CPU_US
# REDIS_CPU_US" (the PIDs' CPU µs per request, and Redis's when $redis_pid
# is set), or "" when wrk saw errors or non-2xx answers.
drive() {
	local url=$1 c=$2 t=$3 s=$4 res t0 t1 r0 r1 n
	shift 4
	t0=$(cpu_ticks "$@")
	r0=$(cpu_ticks ${redis_pid:+"$redis_pid"})
	res=$(wrk -t"$t" -c"$c" -d"${s}s" -s bench/http_call.lua "$url" -- \
		"$out/cluster-call.json" - 2026-07-28 "${headers[@]}" 2>&1) || true
	t1=$(cpu_ticks "$@")
	r1=$(cpu_ticks ${redis_pid:+"$redis_pid"})
	{ echo "== $url $c"; echo "$res"; } >>"$out/cluster-wrk.log"
	if grep -qE 'Non-2xx|Socket errors' <<<"$res"; then
		echo "$bench: wrk saw errors ($url, $c connections):" >&2
		grep -E 'Non-2xx|Socket errors' <<<"$res" >&2
		echo ""
		return
	fi
	n=$(awk '/requests in/ { print $1 }' <<<"$res")
	awk -v n="$n" -v d="$((t1 - t0))" -v r="$((r1 - r0))" -v hz="$(getconf CLK_TCK)" \
		'/^Requests\/sec:/ { printf "%s %.2f %.2f\n", $2, (n > 0 ? d * 1e6 / hz / n : 0),
			(n > 0 ? r * 1e6 / hz / n : 0) }' <<<"$res"
}

# check URL: one call answers, and answers complete.
check() {
	local answer
	answer=$(curl -s -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \
		-H 'MCP-Protocol-Version: 2026-07-28' -H "${headers[0]}" -H "${headers[1]}" \
		-d @"$out/cluster-call.json" "$1")
	case $answer in
	*'"resultType":"complete"'*) ;;
	*) echo "$bench: $1 did not serve the call: ${answer:0:200}" >&2; exit 1 ;;
	esac
}

: >"$out/cluster-wrk.log"
bench_settle 0

# ---- (a) the shared limit against local buckets -------------------------
up shared REPLICAS=1
up local REPLICAS=1 NO_REDIS=1
s_url=$(env_of shared REPLICA1_URL) s_pid=$(env_of shared REPLICA1_PID)
l_url=$(env_of local REPLICA1_URL) l_pid=$(env_of local REPLICA1_PID)
s_redis=$(env_of shared REDIS_PID)
check "$s_url"
check "$l_url"
# The shared replica really takes from Redis.
redis-cli -p "$(env_of shared REDIS_PORT)" --scan --pattern '*:rl:*' | grep -q . ||
	{ echo "$bench: no rate bucket in Redis after a call: is the limit shared?" >&2; exit 1; }

# measure MODE CONNECTIONS THREADS: alternate shared and local; sets
# a_MODE_{shared,local,ratio,scpu,lcpu} (medians) and a_MODE_n (clean rounds).
measure() {
	local mode=$1 c=$2 t=$3 s l sc lc rc _ sl=() ll=() ra=() scl=() lcl=() rcl=()
	echo "== (a) $c connection(s): shared and local alternating, $repeat rounds" >&2
	drive "$s_url" "$c" "$t" 1 "$s_pid" >/dev/null # warm-up
	drive "$l_url" "$c" "$t" 1 "$l_pid" >/dev/null
	for _ in $(seq "$repeat"); do
		read -r s sc rc < <(redis_pid=$s_redis drive "$s_url" "$c" "$t" "$secs" "$s_pid"; echo)
		read -r l lc _ < <(drive "$l_url" "$c" "$t" "$secs" "$l_pid"; echo)
		keep sl "$s"
		keep ll "$l"
		keep scl "$sc"
		keep lcl "$lc"
		keep rcl "$rc"
		[ -n "$s" ] && [ -n "$l" ] && ra+=("$(div "$s" "$l")")
	done
	printf -v "a_${mode}_shared" '%s' "$(printf '%s\n' ${sl[@]+"${sl[@]}"} | median)"
	printf -v "a_${mode}_local" '%s' "$(printf '%s\n' ${ll[@]+"${ll[@]}"} | median)"
	printf -v "a_${mode}_ratio" '%s' "$(printf '%s\n' ${ra[@]+"${ra[@]}"} | median)"
	printf -v "a_${mode}_scpu" '%s' "$(printf '%s\n' ${scl[@]+"${scl[@]}"} | median)"
	printf -v "a_${mode}_lcpu" '%s' "$(printf '%s\n' ${lcl[@]+"${lcl[@]}"} | median)"
	printf -v "a_${mode}_rcpu" '%s' "$(printf '%s\n' ${rcl[@]+"${rcl[@]}"} | median)"
	printf -v "a_${mode}_n" '%s' "${#ra[@]}"
}
measure seq 1 1
measure par "$inflight" "$wrk_threads"
scripts/cluster.sh down "$out/cluster-local" >/dev/null

# ---- (b) through nginx, 1 and 3 replicas --------------------------------
up three REPLICAS=3
n1_url=$(env_of shared URL)
n3_url=$(env_of three URL)
check "$n1_url"
check "$n3_url"
n1_pids=("$s_pid")
n3_pids=()
for n in 1 2 3; do n3_pids+=("$(env_of three "REPLICA${n}_PID")"); done
b1=() b3=() bd=() b1c=() b3c=() bdc=()
echo "== (b) nginx in front of 1 and 3 replicas, $inflight connections, $repeat rounds" >&2
drive "$n1_url" "$inflight" "$wrk_threads" 1 "${n1_pids[@]}" >/dev/null
drive "$n3_url" "$inflight" "$wrk_threads" 1 "${n3_pids[@]}" >/dev/null
for _ in $(seq "$repeat"); do
	read -r x xc _ < <(drive "$s_url" "$inflight" "$wrk_threads" "$secs" "$s_pid"; echo)
	keep bd "$x"
	keep bdc "$xc"
	read -r x xc _ < <(drive "$n1_url" "$inflight" "$wrk_threads" "$secs" "${n1_pids[@]}"; echo)
	keep b1 "$x"
	keep b1c "$xc"
	read -r x xc _ < <(drive "$n3_url" "$inflight" "$wrk_threads" "$secs" "${n3_pids[@]}"; echo)
	keep b3 "$x"
	keep b3c "$xc"
done
# Connections each replica holds to Redis, after a run at 64 in flight.
redis_conns=$(redis-cli -p "$(env_of three REDIS_PORT)" info clients |
	sed -n 's/^connected_clients:\([0-9]*\).*/\1/p')
redis_conns=$((${redis_conns:-1} - 1)) # not counting redis-cli's own
med() { printf '%s\n' "$@" | median; }
b_direct=$(med ${bd[@]+"${bd[@]}"})
b_one=$(med ${b1[@]+"${b1[@]}"})
b_three=$(med ${b3[@]+"${b3[@]}"})
b_directc=$(med ${bdc[@]+"${bdc[@]}"})
b_onec=$(med ${b1c[@]+"${b1c[@]}"})
b_threec=$(med ${b3c[@]+"${b3c[@]}"})

load_after=$(cut -d' ' -f1-3 /proc/loadavg)
busy_after=$(bench_busy)

# ---- the tables -------------------------------------------------------------
. "$root/bench/table.sh"
usdiff() { awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0 && b > 0) printf "%.1f", 1e6 / a - 1e6 / b }'; }
table=$out/cluster-table.md
{
	echo "| (a) the rate limit, one replica, no nginx | local buckets calls/s | shared (Redis) calls/s | shared / local | clean rounds | replica CPU µs/call, local → shared | Redis CPU µs/call | time added per call |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|"
	echo "| sequential (1 connection) | $(fmt 0 "$a_seq_local") | $(fmt 0 "$a_seq_shared") | $(ratio "$a_seq_ratio" 1) | $a_seq_n/$repeat | $(fmt 1 "$a_seq_lcpu") → $(fmt 1 "$a_seq_scpu") | $(fmt 1 "$a_seq_rcpu") | $(usdiff "$a_seq_shared" "$a_seq_local") µs |"
	echo "| $inflight in flight | $(fmt 0 "$a_par_local") | $(fmt 0 "$a_par_shared") | $(ratio "$a_par_ratio" 1) | $a_par_n/$repeat | $(fmt 1 "$a_par_lcpu") → $(fmt 1 "$a_par_scpu") | $(fmt 1 "$a_par_rcpu") | – |"
	echo
	echo "| (b) $inflight connections, shared limit | calls/s | against the replica alone | moat CPU µs/call (all replicas) |"
	echo "|---|---:|---:|---:|"
	echo "| one replica, no nginx | $(fmt 0 "$b_direct") | 1.00× | $(fmt 1 "$b_directc") |"
	echo "| nginx, 1 replica | $(fmt 0 "$b_one") | $(ratio "$b_one" "$b_direct") | $(fmt 1 "$b_onec") |"
	echo "| nginx, 3 replicas | $(fmt 0 "$b_three") | $(ratio "$b_three" "$b_direct") | $(fmt 1 "$b_threec") |"
	echo
	echo "Redis connections after the 3-replica runs: $redis_conns (about $((redis_conns / 3)) a replica; \`cluster.pool\` is 4 by default)."
} >"$table"

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git status --porcelain -- src meson.build 2>/dev/null)" ]; then commit="$commit+local changes"; fi
{
	echo "# moat: what the cluster costs a call"
	echo
	echo "Run $(date -u '+%Y-%m-%d %H:%M UTC') by bench/cluster.sh on $(nproc) CPUs ($cpu), Linux $(uname -r);"
	echo "moat $commit ($moat), audit off; $(redis-server --version | cut -d' ' -f1-3);"
	echo "$(nginx -v 2>&1 | sed 's/.*: //'); $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2). Call: 2026-07-28 tools/call \`echo {\"text\":\"x\"}\`,"
	echo "no session; a global limit of 10^8 a minute (every call takes a token, none is refused)."
	echo "Rounds alternate, $repeat of $secs s; figures are medians of the clean runs, ratios the median of the rounds' ratios."
	echo "Other load: CPUs $busy_before% busy in the second before the run, $busy_after% in the" \
		"second after; load average $load_before before, $load_after after."
	echo
	cat "$table"
} >"$out/cluster-results.md"

echo >&2
cat "$table"
echo "$bench: results in bench/out/cluster-results.md; took $(($(date +%s) - started)) s" >&2
