#!/usr/bin/env bash
# image.sh - `make image`: the container image moat:VERSION (and moat:latest)
# from dist/container/Containerfile, FROM scratch (issue 16).
#
#   scripts/image.sh
#
# Also tagged ghcr.io/moat-mcp/moat:VERSION (unless MOAT_IMAGE names another),
# the name server.json and the client entries (docs/clients.md) use. Prepares the build context, then builds with podman (docker where podman
# is absent). The context is the release build (build/) installed with
# prefix /usr into CONTEXT/root by scripts/install.sh (which also copies the
# example config to /etc/moat/moat.json and leaves build/ configured for
# /usr, as `make install PREFIX=/usr` would; build/moat still finds its
# modules beside itself), less what an image has no use for (man pages,
# completions, the systemd unit), completed by scripts/rootfs.sh (the shared
# libraries, loader, libmagic database, CA certificates), plus an
# /etc/passwd and /etc/group naming user 65532 and an /etc/nsswitch.conf.
# The audit trail's directory moves to CONTEXT/state so the Containerfile
# can COPY it owned by 65532.
# Nothing is RUN inside a container, so this works where containers cannot
# run. The image's file times and creation date are the commit's (podman
# --timestamp), so the same tree builds the same image ID.
#
# Environment: MOAT_IMAGE (name, default moat), MOAT_IMAGE_CONTEXT (default
# build-image; emptied first), MOAT_ENGINE (podman or docker), MOAT_BUILD
# (the meson build directory, default build), MOAT_PODMAN_FLAGS (podman's
# global options, e.g. "--storage-driver vfs --root DIR --runroot DIR"
# where overlay storage does not work).
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD
name=${MOAT_IMAGE:-moat}
ctx=$(realpath -m "${MOAT_IMAGE_CONTEXT:-build-image}")
build=${MOAT_BUILD:-build}

engine=${MOAT_ENGINE:-}
if [ -z "$engine" ]; then
	if command -v podman >/dev/null; then
		engine=podman
	elif command -v docker >/dev/null; then
		engine=docker
	else
		echo "image.sh: neither podman nor docker is installed (scripts/install-deps.sh installs podman)" >&2
		exit 2
	fi
fi
if [ "$engine" = docker ] && ! docker info >/dev/null 2>&1; then
	echo "image.sh: docker cannot reach its daemon; install podman, or start dockerd" >&2
	exit 2
fi
cmd=("$engine")
if [ "$engine" = podman ]; then
	# shellcheck disable=SC2206 # split on purpose: several options
	cmd=(podman ${MOAT_PODMAN_FLAGS:-})
	if ! err=$("${cmd[@]}" info 2>&1 >/dev/null); then
		printf 'image.sh: podman cannot start: %s\n' "$(tail -3 <<<"$err")" >&2
		echo 'image.sh: where overlay storage fails, set MOAT_PODMAN_FLAGS="--storage-driver vfs' \
			'--root /var/tmp/moat-podman --runroot /run/moat-podman"' >&2
		exit 2
	fi
fi

version=$(meson introspect "$build" --projectinfo | python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])')
revision=$(scripts/commit.sh)

# ---- the context --------------------------------------------------------
rm -rf "$ctx"
mkdir -p "$ctx/root" "$ctx/state"
scripts/install.sh install "$build" /usr /etc "$ctx/root" >/dev/null
r=$ctx/root
rm -rf "$r/usr/share/man" "$r/usr/share/bash-completion" "$r/usr/share/zsh" \
	"$r/usr/share/fish" "$r/usr/lib/systemd"
find "$r" -depth -type d -empty -delete
scripts/rootfs.sh "$r" >/dev/null
mv "$r/var/lib/moat" "$ctx/state/moat"
chown 65532:65532 "$ctx/state/moat"
# No login and no home outside the state directory: the names are there so
# that user lookups (libc, libgit2, libpq's ~/.pgpass) find something sane.
printf 'root:x:0:0:root:/root:/sbin/nologin\nmoat:x:65532:65532:moat:/var/lib/moat:/sbin/nologin\n' >"$r/etc/passwd"
printf 'root:x:0:\nmoat:x:65532:\n' >"$r/etc/group"
# glibc's built-in default without this file asks DNS first and stops at
# its "no such name": names from `--add-host` (the runtime's /etc/hosts)
# would never resolve. files then dns, as every distribution ships.
printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$r/etc/nsswitch.conf"
chmod 0644 "$r/etc/passwd" "$r/etc/group" "$r/etc/nsswitch.conf"
cp dist/container/Containerfile "$ctx/Containerfile"

# ---- the image ----------------------------------------------------------
args=(--file "$ctx/Containerfile" --build-arg "VERSION=$version" --build-arg "REVISION=$revision"
	--tag "$name:$version" --tag "$name:latest")
# The published name, for the default local name only (tests build their own).
[ "$name" = moat ] && args+=(--tag "ghcr.io/moat-mcp/moat:$version")
if [ "$engine" = podman ]; then
	# Reproducible: file times and the creation date are the commit's. No
	# intermediate images left behind (one per step otherwise).
	args+=(--layers=false --timestamp "$(git -C "$src" log -1 --format=%ct 2>/dev/null || echo 0)")
fi
old=$("${cmd[@]}" image inspect --format '{{.Id}}' "$name:$version" 2>/dev/null || true)
"${cmd[@]}" build --quiet "${args[@]}" "$ctx" >/dev/null
new=$("${cmd[@]}" image inspect --format '{{.Id}}' "$name:$version")
# The image this build replaced, now untagged (kept if a container uses it).
if [ -n "$old" ] && [ "$old" != "$new" ]; then
	"${cmd[@]}" rmi "$old" >/dev/null 2>&1 || true
fi

files=$( (cd "$ctx" && find root state -type f -o -type l) | wc -l)
bytes=$("${cmd[@]}" image inspect --format '{{.Size}}' "$name:$version")
echo "image: $name:$version and $name:latest (commit $revision) with ${cmd[*]}:" \
	"$files files, $((bytes / 1000000)) MB ($bytes bytes)"
