# lib.sh - what the bench scripts share, sourced by each after it has set
# root, out (bench/out) and build (bench/out/build): checking for the tools
# it needs, and getting the moat binary to measure, either MOAT (a binary
# given in the environment; its modules must be beside it) or one release
# build with the test provider in bench/out/build, which every script
# shares. Messages name the calling script.

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
