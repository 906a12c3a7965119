#!/usr/bin/env bash
# install-deps.sh - install what moat needs to build and test on Debian 12.
#
# Idempotent and quiet when everything is present: Debian packages (DESIGN.md
# section 6) through apt-get, and the end-to-end test client through `npm ci`
# from the committed package-lock.json. Runs apt-get as root or through sudo.
set -euo pipefail

cd "$(dirname "$0")/.."

apt_pkgs=(
	gcc make pkg-config meson ninja-build python3
	clang libclang-rt-14-dev
	libjansson-dev libpcre2-dev libcmocka-dev
	libmicrohttpd-dev libcurl4-openssl-dev libxml2-dev libsqlite3-dev sqlite3
	libpq-dev libgit2-dev libseccomp-dev libmagic-dev
	# SHA-256 for the audit trail's hash chain
	nettle-dev
	# JWS verification of OAuth access tokens (src/auth/)
	libjose-dev
	# the PostgreSQL server the sql tests start themselves (initdb, pg_ctl
	# and psql from /usr/lib/postgresql/15/bin)
	postgresql-15
	git nodejs npm openssl ca-certificates
	# the benchmarks' HTTP load generator and helpers (bench/transport_http.sh),
	# and `ss` to find the port scripts/conformance.sh's moat bound
	wrk curl jq iproute2
	# the cluster store (src/cluster/, hiredis) and the local cluster the
	# cluster test starts (scripts/cluster.sh): Redis, nginx in front, and
	# HAProxy to check deploy/haproxy.cfg; libyaml parses deploy/'s manifests
	libhiredis-dev redis-server redis-tools nginx-light haproxy libyaml-dev
	# packaging (issue 16): man pages, the Debian package and its checks, the
	# container image, the completions' shells, systemd-analyze for the unit,
	# strace for the unit's system-call filter test
	scdoc man-db groff-base debhelper dpkg-dev fakeroot lintian podman
	bash-completion zsh fish systemd strace
)

missing=()
for p in "${apt_pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm may come with nodejs from elsewhere; only ask apt for it when absent.
if command -v npm >/dev/null 2>&1; then
	missing=("${missing[@]/npm/}")
fi
if command -v node >/dev/null 2>&1; then
	missing=("${missing[@]/nodejs/}")
fi
pkgs=()
for p in "${missing[@]}"; do [ -n "$p" ] && pkgs+=("$p"); done

if [ ${#pkgs[@]} -gt 0 ]; then
	echo "install-deps: installing ${pkgs[*]}" >&2
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >&2
fi

# The official MCP SDK client for the end-to-end tests, pinned by the lockfile.
stamp=node_modules/.moat-lock-stamp
if [ -L node_modules ]; then
	# A worktree sharing another checkout's packages: npm ci would empty the
	# directory the link points to under the other checkout's feet.
	cmp -s package-lock.json "$stamp" ||
		echo "install-deps: node_modules is a link and package-lock.json differs from its stamp; not running npm ci" >&2
elif [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
	echo "install-deps: npm ci" >&2
	npm ci --no-audit --no-fund --loglevel=error >&2
	cp package-lock.json "$stamp"
fi
