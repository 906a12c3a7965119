/*
 * http_listener.c - the listener's life: bind before the sandbox, start
 * libmicrohttpd after it, route each request, stop on a signal.
 *
 * libmicrohttpd runs one internal thread polling with epoll, with
 * suspend/resume so a POST is answered when its tool call ends (http_sse.c)
 * and connections are limited in total and per address, idle reads time
 * out (listen.read_timeout_s, the slowloris bound) and a connection's
 * memory, which holds its headers, is bounded (listen.max_header_bytes).
 * The socket is bound here and handed over with MHD_OPTION_LISTEN_SOCKET,
 * so Landlock may deny bind to everything else; TLS keys are read into
 * memory before the sandbox and given with MHD_OPTION_HTTPS_MEM_*, and
 * GnuTLS is held to TLS 1.2 and 1.3.
 *
 * Every request meets the same gate first (see begin()): the per-address
 * rate, then the Host allowlist (DNS rebinding), then the Origin allowlist
 * (cross-site requests); only /healthz skips the two allowlists, since it
 * says nothing but "alive".
 */
#include "http_listener.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "httpd_int.h"
#include "log.h"
#include "pool.h"
#include "store.h"

#define TLS_PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

static atomic_bool hk_stop;
static atomic_bool mhd_starting; /* inside MHD_start_daemon */

bool httpd_wanted(const struct moat_config *cfg, const char *cli_addr)
{
	return cli_addr || json_object_get(json_object_get(cfg->doc, "listen"), "http");
}

/* ---- before the sandbox ------------------------------------------------ */

static int bind_addr(const struct httpd_addr *a, uint16_t *port, const char *what,
		     struct moat_err *err)
{
	struct sockaddr_storage ss = {0};
	socklen_t len;
	int fd, one = 1;

	if (a->v6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(a->port);
		inet_pton(AF_INET6, a->host, &s6->sin6_addr);
		len = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(a->port);
		inet_pton(AF_INET, a->host, &s4->sin_addr);
		len = sizeof(*s4);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (a->v6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, 511) != 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
		goto fail;
	*port = ntohs(a->v6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
			    : ((struct sockaddr_in *)&ss)->sin_port);
	return fd;
fail:
	moat_err_set(err, MOAT_EIO, "%s: cannot listen on %s%s%s:%u: %s", what, a->v6 ? "[" : "",
		     a->host, a->v6 ? "]" : "", (unsigned)a->port, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

enum moat_rc httpd_describe(const struct moat_config *cfg, const char *cli_addr,
			    struct registry *reg, FILE *f, struct moat_err *err)
{
	struct httpd_config c;
	enum moat_rc rc = httpd_config_load(cfg, cli_addr, &c, err);

	if (rc)
		return rc;
	if (c.enabled && c.tls_cert) {
		char *cert = NULL, *key = NULL;
		rc = httpd_tls_load(cfg->name, &c, &cert, &key, err);
		httpd_pem_free(cert);
		httpd_pem_free(key);
		if (rc)
			return rc;
	}
	if (reg && c.enabled && c.addr.port && (rc = registry_grant_bind_port(reg, c.addr.port, err)))
		return rc;
	if (reg && c.has_metrics && c.metrics.port &&
	    (rc = registry_grant_bind_port(reg, c.metrics.port, err)))
		return rc;
	if (f)
		httpd_config_describe(&c, f);
	return MOAT_OK;
}

struct httpd_listener *httpd_prepare(const struct httpd_listener_opts *o, struct moat_err *err)
{
	struct httpd_listener *l = calloc(1, sizeof(*l));
	enum moat_rc rc;

	if (!l) {
		moat_err_set(err, MOAT_ENOMEM, "out of memory");
		return NULL;
	}
	l->listen_fd = l->metrics_fd = l->hk_wake = -1;
	pthread_mutex_init(&l->tlock, NULL);
	pthread_mutex_init(&l->rlock, NULL);
	pthread_mutex_init(&l->linger_lock, NULL);
	l->mcfg = o->cfg;
	l->reg = o->reg;
	l->auth = o->auth;
	l->metrics = o->metrics;
	l->audit = o->sopts->audit;
	if ((rc = httpd_config_load(o->cfg, o->cli_addr, &l->cfg, err)))
		goto fail;
	if (l->cfg.auth_configured && !l->auth.authenticate) {
		moat_err_set(err, MOAT_EINVAL,
			     "%s: /auth: this build cannot check credentials yet; remove the auth "
			     "section to serve loopback without authentication",
			     o->cfg->name);
		goto fail;
	}
	l->tls = l->cfg.tls_cert != NULL;
	if (l->tls && httpd_tls_load(o->cfg->name, &l->cfg, &l->cert_pem, &l->key_pem, err))
		goto fail;
	if ((l->listen_fd = bind_addr(&l->cfg.addr, &l->port, "listen.http", err)) < 0)
		goto fail;
	if (l->cfg.has_metrics &&
	    (l->metrics_fd = bind_addr(&l->cfg.metrics, &l->metrics_port, "listen.metrics", err)) < 0)
		goto fail;
	if (registry_grant_bind_port(o->reg, l->port, err) ||
	    (l->cfg.has_metrics && registry_grant_bind_port(o->reg, l->metrics_port, err)))
		goto fail;
	snprintf(l->base, sizeof(l->base), "%s://%s%s%s:%u", l->tls ? "https" : "http",
		 l->cfg.addr.v6 ? "[" : "", l->cfg.addr.host, l->cfg.addr.v6 ? "]" : "",
		 (unsigned)l->port);
	snprintf(l->url, sizeof(l->url), "%s/mcp", l->base);
	l->sopts = *o->sopts;
	l->pool = pool_new(l->sopts.limits.workers, 0);
	l->rl = httpd_ratelimit_new(l->cfg.requests_per_second_per_ip);
	l->hk_wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (!l->pool || (l->cfg.requests_per_second_per_ip && !l->rl) || l->hk_wake < 0 ||
	    !httpd_sessions_init(l)) {
		moat_err_set(err, MOAT_ENOMEM, "http: cannot set the listener up: out of memory");
		goto fail;
	}
	bucket_init(&l->global_bucket, l->sopts.limits.calls_per_minute);
	bucket_set_key(&l->global_bucket, "global");
	l->sopts.pool = l->pool;
	l->sopts.global_bucket = &l->global_bucket;
	l->sopts.no_log_forward = true;
	l->sopts.no_client_roots = true;
	l->sopts.metrics = l->metrics;
	l->sopts.quick_begin = NULL;
	l->sopts.quick_end = NULL;
	if (!httpd_stateless_init(l)) {
		moat_err_set(err, MOAT_ENOMEM, "http: cannot set the listener up: out of memory");
		goto fail;
	}
	return l;
fail:
	httpd_free(l);
	return NULL;
}

/* ---- requests ------------------------------------------------------------ */

static void client_addr(struct MHD_Connection *c, char *ip, size_t ipsz, char *full, size_t fsz)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	snprintf(ip, ipsz, "?");
	snprintf(full, fsz, "?");
	if (sa && sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)sa;
		inet_ntop(AF_INET, &s4->sin_addr, ip, (socklen_t)ipsz);
		snprintf(full, fsz, "%s:%u", ip, (unsigned)ntohs(s4->sin_port));
	} else if (sa && sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)sa;
		inet_ntop(AF_INET6, &s6->sin6_addr, ip, (socklen_t)ipsz);
		snprintf(full, fsz, "[%s]:%u", ip, (unsigned)ntohs(s6->sin6_port));
	}
}

static struct httpd_req *req_new(struct httpd_listener *l, struct MHD_Connection *c)
{
	struct httpd_req *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	pthread_mutex_init(&r->lock, NULL);
	r->refs = 1; /* the connection's */
	r->l = l;
	r->conn = c;
	r->start_ns = moat_now_ns();
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	r->fd = ci ? ci->connect_fd : -1;
	pthread_mutex_lock(&l->rlock);
	r->next = l->reqs;
	if (l->reqs)
		l->reqs->prev = r;
	l->reqs = r;
	l->nreqs++;
	pthread_mutex_unlock(&l->rlock);
	return r;
}

static enum MHD_Result add_header_size(void *cls, enum MHD_ValueKind kind, const char *key,
				       const char *value)
{
	size_t *n = cls;

	(void)kind;
	*n += strlen(key) + (value ? strlen(value) : 0) + 4; /* ": " and CRLF */
	return MHD_YES;
}

/* The request line and headers, as received (near enough). */
static size_t header_bytes(struct MHD_Connection *c, const char *url, const char *method)
{
	size_t n = strlen(method) + strlen(url) + 12;

	MHD_get_connection_values(c, MHD_HEADER_KIND, add_header_size, &n);
	return n;
}

static enum MHD_Result begin(struct httpd_req *r, const char *url, const char *method)
{
	struct httpd_listener *l = r->l;
	char ip[INET6_ADDRSTRLEN + 1];
	const char *host, *origin;
	enum MHD_Result ret;
	unsigned wait;
	bool dup = false;

	client_addr(r->conn, ip, sizeof(ip), r->who.addr, sizeof(r->who.addr));
	if (atomic_load(&hk_stop) || l->stopping)
		return httpd_refuse(r, MHD_HTTP_SERVICE_UNAVAILABLE, -32000, "http.shutting_down",
				    "the server is shutting down", 5);
	if ((wait = httpd_ratelimit_take(l->rl, ip)) > 0)
		return httpd_refuse(r, MHD_HTTP_TOO_MANY_REQUESTS, -32000, "limits.http_rate",
				    "too many requests from this address "
				    "(listen.requests_per_second_per_ip)",
				    wait);
	/* libmicrohttpd refuses headers beyond its memory limit itself (a
	 * bare 431); those within it but past max_header_bytes get ours. */
	if (header_bytes(r->conn, url, method) > l->cfg.max_header_bytes)
		return httpd_refuse(r, MHD_HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE, -32600,
				    "http.header_too_large",
				    "the request's headers are larger than listen.max_header_bytes", 0);
	/* Request smuggling: one framing only. libmicrohttpd reads the
	 * first Content-Length; a second one, or one beside
	 * Transfer-Encoding, means a front proxy may frame it otherwise. */
	const char *te = httpd_header(r->conn, "Transfer-Encoding", &dup);
	bool dup_cl = false;
	const char *cl = httpd_header(r->conn, "Content-Length", &dup_cl);
	if (dup || dup_cl || (te && cl) || (te && strcasecmp(te, "chunked") != 0) ||
	    (cl && (strspn(cl, "0123456789") != strlen(cl) || !*cl)))
		return httpd_refuse(r, MHD_HTTP_BAD_REQUEST, -32600, "http.bad_framing",
				    "the request's length is ambiguous (one Content-Length, or "
				    "Transfer-Encoding: chunked alone)",
				    0);
	dup = false;
	if (r->metrics_only || strcmp(url, "/healthz") == 0) {
		if (httpd_ops_route(r, url, method, &ret))
			return ret;
		return httpd_refuse(r, MHD_HTTP_NOT_FOUND, -32600, "http.not_found",
				    "this address serves /metrics and /healthz only", 0);
	}
	host = httpd_header(r->conn, "Host", &dup);
	if (dup || !httpd_host_allowed(l, host))
		return httpd_refuse(r, MHD_HTTP_FORBIDDEN, -32600, "http.host_not_allowed",
				    "the Host header names no address of this server "
				    "(listen.allowed_hosts)",
				    0);
	origin = httpd_header(r->conn, "Origin", &dup);
	if (origin || dup) {
		if (dup || !httpd_origin_allowed(l, origin) || strlen(origin) >= sizeof(r->origin_ok))
			return httpd_refuse(r, MHD_HTTP_FORBIDDEN, -32600, "http.origin_not_allowed",
					    "requests from web pages of this Origin are not allowed "
					    "(listen.allowed_origins)",
					    0);
		snprintf(r->origin_ok, sizeof(r->origin_ok), "%s", origin);
	}
	if (httpd_ops_route(r, url, method, &ret))
		return ret;
	if (strcmp(url, "/mcp") == 0)
		return httpd_mcp_begin(r, method);
	return httpd_refuse(r, MHD_HTTP_NOT_FOUND, -32600, "http.not_found",
			    "nothing here: the MCP endpoint is /mcp", 0);
}

static enum MHD_Result handle(struct httpd_listener *l, bool metrics_only,
			      struct MHD_Connection *c, const char *url, const char *method,
			      const char *upload, size_t *upload_size, void **con_cls)
{
	struct httpd_req *r = *con_cls;

	if (!r) {
		r = req_new(l, c);
		if (!r)
			return MHD_NO;
		r->metrics_only = metrics_only;
		*con_cls = r;
		return begin(r, url, method);
	}
	if (r->state == RS_READING && *upload_size)
		return httpd_mcp_body(r, upload, upload_size);
	if (r->state == RS_READING || r->state == RS_WAITING)
		return httpd_mcp_end(r);
	*upload_size = 0; /* a body after an early answer: dropped */
	return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	(void)version;
	return handle(cls, false, c, url, method, upload, upload_size, con_cls);
}

static enum MHD_Result on_metrics_request(void *cls, struct MHD_Connection *c, const char *url,
					  const char *method, const char *version,
					  const char *upload, size_t *upload_size, void **con_cls)
{
	(void)version;
	return handle(cls, true, c, url, method, upload, upload_size, con_cls);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct httpd_listener *l = cls;
	struct httpd_req *r = *con_cls;

	(void)c;
	if (!r)
		return;
	*con_cls = NULL;
	pthread_mutex_lock(&r->lock);
	r->conn = NULL;
	r->fd = -1;
	r->suspended = false;
	pthread_mutex_unlock(&r->lock);
	/* The client went away (or a write failed) before the final: what
	 * runs or listens for it is told. */
	if (r->kind == REQ_POST && toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
		httpd_route_gone(r);
	if (r->sess && r->kind == REQ_GET_STREAM)
		httpd_session_detach_stream(r->sess, r);
	else if (r->sess)
		httpd_session_touch(r->sess);
	pthread_mutex_lock(&l->rlock);
	if (r->prev)
		r->prev->next = r->next;
	else
		l->reqs = r->next;
	if (r->next)
		r->next->prev = r->prev;
	l->nreqs--;
	pthread_mutex_unlock(&l->rlock);
	httpd_req_put(r);
}

__attribute__((format(printf, 2, 0))) static void mhd_log(void *cls, const char *fmt,
							   va_list ap)
{
	char msg[256];

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	/* While the daemon starts its messages say why it cannot (a TLS key
	 * GnuTLS refuses...); afterwards they are about clients: debug only. */
	if (atomic_load(&mhd_starting))
		log_error("http: libmicrohttpd: %s", msg);
	else
		log_debug("http: libmicrohttpd: %s", msg);
}

/* ---- after the sandbox ------------------------------------------------- */

static struct MHD_Daemon *start_daemon(struct httpd_listener *l, int fd, bool metrics)
{
	const struct httpd_config *c = &l->cfg;
	size_t mem = (size_t)c->max_header_bytes * 2;
	struct MHD_OptionItem opts[16];
	unsigned n = 0, flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME;

	if (mem < 32768)
		mem = 32768;
	opts[n++] = (struct MHD_OptionItem){MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)mhd_log, l};
	opts[n++] = (struct MHD_OptionItem){MHD_OPTION_LISTEN_SOCKET, fd, NULL};
	opts[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_LIMIT, c->max_connections, NULL};
	opts[n++] = (struct MHD_OptionItem){MHD_OPTION_PER_IP_CONNECTION_LIMIT,
					    c->max_connections_per_ip, NULL};
	opts[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_TIMEOUT, c->read_timeout_s, NULL};
	opts[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_MEMORY_LIMIT, (intptr_t)mem,
					    NULL};
	opts[n++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, l};
	opts[n++] = (struct MHD_OptionItem){MHD_OPTION_STRICT_FOR_CLIENT, 1, NULL};
	if (l->tls && !metrics) {
		flags |= MHD_USE_TLS;
		opts[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, l->key_pem};
		opts[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, l->cert_pem};
		opts[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_PRIORITIES, 0,
						    (void *)TLS_PRIORITIES};
	}
	opts[n++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
	atomic_store(&mhd_starting, true);
	struct MHD_Daemon *d = MHD_start_daemon(flags | MHD_USE_ERROR_LOG, 0, NULL, NULL,
						metrics ? on_metrics_request : on_request, l,
						MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
	atomic_store(&mhd_starting, false);
	return d;
}

/* A comment on every POST event stream still waiting for its final (a
 * subscriptions/listen stream, a long call): a failed write is how a
 * client gone behind TLS or a proxy is noticed. */
static void keep_posts_alive(struct httpd_listener *l)
{
	pthread_mutex_lock(&l->rlock);
	for (struct httpd_req *r = l->reqs; r; r = r->next) {
		bool waiting;
		if (r->kind != REQ_POST)
			continue;
		pthread_mutex_lock(&r->lock);
		waiting = r->sse && r->conn && !r->answered && !r->detached;
		pthread_mutex_unlock(&r->lock);
		if (waiting)
			httpd_req_push_raw(r, ":\n\n", 3);
	}
	pthread_mutex_unlock(&l->rlock);
}

static void *housekeeper(void *arg)
{
	struct httpd_listener *l = arg;
	uint64_t last_ka = moat_now_ns();

	uint64_t last_pass = 0;

	while (!atomic_load(&hk_stop)) {
		struct pollfd p[1 + HTTPD_LINGER_MAX] = {{.fd = l->hk_wake, .events = POLLIN}};
		int nl = httpd_linger_fds(l, p + 1, HTTPD_LINGER_MAX);
		uint64_t v, now;
		if (poll(p, 1 + (nfds_t)nl, nl ? 100 : 1000) > 0 && (p[0].revents & POLLIN) &&
		    read(l->hk_wake, &v, sizeof(v)) < 0)
			log_debug("http: housekeeper wake-up lost");
		if (atomic_load(&hk_stop))
			break;
		if (nl)
			httpd_linger_drain(l);
		now = moat_now_ns();
		/* Sessions once a second, or at once when woken (one ended). */
		if (!(p[0].revents & POLLIN) && now - last_pass < 1000000000ull)
			continue;
		last_pass = now;
		bool ka = now - last_ka >= HTTPD_KEEPALIVE_S * 1000000000ull;
		if (ka)
			last_ka = now;
		httpd_housekeep(l, ka);
		if (ka)
			keep_posts_alive(l);
		httpd_reqs_check_gone(l);
	}
	return NULL;
}

/* Wake every request that still waits, so each answers or ends. */
static void wake_all(struct httpd_listener *l, bool abort)
{
	pthread_mutex_lock(&l->rlock);
	for (struct httpd_req *r = l->reqs; r; r = r->next)
		httpd_req_end(r, abort);
	pthread_mutex_unlock(&l->rlock);
}

static bool wait_requests(struct httpd_listener *l, uint32_t ms)
{
	for (uint32_t t = 0; t < ms; t += 10) {
		pthread_mutex_lock(&l->rlock);
		uint32_t n = l->nreqs;
		pthread_mutex_unlock(&l->rlock);
		if (n == 0)
			return true;
		usleep(10000);
	}
	return false;
}

/* The end: stop accepting, let calls run on for HTTPD_DRAIN_MS, cancel
 * the rest (they answer with the cancellation error), flush, stop. */
static int shut_down(struct httpd_listener *l)
{
	int lfd;
	bool stuck = false;
	uint64_t t0 = moat_now_ns(), spent;

	pthread_mutex_lock(&l->tlock);
	l->stopping = true;
	pthread_mutex_unlock(&l->tlock);
	lfd = MHD_quiesce_daemon(l->d);
	if (lfd >= 0)
		close(lfd);
	atomic_store(&hk_stop, true);
	if (l->hk_started) {
		uint64_t one = 1;
		if (write(l->hk_wake, &one, sizeof(one)) < 0)
			log_debug("http: cannot wake the housekeeper");
		pthread_join(l->hk, NULL);
		l->hk_started = false;
	}
	httpd_sessions_wait_idle(l, HTTPD_DRAIN_MS);
	/* Kill every session: reaping shuts each server down, cancelling
	 * what still runs. A server that will not stop leaves its session
	 * unfreed (reap logs it). */
	httpd_sessions_end_all(l);
	/* The stateless server's calls had the same drain time. */
	spent = (moat_now_ns() - t0) / 1000000ull;
	if (!httpd_stateless_fini(l, spent < HTTPD_DRAIN_MS ? HTTPD_DRAIN_MS - (uint32_t)spent : 0))
		atomic_store(&l->stuck, true);
	wake_all(l, false); /* GET streams end */
	if (!wait_requests(l, 1000)) {
		wake_all(l, true); /* POSTs still without an answer get 503 */
		if (!wait_requests(l, 500)) {
			log_warn("http: requests still open at exit; not freeing");
			stuck = true;
		}
	}
	if (!stuck && !atomic_load(&l->stuck)) {
		MHD_stop_daemon(l->d);
		l->d = NULL;
		if (l->md) {
			MHD_stop_daemon(l->md);
			l->md = NULL;
		}
	}
	return stuck || atomic_load(&l->stuck) ? 1 : 0;
}

int httpd_run(struct httpd_listener *l)
{
	sigset_t mask;
	int sfd, rc = 0;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	signal(SIGPIPE, SIG_IGN);
	if (pthread_sigmask(SIG_BLOCK, &mask, NULL) != 0 ||
	    (sfd = signalfd(-1, &mask, SFD_CLOEXEC)) < 0) {
		log_error("http: cannot set up signal handling: %s", strerror(errno));
		return -1;
	}
	atomic_store(&hk_stop, false);
	l->d = start_daemon(l, l->listen_fd, false);
	if (!l->d) {
		log_error("http: libmicrohttpd could not start on %s", l->base);
		close(sfd);
		return -1;
	}
	l->listen_fd = -1; /* the daemon's now */
	if (l->metrics_fd >= 0) {
		l->md = start_daemon(l, l->metrics_fd, true);
		if (!l->md) {
			log_error("http: the metrics listener could not start");
			shut_down(l);
			close(sfd);
			return -1;
		}
		l->metrics_fd = -1;
	}
	if (pthread_create(&l->hk, NULL, housekeeper, l) == 0)
		l->hk_started = true;
	else
		log_warn("http: no housekeeping thread: sessions will not expire");
	/* The listening line last: tests and scripts wait for it. */
	if (l->md)
		fprintf(stderr, "moat: metrics on http://%s%s%s:%u/metrics\n",
			l->cfg.metrics.v6 ? "[" : "", l->cfg.metrics.host,
			l->cfg.metrics.v6 ? "]" : "", (unsigned)l->metrics_port);
	fprintf(stderr, "moat: listening on %s\n", l->url);
	fflush(stderr);
	for (;;) {
		struct signalfd_siginfo si;
		struct pollfd p = {.fd = sfd, .events = POLLIN};
		if (poll(&p, 1, -1) < 0 && errno != EINTR)
			break;
		if (read(sfd, &si, sizeof(si)) != (ssize_t)sizeof(si))
			continue;
		if (si.ssi_signo == SIGHUP) {
			log_info("http: SIGHUP, reopening the audit file");
			audit_reopen(l->audit);
			continue;
		}
		log_info("http: %s, stopping", si.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
		break;
	}
	rc = shut_down(l);
	close(sfd);
	return rc;
}

const char *httpd_url(const struct httpd_listener *l)
{
	return l->url;
}

void httpd_free(struct httpd_listener *l)
{
	if (!l)
		return;
	atomic_store(&hk_stop, true);
	if (l->hk_started)
		pthread_join(l->hk, NULL);
	if (l->d)
		MHD_stop_daemon(l->d);
	if (l->md)
		MHD_stop_daemon(l->md);
	if (l->buckets)
		httpd_sessions_fini(l);
	if (!httpd_stateless_fini(l, 0))
		return; /* a call still runs and will answer through l */
	if (l->pool && pool_shutdown(l->pool, 1000))
		pool_free(l->pool);
	if (l->sopts.global_bucket)
		bucket_destroy(&l->global_bucket);
	httpd_ratelimit_free(l->rl);
	if (l->listen_fd >= 0)
		close(l->listen_fd);
	if (l->metrics_fd >= 0)
		close(l->metrics_fd);
	if (l->hk_wake >= 0)
		close(l->hk_wake);
	httpd_pem_free(l->cert_pem);
	httpd_pem_free(l->key_pem);
	httpd_linger_fini(l);
	pthread_mutex_destroy(&l->tlock);
	pthread_mutex_destroy(&l->rlock);
	pthread_mutex_destroy(&l->linger_lock);
	free(l);
}
