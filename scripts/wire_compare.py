#!/usr/bin/env python3
"""wire_compare.py - do two moat binaries put the same bytes on the wire?

    scripts/wire_compare.py BEFORE_MOAT AFTER_MOAT [--keep DIR]

Issue 17 moved the families whose results grow with their input (sql rows,
fs listings, trees and searches, git logs, diffs and blame) from jansson
trees to a streaming writer, and promised that the bytes a client receives
do not change. The unit tests compare each writer with the tree builder it
replaced; this compares whole binaries: it makes a fixture (a file tree
with awkward names, a SQLite database with every storage class and
awkward text, a git repository with merges, renames, binary files and
odd messages), serves it with each binary over stdio under two configs
(default caps, and caps small enough to cut most answers), sends the same
few hundred tools/call requests to both in both protocol eras, and
compares every response line byte for byte. Exit 0 when all are equal;
otherwise the first differences are printed.

Both binaries need their modules (moat_git.so) beside them. Python 3,
git and sqlite3 are needed; nothing is installed.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile


def sh(cmd, cwd, env=None):
    subprocess.run(cmd, cwd=cwd, check=True, env=env, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def make_tree(root):
    names = ["plain.txt", "with space.txt", "quote\"d.md", "back\\slash.c", "tab\tname",
             "ünïcödé.txt", "日本語.txt", "pipe|name", "semi;colon", ".hidden", "a" * 120]
    for d in ["", "src", "src/deep", "src/deep/er", "docs", "empty", "node_modules/x"]:
        os.makedirs(os.path.join(root, d), exist_ok=True)
        for i, n in enumerate(names):
            with open(os.path.join(root, d, n), "w") as f:
                f.write("line one\nfoo = %d\n\"quoted\" \\ back\n\x01 ctl ✓\n" % i * (i + 1))
    for i in range(300):
        with open(os.path.join(root, "src", "f%03d.c" % i), "w") as f:
            f.write("int f%d(void) { return %d; } /* foo */\n" % (i, i))
    with open(os.path.join(root, "bin.dat"), "wb") as f:
        f.write(bytes(range(256)) * 8)
    os.symlink("plain.txt", os.path.join(root, "link.txt"))


def make_db(path):
    sql = """
CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, amount REAL, big INTEGER, blob BLOB, note TEXT);
WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 3000)
INSERT INTO t SELECT i,
  CASE i % 7 WHEN 0 THEN 'quote "x" \\ back' WHEN 1 THEN 'ünï ✓ 日本 𝄞' WHEN 2 THEN 'pipe | bar'
    WHEN 3 THEN char(1, 9, 10, 13, 31, 127) WHEN 4 THEN NULL WHEN 5 THEN '' ELSE 'name ' || i END,
  CASE i % 5 WHEN 0 THEN 0.1 * i WHEN 1 THEN -1e300 WHEN 2 THEN 1.0 / 3 WHEN 3 THEN NULL ELSE i END,
  CASE i % 4 WHEN 0 THEN 9223372036854775807 WHEN 1 THEN -9223372036854775808 ELSE i * i END,
  CASE i % 9 WHEN 0 THEN x'00ff10' ELSE NULL END,
  substr('lorem ipsum dolor sit amet, consectetur adipiscing elit ', 1 + i % 40)
    || printf('%.*c', i % 300, 'x')
FROM s;
CREATE VIEW v AS SELECT id, name FROM t WHERE id % 2 = 0;
"""
    subprocess.run(["sqlite3", path], input=sql.encode(), check=True)


def make_repo(root):
    env = dict(os.environ, GIT_AUTHOR_NAME="Ann \"Q\" Ü", GIT_AUTHOR_EMAIL="ann@example.org",
               GIT_COMMITTER_NAME="Bob", GIT_COMMITTER_EMAIL="bob@example.org",
               GIT_AUTHOR_DATE="2026-01-01T00:00:00Z", GIT_COMMITTER_DATE="2026-01-01T00:00:00Z")
    sh(["git", "init", "-q", "-b", "main", root], root, env)
    for i in range(60):
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = "2026-01-%02dT%02d:00:00Z" % (
            1 + i // 24, i % 24)
        if i == 30:
            sh(["git", "checkout", "-q", "-b", "side"], root, env)
        if i == 40:
            sh(["git", "checkout", "-q", "main"], root, env)
        name = ("side%d.txt" if 30 <= i < 40 else "file%d.txt") % (i % 7)
        with open(os.path.join(root, name), "a") as f:
            f.write("line %d \"q\" \\ ✓\n" % i * (1 + i % 5))
        if i % 10 == 3 and not 30 <= i < 40:
            with open(os.path.join(root, "blob.bin"), "wb") as f:
                f.write(bytes((i * k) % 256 for k in range(600)))
        if i == 20:
            sh(["git", "mv", "file1.txt", "renamed ü.txt"], root, env)
        sh(["git", "add", "-A"], root, env)
        msg = "commit %d: \"quoted\" \\ tab\there ü\n\nbody line\n\x01ctl" % i
        sh(["git", "commit", "-q", "--allow-empty", "-m", msg], root, env)
    sh(["git", "merge", "-q", "--no-ff", "-m", "merge side ✓", "side"], root, env)
    with open(os.path.join(root, "file0.txt"), "a") as f:
        f.write("unstaged change\n")
    with open(os.path.join(root, "file2.txt"), "a") as f:
        f.write("staged change\n")
    sh(["git", "add", "file2.txt"], root, env)


def calls(root):
    """The tools/call requests, as (name, arguments)."""
    out = []
    for p in [".", "src", "src/deep", "docs", "empty", "node_modules"]:
        out.append(("list_directory", {"path": os.path.join(root, "tree", p)}))
        out.append(("list_directory_with_sizes", {"path": os.path.join(root, "tree", p)}))
        out.append(("list_directory_with_sizes",
                    {"path": os.path.join(root, "tree", p), "sortBy": "size"}))
    t = os.path.join(root, "tree")
    for depth in [None, 1, 2, 5]:
        a = {"path": t}
        if depth:
            a["maxDepth"] = depth
        out.append(("directory_tree", a))
    out.append(("directory_tree", {"path": t, "excludePatterns": ["node_modules", "*.c"]}))
    for pat in ["*.txt", "**/*.c", "f1*", "*ü*", "nothing-matches", "**/deep/**"]:
        out.append(("search_files", {"path": t, "pattern": pat}))
        out.append(("search_files", {"path": t, "pattern": pat, "excludePatterns": ["src"]}))
    for pat in ["foo", "quoted", "✓", "f1[0-9]"]:
        out.append(("grep_files", {"path": t, "pattern": pat}))
        out.append(("grep_files", {"path": t, "pattern": pat, "include": "*.c", "maxMatches": 7}))
    out.append(("read_multiple_files", {"paths": [os.path.join(t, "plain.txt"),
                                                  os.path.join(t, "missing.txt"),
                                                  os.path.join(t, "quote\"d.md")]}))
    out.append(("read_text_file", {"path": os.path.join(t, "plain.txt")}))
    for q in ["SELECT * FROM t ORDER BY id", "SELECT * FROM t WHERE id < 20",
              "SELECT name, count(*) AS n FROM t GROUP BY name ORDER BY n DESC, name",
              "SELECT * FROM v", "SELECT 1 AS one, NULL AS none_, NULL AS nul, 'x' AS \"we|rd \"\"col\"\"\"",
              "SELECT * FROM t WHERE 0", "SELECT blob, hex(blob) FROM t WHERE blob IS NOT NULL",
              "SELECT note FROM t ORDER BY length(note) DESC LIMIT 50",
              "SELECT * FROM nope", "DELETE FROM t"]:
        out.append(("read_query", {"query": q}))
    out.append(("read_query", {"query": "SELECT * FROM t WHERE id > ? AND id < ?",
                               "params": [10, 40]}))
    out.append(("list_tables", {}))
    out.append(("describe_table", {"table_name": "t"}))
    r = os.path.join(root, "repo")
    for n in [None, 1, 5, 100]:
        a = {"repo_path": r}
        if n:
            a["max_count"] = n
        out.append(("git_log", a))
    out.append(("git_log", {"repo_path": r, "start_timestamp": "2026-01-02",
                            "end_timestamp": "2026-01-03"}))
    for target in ["HEAD~1", "HEAD~5", "HEAD~40", "side", "main~30"]:
        out.append(("git_diff", {"repo_path": r, "target": target}))
        out.append(("git_diff", {"repo_path": r, "target": target, "context_lines": 0}))
    out.append(("git_diff_unstaged", {"repo_path": r}))
    out.append(("git_diff_staged", {"repo_path": r, "context_lines": 10}))
    for rev in ["HEAD", "HEAD~1", "HEAD~3", "HEAD~20", "side"]:
        out.append(("git_show", {"repo_path": r, "revision": rev}))
    for f, a in [("file0.txt", {}), ("file3.txt", {"start_line": 3, "end_line": 30}),
                 ("renamed ü.txt", {}), ("blob.bin", {})]:
        out.append(("git_blame", dict({"repo_path": r, "path": f}, **a)))
    out.append(("git_ls_files", {"repo_path": r}))
    out.append(("git_ls_files", {"repo_path": r, "revision": "HEAD~30"}))
    out.append(("git_ls_files", {"repo_path": r, "path": "blob.bin"}))
    out.append(("git_status", {"repo_path": r}))
    out.append(("git_branch", {"repo_path": r, "branch_type": "all"}))
    return out


def config(root, small):
    c = {"roots": [os.path.join(root, "tree")],
         "databases": {"db": {"type": "sqlite", "path": os.path.join(root, "t.db")}},
         "git": {"repositories": [{"path": os.path.join(root, "repo"), "name": "repo"}]},
         "limits": {"calls_per_minute": 0, "tool_calls_per_minute": 0,
                    "max_concurrent_calls": 1024},
         "audit": {"file": os.path.join(root, "audit", "audit.jsonl")}}
    if small:
        c["fs"] = {"max_entries": 37}
        c["databases"]["db"].update({"max_rows": 25, "max_bytes": 3000})
        c["git"]["max_diff_bytes"] = 2000
        c["limits"]["max_output_bytes"] = 20000
    path = os.path.join(root, "small.json" if small else "default.json")
    with open(path, "w") as f:
        json.dump(c, f)
    return path


def session(moat, cfg, reqs, era):
    """Every response line moat writes for reqs, in id order."""
    lines = []
    if era == "old":
        lines.append(json.dumps({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {},
            "clientInfo": {"name": "wire_compare", "version": "1"}}}))
        lines.append(json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}))
    meta = {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {}}
    for i, (name, args) in enumerate(reqs, 1):
        params = {"name": name, "arguments": args}
        if era == "new":
            params["_meta"] = meta
        lines.append(json.dumps({"jsonrpc": "2.0", "id": i, "method": "tools/call",
                                 "params": params}))
    p = subprocess.run([moat, "serve", "--config", cfg], input=("\n".join(lines) + "\n").encode(),
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=300)
    got = {}
    for raw in p.stdout.split(b"\n"):
        if not raw:
            continue
        msg = json.loads(raw)
        if "id" in msg and isinstance(msg["id"], int) and msg["id"] > 0:
            got[msg["id"]] = raw
    return [got.get(i) for i in range(1, len(reqs) + 1)]


def main():
    if len(sys.argv) < 3:
        print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
        return 2
    before, after = sys.argv[1], sys.argv[2]
    keep = sys.argv[4] if len(sys.argv) > 4 and sys.argv[3] == "--keep" else None
    root = keep or tempfile.mkdtemp(prefix="wire_compare.")
    try:
        if not os.path.exists(os.path.join(root, "t.db")):
            os.makedirs(os.path.join(root, "tree"), exist_ok=True)
            os.makedirs(os.path.join(root, "repo"), exist_ok=True)
            os.makedirs(os.path.join(root, "audit"), exist_ok=True)
            make_tree(os.path.join(root, "tree"))
            make_db(os.path.join(root, "t.db"))
            make_repo(os.path.join(root, "repo"))
        reqs = calls(root)
        total = same = 0
        errors = 0
        shown = 0
        for small in (False, True):
            cfg = config(root, small)
            for era in ("old", "new"):
                a = session(before, cfg, reqs, era)
                b = session(after, cfg, reqs, era)
                for (name, args), x, y in zip(reqs, a, b):
                    total += 1
                    if x is None or y is None:
                        errors += 1
                        if shown < 5:
                            print("no answer: %s %s (%s caps, %s era)" % (
                                name, json.dumps(args)[:120], "small" if small else "default",
                                era))
                            shown += 1
                    elif x == y:
                        same += 1
                    elif shown < 5:
                        shown += 1
                        k = next(i for i in range(min(len(x), len(y)) + 1)
                                 if i == min(len(x), len(y)) or x[i] != y[i])
                        print("differ: %s %s (%s caps, %s era) at byte %d:\n  before %r\n"
                              "  after  %r" % (name, json.dumps(args)[:120],
                                               "small" if small else "default", era, k,
                                               x[max(0, k - 60):k + 60],
                                               y[max(0, k - 60):k + 60]))
        print("%d of %d responses byte-identical (%d tools/call requests x 2 configs x 2 eras)"
              "%s" % (same, total, len(reqs), ", %d unanswered" % errors if errors else ""))
        return 0 if same == total else 1
    finally:
        if not keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
