#!/usr/bin/env bash
# install.test.sh - `make install DESTDIR=... PREFIX=/usr`, the installed
# moat run on its own (smoke.sh), and `make uninstall` leaving nothing.
cd "$(dirname "$0")/../.."
. tests/package/lib.sh
. tests/package/smoke.sh

d=$(mktemp -d /tmp/moat-install.XXXXXX)
trap 'rm -rf "$d"' EXIT
mkdir -p "$d/root"
before=$(cd "$d/root" && find . | sort)
if make --no-print-directory install DESTDIR="$d/root" PREFIX=/usr >"$d/install.txt" 2>&1; then
	ok "make install DESTDIR PREFIX=/usr"
else
	bad "make install" "$(tail -20 "$d/install.txt")"
fi
for f in usr/bin/moat usr/lib/x86_64-linux-gnu/moat/moat_http.so usr/lib/x86_64-linux-gnu/moat/moat_git.so \
	usr/lib/x86_64-linux-gnu/moat/moat_sql_pg.so usr/lib/x86_64-linux-gnu/moat/moat_auth.so \
	usr/share/moat/moat.schema.json usr/share/man/man1/moat.1 usr/share/man/man5/moat.json.5 \
	usr/share/bash-completion/completions/moat usr/share/zsh/site-functions/_moat \
	usr/share/fish/vendor_completions.d/moat.fish usr/lib/systemd/system/moat.service \
	etc/moat/moat.json usr/share/moat/moat.example.json; do
	if [ -f "$d/root/$f" ]; then ok "installed /$f"; else bad "installed /$f" "missing"; fi
done
smoke "$d/root" "make install"

# An edited config survives both a second install and the uninstall.
echo '{}' >"$d/root/etc/moat/moat.json"
make --no-print-directory install DESTDIR="$d/root" PREFIX=/usr >/dev/null 2>&1
if [ "$(cat "$d/root/etc/moat/moat.json")" = '{}' ]; then ok "install keeps an edited /etc/moat/moat.json"; else bad "install keeps an edited config" "overwritten"; fi
make --no-print-directory uninstall DESTDIR="$d/root" PREFIX=/usr >"$d/uninstall.txt" 2>&1
if [ -f "$d/root/etc/moat/moat.json" ]; then ok "uninstall keeps an edited config"; else bad "uninstall keeps an edited config" "removed"; fi
rm -f "$d/root/etc/moat/moat.json"
make --no-print-directory install DESTDIR="$d/root" PREFIX=/usr >/dev/null 2>&1
make --no-print-directory uninstall DESTDIR="$d/root" PREFIX=/usr >"$d/uninstall.txt" 2>&1 ||
	bad "make uninstall" "$(tail -20 "$d/uninstall.txt")"
# meson leaves the standard directories (usr/bin, usr/share/man/man1 ...)
# it created; what must be gone is every file and every moat directory.
left=$(cd "$d/root" && find . -type f -o -type l | sort)
moat_dirs=$(cd "$d/root" && find . -type d -name moat | sort)
if [ -z "$left" ] && [ -z "$moat_dirs" ]; then
	ok "make uninstall leaves no file and no moat directory ($(grep -c removed "$d/uninstall.txt") removed)"
else
	bad "make uninstall leaves nothing" "left: $left $moat_dirs"
fi
[ -n "$before" ] || bad "scratch root listed" "empty"
finish
