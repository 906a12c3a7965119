#!/usr/bin/env bash
# rootfs.sh - complete an installed moat tree into a root file system that
# runs on its own: the container image's build context, and the chroot the
# packaging tests run the installed moat in.
#
#   scripts/rootfs.sh ROOT
#
# ROOT already holds an installation (usr/bin/moat, the modules in
# usr/lib/<triplet>/moat/, etc/moat/moat.json ...). This adds, from this
# machine, exactly the shared libraries the binary and every module need
# (their ldd closure, each copied once under usr/lib at the path the loader
# looks for, with lib -> usr/lib and lib64 -> usr/lib64 as on a merged-/usr
# Debian), the dynamic loader, libmagic's compiled database (the fs and
# http families sniff MIME types), the CA certificates (the http family
# verifies TLS), and var/lib/moat for the audit trail, owned by MOAT_UID
# (default 65532). No shell, no package manager, nothing else.
set -euo pipefail

root=${1:?usage: rootfs.sh ROOT}
uid=${MOAT_UID:-65532}
[ -x "$root/usr/bin/moat" ] || { echo "rootfs.sh: $root/usr/bin/moat is missing" >&2; exit 2; }

mkdir -p "$root/usr/lib" "$root/usr/lib64" "$root/etc/ssl/certs" "$root/tmp" "$root/var/lib/moat"
[ -e "$root/lib" ] || ln -s usr/lib "$root/lib"
[ -e "$root/lib64" ] || ln -s usr/lib64 "$root/lib64"
chmod 1777 "$root/tmp"

elves=("$root/usr/bin/moat")
while IFS= read -r -d '' so; do elves+=("$so"); done \
	< <(find "$root/usr/lib" -path '*/moat/*.so' -type f -print0)

declare -A seen=()
for elf in "${elves[@]}"; do
	while read -r lib; do
		[ -n "$lib" ] && [ -z "${seen[$lib]:-}" ] || continue
		seen[$lib]=1
		case "$lib" in
		/lib/*) dest="$root/usr${lib}" ;;
		/lib64/*) dest="$root/usr${lib}" ;;
		/usr/*) dest="$root${lib}" ;;
		*) echo "rootfs.sh: unexpected library path $lib" >&2; exit 1 ;;
		esac
		mkdir -p "$(dirname "$dest")"
		cp -L "$lib" "$dest"
	done < <(ldd "$elf" | awk '/=> \// {print $3} /^\t\/[^ ]+ \(/ {print $1}')
done

# libmagic's database at the path libmagic is built to read
magic=$(readlink -f /usr/share/misc/magic.mgc)
mkdir -p "$root$(dirname "$magic")" "$root/usr/share/misc"
cp "$magic" "$root$magic"
ln -sfn "$(realpath --relative-to=/usr/share/misc "$magic")" "$root/usr/share/misc/magic.mgc"
cp -L /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
chown "$uid:$uid" "$root/var/lib/moat"
chmod 0750 "$root/var/lib/moat"
echo "rootfs.sh: ${#seen[@]} shared libraries for ${#elves[@]} ELF files into $root"
