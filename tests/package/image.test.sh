#!/usr/bin/env bash
# image.test.sh - the container image (issue 16, item 6): `make image`
# builds it with podman under a name of its own; its config says user
# 65532, entrypoint /usr/bin/moat and the OCI labels; its file system,
# exported with `podman create` + `podman export`, holds no shell and no
# package manager, only files on an allowlist, and exactly the shared
# libraries the binary and its modules need (DT_NEEDED followed inside the
# image: none missing, none extra); then smoke.sh runs moat version, moat
# check and an SDK stdio session inside that root with chroot as 65532,
# which also proves /var/lib/moat is writable by that user (the audit
# trail), and a session again on the root mounted read-only with a tmpfs
# for /var/lib/moat. The images and container it made are removed. About 30 s.
cd "$(dirname "$0")/../.." || exit 2
. tests/package/lib.sh
. tests/package/smoke.sh

# podman with the global options image.sh uses (MOAT_PODMAN_FLAGS: vfs
# storage where overlay does not work).
# shellcheck disable=SC2086 # split on purpose: several options
pm() { podman ${MOAT_PODMAN_FLAGS:-} "$@"; }
t=$(mktemp -d /tmp/moat-image.XXXXXX)
name=moat-image-test-$$
ctr=
cleanup() {
	mountpoint -q "$t/ro/var/lib/moat" && umount "$t/ro/var/lib/moat"
	mountpoint -q "$t/ro" && umount "$t/ro"
	[ -n "$ctr" ] && pm rm -f "$ctr" >/dev/null 2>&1
	pm rmi -f "$name:latest" "$name:$version" >/dev/null 2>&1
	rm -rf "$t"
}
trap cleanup EXIT

version=$(sed -n "s/^  version: '\([^']*\)',$/\1/p" meson.build)
revision=$(scripts/commit.sh)
[ -n "$version" ] || bad "version from meson.build" "not found"

# ---- build ---------------------------------------------------------------
start=$(date +%s)
if MOAT_ENGINE=podman MOAT_IMAGE=$name MOAT_IMAGE_CONTEXT=$t/ctx \
	make --no-print-directory image >"$t/build.txt" 2>&1; then
	ok "make image ($(($(date +%s) - start)) s): $(tail -1 "$t/build.txt")"
else
	bad "make image" "$(tail -20 "$t/build.txt")"
	finish
fi

# ---- the image's config --------------------------------------------------
field() { pm image inspect --format "$1" "$name:$version" 2>&1; }
user=$(field '{{.Config.User}}')
case "$user" in
65532:65532) ok "image user is 65532:65532" ;;
*) bad "image user is 65532:65532, not root" "User='$user'" ;;
esac
[ "$(field '{{json .Config.Entrypoint}}')" = '["/usr/bin/moat"]' ] &&
	ok "entrypoint is /usr/bin/moat" || bad "entrypoint" "$(field '{{json .Config.Entrypoint}}')"
[ "$(field '{{json .Config.Cmd}}')" = '["serve","--config","/etc/moat/moat.json"]' ] &&
	ok "default command serves /etc/moat/moat.json on stdio" || bad "cmd" "$(field '{{json .Config.Cmd}}')"
grep -qx 'XDG_STATE_HOME=/var/lib' <<<"$(field '{{range .Config.Env}}{{println .}}{{end}}')" &&
	ok "XDG_STATE_HOME=/var/lib (audit trail in /var/lib/moat)" || bad "XDG_STATE_HOME" "$(field '{{json .Config.Env}}')"
[ "$(pm image inspect --format '{{.Id}}' "$name:latest" 2>&1)" = "$(field '{{.Id}}')" ] &&
	ok "tagged $name:$version and $name:latest" || bad "both tags" "differ or missing"
label() { field "{{index .Config.Labels \"org.opencontainers.image.$1\"}}"; }
want_labels=(title=moat version="$version" revision="$revision"
	source=https://github.com/moat-mcp/moat licenses=Apache-2.0)
for kv in "${want_labels[@]}"; do
	got=$(label "${kv%%=*}")
	[ "$got" = "${kv#*=}" ] && ok "label ${kv%%=*}=$got" || bad "label ${kv%%=*}" "'$got', want '${kv#*=}'"
done
[ -n "$(label description)" ] && ok "label description" || bad "label description" "empty"
mcpname=$(field '{{index .Config.Labels "io.modelcontextprotocol.server.name"}}')
[ "$mcpname" = "$(python3 -c 'import json; print(json.load(open("server.json"))["name"])')" ] &&
	ok "label io.modelcontextprotocol.server.name is server.json's name ($mcpname)" ||
	bad "label io.modelcontextprotocol.server.name" "'$mcpname'"

# ---- its file system -----------------------------------------------------
fs=$t/fs
mkdir -p "$fs"
if ctr=$(pm create "$name:$version" 2>"$t/create.txt") &&
	pm export -o "$t/image.tar" "$ctr" 2>"$t/export.txt" &&
	tar -x --numeric-owner -p -f "$t/image.tar" -C "$fs"; then
	ok "podman create + export + tar -x"
else
	bad "podman create/export" "$(cat "$t/create.txt" "$t/export.txt")"
	finish
fi

shells=$(cd "$fs" && find . \( -name sh -o -name bash -o -name dash -o -name ash -o -name zsh \
	-o -name busybox -o -name 'toybox' \) | head)
[ ! -e "$fs/bin/sh" ] && [ ! -L "$fs/bin/sh" ] && [ -z "$shells" ] &&
	ok "no /bin/sh, no shell or busybox anywhere" || bad "no shell" "$shells"
pkg=$(cd "$fs" && find . \( -name apt -o -name 'apt-*' -o -name dpkg -o -name 'dpkg-*' -o -name rpm \
	-o -name apk -o -name yum -o -name dnf -o -name pip -o -name npm \) | head)
[ -z "$pkg" ] && ok "no package manager (apt, dpkg, rpm, apk, pip, npm)" || bad "no package manager" "$pkg"
bins=$(cd "$fs" && find . -path ./usr/lib -prune -o -path ./usr/lib64 -prune -o -type f -perm /111 -print)
[ "$bins" = ./usr/bin/moat ] && ok "the one executable outside the library directories is /usr/bin/moat" ||
	bad "executables" "$bins"

# Every file and symlink on the allowlist; every allowlisted kind present.
allow='^\./(usr/bin/moat|usr/lib/[a-z0-9_]+-linux-gnu[a-z0-9_]*/moat/moat_(http|git|sql_pg|auth)\.so'
allow+='|usr/lib/[a-z0-9_]+-linux-gnu[a-z0-9_]*/lib[^/]+\.so(\.[0-9]+)*|usr/lib(64)?/ld-linux[^/]*\.so\.[0-9]+'
allow+='|usr/lib/file/magic\.mgc|usr/share/misc/magic\.mgc|etc/ssl/certs/ca-certificates\.crt'
allow+='|etc/moat/moat\.json|etc/passwd|etc/group|etc/nsswitch\.conf|lib|lib64'
allow+='|usr/share/moat/(moat\.schema\.json|moat\.example\.json|welcome/[^/]+))$'
files=$(cd "$fs" && find . -type f -o -type l | sort)
extra=$(grep -Ev "$allow" <<<"$files")
[ -z "$extra" ] && ok "every file is expected ($(wc -l <<<"$files") files, $(du -sh "$fs" | cut -f1))" ||
	bad "unexpected files in the image" "$extra"
for want in usr/bin/moat usr/lib/file/magic.mgc usr/share/misc/magic.mgc etc/ssl/certs/ca-certificates.crt \
	etc/moat/moat.json usr/share/moat/moat.schema.json usr/share/moat/welcome/README.md; do
	[ -e "$fs/$want" ] || absent+=" /$want"
done
[ -z "${absent:-}" ] && ok "binary, magic database, CA bundle, config, schema, welcome page present" ||
	bad "files missing from the image" "$absent"
mods=$(cd "$fs" && ls usr/lib/*/moat/ 2>/dev/null | tr '\n' ' ')
[ "$mods" = "moat_auth.so moat_git.so moat_http.so moat_sql_pg.so " ] &&
	ok "the four modules: $mods" || bad "modules" "'$mods'"
cmp -s "$fs/etc/moat/moat.json" "$fs/usr/share/moat/moat.example.json" &&
	grep -q '"/usr/share/moat/welcome"' "$fs/etc/moat/moat.json" &&
	ok "/etc/moat/moat.json is the installed example (serves /usr/share/moat/welcome)" ||
	bad "/etc/moat/moat.json" "$(cat "$fs/etc/moat/moat.json")"

grep -qx 'hosts: files dns' "$fs/etc/nsswitch.conf" &&
	grep -qx 'moat:x:65532:65532:moat:/var/lib/moat:/sbin/nologin' "$fs/etc/passwd" &&
	ok "nsswitch.conf (hosts: files dns) and passwd (65532 is moat, no login)" ||
	bad "nsswitch.conf and passwd" "$(cat "$fs/etc/nsswitch.conf" "$fs/etc/passwd")"
inside=$(env -i /usr/sbin/chroot --userspec=65532:65532 "$fs" /usr/bin/moat version 2>&1 | sed -n 's/^commit //p')
[ "$inside" = "$revision" ] && ok "the binary's commit is the revision label ($inside)" ||
	bad "binary commit = label" "'$inside' vs '$revision'"

# Libraries: follow DT_NEEDED from the binary and the modules inside the
# image; each name must be there, and each library there must be reached.
libdir=$(cd "$fs" && dirname usr/lib/*/moat)
declare -A reached=()
queue=("$fs/usr/bin/moat" "$fs/$libdir"/moat/*.so)
missing=
while [ ${#queue[@]} -gt 0 ]; do
	elf=${queue[0]}
	queue=("${queue[@]:1}")
	for n in $(readelf -d "$elf" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
		[ -n "${reached[$n]:-}" ] && continue
		if [ -f "$fs/$libdir/$n" ]; then
			reached[$n]=1
			queue+=("$fs/$libdir/$n")
		elif [ -f "$fs/usr/lib64/$n" ] || [ -f "$fs/usr/lib/$n" ]; then
			reached[$n]=1
		else
			missing+=" $n (for ${elf#"$fs"})"
		fi
	done
done
[ -z "$missing" ] && ok "every DT_NEEDED library is in the image (${#reached[@]})" || bad "libraries missing" "$missing"
unused=
for so in "$fs/$libdir"/lib*.so* "$fs"/usr/lib64/*.so*; do
	[ -n "${reached[$(basename "$so")]:-}" ] || unused+=" ${so#"$fs"}"
done
[ -z "$unused" ] && ok "no library nothing needs" || bad "libraries nothing needs" "$unused"

# Ownership: root everywhere, but the audit trail's directory.
owners=$(tar -t -v --numeric-owner -f "$t/image.tar" | awk '{print $2, $1, $6}')
state=$(awk '$3 == "var/lib/moat/" {print $1, $2}' <<<"$owners")
[ "$state" = "65532/65532 drwxr-x---" ] && ok "/var/lib/moat is 65532:65532 0750" || bad "/var/lib/moat" "'$state'"
others=$(awk '$3 != "var/lib/moat/" && $1 != "0/0"' <<<"$owners")
[ -z "$others" ] && ok "everything else is owned by root (moat cannot change its own files)" || bad "owners" "$others"

smoke "$fs" "image"

# docs/container.md's --read-only: the root read-only, /var/lib/moat a
# tmpfs owned by 65532; a stdio session works and leaves its audit trail.
mkdir -p "$t/ro"
if mount --bind "$fs" "$t/ro" && mount -o remount,bind,ro "$t/ro" &&
	mount -t tmpfs -o uid=65532,gid=65532,mode=0750,size=16m tmpfs "$t/ro/var/lib/moat"; then
	if node tests/package/stdio_session.mjs env -i XDG_STATE_HOME=/var/lib \
		/usr/sbin/chroot --userspec=65532:65532 "$t/ro" /usr/bin/moat serve --config /etc/moat/moat.json \
		>"$t/ro.txt" 2>&1 && [ -s "$t/ro/var/lib/moat/audit.jsonl" ] && ! touch "$t/ro/usr/x" 2>/dev/null; then
		ok "read-only root, tmpfs /var/lib/moat: stdio session, audit trail written"
	else
		bad "read-only root" "$(tail -5 "$t/ro.txt")"
	fi
else
	bad "read-only root" "mount failed"
fi
finish
