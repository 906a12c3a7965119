#!/usr/bin/env bash
# sql_profile.sh - where moat's CPU goes on a 10,000-row read_query, for two
# binaries side by side (issue 17's "perf stat profile before and after").
#
#   bench/sql_profile.sh BEFORE_MOAT AFTER_MOAT
#
# Makes the SQLite copy of sql.sh's bench table (10,000 rows of int, text,
# real, timestamp text, bool) in bench/out, then for each binary:
#   - perf stat of the server alone (perf stat wraps `moat serve`; the
#     driver, bench/mcpbench.c, is outside it) over two runs of N1 and N2
#     sequential calls; the difference divided by N2 - N1 is the cost of
#     one call with start-up, the handshake and the warm-up cancelled out:
#     task-clock (ms of CPU) and page faults (this VM has no hardware
#     counters for instructions and cycles);
#   - perf record of the server over N2 calls: the ten hottest symbols.
# Both binaries run in the same invocation, alternating, on the same file.
# Instructions hardly move with the machine's other load; task-clock does
# a little. Writes bench/out/sql-profile.md and prints it.
#
# Knobs: N1 (default 50), N2 (default 350). Needs perf, jq, sqlite3, cc.
# MOAT_BENCH_NO_OUTPUT_CHECK=1 (bench/lib.sh) keeps a test build's second
# parse of streamed results out of the figures.
set -euo pipefail

cd "$(dirname "$0")/.."
root=$PWD
out=$root/bench/out
build=$out/build
. "$root/bench/lib.sh"
[ $# -eq 2 ] || { echo "usage: bench/sql_profile.sh BEFORE_MOAT AFTER_MOAT" >&2; exit 2; }
before=$(readlink -f "$1")
after=$(readlink -f "$2")
n1=${N1:-50}
n2=${N2:-350}
bench_need perf jq sqlite3 awk "${CC:-cc}"
mkdir -p "$out"

"${CC:-cc}" -O2 -std=c17 -D_GNU_SOURCE bench/mcpbench.c -ljansson -o "$out/mcpbench"

db=$out/sql-profile.db
rm -f "$db"
sqlite3 "$db" <<'EOF'
CREATE TABLE bench(id INTEGER PRIMARY KEY, name TEXT NOT NULL, amount REAL NOT NULL,
  created TEXT NOT NULL, active INTEGER NOT NULL);
WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 10000)
INSERT INTO bench
  SELECT i, 'customer ' || substr('0000' || i, -5) || ' of the bench table',
         ((i * 7919) % 100000) / 100.0,
         datetime('2026-01-01 00:00:00', '+' || (i * 2233) || ' seconds'), i % 3 <> 0
  FROM s;
EOF
cat >"$out/sql-profile.json" <<EOF
{"databases":{"bench":{"type":"sqlite","path":"$db","max_rows":1000000,"max_bytes":67108864,
 "timeout_ms":60000}},
 "limits":{"calls_per_minute":0,"tool_calls_per_minute":0,"max_output_bytes":67108864}}
EOF
args='{"query":"SELECT id, name, amount, created, active FROM bench ORDER BY id"}'
events=task-clock,page-faults

stat_run() { # stat_run MOAT N -> "task_ms faults" of the server
	local f=$out/sql-profile-stat.csv
	"$out/mcpbench" --only call --modes seq --requests "$2" --seconds 600 --warmup 0 --repeat 1 \
		--timeout 60000 --tool read_query --args "$args" -- \
		perf stat -x, -o "$f" -e "$events" -- "$1" serve --config "$out/sql-profile.json" \
		>/dev/null 2>&1
	awk -F, '$3 == "task-clock" { t = $1 } $3 ~ /^page-faults/ { p = $1 }
		END { printf "%s %s\n", t, p }' "$f"
}

declare -A per
for which in before after; do
	moat=$before
	[ "$which" = after ] && moat=$after
	read -r t1 p1 < <(stat_run "$moat" "$n1")
	read -r t2 p2 < <(stat_run "$moat" "$n2")
	per[$which]=$(awk -v n=$((n2 - n1)) -v t1="$t1" -v t2="$t2" -v p1="$p1" -v p2="$p2" \
		'BEGIN { printf "%.2f %.1f\n", (t2 - t1) / n, (p2 - p1) / n }')
	"$out/mcpbench" --only call --modes seq --requests "$n2" --seconds 600 --warmup 0 --repeat 1 \
		--timeout 60000 --tool read_query --args "$args" -- \
		perf record -q -F 4000 -o "$out/sql-profile-$which.data" -- \
		"$moat" serve --config "$out/sql-profile.json" >/dev/null 2>&1
done

top() { # top WHICH -> the ten hottest symbols of the server, markdown rows
	perf report -i "$out/sql-profile-$1.data" --no-children --sort dso,sym --stdio \
		--percent-limit 0.5 2>/dev/null | grep -E '^ +[0-9.]+%' | head -10 |
		awk '{ pct = $1; dso = $2; $1 = $2 = $3 = ""; sub(/^ +/, "");
			printf "| %s | %s | %s |\n", pct, dso, $0 }'
}

{
	echo "# moat: one 10,000-row read_query on SQLite, profiled"
	echo
	echo "Run $(date -u '+%Y-%m-%d %H:%M UTC') by bench/sql_profile.sh on $(nproc) CPUs;" \
		"load average $(cut -d' ' -f1-3 /proc/loadavg)."
	echo "before: $before"
	echo "after: $after"
	echo "Per call: (run of $n2 calls - run of $n1 calls) / $((n2 - n1)), server process only" \
		"(perf stat around moat serve; the driver is outside it). Response: 1.5 MB."
	echo
	echo "| per call | before | after | after/before |"
	echo "|---|---:|---:|---:|"
	read -r bt bp <<<"${per[before]}"
	read -r at ap <<<"${per[after]}"
	awk -v b="$bt" -v a="$at" 'BEGIN { printf "| CPU (task-clock, ms) | %.2f | %.2f | %.2f× |\n", b, a, a / b }'
	awk -v b="$bp" -v a="$ap" 'BEGIN { printf "| page faults | %.1f | %.1f | – |\n", b, a }'
	for which in before after; do
		echo
		echo "Hottest symbols, $which (perf record, $n2 calls, whole server process):"
		echo
		echo "| share | object | symbol |"
		echo "|---:|---|---|"
		top "$which"
	done
} >"$out/sql-profile.md"
cat "$out/sql-profile.md"
