#!/usr/bin/env bash
# deb.test.sh - `make deb` and the package it builds (issue 16, item 4).
#
# Builds build-deb/moat_VERSION-REV_ARCH.deb from a clean copy of the tree
# (timed), checks that debian/changelog's version is meson.build's with the
# Debian revision -1, runs lintian (no error; warnings and infos printed),
# lists the package (`dpkg -c`: every path the package must hold, at its
# Debian place), checks /etc/moat/moat.json is a conffile and the unit is
# installed but not enabled, then unpacks it into a scratch root (`dpkg
# -x`) and runs the installed moat there with smoke.sh (chroot: moat
# version with every module, moat check on the installed
# /etc/moat/moat.json, a stdio session with the SDK client), none of it
# reaching the build tree. The unpacked moat reports the commit it was
# built from.
cd "$(dirname "$0")/../.." || exit 2
. tests/package/lib.sh
. tests/package/smoke.sh

d=$(mktemp -d /tmp/moat-deb.XXXXXX)
trap 'rm -rf "$d"' EXIT
t0=$(date +%s)

# ---- versions agree: meson.build holds the one version number
meson_version=$(sed -n "s/^ *version: '\([^']*\)',.*/\1/p" meson.build | head -1)
deb_version=$(dpkg-parsechangelog -l debian/changelog -S Version 2>/dev/null)
if [ -n "$meson_version" ] && [ "$deb_version" = "$meson_version-1" ]; then
	ok "debian/changelog's version $deb_version is meson.build's $meson_version with revision -1"
else
	bad "debian/changelog version" "changelog '$deb_version', meson.build '$meson_version' (want ${meson_version}-1)"
fi

# ---- make deb
commit=$(scripts/commit.sh)
if make --no-print-directory deb >"$d/make.txt" 2>&1; then
	ok "make deb ($(($(date +%s) - t0)) s)"
else
	bad "make deb" "$(tail -30 "$d/make.txt")"
	finish
fi
arch=$(dpkg --print-architecture)
triplet=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
deb=build-deb/moat_${deb_version}_${arch}.deb
if [ -f "$deb" ]; then ok "built $deb ($(stat -c %s "$deb") bytes)"; else bad "the package" "no $deb: $(ls build-deb)"; finish; fi
f_version=$(dpkg-deb -f "$deb" Version)
[ "$f_version" = "$deb_version" ] && ok "the package's Version is $f_version" || bad "package Version" "$f_version"

# ---- lintian: no error (warnings and infos are printed, not failed on)
t1=$(date +%s)
lintian --pedantic --info --display-info "$deb" >"$d/lintian.txt" 2>&1
grep -E '^[EWIPX]: ' "$d/lintian.txt" | sed 's/^/     lintian: /'
if grep -q '^E: ' "$d/lintian.txt"; then
	bad "lintian: no error" "$(grep '^E: ' "$d/lintian.txt")"
elif grep -qE '^(moat|lintian): |internal error|[Ff]ailed' "$d/lintian.txt"; then
	bad "lintian ran" "$(cat "$d/lintian.txt")"
else
	ok "lintian: no error ($(grep -c '^W: ' "$d/lintian.txt") warnings, $(grep -c '^I: ' "$d/lintian.txt") infos, $(($(date +%s) - t1)) s)"
fi
# The overrides each carry their reason (a comment just above).
if awk '/^[a-z]/ && prev !~ /^#/ { bad = 1 } { prev = $0 } END { exit bad }' debian/moat.lintian-overrides; then
	ok "every lintian override has its reason above it"
else
	bad "lintian overrides" "an override without a comment above it"
fi

# ---- what the package holds, where Debian expects it
dpkg -c "$deb" | awk '{print $6}' | sed 's|^\./|/|' >"$d/contents.txt"
for p in /usr/bin/moat \
	"/usr/lib/$triplet/moat/moat_http.so" "/usr/lib/$triplet/moat/moat_git.so" \
	"/usr/lib/$triplet/moat/moat_sql_pg.so" "/usr/lib/$triplet/moat/moat_auth.so" \
	/usr/share/man/man1/moat.1.gz /usr/share/man/man5/moat.json.5.gz \
	/usr/share/bash-completion/completions/moat /usr/share/zsh/vendor-completions/_moat \
	/usr/share/fish/vendor_completions.d/moat.fish /lib/systemd/system/moat.service \
	/etc/moat/moat.json /usr/share/moat/moat.example.json /usr/share/moat/moat.schema.json \
	/usr/share/moat/welcome/README.md /usr/share/doc/moat/copyright /usr/share/doc/moat/changelog.Debian.gz /usr/share/doc/moat/install.md.gz; do
	if grep -qxF "$p" "$d/contents.txt"; then ok "dpkg -c: $p"; else bad "dpkg -c: $p" "missing"; fi
done
if grep -qE '(^/usr/local/|/build|test_|\.a$|\.h$)' "$d/contents.txt"; then
	bad "no build or test files in the package" "$(grep -E '(^/usr/local/|/build|test_|\.a$|\.h$)' "$d/contents.txt")"
else
	ok "no /usr/local, build, test, static-library or header file in the package"
fi

# ---- maintainer scripts: the config a conffile, the unit installed, not enabled
dpkg-deb --ctrl-tarfile "$deb" | tar -x -C "$d" ./conffiles ./postinst 2>/dev/null
if [ "$(cat "$d/conffiles" 2>/dev/null)" = /etc/moat/moat.json ]; then
	ok "conffiles: /etc/moat/moat.json"
else
	bad "conffiles" "$(cat "$d/conffiles" 2>/dev/null)"
fi
# dh_installsystemd --no-enable: enable only when the unit is already
# known to deb-systemd-helper (an upgrade of an enabled unit).
if grep -q "deb-systemd-helper debian-installed 'moat.service'" "$d/postinst"; then
	ok "postinst does not enable moat.service on a fresh installation"
else
	bad "postinst enable" "$(grep -n 'enable' "$d/postinst")"
fi

# ---- unpacked into a scratch root, run without the build tree
root=$d/root
mkdir -p "$root"
dpkg -x "$deb" "$root"
if grep -qx "ExecStart=/usr/bin/moat serve --config /etc/moat/moat.json" "$root/lib/systemd/system/moat.service"; then
	ok "the packaged unit runs /usr/bin/moat on /etc/moat/moat.json"
else
	bad "packaged unit ExecStart" "$(grep ExecStart "$root/lib/systemd/system/moat.service")"
fi
if grep -q '"/usr/share/moat/welcome"' "$root/etc/moat/moat.json"; then
	ok "/etc/moat/moat.json serves /usr/share/moat/welcome"
else
	bad "/etc/moat/moat.json" "$(cat "$root/etc/moat/moat.json")"
fi
v=$(env -i PATH=/usr/bin:/bin "$root/usr/bin/moat" version 2>&1)
if grep -qxF "commit $commit" <<<"$v"; then
	ok "the packaged moat reports the commit it was built from ($commit)"
else
	bad "moat version commit" "want $commit: $(grep '^commit' <<<"$v")"
fi
smoke "$root" "deb"
echo "     ($(($(date +%s) - t0)) s)"
finish
