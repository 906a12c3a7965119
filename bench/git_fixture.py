#!/usr/bin/env python3
# git_fixture.py - write a `git fast-import` stream for bench/git.sh's
# repository to stdout: a first commit of NFILES files in 100 directories,
# then NCOMMITS-1 commits that each change two files, with fixed names,
# authors and dates, so the repository is the same on every run.
#
#   python3 bench/git_fixture.py 10000 5000 | git fast-import --quiet
import sys


def main():
    nfiles = int(sys.argv[1])
    ncommits = int(sys.argv[2])
    out = sys.stdout.buffer
    t0 = 1700000000
    version = [0] * nfiles

    def path(i):
        return "d%02d/f%05d.txt" % (i % 100, i)

    def content(i):
        lines = [b"file %d line %d: the quick brown fox jumps over the lazy dog\n" % (i, k)
                 for k in range(20)]
        lines[version[i] % 20] = b"file %d version %d\n" % (i, version[i])
        return b"".join(lines)

    def blob(data):
        out.write(b"data %d\n" % len(data))
        out.write(data)
        out.write(b"\n")

    for c in range(ncommits):
        when = t0 + c * 600
        msg = b"commit %d of the benchmark history\n\nTouches a couple of files.\n" % c
        out.write(b"commit refs/heads/main\n")
        out.write(b"author Bench Author <author@example.com> %d +0000\n" % when)
        out.write(b"committer Bench Committer <committer@example.com> %d +0000\n" % when)
        out.write(b"data %d\n" % len(msg))
        out.write(msg)
        if c == 0:
            for i in range(nfiles):
                out.write(b"M 100644 inline %s\n" % path(i).encode())
                blob(content(i))
        else:
            for i in ((c * 7919) % nfiles, (c * 104729 + 13) % nfiles):
                version[i] += 1
                out.write(b"M 100644 inline %s\n" % path(i).encode())
                blob(content(i))
        out.write(b"\n")


main()
