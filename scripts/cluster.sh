#!/usr/bin/env bash
# cluster.sh - a local moat cluster on 127.0.0.1: Redis, REPLICAS moat
# replicas and nginx in front, all in one temporary directory.
#
#   scripts/cluster.sh up [--foreground]   start it; prints the nginx URL
#   scripts/cluster.sh status [DIR]        what runs, and whether it answers
#   scripts/cluster.sh down [DIR]          stop everything, remove the directory
#   scripts/cluster.sh stop NAME [SIGNAL]  stop one part: redis, nginx, replicaN
#                                          (SIGNAL: TERM by default, KILL ...)
#   scripts/cluster.sh start NAME          start that part again (same port)
#
# It is what DESIGN.md §8 describes, small enough to read: replicas that
# share nothing but a Redis (`"cluster": {"redis": ..., "key": ...}` in their
# config) behind an ordinary load balancer. nginx hashes `Mcp-Session-Id`
# (`hash $http_mcp_session_id consistent;`) so an old-era session's POSTs
# and its GET stream reach the replica that holds it; requests without a
# session (the 2026-07-28 era) carry an empty key, which nginx spreads round
# robin. A POST that reached a replica is never sent to another
# (`proxy_next_upstream error timeout`, without `non_idempotent`): a write
# must not happen twice; a POST that could not connect goes to the next.
# Streams are not buffered (SSE).
#
# Ports: the replicas bind port 0 and the script reads the port from their
# "moat: listening on" line (no race); Redis and nginx cannot bind port 0,
# so they get a port the kernel just handed out, and are retried on another
# when they lose it. Everything logs into the directory (redis.log,
# replicaN.log, nginx-error.log, nginx-access.log); cluster.env holds the
# ports, pids and URLs (KEY=VALUE lines, for scripts and tests), cluster.key
# the cluster key (64 random hex digits, mode 0600, given to the replicas
# as MOAT_CLUSTER_KEY, never written into a config).
#
# Environment:
#   MOAT         the moat binary (default build/moat)
#   REPLICAS     how many replicas (default 3)
#   CONFIG       a config to use instead of the demo's (paths in it must be
#                absolute: each replica runs a copy in the directory, with
#                its metrics address and the cluster section added)
#   NO_REDIS=1   no Redis and no cluster section: REPLICAS independent
#                replicas behind the same nginx (for comparison)
#   CLUSTER_DIR  up: the directory to create (must not exist; default a new
#                mktemp -d); other commands: the cluster to act on (default
#                the last one started, or DIR given as an argument)
#
# The default config is the demo's (examples/moat.json, as `make run` uses
# it): the files of examples/ read-only, the shop database, the CRM stand-in
# (examples/crm_upstream.mjs, started here on a free port) and moat's own
# git repository. Each replica also serves /metrics on a loopback address
# of its own (listen.metrics, in cluster.env) and keeps its audit trail in
# the directory. `up --foreground` stays attached and stops everything on
# exit, Ctrl-C or SIGTERM.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
me=scripts/cluster.sh
current=${TMPDIR:-/tmp}/moat-cluster.current # the last cluster started

die() { echo "$me: $*" >&2; exit 1; }

usage() {
	sed -n '4,10s/^# \{0,1\}//p' "$0" >&2
	exit 2
}

# free_port: a loopback TCP port nobody holds right now.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# ---- the state file ---------------------------------------------------------

# state_set KEY VALUE: record KEY=VALUE in $dir/cluster.env (replacing it).
state_set() {
	local f=$dir/cluster.env
	touch "$f"
	grep -v "^$1=" "$f" >"$f.new" || true
	echo "$1=$2" >>"$f.new"
	mv "$f.new" "$f"
}

# state_get KEY: the recorded value, or "".
state_get() {
	sed -n "s/^$1=//p" "$dir/cluster.env" 2>/dev/null | tail -1
}

# pick_dir [DIR]: set dir to DIR, $CLUSTER_DIR or the last cluster started,
# and check it is one of ours.
pick_dir() {
	dir=${1:-${CLUSTER_DIR:-$(cat "$current" 2>/dev/null || true)}}
	[ -n "$dir" ] || die "no cluster: give its directory (or CLUSTER_DIR)"
	[ -f "$dir/cluster.env" ] || die "$dir is not a cluster directory (no cluster.env)"
}

alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }

# wait_for_line FILE REGEX PID SECONDS: wait until FILE has a line matching
# REGEX; fail if PID exits first or time runs out.
wait_for_line() {
	local i
	for ((i = 0; i < $4 * 10; i++)); do
		grep -qE "$2" "$1" 2>/dev/null && return 0
		alive "$3" || return 1
		sleep 0.1
	done
	return 1
}

# ---- the parts --------------------------------------------------------------

# start_redis: on the port it had (the replicas' config names it), else on
# a free one.
start_redis() {
	local port pid fixed
	fixed=$(state_get REDIS_PORT)
	for _ in 1 2 3 4 5; do
		port=${fixed:-$(free_port)}
		# No persistence: nothing in it outlives the cluster.
		redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no \
			--dir "$dir" --logfile "$dir/redis.log" --daemonize no \
			</dev/null >/dev/null 2>&1 &
		pid=$!
		local i
		for ((i = 0; i < 50; i++)); do
			alive "$pid" || break
			[ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" = PONG ] && break
			sleep 0.1
		done
		if alive "$pid" && [ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" = PONG ]; then
			state_set REDIS_PORT "$port"
			state_set REDIS_PID "$pid"
			state_set REDIS_URL "redis://127.0.0.1:$port/0"
			return 0
		fi
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		[ -n "$fixed" ] && sleep 1
	done
	tail -5 "$dir/redis.log" >&2
	die "redis-server did not start"
}

start_crm() {
	local port pid
	for _ in 1 2 3 4 5; do
		port=$(free_port)
		node "$root/examples/crm_upstream.mjs" "$port" </dev/null >>"$dir/crm.log" 2>&1 &
		pid=$!
		if wait_for_line "$dir/crm.log" "listening on 127.0.0.1:$port" "$pid" 10; then
			state_set CRM_PORT "$port"
			state_set CRM_PID "$pid"
			return 0
		fi
		kill "$pid" 2>/dev/null || true
	done
	tail -5 "$dir/crm.log" >&2
	die "the CRM stand-in did not start"
}

# write_config: $dir/moat.json, the config every replica's copy starts from.
write_config() {
	local demo_db
	if [ -n "${CONFIG:-}" ]; then
		jq . "$CONFIG" >"$dir/moat.json" || die "CONFIG=$CONFIG is not JSON"
		return
	fi
	start_crm
	demo_db=$(dirname "$moat")/demo.db
	# The demo's config with absolute paths, the CRM's port, and what a
	# replica behind a proxy needs: every request comes from nginx's
	# address (so no per-address limits; those belong to the proxy) and
	# carries the Host the client used.
	jq --arg files "$root/examples" --arg db "$demo_db" --arg repo "$root" \
		--arg crm "http://127.0.0.1:$(state_get CRM_PORT)" --argjson hasdb \
		"$([ -f "$demo_db" ] && echo true || echo false)" '
		del(."$schema")
		| .server.name = "moat-cluster"
		| .roots = [$files]
		| (if $hasdb then .databases.shop.path = $db else del(.databases) end)
		| .http.apis.crm.base_url = $crm
		| .git.repositories = [{path: $repo, name: "moat"}]
		| .limits += {max_concurrent_calls: 64, workers: 32}' \
		"$root/examples/moat.json" >"$dir/moat.json"
}

# replica_config N: $dir/replicaN.json, the shared config plus this
# replica's metrics address, the listener settings for a proxy in front
# (unless the config sets them) and the cluster section.
replica_config() {
	local redis=""
	[ -n "${NO_REDIS:-}" ] || redis=$(state_get REDIS_URL)
	jq --arg redis "$redis" '
		.listen.metrics = "127.0.0.1:0"
		| .listen.allowed_hosts //= ["127.0.0.1", "localhost"]
		| .listen.requests_per_second_per_ip //= 0
		| .listen.max_connections_per_ip //= 1024
		| .listen.max_sessions_per_principal //= 1024
		| (if $redis == "" then del(.cluster)
		   else .cluster = ((.cluster // {}) + {redis: $redis, key: "${MOAT_CLUSTER_KEY}"}) end)' \
		"$dir/moat.json" >"$dir/replica$1.json"
}

# start_replica N: start replica N (on its recorded port when it had one)
# and wait for its "moat: listening on" line.
start_replica() {
	local n=$1 port pid log=$dir/replica$1.log url metrics
	port=$(state_get "REPLICA${n}_PORT")
	replica_config "$n"
	mkdir -p "$dir/replica$n-state"
	: >"$log"
	MOAT_CLUSTER_KEY=$(cat "$dir/cluster.key") XDG_STATE_HOME=$dir/replica$n-state \
		"$moat" serve --config "$dir/replica$n.json" --http "127.0.0.1:${port:-0}" \
		</dev/null >>"$log" 2>&1 &
	pid=$!
	if ! wait_for_line "$log" '^moat: listening on ' "$pid" 20; then
		tail -5 "$log" >&2
		die "replica $n did not start (the end of its log is above)"
	fi
	url=$(sed -n 's/^moat: listening on //p' "$log" | head -1)
	metrics=$(sed -n 's/^moat: metrics on //p' "$log" | head -1)
	port=${url##*:}
	port=${port%%/*}
	state_set "REPLICA${n}_PORT" "$port"
	state_set "REPLICA${n}_PID" "$pid"
	state_set "REPLICA${n}_URL" "$url"
	state_set "REPLICA${n}_METRICS" "$metrics"
}

write_nginx_conf() {
	local n servers=""
	for ((n = 1; n <= replicas; n++)); do
		# max_fails=1 fail_timeout=2s: a dead replica is skipped after its
		# first refused connection, and tried again 2 s later (so one that
		# restarts rejoins within 2 s).
		servers+="		server 127.0.0.1:$(state_get "REPLICA${n}_PORT") max_fails=1 fail_timeout=2s;"$'\n'
	done
	mkdir -p "$dir/nginx-tmp"
	cat >"$dir/nginx.conf" <<EOF
# Generated by scripts/cluster.sh; run as nginx -p $dir -c $dir/nginx.conf
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/nginx-error.log warn;
events { worker_connections 4096; }
http {
	access_log $dir/nginx-access.log;
	client_body_temp_path $dir/nginx-tmp/body;
	proxy_temp_path $dir/nginx-tmp/proxy;
	fastcgi_temp_path $dir/nginx-tmp/fastcgi;
	uwsgi_temp_path $dir/nginx-tmp/uwsgi;
	scgi_temp_path $dir/nginx-tmp/scgi;

	upstream moat {
		# An old-era session's requests and its GET stream reach the replica
		# holding it; an empty key (no session: 2026-07-28) goes round robin.
		hash \$http_mcp_session_id consistent;
$servers		keepalive 64;
		# Below moat's listen.read_timeout_s (15 s): nginx drops an idle
		# connection before moat closes it under a POST (never resent: 502).
		keepalive_timeout 10s;
	}
	server {
		listen 127.0.0.1:$(state_get NGINX_PORT);
		client_max_body_size 4m;
		client_body_buffer_size 4m;
		location / {
			proxy_pass http://moat;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
			# The Host the client used: moat checks it (allowed_hosts).
			proxy_set_header Host \$http_host;
			# Event streams pass through as they come, and may stay open.
			proxy_buffering off;
			proxy_cache off;
			proxy_read_timeout 1h;
			proxy_send_timeout 1h;
			# Only a request that never reached a replica goes to another:
			# no non_idempotent, so a POST is never sent twice.
			proxy_next_upstream error timeout;
			proxy_next_upstream_tries 3;
			# Which replica answered, for tests and for people.
			add_header X-Moat-Upstream \$upstream_addr always;
			# No replica answered (one stopped mid-request, or none is up):
			# say so in JSON-RPC rather than with nginx's HTML page.
			error_page 502 504 @replica_lost;
		}
		location @replica_lost {
			default_type application/json;
			add_header X-Moat-Upstream \$upstream_addr always;
			return 502 '{"jsonrpc":"2.0","id":null,"error":{"code":-32603,"message":"nginx: the moat replica serving this request did not answer (it stopped, or none is up); the request may or may not have run"}}';
		}
	}
}
EOF
}

# start_nginx: on the port it had (clients know it), else on a free one.
start_nginx() {
	local pid port fixed
	fixed=$(state_get NGINX_PORT)
	for _ in 1 2 3 4 5; do
		port=${fixed:-$(free_port)}
		state_set NGINX_PORT "$port"
		write_nginx_conf
		nginx -p "$dir" -c "$dir/nginx.conf" -g 'daemon off;' </dev/null \
			>>"$dir/nginx-error.log" 2>&1 &
		pid=$!
		local i
		for ((i = 0; i < 50; i++)); do
			alive "$pid" || break
			curl -s -o /dev/null "http://127.0.0.1:$port/healthz" && break
			sleep 0.1
		done
		if alive "$pid" && curl -s -o /dev/null "http://127.0.0.1:$port/healthz"; then
			state_set NGINX_PID "$pid"
			state_set URL "http://127.0.0.1:$port/mcp"
			return 0
		fi
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		[ -n "$fixed" ] && sleep 1
	done
	tail -5 "$dir/nginx-error.log" >&2
	die "nginx did not start"
}

# stop_pid PID SIGNAL: signal PID and wait (up to 5 s, then KILL) for it to go.
stop_pid() {
	local pid=$1 i
	alive "$pid" || return 0
	kill -s "$2" "$pid" 2>/dev/null || true
	for ((i = 0; i < 50; i++)); do
		alive "$pid" || return 0
		sleep 0.1
	done
	kill -s KILL "$pid" 2>/dev/null || true
}

# ---- the commands -----------------------------------------------------------

cmd_up() {
	local foreground=false n
	[ "${1:-}" = --foreground ] && foreground=true
	moat=$(readlink -f "${MOAT:-$root/build/moat}")
	[ -x "$moat" ] || die "no moat binary at ${MOAT:-build/moat} (make, or MOAT=...)"
	replicas=${REPLICAS:-3}
	[[ $replicas =~ ^[1-9][0-9]?$ ]] || die "REPLICAS must be 1-99"
	for tool in jq curl python3 nginx node; do
		command -v "$tool" >/dev/null || die "$tool is required (scripts/install-deps.sh)"
	done
	[ -n "${NO_REDIS:-}" ] || command -v redis-server >/dev/null ||
		die "redis-server is required (scripts/install-deps.sh)"
	if [ -n "${CLUSTER_DIR:-}" ]; then
		mkdir -m 0700 "$CLUSTER_DIR" || die "CLUSTER_DIR=$CLUSTER_DIR must not exist"
		dir=$(cd "$CLUSTER_DIR" && pwd)
	else
		dir=$(mktemp -d "${TMPDIR:-/tmp}/moat-cluster.XXXXXX")
	fi
	# From here on, a failure takes down what started.
	sleeper=
	trap '[ -z "$sleeper" ] || kill "$sleeper" 2>/dev/null || true; cmd_down "$dir" >/dev/null 2>&1 || true' EXIT
	trap 'exit 130' INT TERM
	state_set CLUSTER_DIR "$dir"
	state_set MOAT "$moat"
	state_set REPLICAS "$replicas"
	state_set NO_REDIS "${NO_REDIS:-}"
	(umask 077 && od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$dir/cluster.key")
	[ -n "${NO_REDIS:-}" ] || start_redis
	write_config
	for ((n = 1; n <= replicas; n++)); do start_replica "$n"; done
	start_nginx
	echo "$dir" >"$current"
	cmd_status "$dir"
	if $foreground; then
		echo "(in the foreground: Ctrl-C stops it)"
		# The EXIT trap takes everything down; sleep in the background so a
		# signal is handled at once.
		while :; do
			sleep 3600 >/dev/null 2>&1 &
			sleeper=$!
			wait "$sleeper" || true
		done
	fi
	trap - EXIT INT TERM
	echo "stop it with: $me down $dir"
}

cmd_status() {
	pick_dir "${1:-}"
	local n pid what url m
	echo "moat cluster in $dir ($(state_get REPLICAS) replicas$([ -n "$(state_get NO_REDIS)" ] && echo ", no Redis"))"
	if [ -z "$(state_get NO_REDIS)" ]; then
		pid=$(state_get REDIS_PID)
		what=down
		alive "$pid" && [ "$(redis-cli -p "$(state_get REDIS_PORT)" ping 2>/dev/null)" = PONG ] &&
			what=up
		echo "  redis     $(state_get REDIS_URL)  pid $pid  $what"
	fi
	for ((n = 1; n <= $(state_get REPLICAS); n++)); do
		pid=$(state_get "REPLICA${n}_PID")
		url=$(state_get "REPLICA${n}_URL")
		m=$(state_get "REPLICA${n}_METRICS")
		what=down
		alive "$pid" && curl -s -o /dev/null "${url%/mcp}/healthz" && what=up
		echo "  replica$n  $url  pid $pid  $what  (metrics $m)"
	done
	pid=$(state_get NGINX_PID)
	what=down
	alive "$pid" && what=up
	echo "  nginx     $(state_get URL)  pid $pid  $what"
	echo "URL=$(state_get URL)"
}

cmd_down() {
	pick_dir "${1:-}"
	local n
	stop_pid "$(state_get NGINX_PID)" TERM
	for ((n = 1; n <= $(state_get REPLICAS); n++)); do
		stop_pid "$(state_get "REPLICA${n}_PID")" TERM
	done
	stop_pid "$(state_get CRM_PID)" TERM
	stop_pid "$(state_get REDIS_PID)" TERM
	[ "$(cat "$current" 2>/dev/null || true)" = "$dir" ] && rm -f "$current"
	rm -rf "$dir"
	echo "moat cluster in $dir: stopped and removed"
}

# part NAME: check NAME (redis, nginx, replicaN) and set which (its state prefix).
part() {
	case $1 in
	redis) which=REDIS ;;
	nginx) which=NGINX ;;
	replica[0-9]*)
		if [ "${1#replica}" -lt 1 ] || [ "${1#replica}" -gt "$(state_get REPLICAS)" ]; then
			die "no $1 in this cluster"
		fi
		which=REPLICA${1#replica}
		;;
	*) die "unknown part $1 (redis, nginx, replicaN)" ;;
	esac
}

cmd_stop() {
	[ $# -ge 1 ] || usage
	pick_dir "${CLUSTER_DIR:-}"
	part "$1"
	stop_pid "$(state_get "${which}_PID")" "${2:-TERM}"
	echo "$1 stopped (SIG${2:-TERM})"
}

cmd_start() {
	[ $# -ge 1 ] || usage
	pick_dir "${CLUSTER_DIR:-}"
	part "$1"
	alive "$(state_get "${which}_PID")" && die "$1 is running"
	moat=$(state_get MOAT)
	replicas=$(state_get REPLICAS)
	case $1 in
	redis) start_redis ;;
	nginx) start_nginx ;;
	*) start_replica "${1#replica}" ;;
	esac
	echo "$1 started (pid $(state_get "${which}_PID"))"
}

case ${1:-} in
up) shift; cmd_up "$@" ;;
down) shift; cmd_down "$@" ;;
status) shift; cmd_status "$@" ;;
stop) shift; cmd_stop "$@" ;;
start) shift; cmd_start "$@" ;;
*) usage ;;
esac
