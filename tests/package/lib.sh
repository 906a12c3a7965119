#!/usr/bin/env bash
# lib.sh - the packaging tests' counters, sourced by tests/package/*.test.sh.
#
# ok NAME / bad NAME WHY record one case; check NAME CMD... runs CMD and
# records its exit status; finish prints "N passed, M failed" (the line
# scripts/test-all.sh adds up) and exits non-zero on any failure. A case
# that cannot run (a tool missing on this machine) is a failure, never a
# skip counted as a pass.
pk_pass=0
pk_fail=0
ok() { pk_pass=$((pk_pass + 1)); echo "ok   $1"; }
bad() { pk_fail=$((pk_fail + 1)); echo "FAIL $1: ${2:-}"; }
check() { # check NAME CMD...
	local name=$1
	shift
	local out
	if out=$("$@" 2>&1); then ok "$name"; else bad "$name" "$(printf '%s' "$out" | tail -15)"; fi
}
finish() {
	echo "$pk_pass passed, $pk_fail failed"
	[ "$pk_fail" -eq 0 ]
	exit
}
