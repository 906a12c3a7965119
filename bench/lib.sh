# lib.sh - what the bench scripts share, sourced by each after it has set
# root, out (bench/out) and build (bench/out/build): checking for the tools
# it needs, and getting the moat binary to measure, either MOAT (a binary
# given in the environment; its modules must be beside it) or one release
# build with the test provider in bench/out/build, which every script
# shares. Messages name the calling script.
#
# A test build parses and validates every streamed structuredContent again
# (server_call.c), which a product build never does; the benchmarks time
# the product's path, so that check is off for every moat they start.
export MOAT_BENCH_NO_OUTPUT_CHECK=1

bench=$(basename "$0")

# bench_need TOOL...: exit 2 naming the first tool that is not on the PATH.
bench_need() {
	local tool
	for tool in "$@"; do
		command -v "$tool" >/dev/null || { echo "$bench: $tool is required" >&2; exit 2; }
	done
}

# bench_moat TARGET...: set moat to $MOAT, or build TARGET... (e.g. moat
# moat_sql_pg.so) in $build and set moat to the binary there. Someone may
# be mid-edit in src/: a broken build is retried a few times first.
bench_moat() {
	local attempt log="$out/${bench%.sh}-build.log"
	if [ -n "${MOAT:-}" ]; then
		moat=$(readlink -f "$MOAT")
		[ -x "$moat" ] || { echo "$bench: MOAT=$MOAT is not an executable" >&2; exit 2; }
		return
	fi
	if [ -f "$build/build.ninja" ]; then
		meson configure "$build" -Dtest_provider=true -Dtests=false -Dbuildtype=release \
			>/dev/null
	else
		meson setup "$build" -Dtest_provider=true -Dtests=false --buildtype=release >/dev/null
	fi
	for attempt in 1 2 3 4; do
		ninja -C "$build" "$@" >"$log" 2>&1 && break
		if [ "$attempt" -eq 4 ]; then
			cat "$log" >&2
			echo "$bench: moat does not build" >&2
			exit 1
		fi
		echo "$bench: build failed (attempt $attempt); retrying in 30 s" >&2
		sleep 30
	done
	moat=$build/moat
}

# bench_busy: print the percentage of CPU time in use over the next second.
bench_busy() {
	local a b
	a=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8, $2 + $3 + $4 + $5 + $6 + $7 + $8 }' /proc/stat)
	sleep 1
	b=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8, $2 + $3 + $4 + $5 + $6 + $7 + $8 }' /proc/stat)
	awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " ");
		t = y[2] - x[2]; printf "%.0f\n", (t > 0 ? 100 * (y[1] - x[1]) / t : 0) }'
}

# bench_settle WAIT: wait up to WAIT seconds (0: not at all) for the CPUs
# to be at most 10 % busy, warn when they still are, and set busy_before and
# load_before for the results' "Other load" line.
bench_settle() {
	local wait=$1 waited=0
	busy_before=$(bench_busy)
	while [ "$busy_before" -gt 10 ] && [ "$waited" -lt "$wait" ]; do
		[ "$waited" -eq 0 ] &&
			echo "$bench: CPUs $busy_before% busy; waiting up to $wait s" >&2
		sleep 4
		waited=$((waited + 5))
		busy_before=$(bench_busy)
	done
	if [ "$busy_before" -gt 10 ]; then
		echo "$bench: warning: the CPUs were $busy_before% busy before the run; figures" \
			"will be noisy" >&2
	fi
	load_before=$(cut -d' ' -f1-3 /proc/loadavg)
}
