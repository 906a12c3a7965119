#!/usr/bin/env bash
# install.sh - `make install` and `make uninstall` (issue 16).
#
#   scripts/install.sh install|uninstall BUILD_DIR PREFIX SYSCONFDIR [DESTDIR]
#
# install: points the meson build at PREFIX (only when it differs, so a
# rebuild touches the few files that embed paths), builds, and runs
# `meson install` into DESTDIR. The example config is then copied to
# SYSCONFDIR/moat/moat.json unless a file is already there: an
# administrator's config is never overwritten.
# uninstall: removes exactly the files meson would install for this build
# (`meson introspect --installed`, so it needs no install log), the config
# copy when it is still byte-identical to the example, and the moat-owned
# directories once empty. It prints what it removed.
set -euo pipefail

action=${1:?install|uninstall}
build=${2:?build dir}
prefix=${3:?prefix}
sysconfdir=${4:?sysconfdir}
destdir=${5:-}

case "$prefix" in /*) ;; *) echo "install.sh: PREFIX must be absolute" >&2; exit 2 ;; esac
case "$sysconfdir" in /*) ;; *) echo "install.sh: SYSCONFDIR must be absolute" >&2; exit 2 ;; esac

options() { # the build's "prefix sysconfdir datadir libdir", the last two absolute
	meson introspect "$build" --buildoptions | python3 -c '
import json, sys
o = {o["name"]: o["value"] for o in json.load(sys.stdin)}
print(o["prefix"], o["sysconfdir"], o["prefix"] + "/" + o["datadir"], o["prefix"] + "/" + o["libdir"])'
}

reconfigure() {
	local cur cur_sys rest
	read -r cur cur_sys rest < <(options)
	if [ "$cur" != "$prefix" ] || [ "$cur_sys" != "$sysconfdir" ]; then
		meson configure "$build" -Dprefix="$prefix" -Dsysconfdir="$sysconfdir" >/dev/null
	fi
	ninja -C "$build" >/dev/null
}

installed() { # every installed file's destination path, one per line
	meson introspect "$build" --installed | python3 -c '
import json, os, sys
for src, dst in json.load(sys.stdin).items():
    if os.path.isdir(src):
        for d, _, files in os.walk(src):
            for f in files:
                print(os.path.join(dst, os.path.relpath(os.path.join(d, f), src)))
    else:
        print(dst)'
}

reconfigure
read -r _ _ datadir libdir < <(options)
example="$datadir/moat/moat.example.json"
config="$sysconfdir/moat/moat.json"

if [ "$action" = install ]; then
	if [ -n "$destdir" ]; then
		meson install -C "$build" --no-rebuild --quiet --destdir "$destdir"
	else
		meson install -C "$build" --no-rebuild --quiet
	fi
	if [ -e "$destdir$config" ]; then
		echo "install: kept the existing $config (the example is $example)"
	else
		install -D -m 0644 "$destdir$example" "$destdir$config"
		echo "install: $config (from $example)"
	fi
	echo "install: moat $(installed | wc -l) files under ${destdir:-}$prefix"
elif [ "$action" = uninstall ]; then
	if [ -f "$destdir$config" ] && [ -f "$destdir$example" ] && cmp -s "$destdir$config" "$destdir$example"; then
		rm -f "$destdir$config" && echo "uninstall: removed $destdir$config (unchanged example)"
	elif [ -e "$destdir$config" ]; then
		echo "uninstall: kept $destdir$config (edited; remove it yourself)"
	fi
	while read -r f; do
		if [ -e "$destdir$f" ] || [ -L "$destdir$f" ]; then
			rm -f "$destdir$f" && echo "uninstall: removed $destdir$f"
		fi
	done < <(installed)
	for d in "$datadir/moat/welcome" "$datadir/moat" "$libdir/moat" "$sysconfdir/moat"; do
		[ -d "$destdir$d" ] && rmdir --ignore-fail-on-non-empty "$destdir$d"
	done
	true
else
	echo "install.sh: unknown action $action" >&2
	exit 2
fi
