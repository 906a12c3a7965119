#!/usr/bin/env bash
# eof_pipe.sh - the MCP stdio shutdown, as a shell user does it: pipe
# requests into `moat serve` and close its input. Every answer must arrive,
# every run, for a fast tool (read_text_file) and slow ones (git_log on a
# repository of 3,000 commits, a read_query that takes ~300 ms).
#
#   tests/shell/eof_pipe.sh MOAT_BIN [RUNS]
#
# Prints one line per case and ends with "N passed, M failed"; exits
# non-zero on any failure.
set -uo pipefail

bin=$(realpath "${1:?usage: eof_pipe.sh MOAT_BIN [RUNS]}")
runs=${2:-100}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export XDG_STATE_HOME="$work/state" # the audit trail stays in here

# The fixtures: a file, a git repository with 3,000 commits (fast-import,
# no hooks, no global config), a SQLite database.
mkdir -p "$work/files"
echo "hello from a file" >"$work/files/note.txt"
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
git init -q "$work/big"
{
	for i in $(seq 1 3000); do
		printf 'commit refs/heads/main\ncommitter T <t@example.com> %d +0000\ndata <<E\ncommit %d\nE\n' $((1700000000 + i)) "$i"
		printf 'M 644 inline f.txt\ndata <<E\n%d\nE\n\n' "$i"
	done
} | git -C "$work/big" fast-import --quiet
git -C "$work/big" symbolic-ref HEAD refs/heads/main
sqlite3 "$work/db.sqlite" 'CREATE TABLE t(x INTEGER); INSERT INTO t VALUES (1);'
cat >"$work/moat.json" <<JSON
{
  "roots": ["files"],
  "databases": {"db": {"type": "sqlite", "path": "db.sqlite", "timeout_ms": 10000}},
  "git": {"repositories": [{"path": "big", "name": "big"}]},
  "limits": {"call_timeout_ms": 20000}
}
JSON

init='{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"sh","version":"1"}}}'
inited='{"jsonrpc":"2.0","method":"notifications/initialized"}'
call() { # call TOOL ARGS_JSON
	printf '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"%s","arguments":%s}}' "$1" "$2"
}
# ~300 ms of SQLite work on this machine class (a recursive count).
slow_sql='WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 400000) SELECT count(*) AS n FROM c'

passed=0
failed=0
one_case() { # one_case NAME TOOL ARGS EXPECT_REGEX
	local name=$1 req ok=0 bad=0 out rc t0 t1
	req=$(call "$2" "$3")
	t0=$(date +%s%N)
	for _ in $(seq 1 "$runs"); do
		out=$(printf '%s\n%s\n%s\n' "$init" "$inited" "$req" | (cd "$work" && "$bin" serve -c moat.json 2>/dev/null))
		rc=$?
		if [ "$rc" -eq 0 ] && grep -q '"id":1,"result":{' <<<"$out" && grep -Eq "$4" <<<"$out" &&
			! grep -q '"isError":true' <<<"$out"; then
			ok=$((ok + 1))
		else
			bad=$((bad + 1))
			[ "$bad" -le 2 ] && echo "  $name: run failed (exit $rc): $(tail -n1 <<<"$out" | head -c 400)"
		fi
	done
	t1=$(date +%s%N)
	echo "$name: $ok of $runs runs answered ($(( (t1 - t0) / 1000000 / runs )) ms a run)"
	if [ "$bad" -eq 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
}

one_case "fast: read_text_file" read_text_file "{\"path\":\"$work/files/note.txt\"}" 'hello from a file'
one_case "slow: git_log, 3,000 commits" git_log '{"repo_path":"big","max_count":1000}' 'commit 2001'
one_case "slow: read_query, ~300 ms" read_query "{\"database\":\"db\",\"query\":\"$slow_sql\"}" '400000'
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
