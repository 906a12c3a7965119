/*
 * http_client.c - every HTTP request of the http family: libcurl with the
 * egress guard on every hop, redirects followed here, responses bounded in
 * bytes and time. See http.h for the rules.
 */
#include "http.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "excerpt.h"
#include "limits_cfg.h"
#include "text.h"

/* One libcurl handle per thread, kept between requests so connections to
 * the same upstream are reused; freed when the thread ends. */
static pthread_key_t handle_key;
static pthread_once_t handle_once = PTHREAD_ONCE_INIT;

static void handle_free(void *h)
{
	curl_easy_cleanup(h);
}

static void handle_key_make(void)
{
	if (pthread_key_create(&handle_key, handle_free) != 0)
		abort(); /* start-up cannot go on without it */
}

static CURL *thread_handle(void)
{
	CURL *h;

	pthread_once(&handle_once, handle_key_make);
	h = pthread_getspecific(handle_key);
	if (h) {
		curl_easy_reset(h);
		return h;
	}
	h = curl_easy_init();
	if (h && pthread_setspecific(handle_key, h) != 0) {
		curl_easy_cleanup(h);
		h = NULL;
	}
	return h;
}

enum moat_rc http_client_init(struct moat_err *err)
{
	const curl_version_info_data *v;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return moat_err_set(err, MOAT_EINTERNAL, "http: libcurl failed to start");
	v = curl_version_info(CURLVERSION_NOW);
	if (!v || !(v->features & CURL_VERSION_SSL)) {
		curl_global_cleanup();
		return moat_err_set(err, MOAT_EINTERNAL, "http: libcurl was built without TLS");
	}
	pthread_once(&handle_once, handle_key_make);
	return MOAT_OK;
}

void http_client_fini(void)
{
	CURL *h = NULL;

	/* The start-up thread's handle, if it made requests (moat call). */
	pthread_once(&handle_once, handle_key_make);
	h = pthread_getspecific(handle_key);
	if (h) {
		pthread_setspecific(handle_key, NULL);
		curl_easy_cleanup(h);
	}
	curl_global_cleanup();
}

enum moat_rc http_read_file(const char *path, size_t max, char **out, size_t *len,
			    struct moat_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	enum moat_rc rc = MOAT_OK;

	*out = NULL;
	*len = 0;
	if (fd < 0)
		return moat_err_set(err, MOAT_EIO, "cannot open %s: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > max) {
		rc = moat_err_set(err, MOAT_EINVAL, "%s is not a regular file of at most %zu bytes",
				  path, max);
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		rc = moat_err_set(err, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			rc = moat_err_set(err, MOAT_EIO, "cannot read %s", path);
			goto out;
		}
		got += (size_t)r;
	}
	buf[got] = '\0';
	*out = buf;
	*len = got;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return rc;
}

char *http_utf8_repair(const char *s, size_t n, bool latin1, size_t *out_len)
{
	const unsigned char *u = (const unsigned char *)s;
	char *out, *o;

	if (!latin1)
		return text_utf8_repair(s, n, true, out_len);
	if (!(out = malloc(n * 3 + 1)))
		return NULL;
	o = out;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = u[i];
		if (c == 0) {
			memcpy(o, "\xEF\xBF\xBD", 3);
			o += 3;
		} else if (c < 0x80) {
			*o++ = (char)c;
		} else {
			*o++ = (char)(0xC0 | c >> 6);
			*o++ = (char)(0x80 | (c & 0x3F));
		}
	}
	*o = '\0';
	*out_len = (size_t)(o - out);
	return out;
}

void http_touch(struct call_ctx *ctx, const struct moat_config *cfg, const char *key,
		const char *value)
{
	char *v;

	if (!ctx || !value)
		return;
	if (!cfg || cfg->nsecrets == 0) {
		callctx_touch(ctx, key, value);
		return;
	}
	v = strdup(value);
	if (!v)
		return; /* the note is lost, never the call */
	excerpt_mask(cfg, v); /* whole copies: v was not cut */
	callctx_touch(ctx, key, v);
	explicit_bzero(v, strlen(v));
	free(v);
}

void http_response_free(struct http_response *out)
{
	if (out->body) {
		explicit_bzero(out->body, out->body_len);
		free(out->body);
	}
	free(out->content_type);
	free(out->charset);
	free(out->final_url);
	memset(out, 0, sizeof(*out));
	out->retry_after_s = -1;
}

/* ---- one transfer ------------------------------------------------------ */

/* What the callbacks of one transfer share. */
struct xfer {
	struct call_ctx *ctx;
	const struct egress_policy *policy;
	const struct egress_target *target;
	char *buf; /* the body so far; wiped when it grows or is freed */
	size_t len;
	size_t cap;
	size_t max;
	bool too_big;
	bool refused_socket;
	enum moat_rc stop; /* why the progress callback stopped it */
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *p)
{
	struct xfer *x = p;
	size_t n = size * nmemb;

	if (n > x->max - x->len) {
		x->too_big = true;
		return 0; /* libcurl then fails with CURLE_WRITE_ERROR */
	}
	if (x->len + n + 1 > x->cap) {
		size_t ncap = x->cap ? x->cap : 16384;
		char *nb;
		while (ncap < x->len + n + 1)
			ncap *= 2;
		nb = malloc(ncap);
		if (!nb)
			return 0;
		if (x->buf) {
			memcpy(nb, x->buf, x->len);
			explicit_bzero(x->buf, x->len);
			free(x->buf);
		}
		x->buf = nb;
		x->cap = ncap;
	}
	memcpy(x->buf + x->len, data, n);
	x->len += n;
	x->buf[x->len] = '\0';
	return n;
}

static int on_progress(void *p, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	struct xfer *x = p;
	struct moat_err e = {0};

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	if (x->ctx && (x->stop = callctx_check(x->ctx, &e)) != MOAT_OK)
		return 1;
	return 0;
}

/* The last check before a connect: the address must be one the guard
 * vetted for this hop and still allowed. */
static curl_socket_t on_open_socket(void *p, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct xfer *x = p;
	const char *why = NULL;

	(void)purpose;
	if (!egress_target_has(x->target, &a->addr) ||
	    !egress_sockaddr_allowed(x->policy, &a->addr, &why)) {
		x->refused_socket = true;
		return CURL_SOCKET_BAD;
	}
	return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

/* Lower-cased media type and charset from a Content-Type value. */
static void parse_content_type(const char *v, struct http_response *out)
{
	const char *semi, *cs;
	size_t n;

	if (!v)
		return;
	semi = strchr(v, ';');
	n = semi ? (size_t)(semi - v) : strlen(v);
	while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	out->content_type = strndup(v, n);
	for (char *c = out->content_type; c && *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
	cs = semi ? strcasestr(semi, "charset=") : NULL;
	if (cs) {
		cs += 8;
		if (*cs == '"')
			cs++;
		n = strcspn(cs, "\"; \t");
		out->charset = strndup(cs, n);
	}
}

static bool is_redirect(long status)
{
	return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

/* Milliseconds left for this hop: the request's own timeout and the call's
 * deadline, whichever comes first; 0 when none is left. */
static long hop_timeout_ms(const struct http_request *rq, struct call_ctx *ctx)
{
	long ms = rq->timeout_ms ? (long)rq->timeout_ms : 30000;

	if (ctx && ctx->deadline_ns) {
		uint64_t now = moat_now_ns();
		long left = now >= ctx->deadline_ns
				    ? 0
				    : (long)((ctx->deadline_ns - now) / 1000000u);
		if (left < ms)
			ms = left;
	}
	return ms;
}

/* Map a failed transfer to moat's error. */
static enum moat_rc transfer_error(CURLcode cc, const struct xfer *x, const char *host,
				   long timeout_ms, struct moat_err *err)
{
	if (x->too_big)
		return moat_err_rule(err, MOAT_ELIMIT, "limits.response_bytes",
				     "the response from %s exceeds its limit of %zu bytes "
				     "(max_response_bytes)", host, x->max);
	if (x->stop == MOAT_ECANCELLED)
		return moat_err_set(err, MOAT_ECANCELLED, "cancelled by the client");
	if (x->stop == MOAT_ETIMEOUT)
		return moat_err_set(err, MOAT_ETIMEOUT, "the call's deadline passed");
	if (x->refused_socket)
		return moat_err_rule(err, MOAT_EDENIED, "egress.unvetted_address",
				     "refused: the connection to %s went to an address that was not "
				     "vetted", host);
	switch (cc) {
	case CURLE_OPERATION_TIMEDOUT:
		return moat_err_set(err, MOAT_ETIMEOUT,
				    "%s did not answer in full within %ld ms (timeout_ms)", host,
				    timeout_ms);
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CACERT_BADFILE:
		return moat_err_set(err, MOAT_EUPSTREAM,
				    "TLS with %s failed: %s (certificates are always verified; a "
				    "private CA goes in ca_file)",
				    host, curl_easy_strerror(cc));
	case CURLE_COULDNT_CONNECT:
		return moat_err_set(err, MOAT_EUPSTREAM, "cannot connect to %s", host);
	case CURLE_UNSUPPORTED_PROTOCOL:
		return moat_err_rule(err, MOAT_EDENIED, "egress.scheme",
				     "refused: only http and https are allowed");
	default:
		return moat_err_set(err, MOAT_EUPSTREAM, "request to %s failed: %s", host,
				    curl_easy_strerror(cc));
	}
}

/* Make one hop to url (already vetted as t). */
static enum moat_rc one_hop(CURL *h, const struct http_request *rq, const char *method,
			    bool with_body, bool with_headers, const struct egress_target *t,
			    struct call_ctx *ctx, struct http_response *out, struct moat_err *err)
{
	struct xfer x = {.ctx = ctx, .policy = rq->policy, .target = t,
			 .max = rq->max_response_bytes ? rq->max_response_bytes : (size_t)1 << 20};
	struct curl_slist *resolve = NULL, *headers = NULL;
	struct curl_blob ca = {.data = (void *)rq->ca, .len = rq->ca_len,
			       .flags = CURL_BLOB_NOCOPY};
	char drop[EGRESS_HOST_MAX + 16], ctype[160];
	long timeout = hop_timeout_ms(rq, ctx);
	enum moat_rc rc = MOAT_OK;
	const char *v = NULL;
	curl_off_t retry = -1;
	CURLcode cc;

	if (timeout <= 0)
		return moat_err_set(err, MOAT_ETIMEOUT, "the call's deadline passed");
	/* Pin the vetted addresses (replacing what an earlier request pinned
	 * for the same host and port). An IPv6 literal has nothing to pin:
	 * libcurl connects to it without resolving (egress.h). */
	if (t->resolve[0]) {
		snprintf(drop, sizeof(drop), "-%s:%u", t->host, (unsigned)t->port);
		if (!(resolve = curl_slist_append(resolve, drop)) ||
		    !(resolve = curl_slist_append(resolve, t->resolve))) {
			rc = moat_err_set(err, MOAT_ENOMEM, "out of memory");
			goto out;
		}
	}
	for (size_t i = 0; with_headers && rq->headers && rq->headers[i]; i++) {
		struct curl_slist *nh = curl_slist_append(headers, rq->headers[i]);
		if (!nh) {
			rc = moat_err_set(err, MOAT_ENOMEM, "out of memory");
			goto out;
		}
		headers = nh;
	}
	if (with_body && rq->content_type) {
		snprintf(ctype, sizeof(ctype), "Content-Type: %s", rq->content_type);
		struct curl_slist *nh = curl_slist_append(headers, ctype);
		if (!nh) {
			rc = moat_err_set(err, MOAT_ENOMEM, "out of memory");
			goto out;
		}
		headers = nh;
	}
	/* Expect: 100-continue would add a round trip to every POST. */
	if (with_body) {
		struct curl_slist *nh = curl_slist_append(headers, "Expect:");
		if (!nh) {
			rc = moat_err_set(err, MOAT_ENOMEM, "out of memory");
			goto out;
		}
		headers = nh;
	}

	curl_easy_setopt(h, CURLOPT_URL, t->url);
	curl_easy_setopt(h, CURLOPT_RESOLVE, resolve);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_PROXY, "");
	curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(h, CURLOPT_NETRC, (long)CURL_NETRC_IGNORED);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
	curl_easy_setopt(h, CURLOPT_CAINFO, NULL);
	/* Only for https: libcurl copies the blob into every transfer that
	 * has it, and plain http never reads it. */
	if (rq->ca && rq->ca_len && strcmp(t->scheme, "https") == 0)
		curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &ca);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout < 10000 ? timeout : 10000L);
	curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(h, CURLOPT_USERAGENT, rq->user_agent ? rq->user_agent : "moat");
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, &x);
	curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
	curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, &x);
	curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)x.max);
	if (strcmp(method, "GET") == 0) {
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	} else if (strcmp(method, "HEAD") == 0) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
		if (with_body) {
			curl_easy_setopt(h, CURLOPT_POSTFIELDS, rq->body ? rq->body : "");
			curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body_len);
		}
	}

	cc = curl_easy_perform(h);
	if (cc == CURLE_FILESIZE_EXCEEDED)
		x.too_big = true;
	if (cc != CURLE_OK) {
		rc = transfer_error(cc, &x, t->host, timeout, err);
		goto out;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->status);
	if (curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &v) == CURLE_OK && v)
		parse_content_type(v, out);
	if (curl_easy_getinfo(h, CURLINFO_RETRY_AFTER, &retry) == CURLE_OK && retry >= 0)
		out->retry_after_s = (long)retry;
	if (is_redirect(out->status) &&
	    curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &v) == CURLE_OK && v)
		out->final_url = strdup(v); /* the next hop, for the caller's loop */
	snprintf(out->host, sizeof(out->host), "%s", t->host);
	out->body = x.buf ? x.buf : strdup("");
	out->body_len = x.len;
	x.buf = NULL;
	if (!out->body)
		rc = moat_err_set(err, MOAT_ENOMEM, "out of memory");
out:
	/* The handle must not keep pointers to what is freed here. */
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(h, CURLOPT_RESOLVE, NULL);
	curl_slist_free_all(resolve);
	curl_slist_free_all(headers);
	if (x.buf) {
		explicit_bzero(x.buf, x.len);
		free(x.buf);
	}
	return rc;
}

void http_query_strip(char *u, const char *const *names)
{
	char *q = u ? strchr(u, '?') : NULL, *w, *r, *end;
	size_t frag_len;

	if (!q || !names)
		return;
	end = q + 1 + strcspn(q + 1, "#");
	frag_len = strlen(end);
	w = r = q + 1;
	while (r < end) {
		size_t len = strcspn(r, "&#"), nl = strcspn(r, "=&#");
		bool drop = false;

		if (nl > len)
			nl = len;
		for (size_t i = 0; names[i] && !drop; i++)
			drop = strlen(names[i]) == nl && memcmp(names[i], r, nl) == 0;
		if (!drop && len) {
			if (w > q + 1)
				*w++ = '&';
			memmove(w, r, len);
			w += len;
		}
		r += len;
		if (r < end && *r == '&')
			r++;
	}
	memmove(w, end, frag_len + 1);
	if (w == q + 1) /* nothing left: no '?' either */
		memmove(q, w, frag_len + 1);
}

enum moat_rc http_query_add(char **u, const char *pairs, struct moat_err *err)
{
	size_t base = strcspn(*u, "#");
	bool has_query = memchr(*u, '?', base) != NULL;
	char *n = NULL;

	if (!pairs || !*pairs)
		return MOAT_OK;
	if (asprintf(&n, "%.*s%s%s%s", (int)base, *u,
		     !has_query ? "?" : (*u)[base - 1] == '?' || (*u)[base - 1] == '&' ? "" : "&",
		     pairs, *u + base) < 0)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	explicit_bzero(*u, strlen(*u));
	free(*u);
	*u = n;
	return MOAT_OK;
}

/*
 * strip_cred_query - a hop to another origin: take every query parameter
 * named in rq->cred_query_names out of t->url, then refuse the hop if one
 * of rq->cred_query_values (encoded, as they were sent) is still anywhere
 * in it (an upstream that moved the credential into the path or another
 * parameter). The message names the hosts, never the URL.
 */
static enum moat_rc strip_cred_query(const struct http_request *rq, const char *from,
				     struct egress_target *t, struct moat_err *err)
{
	if (!rq->cred_query_names || !t->url)
		return MOAT_OK;
	http_query_strip(t->url, rq->cred_query_names);
	for (size_t i = 0; rq->cred_query_values && rq->cred_query_values[i]; i++) {
		const char *v = rq->cred_query_values[i];
		if (strlen(v) >= 4 && strstr(t->url, v))
			return moat_err_rule(err, MOAT_EDENIED, "http.credentials_other_host",
					     "refused: %s redirected to %s with the API's query "
					     "credential in the URL",
					     from, t->host);
	}
	return MOAT_OK;
}

/* Same origin: scheme, host and port. */
static bool same_origin(const struct egress_target *a, const struct egress_target *b)
{
	return strcmp(a->scheme, b->scheme) == 0 && strcmp(a->host, b->host) == 0 &&
	       a->port == b->port;
}

enum moat_rc http_perform(const struct http_request *rq, struct call_ctx *ctx,
			  struct http_response *out, struct moat_err *err)
{
	struct egress_target first = {0}, hop = {0};
	const char *method = rq->method;
	bool with_body = rq->body != NULL, with_headers = true;
	char *url = strdup(rq->url);
	enum moat_rc rc;
	CURL *h = thread_handle();

	memset(out, 0, sizeof(*out));
	out->retry_after_s = -1;
	if (!url || !h) {
		free(url);
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	}
	for (int n = 0;; n++) {
		egress_target_free(&hop);
		memset(&hop, 0, sizeof(hop));
		/* Every hop is work the input asked for: the deadline and a
		 * cancel are honoured between hops, not only during one. */
		if (ctx && (rc = callctx_check(ctx, err)))
			goto out;
		rc = egress_vet_url(rq->policy, url, &hop, err);
		if (n == 0 && ctx && hop.host[0])
			http_touch(ctx, rq->cfg, "host", hop.host);
		if (rc)
			goto out;
		if (n == 0) {
			/* A declared API's credentials go to its own host only. */
			if (rq->origin_host && (strcmp(hop.host, rq->origin_host) != 0 ||
						hop.port != rq->origin_port)) {
				rc = moat_err_rule(err, MOAT_EDENIED, "http.credentials_other_host",
						   "refused: the request would go to %s, not to the "
						   "API's own host %s, and would carry its credentials"
						   , hop.host, rq->origin_host);
				goto out;
			}
			first = hop;
			first.url = NULL; /* hop owns it */
		} else {
			if (strcmp(first.scheme, "https") == 0 && strcmp(hop.scheme, "http") == 0) {
				rc = moat_err_rule(err, MOAT_EDENIED, "egress.redirect",
						   "refused: %s redirected from https to http",
						   first.host);
				goto out;
			}
			/* Credentials stay with the origin they were configured for. */
			if (rq->headers_are_credentials && !same_origin(&first, &hop))
				with_headers = false;
			if (!same_origin(&first, &hop) &&
			    (rc = strip_cred_query(rq, first.host, &hop, err)))
				goto out;
			/* Still at home (never left it): the query credentials
			 * again, as the headers go again. */
			if (with_headers && same_origin(&first, &hop) && rq->cred_query && hop.url) {
				http_query_strip(hop.url, rq->cred_query_names);
				if ((rc = http_query_add(&hop.url, rq->cred_query, err)))
					goto out;
			}
		}
		http_response_free(out);
		if ((rc = one_hop(h, rq, method, with_body, with_headers, &hop, ctx, out, err)))
			goto out;
		if (!rq->follow_redirects || !is_redirect(out->status) || !out->final_url)
			break;
		if (n + 1 > HTTP_MAX_REDIRECTS) {
			rc = moat_err_rule(err, MOAT_EUPSTREAM, "limits.redirects",
					   "%s redirected more than %d times", first.host,
					   HTTP_MAX_REDIRECTS);
			goto out;
		}
		/* 303 always, and 301/302 after anything but GET/HEAD, turn the
		 * request into a GET without a body, as browsers do. */
		if (out->status == 303 ||
		    ((out->status == 301 || out->status == 302) && strcmp(method, "GET") != 0 &&
		     strcmp(method, "HEAD") != 0)) {
			method = "GET";
			with_body = false;
		}
		free(url);
		url = out->final_url;
		out->final_url = NULL;
	}
	free(out->final_url);
	out->final_url = url;
	url = NULL;
out:
	egress_target_free(&hop);
	free(url);
	return rc;
}
