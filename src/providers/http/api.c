/*
 * api.c - calls of the declared API tools (api_config.c reads them from the
 * config's "http.apis"). Each tool call builds its request from the
 * validated arguments (api_template.h), goes through http_perform (the
 * egress guard on every hop, the credentials to the API's own host only),
 * is rate limited per API (through limits_take: shared by a cluster's
 * replicas), retried when idempotent and the upstream asks for it, cached
 * when it is a GET (in this process and, with "cache": {"shared": true},
 * sealed in the cluster's store: api_shared.c), and comes back with only
 * the selected fields.
 *
 * What is never kept: responses live only in the in-memory cache, wiped on
 * eviction (and, when shared, sealed in the store until their TTL); nothing from a request or a response is logged (the debug log
 * says which API, method, status, bytes and time); upstream 401/403 become
 * "credentials rejected" without the credential; an upstream error body
 * shows only as a scrubbed excerpt (excerpt.h). Errors name the API, the
 * method and the path template, never the filled path or the query.
 *
 * Thread-safe: the configuration is read-only after registration; the
 * cache and the rate limiters lock themselves.
 */
#include "api.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "api_shared.h"
#include "api_template.h"
#include "api_text.h"
#include "excerpt.h"
#include "log.h"
#include "store.h"
#include "text.h"
#include "wire.h"

#define API_EXCERPT 300
#define API_FAST_MAX ((size_t)64 << 10) /* largest cached answer served on the fast path */

/* ---- requests ----------------------------------------------------------- */

bool api_idempotent(const char *method)
{
	return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0 ||
	       strcmp(method, "PUT") == 0 || strcmp(method, "DELETE") == 0 ||
	       strcmp(method, "OPTIONS") == 0;
}

bool api_read_only(const char *method)
{
	return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
}

static bool retryable(long status)
{
	return status == 429 || status == 502 || status == 503 || status == 504;
}

/* One request, built from a call's arguments. */
struct api_req {
	char *url;        /* with the API's credential query: sent, never shown */
	char *pub_url;    /* without it: the cache key and a resource's uri */
	char *body;       /* JSON or form text; NULL without a body */
	char **tool_hdrs; /* the tool's filled "headers" (apit_headers) */
	const char **hdrs; /* the API's headers, then the tool's; NULL-terminated */
};

static void req_free(struct api_req *q)
{
	if (q->url)
		explicit_bzero(q->url, strlen(q->url));
	free(q->url);
	free(q->pub_url);
	if (q->body)
		explicit_bzero(q->body, strlen(q->body));
	free(q->body);
	apit_lines_free(q->tool_hdrs);
	free(q->hdrs);
	memset(q, 0, sizeof(*q));
}

/* The request body's text: JSON, or a form from the filled template. */
static enum moat_rc build_body(const struct api_tool *t, const json_t *args, char **out,
			       struct moat_err *err)
{
	json_t *b = NULL;
	enum moat_rc rc;

	if ((rc = apit_body(t->body, args, &b, err)))
		return rc;
	if (t->form) {
		rc = apit_form(b, out, err);
	} else {
		*out = wire_dumps(b); /* 0.1 goes upstream as 0.1 */
		rc = *out ? MOAT_OK : moat_err_set(err, MOAT_ENOMEM, "out of memory");
	}
	json_decref(b);
	return rc;
}

/* The request's URLs, headers and, for a tool with a body, its text. */
static enum moat_rc build_request(const struct api_tool *t, const json_t *args,
				  struct api_req *q, struct moat_err *err)
{
	const struct api *a = t->api;
	char *path = NULL, *query = NULL;
	size_t n = 0;
	enum moat_rc rc;

	memset(q, 0, sizeof(*q));
	if ((rc = apit_path(t->path, args, &path, err)) ||
	    (rc = apit_query(t->query, args, &query, err)) ||
	    (rc = apit_headers(t->headers, args, &q->tool_hdrs, err)) ||
	    (t->body && (rc = build_body(t, args, &q->body, err))))
		goto named;
	if (asprintf(&q->pub_url, "%s%s%s%s", a->base, path, query[0] ? "?" : "", query) < 0)
		q->pub_url = NULL;
	else if (asprintf(&q->url, "%s%s%s", q->pub_url,
			  !a->cred_query ? "" : query[0] ? "&" : "?",
			  a->cred_query ? a->cred_query : "") < 0)
		q->url = NULL;
	if (!q->url) {
		rc = moat_err_set(err, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	while (q->tool_hdrs[n])
		n++;
	if (!(q->hdrs = calloc(a->nheaders + n + 1, sizeof(*q->hdrs)))) {
		rc = moat_err_set(err, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < a->nheaders; i++)
		q->hdrs[i] = a->headers[i];
	for (size_t i = 0; i < n; i++)
		q->hdrs[a->nheaders + i] = q->tool_hdrs[i];
	if (q->body && strlen(q->body) > a->max_request) {
		rc = moat_err_rule(err, MOAT_ELIMIT, "limits.request_bytes",
				   "the request body (%zu bytes) exceeds max_request_bytes (%zu) "
				   "of API %s", strlen(q->body), a->max_request, a->name);
		goto out;
	}
	goto out;
named: {
	/* Which tool's template refused: the API and the path template (never
	 * the filled path, which holds the argument). */
	char inner[MOAT_ERR_MSG_MAX];
	snprintf(inner, sizeof(inner), "%s", err->msg);
	moat_err_set(err, rc, "API %s, %s %s: %s", a->name, t->method, t->path, inner);
}
out:
	if (rc)
		req_free(q);
	free(path);
	free(query);
	return rc;
}

/* What a call of t touches, for the audit trail: the API, the method, the
 * path template (not the filled path) and the API's canonical host. */
static void touch(struct call_ctx *ctx, const struct api_tool *t)
{
	const struct moat_config *cfg = t->api->fam->cfg;

	if (!ctx)
		return;
	http_touch(ctx, cfg, "api", t->api->name);
	http_touch(ctx, cfg, "method", t->method);
	http_touch(ctx, cfg, "path", t->path);
	http_touch(ctx, cfg, "host", t->api->host);
}

/* Sleep ms in short slices, stopping early on cancellation or deadline. */
static enum moat_rc pause_ms(struct call_ctx *ctx, uint64_t ms, struct moat_err *err)
{
	uint64_t until = moat_now_ns() + ms * 1000000u;
	enum moat_rc rc;

	while ((rc = callctx_check(ctx, err)) == MOAT_OK) {
		uint64_t now = moat_now_ns();
		if (now >= until)
			break;
		uint64_t left = until - now;
		struct timespec ts = {0, (long)(left < 10000000u ? left : 10000000u)};
		nanosleep(&ts, NULL);
	}
	return rc;
}

/* Exponential backoff with jitter for attempt n (0-based), or the
 * upstream's Retry-After when it gave one. */
static uint64_t backoff_ms(const struct api *a, int n, long retry_after_s)
{
	uint64_t d = (uint64_t)a->base_ms << (n < 20 ? n : 20);
	uint32_t r = 0;

	if (retry_after_s >= 0)
		return (uint64_t)retry_after_s * 1000u;
	if (d > a->max_ms)
		d = a->max_ms;
	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r))
		r = (uint32_t)moat_now_ns();
	return d / 2 + (d / 2 ? r % (d / 2 + 1) : 0); /* between half and all of it */
}

/* Make the request, retrying idempotent ones on 429/502/503/504. */
static enum moat_rc perform(const struct api_tool *t, const struct api_req *q,
			    struct call_ctx *ctx, struct http_response *r, struct moat_err *err)
{
	struct api *a = t->api;
	const char *body = q->body;
	struct http_request rq = {
		.method = t->method,
		.url = q->url,
		.headers = q->hdrs,
		.headers_are_credentials = true,
		.body = body,
		.body_len = body ? strlen(body) : 0,
		.content_type = !body	  ? NULL
				: t->form ? "application/x-www-form-urlencoded"
					  : "application/json",
		.policy = &a->policy,
		.follow_redirects = true,
		.timeout_ms = a->timeout_ms,
		.max_response_bytes = t->response == RESP_BINARY && t->max_bytes > a->max_response
					      ? t->max_bytes
					      : a->max_response,
		.ca = a->ca ? a->ca : a->fam->ca_default,
		.ca_len = a->ca ? a->ca_len : a->fam->ca_default_len,
		.user_agent = a->fam->user_agent,
		.origin_host = a->host,
		.origin_port = a->port,
		.cred_query_names = (const char *const *)a->cred_names,
		.cred_query_values = (const char *const *)a->cred_values,
		.cred_query = a->cred_query,
		.cfg = a->fam->cfg,
	};
	int tries = api_idempotent(t->method) ? a->retries : 0;
	enum moat_rc rc;

	for (int n = 0;; n++) {
		uint64_t wait;
		if (a->limited) {
			struct token_bucket *const bs[1] = {&a->bucket};
			size_t which = 0;
			uint64_t w = 0;
			bool write = !api_read_only(t->method);
			switch (limits_take(bs, 1, write, &which, &w)) {
			case LIMITS_OK:
				break;
			case LIMITS_STORE_DOWN:
				return moat_err_rule(err, MOAT_ELIMIT, "limits.store_unavailable",
						     "%s", limits_store_down_message(write));
			case LIMITS_EMPTY:
				return moat_err_rule(err, MOAT_ELIMIT, "limits.api_rate",
						     "rate limit: API %s allows %u requests a minute "
						     "(burst %u); retry in %.1f s", a->name,
						     a->per_minute, a->burst, (double)w / 1e9);
			}
		}
		http_response_free(r);
		rc = http_perform(&rq, ctx, r, err);
		if (rc || !retryable(r->status) || n >= tries)
			return rc;
		wait = backoff_ms(a, n, r->retry_after_s);
		if (ctx->deadline_ns && moat_now_ns() + wait * 1000000u >= ctx->deadline_ns)
			return MOAT_OK; /* no time left to wait: report this answer */
		log_debug("http: api %s: HTTP %ld, retry %d in %llu ms", a->name, r->status, n + 1,
			  (unsigned long long)wait);
		if ((rc = pause_ms(ctx, wait, err)))
			return rc;
	}
}

/* ---- responses ---------------------------------------------------------- */

/* An error for a non-2xx answer: the API, the tool's method and path
 * template, the status and a bounded excerpt of the body, scrubbed of every
 * configured secret before it is cut (excerpt.h); for 401/403 not even
 * that (it may echo the credential). Never the filled path or the query. */
static enum moat_rc upstream_error(const struct api_tool *t, const struct http_response *r,
				   struct moat_err *err)
{
	bool cut = false;
	char *ex;
	enum moat_rc rc;

	if (r->status == 401 || r->status == 403)
		return moat_err_set(err, MOAT_EUPSTREAM,
				    "API %s rejected the credentials (HTTP %ld) for %s %s; check "
				    "the token configured for it",
				    t->api->name, r->status, t->method, t->path);
	ex = excerpt_make(t->api->fam->cfg, r->body, r->body ? r->body_len : 0, API_EXCERPT, &cut);
	rc = moat_err_set(err, MOAT_EUPSTREAM, "API %s answered HTTP %ld to %s %s%s%s%s",
			  t->api->name, r->status, t->method, t->path, ex && ex[0] ? ": " : "",
			  ex ? ex : "", cut ? " [...]" : "");
	if (ex) {
		explicit_bzero(ex, strlen(ex));
		free(ex);
	}
	return rc;
}

static bool mime_allowed(const struct api_tool *t, const char *mime)
{
	if (t->nmime == 0)
		return true;
	for (size_t i = 0; i < t->nmime; i++)
		if (fnmatch(t->mime_allow[i], mime, 0) == 0)
			return true;
	return false;
}

static enum moat_rc binary_result(const struct api_tool *t, const char *url, const char *body,
				  size_t len, struct tool_result *out, struct moat_err *err)
{
	char mime[128], *enc;
	json_t *block;

	if (len > t->max_bytes)
		return moat_err_rule(err, MOAT_ELIMIT, "limits.attachment_bytes",
				     "the attachment (%zu bytes) exceeds max_bytes (%zu) of tool %s",
				     len, t->max_bytes, t->name);
	http_sniff_mime(t->api->fam, body, len, mime, sizeof(mime));
	if (!mime_allowed(t, mime))
		return moat_err_rule(err, MOAT_EDENIED, "http.mime_refused",
				     "refused: the attachment's content is %s, which tool %s does not "
				     "allow (mime_allow)", mime, t->name);
	enc = text_base64((const unsigned char *)body, len);
	if (!enc)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	block = json_pack("{s:s, s:{s:s, s:s, s:s}}", "type", "resource", "resource", "uri", url,
			  "mimeType", mime, "blob", enc);
	explicit_bzero(enc, strlen(enc));
	free(enc);
	if (!block || (!out->content && !(out->content = json_array())) ||
	    json_array_append_new(out->content, block) != 0)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	return MOAT_OK;
}

/* Turn a 2xx body into the tool's result. */
static enum moat_rc make_result(const struct api_tool *t, struct call_ctx *ctx, const char *url,
				long status, const char *body, size_t len, struct tool_result *out,
				struct moat_err *err)
{
	json_error_t jerr;
	json_t *doc = NULL, *sel = NULL;
	char *text = NULL;
	size_t tlen = 0;
	enum moat_rc rc = MOAT_OK;

	if (t->response == RESP_BINARY)
		return binary_result(t, url, body, len, out, err);
	if (t->response == RESP_TEXT || (len == 0 && t->response == RESP_JSON && !t->output)) {
		text = http_utf8_repair(body, len, false, &tlen);
		if (!text)
			return moat_err_set(err, MOAT_ENOMEM, "out of memory");
		if (tlen == 0 && status == 204) {
			free(text);
			text = strdup("(no content: HTTP 204)");
		}
		rc = text && tool_result_text(out, text) == MOAT_OK
			     ? MOAT_OK
			     : moat_err_set(err, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	doc = json_loadb(body, len, JSON_DECODE_ANY, &jerr);
	if (!doc) {
		/* jansson quotes the token it choked on ("... near 'xyz'"), cut
		 * to its 160-byte buffer: a secret there would show in part.
		 * Only the reason and the place are kept. */
		char *near = strstr(jerr.text, " near ");
		if (near)
			*near = '\0';
		excerpt_scrub(t->api->fam->cfg, jerr.text, sizeof(jerr.text));
		rc = moat_err_set(err, MOAT_EUPSTREAM,
				  "API %s did not answer %s %s with JSON (line %d, column %d: %s)",
				  t->api->name, t->method, t->path, jerr.line, jerr.column, jerr.text);
		goto out;
	}
	if ((rc = apit_select(doc, t->select, ctx, &sel, err)))
		goto out;
	if (t->output) {
		struct schema_error se;
		char where[MOAT_ERR_MSG_MAX - 96];
		if (!json_is_object(sel) || !schema_validate(t->output, sel, &se)) {
			if (json_is_object(sel)) {
				/* The pointer names upstream members and the message may
				 * quote a value, each cut to its buffer: scrub each part
				 * before they are joined. */
				const struct moat_config *cfg = t->api->fam->cfg;
				excerpt_scrub(cfg, se.pointer, sizeof(se.pointer));
				excerpt_scrub(cfg, se.message, sizeof(se.message));
				schema_error_format(&se, where, sizeof(where));
				excerpt_scrub(cfg, where, sizeof(where));
			} else {
				snprintf(where, sizeof(where), "the selected value is not an object");
			}
			rc = moat_err_rule(err, MOAT_EUPSTREAM, "schema.output",
					   "API %s answered %s %s with data that does not match the "
					   "output schema of %s: %s", t->api->name, t->method,
					   t->path, t->name, where);
			goto out;
		}
	}
	text = wire_dumps(sel); /* reals as 0.174, not jansson's %.17g */
	if (!text || tool_result_text(out, text)) {
		rc = moat_err_set(err, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	tlen = strlen(text);
	if (json_is_object(sel) && t->output)
		out->structured = json_incref(sel);
out:
	if (text) {
		explicit_bzero(text, tlen);
		free(text);
	}
	json_decref(doc);
	json_decref(sel);
	return rc;
}

/* The cache key of a GET: its URL without the API's credential query,
 * and the tool's filled headers (they may change the answer). */
static char *cache_key(const struct api_req *q)
{
	struct apit_buf b = {0};
	struct moat_err ignore = {0};
	char *k = NULL;

	if (apit_buf_put(&b, "GET ", 4, &ignore) ||
	    apit_buf_put(&b, q->pub_url, strlen(q->pub_url), &ignore))
		goto out;
	for (size_t i = 0; q->tool_hdrs && q->tool_hdrs[i]; i++)
		if (apit_buf_put(&b, "\n", 1, &ignore) ||
		    apit_buf_put(&b, q->tool_hdrs[i], strlen(q->tool_hdrs[i]), &ignore))
			goto out;
	k = b.p;
	b.p = NULL;
out:
	free(b.p);
	return k;
}

/* tool_spec.fast: answer a GET from the cache when it can. */
bool api_fast(struct call_ctx *ctx, void *data, json_t *args, struct tool_result *out,
		     enum moat_rc *rc, struct moat_err *err)
{
	const struct api_tool *t = data;
	struct rcache_entry e = {0};
	struct moat_err ignore = {0};
	struct api_req q = {0};
	char *key = NULL;
	bool hit = false;

	/* A shared cache is asked on a worker: the store is a round trip. */
	if (!t->cacheable || api_shared_on(t->api) || build_request(t, args, &q, &ignore))
		goto out; /* errors are reported by the handler */
	key = cache_key(&q);
	/* Only small answers here: this runs on the thread that reads input,
	 * and a large one (parsing, selecting) is left to a worker, which
	 * finds it in the cache as well. */
	if (key && rcache_get(t->api->cache, key, moat_now_ns(), &e) &&
	    e.body_len <= API_FAST_MAX) {
		hit = true;
		touch(ctx, t);
		*rc = make_result(t, ctx, q.pub_url, e.status, e.body, e.body_len, out, err);
	}
out:
	rcache_entry_wipe(&e);
	req_free(&q);
	free(key);
	return hit;
}

enum moat_rc api_call(struct call_ctx *ctx, void *data, json_t *args, struct tool_result *out,
		      struct moat_err *err)
{
	const struct api_tool *t = data;
	struct api *a = t->api;
	struct http_response r = {0};
	struct rcache_entry e = {0};
	struct api_req q = {0};
	char *key = NULL;
	uint64_t t0 = moat_now_ns();
	bool shared = api_shared_on(a);
	enum moat_rc rc;

	r.retry_after_s = -1;
	touch(ctx, t);
	if ((rc = build_request(t, args, &q, err)))
		goto out;
	if (t->cacheable) {
		/* The shared cache first; this process's when it is not
		 * shared or the store does not answer (a write elsewhere
		 * cleared the shared one, not this one). */
		enum store_rc src = STORE_DOWN;
		key = cache_key(&q);
		if (key && shared)
			src = api_shared_get(a, key, &e);
		if (key && (src == STORE_OK ||
			    (src == STORE_DOWN && rcache_get(a->cache, key, moat_now_ns(), &e)))) {
			rc = make_result(t, ctx, q.pub_url, e.status, e.body, e.body_len, out, err);
			goto out;
		}
	}
	if ((rc = perform(t, &q, ctx, &r, err)))
		goto out;
	log_debug("http: api %s: %s -> HTTP %ld, %zu bytes, %.1f ms", a->name, t->method, r.status,
		  r.body_len, (double)(moat_now_ns() - t0) / 1e6);
	if (r.status < 200 || r.status > 299) {
		rc = upstream_error(t, &r, err);
		goto out;
	}
	rc = make_result(t, ctx, q.pub_url, r.status, r.body, r.body_len, out, err);
	if (rc == MOAT_OK && t->cacheable && key) {
		struct rcache_entry ne = {.status = r.status, .content_type = r.content_type,
					  .body = r.body, .body_len = r.body_len};
		rcache_put(a->cache, key, &ne, moat_now_ns(), a->ttl_ns);
		if (shared)
			api_shared_put(a, key, &ne);
	}
	/* A write succeeded: what the caches hold for this API may be stale. */
	if (rc == MOAT_OK && !api_read_only(t->method) && a->cache) {
		rcache_clear(a->cache);
		if (shared)
			api_shared_clear(a);
	}
out:
	rcache_entry_wipe(&e);
	http_response_free(&r);
	req_free(&q);
	free(key);
	return rc;
}
