#!/usr/bin/env bash
# git.sh - benchmark moat's git tools against the git CLI on the same
# repository, in the same run.
#
# Builds moat (release) into bench/out/build as run.sh and fs.sh do, or
# reuses that build (with moat_git.so); compiles bench/mcpbench.c; generates
# a repository under bench/out/git-fixture (once; deterministic, reused while
# bench/out/git-fixture.stamp matches) with `git fast-import`: 10,000 files
# in 100 directories and 5,000 commits (bench/git_fixture.py), checked out,
# with five files then changed in the work tree. Then it asks the same
# questions of moat (mcpbench, sequential calls over stdio, p50 latency of
# one tools/call) and of the git CLI (one `git` process per question, its
# wall time from spawn to exit, p50):
#
#   git_log max_count=100        git log -100 --format=<the same fields>
#   git_status                   git status
#   git_diff target=HEAD~50      git diff HEAD~50            (to the work tree)
#   git_diff_unstaged            git diff
#   git_show revision=HEAD~10    git show HEAD~10
#   git_ls_files                 git ls-files                (10,000 paths)
#   git_blame path=d11/f00011.txt  git blame d11/f00011.txt
#
# The git CLI is the floor for any server that runs `git` per call (the
# reference mcp-server-git does, through GitPython): such a server pays at
# least that process plus its own overhead. The ratio is moat's latency over
# the CLI's; the target is at most 2x.
#
# Knobs (environment): CALLS (timed calls per question, default 30), MOAT
# (a moat binary to measure instead of building one; moat_git.so must sit
# beside it), QUIET_WAIT (seconds to wait for quiet CPUs, default 30).
# Prints a markdown table and writes it with the machine and load to
# bench/out/git-results.md; raw figures in bench/out/git-moat.jsonl and
# bench/out/git-cli.jsonl.
set -euo pipefail

cd "$(dirname "$0")/.."
root=$PWD
out=$root/bench/out
build=$out/build
. "$root/bench/lib.sh"
fix=$out/git-fixture
calls=${CALLS:-30}
quiet_wait=${QUIET_WAIT:-30}
started=$(date +%s)

bench_need meson ninja git python3 jq awk "${CC:-cc}"
mkdir -p "$out"

# 1. moat: MOAT, or the release build all the bench scripts share.
bench_moat moat moat_git.so

# 2. the driver.
"${CC:-cc}" -O2 -std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wformat=2 -Wvla bench/mcpbench.c -ljansson -o "$out/mcpbench"

# 3. the repository. The stamp is written last, so an interrupted
# generation is redone.
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null HOME=$out LC_ALL=C TZ=UTC
stamp="git-fixture v1: 10000 files, 5000 commits, 5 work tree changes"
if [ "$(cat "$out/git-fixture.stamp" 2>/dev/null)" != "$stamp" ]; then
	echo "== generating the repository in $fix" >&2
	rm -rf "$fix" "$out/git-fixture.stamp"
	git init -q -b main "$fix"
	python3 bench/git_fixture.py 10000 5000 | git -C "$fix" fast-import --quiet
	git -C "$fix" -c gc.auto=0 repack -adq
	git -C "$fix" reset -q --hard main
	for i in 11 2222 4444 6666 8888; do
		f=$(printf 'd%02d/f%05d.txt' $((i % 100)) "$i")
		printf 'a change in the work tree\n' >>"$fix/$f"
	done
	sleep 1.1 # no racily clean index entries
	git -C "$fix" status >/dev/null # refresh the index once
	[ "$(git -C "$fix" ls-files | wc -l)" -eq 10000 ] &&
		[ "$(git -C "$fix" rev-list --count HEAD)" -eq 5000 ] ||
		{ echo "git.sh: the repository came out wrong" >&2; exit 1; }
	echo "$stamp" >"$out/git-fixture.stamp"
fi

cat >"$out/git-moat.json" <<EOF2
{"git":{"repositories":[{"path":"$fix","name":"bench"}],"max_diff_bytes":67108864},
 "limits":{"calls_per_minute":0,"tool_calls_per_minute":0,"max_output_bytes":67108864}}
EOF2

bench_settle "$quiet_wait"

# 4. the questions: label, moat tool, its arguments, the git CLI's arguments.
# The CLI's arguments are a JSON array; "shown" is how the table names them.
questions=(
	'log100|git_log|{"repo_path":"bench","max_count":100}|["log","-100","--format=Commit: %H%nAuthor: %an <%ae>%nDate: %aI%nMessage: %B"]|git log -100 --format=…'
	'status|git_status|{"repo_path":"bench"}|["status"]|git status'
	'diff50|git_diff|{"repo_path":"bench","target":"HEAD~50"}|["diff","HEAD~50"]|git diff HEAD~50'
	'unstaged|git_diff_unstaged|{"repo_path":"bench"}|["diff"]|git diff'
	'show|git_show|{"repo_path":"bench","revision":"HEAD~10"}|["show","HEAD~10"]|git show HEAD~10'
	'ls|git_ls_files|{"repo_path":"bench"}|["ls-files"]|git ls-files'
	'blame|git_blame|{"repo_path":"bench","path":"d11/f00011.txt"}|["blame","d11/f00011.txt"]|git blame d11/f00011.txt'
)
: >"$out/git-moat.jsonl"
: >"$out/git-cli.jsonl"
status=0
for q in "${questions[@]}"; do
	IFS='|' read -r label tool args cli shown <<<"$q"
	echo "== moat: $label" >&2
	"$out/mcpbench" --label "$label" --only call --modes seq --seconds 0 --requests "$calls" \
		--timeout 60000 --tool "$tool" --args "$args" --save "$out/git-moat-$label.json" \
		-- "$moat" serve --config "$out/git-moat.json" >>"$out/git-moat.jsonl" || status=1
	echo "== git CLI: $label" >&2
	# One git process per question, timed from spawn to exit (posix_spawn
	# from python, output to a pipe that is drained, as a server would).
	python3 - "$fix" "$label" "$calls" "$cli" >>"$out/git-cli.jsonl" <<'PY' || status=1
import json, statistics, subprocess, sys, time
repo, label, n, cli = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
args = ["git", "-C", repo, "--no-pager"] + json.loads(cli)
times, size = [], 0
for i in range(n + 3):
    t = time.perf_counter_ns()
    r = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    dt = time.perf_counter_ns() - t
    if r.returncode not in (0, 1):
        sys.exit("git failed: %r" % args)
    size = len(r.stdout)
    if i >= 3:
        times.append(dt / 1000)
print(json.dumps({"label": label, "p50_us": statistics.median(times), "min_us": min(times),
                  "bytes": size, "calls": n}))
PY
done
busy_after=$(bench_busy)
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# 5. the table.
mget() { jq -r --arg l "$1" 'select(.label == $l and .metric == "tools_call" and .ok != false) | .'"$2" "$out/git-moat.jsonl" | head -1; }
cget() { jq -r --arg l "$1" 'select(.label == $l) | .'"$2" "$out/git-cli.jsonl" | head -1; }
ms() { LC_ALL=C awk -v v="$1" 'BEGIN { if (v == "" || v == "null") print "–"; else printf "%.2f\n", v / 1000 }'; }
table=$out/git-table.md
{
	echo "| Question | moat p50 (ms) | git CLI p50 (ms) | moat / CLI | moat text (bytes) | CLI output (bytes) | target ≤ 2× |"
	echo "|---|---:|---:|---:|---:|---:|:---:|"
	for q in "${questions[@]}"; do
		IFS='|' read -r label tool args cli shown <<<"$q"
		args=${args#\{\"repo_path\":\"bench\"}
		args=${args#,}
		args=${args%\}}
		m=$(mget "$label" p50_us)
		c=$(cget "$label" p50_us)
		r=$(LC_ALL=C awk -v m="$m" -v c="$c" 'BEGIN { if (m == "" || c == "" || m == "null" || c == 0) print "–"; else printf "%.2f×\n", m / c }')
		ok=$(LC_ALL=C awk -v m="$m" -v c="$c" 'BEGIN { if (m == "" || c == "" || m == "null") print "–"; else print (m <= 2 * c ? "yes" : "**no**") }')
		echo "| \`$tool\` ${args:+\`$args\` }vs \`$shown\` | $(ms "$m") | $(ms "$c") | $r | $(mget "$label" text_bytes) | $(cget "$label" bytes) | $ok |"
	done
} >"$table"
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
{
	echo "# moat git benchmark results"
	echo
	echo "Run $(date -u '+%Y-%m-%d %H:%M UTC') by bench/git.sh on $(nproc) CPUs ($cpu), Linux $(uname -r);"
	echo "moat $commit (release, libgit2 $(dpkg-query -W -f '${Version}' libgit2-1.5 2>/dev/null || echo '?')), $(git --version)."
	echo "Repository bench/out/git-fixture: 10,000 files in 100 directories, 5,000 commits, packed;"
	echo "five files changed in the work tree. p50 of $calls sequential calls: moat through"
	echo "bench/mcpbench over stdio (one server, after 0.5 s of warm-up); the CLI as one git"
	echo "process per question, spawn to exit (after 3 untimed runs)."
	echo "Other load: CPUs $busy_before% busy before the run, $busy_after% after; load average"
	echo "$load_before before, $load_after after."
	echo
	cat "$table"
} >"$out/git-results.md"
echo >&2
cat "$table"
echo "git.sh: results in bench/out/git-results.md; took $(($(date +%s) - started)) s" >&2
exit "$status"
