#!/usr/bin/env bash
# deb.sh - `make deb`: the Debian package moat_VERSION-REV_ARCH.deb in build-deb/.
#
#   scripts/deb.sh
#
# dpkg-buildpackage writes its results into the parent of the tree it
# builds, so the sources are copied to build-deb/src (everything but the
# build directories, node_modules and .git) and the package lands in
# build-deb/: nothing is written outside the repository. The copy is not a
# git checkout, so the commit `moat version` reports is written to
# build-deb/src/.moat-commit (scripts/commit.sh) and debian/rules passes
# it to meson. Binary-only (-b), unsigned, built in parallel, without the
# test suite (nocheck: make test tests the tree) and without a -dbgsym
# package (noddebs), so that the packaging test stays quick.
set -euo pipefail

cd "$(dirname "$0")/.."
top=$PWD
out=$top/build-deb
src=$out/src

commit=$(scripts/commit.sh)
rm -rf "$out"
mkdir -p "$src"
for f in * .[!.]*; do
	case "$f" in
	build* | node_modules | .git | '.[!.]*') continue ;;
	esac
	[ -e "$f" ] || continue
	cp -a "$f" "$src/"
done
rm -rf "$src/bench/out" "$src/fuzz/artifacts" "$src/examples/demo.db"
echo "$commit" >"$src/.moat-commit"

jobs=$(nproc 2>/dev/null || echo 2)
log=$out/build.log
echo "deb: building in $src (commit $commit, $jobs jobs; log $log)"
if ! (cd "$src" && DEB_BUILD_OPTIONS="parallel=$jobs nocheck noddebs" \
	dpkg-buildpackage -b -us -uc >"$log" 2>&1); then
	tail -40 "$log" >&2
	echo "deb: dpkg-buildpackage failed (full log: $log)" >&2
	exit 1
fi
ls "$out"/moat_*.deb >/dev/null
for deb in "$out"/moat_*.deb; do echo "deb: $deb"; done
