#!/usr/bin/env bash
# version.test.sh - `moat version` means something (issue 16, item 9): the
# one version number from meson.build, the commit the binary was built
# from, and only the families whose modules load, with the directories
# searched named when one does not; a config that needs a missing module
# fails with the same clear error.
cd "$(dirname "$0")/../.."
. tests/package/lib.sh

ninja -C build-test >/dev/null 2>&1 || bad "build-test builds" "ninja failed"
moat=build-test/moat
want=$(sed -n "s/^  version: '\([^']*\)',$/\1/p" meson.build)
[ -n "$want" ] && ok "meson.build holds the version ($want)" || bad "meson.build version" "not found"

out=$("$moat" version 2>"${TMPDIR:-/tmp}/moat-version-err.$$")
err=$(cat "${TMPDIR:-/tmp}/moat-version-err.$$"; rm -f "${TMPDIR:-/tmp}/moat-version-err.$$")
[ "$(head -1 <<<"$out")" = "moat $want" ] && ok "first line: moat $want" || bad "first line" "$(head -1 <<<"$out")"
[ "$("$moat" --version 2>/dev/null)" = "$out" ] && ok "--version prints the same" || bad "--version" "differs"
if head=$(git rev-parse --short=12 HEAD 2>/dev/null); then
	line=$(sed -n 2p <<<"$out")
	case "$line" in
	"commit $head" | "commit $head-dirty") ok "commit line names HEAD ($line)" ;;
	*) bad "commit line" "$line, HEAD is $head" ;;
	esac
else
	bad "commit line" "not a git checkout: cannot check"
fi
for fam in fs sql http git prompts; do
	grep -qE "^  $fam +" <<<"$out" && ok "family $fam listed" || bad "family $fam listed" "$out"
done
grep -qE '^  http +/[^ ]+/moat_http\.so \(libcurl [0-9.]+ with [^,]+, libxml2 [0-9.]+, libmagic [0-9.]+\)$' <<<"$out" &&
	ok "http: its module's path and library versions" || bad "http line" "$(grep '^  http' <<<"$out")"
grep -qE '^  git +/[^ ]+/moat_git\.so \(libgit2 [0-9]+\.[0-9]+\.[0-9]+\)$' <<<"$out" &&
	ok "git: its module's path and libgit2 version" || bad "git line" "$(grep '^  git' <<<"$out")"
grep -qE '^  sql +built in \(SQLite [0-9.]+\); PostgreSQL: /[^ ]+/moat_sql_pg\.so \(libpq [0-9.]+\)$' <<<"$out" &&
	ok "sql: SQLite built in, PostgreSQL's module and libpq version" || bad "sql line" "$(grep '^  sql' <<<"$out")"
grep -qE '^core: jansson [0-9.]+, PCRE2 [0-9.]+' <<<"$out" && ok "core libraries' versions" || bad "core line" "$out"
[ -z "$err" ] && ok "nothing on stderr when every module loads" || bad "stderr" "$err"

# A binary copied without its modules lists only what it can run.
d=$(mktemp -d /tmp/moat-version.XXXXXX)
trap 'rm -rf "$d"' EXIT
cp "$moat" "$d/moat"
out=$("$d/moat" version 2>"$d/err"); rc=$?
[ "$rc" -eq 0 ] && ok "a lone binary: moat version exits 0" || bad "lone binary exit" "$rc"
sed -n '/^families:/,/^transports:/p' <<<"$out" | grep -qE '^  (http|git) ' && bad "a lone binary does not list http or git" "$out" ||
	ok "a lone binary does not list http or git"
grep -q "^  fs " <<<"$out" && ok "a lone binary still lists fs" || bad "lone fs" "$out"
grep -q "PostgreSQL: not available: cannot load the module moat_sql_pg.so; searched $d, " <<<"$out" &&
	ok "a lone binary: PostgreSQL not available, directories named" || bad "lone sql" "$(grep '^  sql' <<<"$out")"
grep -q "moat: the http family is not available: cannot load the module moat_http.so; searched $d, $d/../lib/" "$d/err" &&
	grep -q "moat: the git family is not available" "$d/err" &&
	ok "stderr names each missing family and the directories searched" || bad "lone stderr" "$(cat "$d/err")"

# A config that needs the missing module: a clear error and exit 3 or 4, never a crash.
printf '{"git": {"repositories": [{"path": "%s"}]}}\n' "$PWD" >"$d/git.json"
"$d/moat" check --config "$d/git.json" >"$d/out" 2>"$d/err"; rc=$?
if [ "$rc" -ne 0 ] && [ "$rc" -lt 128 ] && grep -q "cannot load the module moat_git.so; searched $d, " "$d/err"; then
	ok "moat check with a git section and no module: exit $rc, names the directories"
else
	bad "check without the git module" "rc=$rc $(cat "$d/err")"
fi

# The modules placed where an installation puts them, relative to the binary.
mkdir -p "$d/usr/bin" "$d/usr/lib/x86_64-linux-gnu/moat"
cp "$moat" "$d/usr/bin/moat"
cp build-test/moat_*.so "$d/usr/lib/x86_64-linux-gnu/moat/"
out=$("$d/usr/bin/moat" version 2>"$d/err")
rel=$(grep -c "$d/usr/bin/../lib/x86_64-linux-gnu/moat/moat_" <<<"$out")
[ "$rel" -ge 3 ] && [ ! -s "$d/err" ] && ok "modules found relative to a moved installation ($rel lines)" ||
	bad "relative modules" "$out $(cat "$d/err")"
finish
