#!/usr/bin/env bash
# sql.sh - benchmark moat's read_query against the reference PostgreSQL MCP
# server, on PostgreSQL and on SQLite.
#
# Builds moat (release, with moat_sql_pg.so) into bench/out/build as run.sh
# does, or reuses that build; compiles bench/mcpbench.c into bench/out/;
# runs npm ci if node_modules lacks @modelcontextprotocol/server-postgres.
# Starts a throw-away PostgreSQL (the newest under /usr/lib/postgresql) in
# a temporary directory on 127.0.0.1 and a free port, as
# tests/e2e/pg_server.mjs does (as root, the server runs as `nobody`
# through runuser, since initdb and postgres refuse root), creates the
# table public.bench of 10,000 rows (int, text, numeric, timestamp, bool)
# and the role bench_ro that may only SELECT it, and copies the same rows
# into a SQLite file. Then, in this one run, the same driver with the same
# settings measures:
#
#   moat-pg      moat read_query on PostgreSQL (as bench_ro)
#   moat-pg-before  the same with the binary MOAT_BEFORE names, when set
#                (before and after a change in one run, back to back)
#   reference    @modelcontextprotocol/server-postgres query {sql} on the
#                same server, as the same role
#   moat-sqlite  moat read_query on the SQLite copy
#
# on two queries, small (ORDER BY id LIMIT 10) and large (all 10,000 rows,
# ORDER BY id): calls/s sequentially (one call in flight) and with INFLIGHT
# calls in flight, left to the scheduler; then PostgreSQL is restarted
# bound to PIN_CPU and the sequential figures are taken again with driver,
# server and PostgreSQL all on that one CPU (no cross-CPU wake-ups).
# moat's caps are raised for the bench (max_rows 1,000,000, max_bytes and
# limits.max_output_bytes 64 MiB), so it returns all 10,000 rows as the
# reference (which has no cap) does; each response's row count is checked.
# PostgreSQL is stopped and its directory removed on exit, whatever
# happens (a TERM sent to the script alone takes effect once the
# measurement in progress ends; ^C stops the driver at once too).
#
# Prints a markdown table and writes it, with the machine and the load it
# ran under, to bench/out/sql-results.md; raw JSON lines in
# bench/out/sql-*.jsonl, one response of each kind in bench/out/sql-*.json.
# For scale, bench/pgfloor.c sends the statements of one call straight
# through libpq, no MCP: moat's old six-round-trip sequence, the reference's, moat's
# statements pipelined into two round trips with EXPLAIN (what moat does on
# a plan-check cache miss, and did on every call before the cache), and
# moat's statements on a cache hit (cached: two round trips, no EXPLAIN),
# unpinned and on the one CPU; a second table reads moat (and MOAT_BEFORE)
# against the pipelined and the cached floors.
#
# Knobs (environment): BENCH_SECONDS (length of each throughput run,
# default 2), REPEAT (fresh-server runs per figure, median reported,
# default 3), INFLIGHT (default 8), PIN_CPU (default the last CPU), POOL
# (moat's pool_size, default 4), MOAT (a moat binary to measure instead of
# building one; moat_sql_pg.so must be beside it), MOAT_BEFORE (a second
# binary measured in the same run, likewise), REFERENCE (0 skips the
# reference server, the slowest part of the run). Takes about seven
# minutes after the build, most of it the reference on the large query.
set -euo pipefail

cd "$(dirname "$0")/.."
root=$PWD
out=$root/bench/out
build=$out/build
. "$root/bench/lib.sh"
secs=${BENCH_SECONDS:-2}
repeat=${REPEAT:-3}
inflight=${INFLIGHT:-8}
pin=${PIN_CPU:-$(($(nproc) - 1))}
pool=${POOL:-4}
rows=10000
started=$(date +%s)
isecs=$(LC_ALL=C awk -v s="$secs" 'BEGIN { printf "%d\n", s + 0.999 }') # whole seconds, for caps

bench_need meson ninja node npm jq awk taskset sqlite3 pg_config "${CC:-cc}"
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k4 -n | tail -1)
[ -x "$pgbin/initdb" ] || { echo "sql.sh: no PostgreSQL under /usr/lib/postgresql" >&2; exit 2; }
mkdir -p "$out"

# 1. moat: MOAT, or the release build all the bench scripts share.
bench_moat moat moat_sql_pg.so
moat_before=${MOAT_BEFORE:-}
if [ -n "$moat_before" ] && [ ! -f "$(dirname "$moat_before")/moat_sql_pg.so" ]; then
	echo "sql.sh: MOAT_BEFORE: no moat_sql_pg.so beside $moat_before" >&2
	exit 2
fi

# 2. the driver, and the floor: the same statements straight through libpq.
flags=(-O2 -std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes
	-Wmissing-prototypes -Wformat=2 -Wvla)
"${CC:-cc}" "${flags[@]}" bench/mcpbench.c -ljansson -o "$out/mcpbench"
"${CC:-cc}" "${flags[@]}" -I"$(pg_config --includedir)" bench/pgfloor.c -lpq -o "$out/pgfloor"

# 3. the reference server.
refdir=node_modules/@modelcontextprotocol/server-postgres
refjs=$refdir/dist/index.js
if [ ! -f "$refjs" ]; then
	npm ci --no-audit --no-fund >&2
fi

# 4. PostgreSQL in a temporary directory, stopped and removed on exit.
pgdir=$(mktemp -d "${TMPDIR:-/tmp}/moat-sqlbench-XXXXXX")
asroot=no
[ "$(id -u)" -eq 0 ] && asroot=yes
pgrun() { # pgrun PROGRAM ARGS... -> runs a PostgreSQL program as the server's user
	if [ "$asroot" = yes ]; then
		(cd / && runuser -u nobody -- "$@")
	else
		(cd / && "$@")
	fi
}
pg_stop() {
	[ -f "$pgdir/data/postmaster.pid" ] &&
		pgrun "$pgbin/pg_ctl" -D "$pgdir/data" -m immediate -w stop >/dev/null 2>&1
	return 0
}
cleanup() {
	pg_stop
	rm -rf "$pgdir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
[ "$asroot" = yes ] && chown nobody: "$pgdir"
port=$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1",
	() => { console.log(s.address().port); s.close(); })')
pgrun "$pgbin/initdb" -D "$pgdir/data" -U postgres --auth=trust -E UTF8 --locale=C --no-sync \
	>"$out/sql-initdb.log" 2>&1 || { cat "$out/sql-initdb.log" >&2; exit 1; }
pg_start() { # pg_start [CPU] -> (re)starts the server, bound to CPU when given
	local affinity=()
	[ -z "${1:-}" ] || affinity=(taskset -c "$1")
	pg_stop
	pgrun ${affinity[@]+"${affinity[@]}"} "$pgbin/pg_ctl" -D "$pgdir/data" -l "$pgdir/log" \
		-w -t 30 -o "-c listen_addresses=127.0.0.1 -p $port -k $pgdir -c fsync=off" start \
		>/dev/null || { cat "$pgdir/log" >&2; exit 1; }
}
pg_start
psql_() { # psql_ ARGS... -> psql as the superuser, SQL on stdin
	"$pgbin/psql" -X -q -A -t -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres \
		-d postgres "$@"
}
psql_ <<EOF
CREATE TABLE public.bench(
  id int PRIMARY KEY,
  name text NOT NULL,
  amount numeric(12,2) NOT NULL,
  created timestamp NOT NULL,
  active boolean NOT NULL
);
INSERT INTO public.bench
  SELECT i, 'customer ' || lpad(i::text, 5, '0') || ' of the bench table',
         round(((i * 7919) % 100000) / 100.0, 2),
         timestamp '2026-01-01 00:00:00' + i * interval '37 minutes 13 seconds',
         i % 3 <> 0
  FROM generate_series(1, $rows) AS i;
VACUUM ANALYZE public.bench;
CREATE ROLE bench_ro LOGIN;
GRANT SELECT ON public.bench TO bench_ro;
EOF
url="postgresql://bench_ro@127.0.0.1:$port/postgres"

# The same rows in SQLite (numeric as REAL, timestamp as text, bool as 0/1).
db=$out/sql-bench.db
rm -f "$db"
psql_ -c "COPY (SELECT id, name, amount, to_char(created, 'YYYY-MM-DD HH24:MI:SS'),
	active::int FROM public.bench ORDER BY id) TO STDOUT WITH (FORMAT csv)" >"$out/sql-bench.csv"
sqlite3 "$db" <<EOF
CREATE TABLE bench(id INTEGER PRIMARY KEY, name TEXT NOT NULL, amount REAL NOT NULL,
  created TEXT NOT NULL, active INTEGER NOT NULL);
.import --csv $out/sql-bench.csv bench
EOF
[ "$(sqlite3 "$db" 'SELECT count(*) FROM bench')" -eq "$rows" ] ||
	{ echo "sql.sh: the SQLite copy came out wrong" >&2; exit 1; }
rm -f "$out/sql-bench.csv"

# 5. moat's configs: rate limits off, caps raised so the large query comes
# back whole (the defaults are 1,000 rows and 1 MiB).
caps='"max_rows":1000000,"max_bytes":67108864,"timeout_ms":60000'
limits='"limits":{"calls_per_minute":0,"tool_calls_per_minute":0,"max_concurrent_calls":64,
 "max_output_bytes":67108864}'
cat >"$out/sql-moat-pg.json" <<EOF
{"databases":{"bench":{"type":"postgres","url":"\${DATABASE_URL}","pool_size":$pool,$caps}},
 $limits}
EOF
cat >"$out/sql-moat-sqlite.json" <<EOF
{"databases":{"bench":{"type":"sqlite","path":"$db",$caps}},
 $limits}
EOF
export DATABASE_URL=$url

bench_settle 0

# 6. the runs.
cols="id, name, amount, created, active"
q_small="SELECT $cols FROM bench ORDER BY id LIMIT 10"
q_large="SELECT $cols FROM bench ORDER BY id"
status=0
drive() { # drive SERVER QUERY MODES CAP_SECONDS -- COMMAND...
	local server=$1 q=$2 modes=$3 cap=$4 sql tool args
	shift 5
	if [ "$q" = small ]; then sql=$q_small; else sql=$q_large; fi
	if [ "$server" = reference ]; then
		tool=query
		args=$(jq -cn --arg s "$sql" '{sql: $s}')
	else
		tool=read_query
		args=$(jq -cn --arg s "$sql" '{query: $s}')
	fi
	echo "== $server: $q ($modes)" >&2
	timeout --kill-after=5 "$cap" "$out/mcpbench" --label "$q" --pin "$pin" \
		--inflight "$inflight" --only call --modes "$modes" --seconds "$secs" \
		--repeat "$repeat" --timeout 60000 --tool "$tool" --args "$args" \
		--save "$out/sql-$server-$q.json" -- "$@" >>"$out/sql-$server.jsonl" || status=1
}
servers=(moat-pg)
[ -z "$moat_before" ] || servers+=(moat-pg-before)
[ "${REFERENCE:-1}" = 0 ] || servers+=(reference)
servers+=(moat-sqlite)
command_of() { # command_of SERVER -> sets cmd
	case $1 in
	moat-pg) cmd=("$moat" serve --config "$out/sql-moat-pg.json") ;;
	moat-pg-before) cmd=("$moat_before" serve --config "$out/sql-moat-pg.json") ;;
	reference) cmd=(node "$refjs" "$url") ;;
	moat-sqlite) cmd=("$moat" serve --config "$out/sql-moat-sqlite.json") ;;
	esac
}
floor() { # floor WHERE CPU -> REPEAT runs of each sequence on both queries
	local where=$1 affinity=() sql
	[ "$2" = - ] || affinity=(taskset -c "$2")
	echo "== floor: $where" >&2
	for q in small large; do
		if [ "$q" = small ]; then sql=$q_small; else sql=$q_large; fi
		for sequence in moat reference pipelined cached; do
			for _ in $(seq "$repeat"); do
				timeout --kill-after=5 $((isecs + 30)) ${affinity[@]+"${affinity[@]}"} \
					"$out/pgfloor" "$url" "$sequence" "$secs" "$sql" "$q-$where" \
					>>"$out/sql-floor.jsonl" || status=1
			done
		done
	done
}
cap=$((repeat * (2 * isecs + 6) + 30))
for s in moat-pg moat-pg-before reference moat-sqlite floor; do : >"$out/sql-$s.jsonl"; done
for q in small large; do
	for s in "${servers[@]}"; do
		command_of "$s"
		drive "$s" "$q" seq,inflight $((2 * cap)) -- "${cmd[@]}"
	done
done
floor unpinned -
# One CPU: PostgreSQL restarted bound to the CPU the driver and server use.
pg_start "$pin"
for q in small large; do
	for s in "${servers[@]}"; do
		command_of "$s"
		drive "$s" "$q" pin "$cap" -- "${cmd[@]}"
	done
done
floor pinned "$pin"

load_after=$(cut -d' ' -f1-3 /proc/loadavg)
busy_after=$(bench_busy)

# 7. the table.
get() { # get SERVER QUERY MODE FIELD -> number, or "" when missing or failed
	jq -r --arg q "$2" --arg mode "$3" --arg f "$4" \
		'select(.label == $q and .metric == "tools_call" and .mode == $mode and .ok != false)
		 | .[$f]' "$out/sql-$1.jsonl" 2>/dev/null | head -1
}
. "$(dirname "${BASH_SOURCE[0]}")/table.sh"
mean_ms() { # mean_ms CALLS_PER_SECOND -> mean ms per call, one call in flight
	if [ -z "$1" ]; then echo ""; return; fi
	LC_ALL=C awk -v r="$1" 'BEGIN { if (r > 0) printf "%.4f\n", 1e3 / r }'
}
ms() { # ms MICROSECONDS -> milliseconds
	if [ -z "$1" ]; then echo ""; return; fi
	LC_ALL=C awk -v v="$1" 'BEGIN { printf "%.4f\n", v / 1000 }'
}
floor_get() { # floor_get QUERY-WHERE SEQUENCE -> median calls/s of the runs
	jq -r --arg l "$1" --arg s "$2" 'select(.label == $l and .sequence == $s) | .per_second' \
		"$out/sql-floor.jsonl" 2>/dev/null | sort -g |
		awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'
}
nrows() { # nrows SERVER QUERY -> the rows the saved response carried
	local f=$out/sql-$1-$2.json
	[ -s "$f" ] || { echo "n/a"; return; }
	if [ "$1" = reference ]; then
		jq -r '.result.content[0].text | fromjson | length' "$f" 2>/dev/null || echo "n/a"
	else
		jq -r '.result.structuredContent.rows | length' "$f" 2>/dev/null || echo "n/a"
	fi
}
table=$out/sql-table.md
{
	echo "| Query, figure | moat (PostgreSQL) | reference | ratio | target | moat meets it |" \
		"moat (SQLite) |"
	echo "|---|---:|---:|---:|---:|:---:|---:|"
	# row NAME QUERY MODE FIELD DECIMALS LOWER_IS_BETTER LIMIT TARGET_TEXT
	row() {
		local m r s q lim=""
		m=$(get moat-pg "$2" "$3" "$4")
		r=$(get reference "$2" "$3" "$4")
		s=$(get moat-sqlite "$2" "$3" "$4")
		if [ "$6" = mean ]; then m=$(mean_ms "$m"); r=$(mean_ms "$r"); s=$(mean_ms "$s"); fi
		if [ "$4" = p50_us ]; then m=$(ms "$m"); r=$(ms "$r"); s=$(ms "$s"); fi
		if [ "$6" = no ]; then q=$(ratio "$m" "$r"); else q=$(ratio "$r" "$m"); fi
		if [ -n "$7" ] && [ -n "$m" ] && [ -n "$r" ]; then
			lim=$(LC_ALL=C awk -v r="$r" -v k="$7" 'BEGIN { printf "%.6f\n", r * k }')
		fi
		echo "| $1 | $(fmt "$5" "$m") | $(fmt "$5" "$r") | $q | ${8:-–} |" \
			"$(if [ -n "$7" ]; then meets "$m" ">=" "$lim"; else echo –; fi) | $(fmt "$5" "$s") |"
	}
	for q in small large; do
		if [ "$q" = small ]; then n="10 rows"; k=10; else n="$(fmt 0 $rows) rows"; k=5; fi
		row "$n, sequential, unpinned (calls/s)" $q sequential per_second 0 no $k "≥ $k× reference"
		row "$n, sequential, one CPU (calls/s)" $q sequential-pinned per_second 0 no "" ""
		row "$n, $inflight in flight (calls/s)" $q concurrent per_second 0 no $k "≥ $k× reference"
		row "$n, sequential, unpinned, mean latency (ms)" $q sequential per_second 2 mean "" ""
		row "$n, sequential, one CPU, mean latency (ms)" $q sequential-pinned per_second 2 mean \
			"" ""
		row "$n, sequential, unpinned, p50 latency (ms)" $q sequential p50_us 2 yes "" ""
		row "$n, response size (bytes)" $q sequential resp_bytes 0 yes "" ""
	done
} >"$table"
floor_table=$out/sql-floor-table.md
{
	echo "| Statements of one call, straight through libpq (calls/s) | 10 rows, unpinned |" \
		"10 rows, one CPU | $(fmt 0 $rows) rows, unpinned | $(fmt 0 $rows) rows, one CPU |"
	echo "|---|---:|---:|---:|---:|"
	for sequence in moat reference pipelined cached; do
		case $sequence in
		moat) name="moat's read_query before pipelining (6 round trips)" ;;
		reference) name="the reference's query (3 round trips)" ;;
		pipelined) name="moat's read_query pipelined, with EXPLAIN (2 round trips; a cache miss)" ;;
		cached) name="moat's read_query on a plan-check cache hit (2 round trips, no EXPLAIN)" ;;
		esac
		echo "| $name | $(fmt 0 "$(floor_get small-unpinned $sequence)") |" \
			"$(fmt 0 "$(floor_get small-pinned $sequence)") |" \
			"$(fmt 0 "$(floor_get large-unpinned $sequence)") |" \
			"$(fmt 0 "$(floor_get large-pinned $sequence)") |"
	done
} >"$floor_table"
# moat against the floors: sequential calls/s over the floor's calls/s.
vs_table=$out/sql-vs-floor-table.md
{
	echo "| moat, query, where (sequential calls/s) | moat | pipelined floor | moat / pipelined |" \
		"cached floor | moat / cached | target |"
	echo "|---|---:|---:|---:|---:|---:|---:|"
	for s in moat-pg moat-pg-before; do
		[ "$s" = moat-pg ] || [ -n "$moat_before" ] || continue
		if [ "$s" = moat-pg ]; then who="moat"; else who="before ($moat_before)"; fi
		for q in small large; do
			if [ "$q" = small ]; then n="10 rows"; t="≥ 0.8×"; else n="$(fmt 0 $rows) rows"; t="≥ 0.6×"; fi
			for where in unpinned pinned; do
				if [ "$where" = unpinned ]; then mode=sequential; w=unpinned; else mode=sequential-pinned; w="one CPU"; fi
				m=$(get "$s" "$q" "$mode" per_second)
				fp=$(floor_get "$q-$where" pipelined)
				fc=$(floor_get "$q-$where" cached)
				echo "| $who, $n, $w | $(fmt 0 "$m") | $(fmt 0 "$fp") | $(ratio "$m" "$fp") |" \
					"$(fmt 0 "$fc") | $(ratio "$m" "$fc") | $t |"
			done
		done
	done
} >"$vs_table"

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
refver=$(jq -r .version "$refdir/package.json")
pgver=$("$pgbin/postgres" --version | awk '{ print $3 }')
if [ -n "$(git status --porcelain -- src meson.build 2>/dev/null)" ]; then commit="$commit+local changes"; fi
if [ -n "${MOAT:-}" ]; then commit="$commit, binary $moat"; fi
counts=""
for s in "${servers[@]}"; do
	counts="$counts $s $(nrows "$s" small)/$(nrows "$s" large);"
done
{
	echo "# moat sql benchmark results"
	echo
	echo "Run $(date -u '+%Y-%m-%d %H:%M UTC') by bench/sql.sh on $(nproc) CPUs ($cpu), Linux $(uname -r);"
	echo "moat $commit (release), reference @modelcontextprotocol/server-postgres $refver on node" \
		"$(node --version); PostgreSQL $pgver on 127.0.0.1 (fsync off), SQLite $(sqlite3 --version | cut -d' ' -f1)."
	echo "Table bench: $(fmt 0 $rows) rows of (int, text, numeric(12,2), timestamp, bool);" \
		"small: \`$q_small\`; large: \`$q_large\`."
	echo "moat: read_query, pool_size $pool, max_rows 1,000,000, max_bytes and" \
		"limits.max_output_bytes 64 MiB (defaults 1,000 rows, 1 MiB); reference: query {sql}," \
		"both connected as bench_ro (SELECT on bench only)."
	echo "Rows returned (small/large):$counts"
	echo "Each figure is the median of $repeat runs of $secs s (after 0.5 s of warm-up), each in a" \
		"fresh server. \"One CPU\": driver, server and PostgreSQL bound to CPU $pin;" \
		"\"unpinned\": left to the scheduler. Mean latency = 1 / sequential calls/s."
	echo "Other load: CPUs $busy_before% busy in the second before the run, $busy_after% in the" \
		"second after; load average $load_before before, $load_after after."
	echo "Ratios: moat (PostgreSQL)/reference for throughput, reference/moat for time" \
		"and size (above 1× favours moat)."
	echo
	cat "$table"
	echo
	echo "Floor (bench/pgfloor.c): the statements of one call on one connection, no MCP," \
		"median of $repeat runs of $secs s; one CPU: pgfloor and PostgreSQL on CPU $pin."
	echo
	cat "$floor_table"
	echo
	echo "moat against the floors (the issue's targets are stated against the pipelined one):"
	echo
	cat "$vs_table"
} >"$out/sql-results.md"

echo >&2
cat "$table"
echo >&2
cat "$floor_table"
echo >&2
cat "$vs_table"
echo >&2
echo "sql.sh: rows returned (small/large):$counts" >&2
echo "sql.sh: results in bench/out/sql-results.md (raw: bench/out/sql-*.jsonl); took" \
	"$(($(date +%s) - started)) s" >&2
exit "$status"
