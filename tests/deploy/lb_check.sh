#!/bin/bash
# lb_check.sh - deploy/'s load balancer configurations are accepted by the
# real programs: `nginx -t` on deploy/nginx/moat.conf (included in a
# minimal nginx.conf under a temporary prefix) and `haproxy -c` on
# deploy/haproxy/haproxy.cfg, each with a throw-away self-signed
# certificate in place of the one the file names. Also holds them to the
# settings docs/deploy.md explains (session hash, SSE, no retried POSTs,
# readiness checks), and shows the checks can fail (a broken copy is
# refused). nginx and haproxy are required (scripts/install-deps.sh):
# absent, the test fails.
#
# usage: lb_check.sh SOURCE_ROOT
set -u
src=${1:?usage: lb_check.sh SOURCE_ROOT}
PATH=$PATH:/usr/sbin:/sbin
fail=0
pass=0
ok() { pass=$((pass + 1)); echo "ok - $*"; }
bad() { fail=$((fail + 1)); echo "not ok - $*"; }

tmp=$(mktemp -d /tmp/moat-lbcheck.XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT

for prog in nginx haproxy openssl; do
	if ! command -v "$prog" >/dev/null; then
		echo "not ok - $prog is not installed (scripts/install-deps.sh installs it)"
		echo "0 passed, 1 failed"
		exit 1
	fi
done

mkdir -p "$tmp/tls" "$tmp/conf.d" "$tmp/logs"
if ! openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
	-subj /CN=mcp.example.com -keyout "$tmp/tls/mcp.example.com.key" \
	-out "$tmp/tls/mcp.example.com.crt" >"$tmp/openssl.log" 2>&1; then
	cat "$tmp/openssl.log"
	echo "not ok - cannot make a test certificate"
	echo "0 passed, 1 failed"
	exit 1
fi
cat "$tmp/tls/mcp.example.com.crt" "$tmp/tls/mcp.example.com.key" >"$tmp/tls/mcp.example.com.pem"

ngx_src=$src/deploy/nginx/moat.conf
hap_src=$src/deploy/haproxy/haproxy.cfg

# ---- nginx ----------------------------------------------------------------
nginx_t() { # $1: the moat.conf to test
	sed "s#/etc/nginx/tls/#$tmp/tls/#g" "$1" >"$tmp/conf.d/moat.conf"
	cat >"$tmp/nginx.conf" <<NGX
pid $tmp/nginx.pid;
error_log $tmp/logs/error.log;
events {}
http {
    access_log $tmp/logs/access.log;
    include $tmp/conf.d/moat.conf;
}
NGX
	nginx -t -q -p "$tmp/" -e "$tmp/logs/error.log" -c "$tmp/nginx.conf" >"$tmp/nginx.out" 2>&1
}
if nginx_t "$ngx_src"; then ok "nginx -t accepts deploy/nginx/moat.conf"; else
	cat "$tmp/nginx.out"
	bad "nginx -t refuses deploy/nginx/moat.conf"
fi
{ cat "$ngx_src"; echo "no_such_directive on;"; } >"$tmp/broken.conf"
if nginx_t "$tmp/broken.conf"; then bad "nginx -t accepted a broken copy: the check checks nothing"; else
	ok "nginx -t refuses a broken copy"
fi

# Directive lines only (comments dropped), one per line.
directives() { sed -e 's/#.*//' -e 's/^[[:space:]]*//' -e '/^$/d' "$1"; }
need() { # $1 file, $2 label, $3 extended regex that a directive line must match
	if directives "$1" | grep -Eq "$3"; then ok "$2"; else bad "$2"; fi
}
refuse() { # $1 file, $2 label, $3 regex no directive line may match
	if directives "$1" | grep -Eq "$3"; then bad "$2"; else ok "$2"; fi
}
need "$ngx_src" "nginx: hash \$http_mcp_session_id consistent" '^hash \$http_mcp_session_id consistent;$'
need "$ngx_src" "nginx: proxy_buffering off" '^proxy_buffering off;$'
need "$ngx_src" "nginx: proxy_http_version 1.1" '^proxy_http_version 1\.1;$'
need "$ngx_src" "nginx: a long proxy_read_timeout" '^proxy_read_timeout ([0-9]+[hm]|[0-9]{3,}s?);$'
need "$ngx_src" "nginx: Host forwarded" '^proxy_set_header Host \$host;$'
need "$ngx_src" "nginx: proxy_next_upstream set" '^proxy_next_upstream '
refuse "$ngx_src" "nginx: POSTs never retried (no non_idempotent)" 'non_idempotent'

# ---- HAProxy --------------------------------------------------------------
haproxy_c() {
	sed "s#/etc/haproxy/tls/#$tmp/tls/#g" "$1" >"$tmp/haproxy.cfg"
	haproxy -c -q -f "$tmp/haproxy.cfg" >"$tmp/haproxy.out" 2>&1
}
if haproxy_c "$hap_src"; then ok "haproxy -c accepts deploy/haproxy/haproxy.cfg"; else
	cat "$tmp/haproxy.out"
	bad "haproxy -c refuses deploy/haproxy/haproxy.cfg"
fi
{ cat "$hap_src"; echo "    no-such-keyword 1"; } >"$tmp/broken.cfg"
if haproxy_c "$tmp/broken.cfg"; then bad "haproxy -c accepted a broken copy: the check checks nothing"; else
	ok "haproxy -c refuses a broken copy"
fi
need "$hap_src" "haproxy: balance hdr(Mcp-Session-Id)" '^balance hdr\(Mcp-Session-Id\)$'
need "$hap_src" "haproxy: hash-type consistent" '^hash-type consistent$'
need "$hap_src" "haproxy: health check on /readyz" '^http-check send meth GET uri /readyz'
need "$hap_src" "haproxy: servers checked" '^default-server .*\bcheck\b'
need "$hap_src" "haproxy: long client timeout" '^timeout client ([0-9]+[hm]|[0-9]{3,}s)$'
need "$hap_src" "haproxy: long server timeout" '^timeout server ([0-9]+[hm]|[0-9]{3,}s)$'
refuse "$hap_src" "haproxy: no retry once a request was sent" '^retry-on .*(all-retryable-errors|response-timeout|empty-response|junk-response|[0-9]{3})'

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
