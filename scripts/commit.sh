#!/bin/sh
# commit.sh - the git commit moat is built from, for `moat version`.
#
# meson's vcs_tag runs this in the source directory on every build. In a git
# checkout: the short commit, with "-dirty" when tracked files differ from it.
# Elsewhere (a source tarball, the Debian package's copied tree): the
# "commit" build option ($1), else the file .moat-commit that `make deb`
# writes beside the sources, else "unknown".
if [ -n "$1" ]; then
	echo "$1"
elif c=$(git rev-parse --short=12 HEAD 2>/dev/null); then
	if git diff --quiet HEAD -- 2>/dev/null; then echo "$c"; else echo "$c-dirty"; fi
elif [ -s .moat-commit ]; then
	head -c 64 .moat-commit | tr -cd '0-9a-z-'
	echo
else
	echo unknown
fi
