/*
 * api.c - declared API tools: the config's "http.apis" names REST APIs
 * (base URL, headers from the environment, limits, rate limit, cache,
 * retries) and their tools (method, path/query/body templates, input and
 * output schemas, field selection, binary responses). Each tool call
 * builds its request from the validated arguments (api_template.h), goes
 * through http_perform (the egress guard on every hop), is rate limited
 * per API, retried when idempotent and the upstream asks for it, cached
 * when it is a GET, and comes back with only the selected fields.
 *
 * What is never kept: responses live only in the in-memory cache, wiped on
 * eviction; nothing from a request or a response is logged (the debug log
 * says which API, method, status, bytes and time); upstream 401/403 become
 * "credentials rejected" without the credential.
 *
 * Thread-safe: the configuration is read-only after registration; the
 * cache and the rate limiters lock themselves.
 */
#include "http.h"

#include <curl/curl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "api_template.h"
#include "excerpt.h"
#include "limits_cfg.h"
#include "log.h"
#include "resp_cache.h"
#include "schema.h"
#include "text.h"

#define API_DEFAULT_TIMEOUT_MS 30000
#define API_DEFAULT_MAX_RESPONSE ((size_t)1 << 20)
#define API_DEFAULT_MAX_REQUEST ((size_t)64 << 10)
#define API_DEFAULT_TTL_S 1800
#define API_DEFAULT_CACHE_BYTES ((size_t)8 << 20)
#define API_DEFAULT_RETRIES 2
#define API_DEFAULT_BASE_MS 250
#define API_DEFAULT_MAX_MS 8000
#define API_EXCERPT 300
#define API_TEMPLATE_DEPTH 64 /* as api_template.c's APIT_DEPTH_MAX */
#define API_FAST_MAX ((size_t)64 << 10) /* largest cached answer served on the fast path */

enum api_response { RESP_JSON, RESP_TEXT, RESP_BINARY };

struct api;

struct api_tool {
	struct api *api;
	char *name;
	char *method;
	char *path;
	json_t *query;        /* owned; may be NULL */
	json_t *body;         /* owned; may be NULL */
	json_t *select;       /* owned; may be NULL */
	struct schema *output; /* owned; may be NULL */
	enum api_response response;
	char **mime_allow;    /* binary: allowed MIME patterns */
	size_t nmime;
	size_t max_bytes;     /* binary: largest body returned */
	bool cacheable;       /* GET with the API's cache on */
};

struct api {
	char *name;
	char *base;           /* base_url without a trailing '/' */
	char *host;           /* for messages */
	char **headers;       /* "Name: value", NULL-terminated */
	size_t nheaders;
	struct egress_net *nets;
	size_t nnets;
	uint16_t port;
	struct egress_policy policy;
	uint32_t timeout_ms;
	size_t max_request;
	size_t max_response;
	struct token_bucket bucket;
	bool limited;
	uint32_t per_minute, burst;
	struct rcache *cache; /* NULL: no cache */
	uint64_t ttl_ns;
	int retries;
	uint32_t base_ms, max_ms;
	char *ca;
	size_t ca_len;
	struct http_family *fam;
	struct api_tool *tools;
	size_t ntools;
};

static struct api *apis;
static size_t napis;

/* ---- teardown ----------------------------------------------------------- */

static void tool_free(struct api_tool *t)
{
	free(t->name);
	free(t->method);
	free(t->path);
	json_decref(t->query);
	json_decref(t->body);
	json_decref(t->select);
	schema_free(t->output);
	for (size_t i = 0; i < t->nmime; i++)
		free(t->mime_allow[i]);
	free(t->mime_allow);
}

static void api_free(struct api *a)
{
	for (size_t i = 0; i < a->ntools; i++)
		tool_free(&a->tools[i]);
	free(a->tools);
	for (size_t i = 0; i < a->nheaders; i++) {
		explicit_bzero(a->headers[i], strlen(a->headers[i]));
		free(a->headers[i]);
	}
	free(a->headers);
	free(a->name);
	free(a->base);
	free(a->host);
	free(a->nets);
	free(a->ca);
	rcache_free(a->cache);
	if (a->limited)
		bucket_destroy(&a->bucket);
}

void api_fini(void)
{
	for (size_t i = 0; i < napis; i++)
		api_free(&apis[i]);
	free(apis);
	apis = NULL;
	napis = 0;
}

void api_describe(FILE *f)
{
	for (size_t i = 0; i < napis; i++) {
		const struct api *a = &apis[i];
		fprintf(f, "  api %-8s %s (port %u), %zu tool%s, %zu header%s", a->name, a->base,
			(unsigned)a->port, a->ntools, a->ntools == 1 ? "" : "s", a->nheaders,
			a->nheaders == 1 ? "" : "s");
		if (a->limited)
			fprintf(f, ", %u/min burst %u", a->per_minute, a->burst);
		if (a->cache)
			fprintf(f, ", cache %llu s",
				(unsigned long long)(a->ttl_ns / 1000000000u));
		if (a->nnets)
			fprintf(f, ", %zu non-public address%s allowed", a->nnets,
				a->nnets == 1 ? "" : "es");
		fputc('\n', f);
	}
}

/* ---- requests ----------------------------------------------------------- */

static bool idempotent(const char *method)
{
	return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0 ||
	       strcmp(method, "PUT") == 0 || strcmp(method, "DELETE") == 0 ||
	       strcmp(method, "OPTIONS") == 0;
}

static bool retryable(long status)
{
	return status == 429 || status == 502 || status == 503 || status == 504;
}

/* The request's URL and, for a tool with a body, its JSON text. */
static enum moat_rc build_request(const struct api_tool *t, const json_t *args, char **url,
				  char **body, struct moat_err *err)
{
	char *path = NULL, *query = NULL;
	json_t *b = NULL;
	enum moat_rc rc;

	*url = NULL;
	*body = NULL;
	if ((rc = apit_path(t->path, args, &path, err)) ||
	    (rc = apit_query(t->query, args, &query, err)))
		goto named;
	if (asprintf(url, "%s%s%s%s", t->api->base, path, query[0] ? "?" : "", query) < 0) {
		*url = NULL;
		rc = moat_err_set(err, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	if (t->body) {
		if ((rc = apit_body(t->body, args, &b, err)))
			goto named;
		*body = json_dumps(b, JSON_COMPACT | JSON_ENCODE_ANY);
		if (!*body) {
			rc = moat_err_set(err, MOAT_ENOMEM, "out of memory");
			goto out;
		}
		if (strlen(*body) > t->api->max_request) {
			rc = moat_err_rule(err, MOAT_ELIMIT, "limits.request_bytes",
					   "the request body (%zu bytes) exceeds max_request_bytes (%zu) "
					   "of API %s", strlen(*body), t->api->max_request,
					   t->api->name);
			goto out;
		}
	}
	goto out;
named: {
	/* Which tool's template refused: the API and the path template (never
	 * the filled path, which holds the argument). */
	char inner[MOAT_ERR_MSG_MAX];
	snprintf(inner, sizeof(inner), "%s", err->msg);
	moat_err_set(err, rc, "API %s, %s %s: %s", t->api->name, t->method, t->path, inner);
}
out:
	if (rc) {
		free(*url);
		free(*body);
		*url = *body = NULL;
	}
	free(path);
	free(query);
	json_decref(b);
	return rc;
}

/* What a call of t touches, for the audit trail: the API, the method, the
 * path template (not the filled path) and the API's canonical host. */
static void touch(struct call_ctx *ctx, const struct api_tool *t)
{
	if (!ctx)
		return;
	callctx_touch(ctx, "api", t->api->name);
	callctx_touch(ctx, "method", t->method);
	callctx_touch(ctx, "path", t->path);
	callctx_touch(ctx, "host", t->api->host);
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
static enum moat_rc perform(const struct api_tool *t, const char *url, const char *body,
			    struct call_ctx *ctx, struct http_response *r, struct moat_err *err)
{
	struct api *a = t->api;
	struct http_request rq = {
		.method = t->method,
		.url = url,
		.headers = (const char *const *)a->headers,
		.headers_are_credentials = true,
		.body = body,
		.body_len = body ? strlen(body) : 0,
		.content_type = body ? "application/json" : NULL,
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
	};
	int tries = idempotent(t->method) ? a->retries : 0;
	enum moat_rc rc;

	for (int n = 0;; n++) {
		uint64_t wait;
		if (a->limited && !bucket_take(&a->bucket, moat_now_ns())) {
			uint64_t w = bucket_wait_ns(&a->bucket, moat_now_ns());
			return moat_err_rule(err, MOAT_ELIMIT, "limits.api_rate",
					     "rate limit: API %s allows %u requests a minute (burst "
					     "%u); retry in %.1f s", a->name, a->per_minute,
					     a->burst, (double)w / 1e9);
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
	text = json_dumps(sel, JSON_COMPACT | JSON_ENCODE_ANY);
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

/* The cache key of a GET. */
static char *cache_key(const char *url)
{
	char *k = NULL;

	return asprintf(&k, "GET %s", url) < 0 ? NULL : k;
}

/* tool_spec.fast: answer a GET from the cache when it can. */
static bool api_fast(struct call_ctx *ctx, void *data, json_t *args, struct tool_result *out,
		     enum moat_rc *rc, struct moat_err *err)
{
	const struct api_tool *t = data;
	struct rcache_entry e = {0};
	struct moat_err ignore = {0};
	char *url = NULL, *body = NULL, *key = NULL;
	bool hit = false;

	if (!t->cacheable || build_request(t, args, &url, &body, &ignore))
		goto out; /* errors are reported by the handler */
	key = cache_key(url);
	/* Only small answers here: this runs on the thread that reads input,
	 * and a large one (parsing, selecting) is left to a worker, which
	 * finds it in the cache as well. */
	if (key && rcache_get(t->api->cache, key, moat_now_ns(), &e) &&
	    e.body_len <= API_FAST_MAX) {
		hit = true;
		touch(ctx, t);
		*rc = make_result(t, ctx, url, e.status, e.body, e.body_len, out, err);
	}
out:
	rcache_entry_wipe(&e);
	free(url);
	free(body);
	free(key);
	return hit;
}

static enum moat_rc api_call(struct call_ctx *ctx, void *data, json_t *args,
			     struct tool_result *out, struct moat_err *err)
{
	const struct api_tool *t = data;
	struct api *a = t->api;
	struct http_response r = {0};
	struct rcache_entry e = {0};
	char *url = NULL, *body = NULL, *key = NULL;
	uint64_t t0 = moat_now_ns();
	enum moat_rc rc;

	r.retry_after_s = -1;
	touch(ctx, t);
	if ((rc = build_request(t, args, &url, &body, err)))
		goto out;
	if (t->cacheable) {
		key = cache_key(url);
		if (key && rcache_get(a->cache, key, moat_now_ns(), &e)) {
			rc = make_result(t, ctx, url, e.status, e.body, e.body_len, out, err);
			goto out;
		}
	}
	if ((rc = perform(t, url, body, ctx, &r, err)))
		goto out;
	log_debug("http: api %s: %s -> HTTP %ld, %zu bytes, %.1f ms", a->name, t->method, r.status,
		  r.body_len, (double)(moat_now_ns() - t0) / 1e6);
	if (r.status < 200 || r.status > 299) {
		rc = upstream_error(t, &r, err);
		goto out;
	}
	rc = make_result(t, ctx, url, r.status, r.body, r.body_len, out, err);
	if (rc == MOAT_OK && t->cacheable && key) {
		struct rcache_entry ne = {.status = r.status, .content_type = r.content_type,
					  .body = r.body, .body_len = r.body_len};
		rcache_put(a->cache, key, &ne, moat_now_ns(), a->ttl_ns);
	}
	/* A write succeeded: what the cache holds for this API may be stale. */
	if (rc == MOAT_OK && strcmp(t->method, "GET") != 0 && strcmp(t->method, "HEAD") != 0 &&
	    a->cache)
		rcache_clear(a->cache);
out:
	rcache_entry_wipe(&e);
	http_response_free(&r);
	if (body) {
		explicit_bzero(body, strlen(body));
		free(body);
	}
	free(url);
	free(key);
	return rc;
}

/* ---- configuration ------------------------------------------------------- */

static uint32_t u32_or(const json_t *obj, const char *key, uint32_t def)
{
	json_t *v = json_object_get(obj, key);

	return json_is_integer(v) ? (uint32_t)json_integer_value(v) : def;
}

static size_t size_or(const json_t *obj, const char *key, size_t def)
{
	json_t *v = json_object_get(obj, key);

	return json_is_integer(v) ? (size_t)json_integer_value(v) : def;
}

/* base_url: scheme, no query, no user info. vet_base then does the rest. */
static enum moat_rc parse_base(struct api *a, const char *base, bool allow_http,
			       struct moat_err *err)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *query = NULL, *user = NULL;
	enum moat_rc rc = MOAT_OK;
	size_t n;

	if (!u)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	if (!egress_text_safe(base, strlen(base)) || curl_url_set(u, CURLUPART_URL, base, 0) ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT)) {
		rc = moat_err_set(err, MOAT_EINVAL, "API %s: base_url is not a valid URL", a->name);
		goto out;
	}
	if (strcmp(scheme, "https") != 0 && !(allow_http && strcmp(scheme, "http") == 0)) {
		rc = moat_err_set(err, MOAT_EINVAL,
				  "API %s: base_url must be https (or http with \"allow_http\": true)",
				  a->name);
		goto out;
	}
	if (curl_url_get(u, CURLUPART_QUERY, &query, 0) == CURLUE_OK ||
	    curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK) {
		rc = moat_err_set(err, MOAT_EINVAL,
				  "API %s: base_url may not carry a query or user info", a->name);
		goto out;
	}
	a->base = strdup(base);
	if (!a->base) {
		rc = moat_err_set(err, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	n = strlen(a->base);
	while (n > 0 && a->base[n - 1] == '/')
		a->base[--n] = '\0';
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(query);
	curl_free(user);
	curl_url_cleanup(u);
	return rc;
}

/*
 * Vet base_url at start-up as a call would (the egress guard: canonical
 * host, port, every resolved address against allow_addresses), so that
 * `moat check` fails where `moat serve` would, with the same message, and
 * keep its canonical host and port: the only origin the API's credentials
 * go to. When the name cannot be resolved now (no network or DNS at
 * start-up, a name only a VPN knows), that is a warning, not a failure:
 * every call vets its own request again.
 */
static enum moat_rc vet_base(struct api *a, struct moat_err *err)
{
	struct egress_target t = {0};
	struct moat_err e = {0};
	enum moat_rc rc = egress_vet_url(&a->policy, a->base, &t, &e);

	if (rc == MOAT_EUPSTREAM && t.host[0]) {
		log_warn("http: API %s: cannot vet base_url now (%s); every call will vet it", a->name,
			 e.msg);
		rc = MOAT_OK;
	}
	if (rc == MOAT_OK) {
		a->host = strdup(t.host);
		a->port = t.port;
		if (!a->host)
			rc = moat_err_set(err, MOAT_ENOMEM, "out of memory");
	} else {
		if (e.rule)
			moat_err_rule(err, rc, e.rule, "API %s: base_url %s", a->name, e.msg);
		else
			moat_err_set(err, rc, "API %s: base_url %s", a->name, e.msg);
	}
	egress_target_free(&t);
	return rc;
}

static enum moat_rc parse_headers(struct api *a, const json_t *obj, struct moat_err *err)
{
	const char *k;
	json_t *v;
	size_t i = 0;

	a->headers = calloc(json_object_size(obj) + 1, sizeof(*a->headers));
	if (!a->headers)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	json_object_foreach((json_t *)obj, k, v) {
		const char *val = json_string_value(v);
		if (!egress_text_safe(k, strlen(k)) || !egress_text_safe(val, strlen(val)) ||
		    strchr(k, ':') || !*k)
			return moat_err_set(err, MOAT_EINVAL,
					    "API %s: header %s has a bad name or a control character "
					    "in its value",
					    a->name, egress_text_safe(k, strlen(k)) ? k : "(name)");
		if (asprintf(&a->headers[i], "%s: %s", k, val) < 0) {
			a->headers[i] = NULL;
			return moat_err_set(err, MOAT_ENOMEM, "out of memory");
		}
		a->nheaders = ++i;
	}
	return MOAT_OK;
}

/* The argument names a tool's input schema declares. */
static json_t *arg_names(const json_t *schema)
{
	json_t *names = json_array(), *v;
	const char *k;

	json_object_foreach(json_object_get(schema, "properties"), k, v)
		json_array_append_new(names, json_string(k));
	return names;
}

/* Check every template string in a query or body template, at most
 * API_TEMPLATE_DEPTH levels deep (the call-time expansion refuses deeper
 * ones too: limits.template_depth). */
static enum moat_rc check_templates(const json_t *tmpl, const json_t *names, unsigned depth,
				    struct moat_err *err)
{
	const char *k;
	json_t *v;
	size_t i;

	if (depth > API_TEMPLATE_DEPTH)
		return moat_err_rule(err, MOAT_EINVAL, "limits.template_depth",
				     "a query or body template is nested deeper than %d levels",
				     API_TEMPLATE_DEPTH);
	if (json_is_string(tmpl))
		return apit_check(json_string_value(tmpl), names, err);
	if (json_is_object(tmpl)) {
		json_object_foreach((json_t *)tmpl, k, v) {
			enum moat_rc rc = check_templates(v, names, depth + 1, err);
			if (rc)
				return rc;
		}
	}
	if (json_is_array(tmpl)) {
		json_array_foreach(tmpl, i, v) {
			enum moat_rc rc = check_templates(v, names, depth + 1, err);
			if (rc)
				return rc;
		}
	}
	return MOAT_OK;
}

static enum hint hint_of(const json_t *ann, const char *key, enum hint def)
{
	json_t *v = json_object_get(ann, key);

	return json_is_boolean(v) ? (json_is_true(v) ? HINT_TRUE : HINT_FALSE) : def;
}

static enum moat_rc parse_tool(struct registry *reg, struct api *a, struct api_tool *t,
			       const json_t *tc, struct moat_err *err)
{
	const json_t *in = json_object_get(tc, "input_schema");
	const json_t *outs = json_object_get(tc, "output_schema");
	const json_t *ann = json_object_get(tc, "annotations");
	const char *resp = json_string_value(json_object_get(tc, "response"));
	json_t *names = NULL, *empty = NULL, *v;
	enum moat_rc rc;
	bool get;
	size_t i;

	t->api = a;
	t->name = strdup(json_string_value(json_object_get(tc, "name")));
	t->method = strdup(json_string_value(json_object_get(tc, "method")));
	t->path = strdup(json_string_value(json_object_get(tc, "path")));
	if (!t->name || !t->method || !t->path)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	get = strcmp(t->method, "GET") == 0;
	t->query = json_incref(json_object_get(tc, "query"));
	t->body = json_incref(json_object_get(tc, "body"));
	t->select = json_incref(json_object_get(tc, "select"));
	t->response = !resp || strcmp(resp, "json") == 0 ? RESP_JSON
		      : strcmp(resp, "text") == 0	 ? RESP_TEXT
							 : RESP_BINARY;
	t->max_bytes = size_or(tc, "max_bytes", a->max_response);
	t->cacheable = get && a->cache && !json_is_false(json_object_get(tc, "cache"));
	if (!in)
		in = empty = json_pack("{s:s, s:b}", "type", "object", "additionalProperties", 0);
	names = arg_names(in);
	if (!names || (t->body && (strcmp(t->method, "GET") == 0 ||
				   strcmp(t->method, "HEAD") == 0))) {
		rc = names ? moat_err_set(err, MOAT_EINVAL, "tool %s: a GET or HEAD has no body",
					  t->name)
			   : moat_err_set(err, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = apit_check(t->path, names, err)) ||
	    (rc = check_templates(t->query, names, 0, err)) ||
	    (rc = check_templates(t->body, names, 0, err)))
		goto out;
	json_array_foreach(t->select, i, v)
		if ((rc = apit_pointer_check(json_string_value(v), err)))
			goto out;
	if (t->path[0] != '/') {
		rc = moat_err_set(err, MOAT_EINVAL, "tool %s: path must start with '/'", t->name);
		goto out;
	}
	if (outs && !(t->output = schema_compile(outs, err))) {
		rc = err->rc ? err->rc : MOAT_EINVAL;
		goto out;
	}
	json_array_foreach(json_object_get(tc, "mime_allow"), i, v) {
		char **nm = realloc(t->mime_allow, (t->nmime + 1) * sizeof(*nm));
		if (!nm || !(nm[t->nmime] = strdup(json_string_value(v)))) {
			if (nm)
				t->mime_allow = nm;
			rc = moat_err_set(err, MOAT_ENOMEM, "out of memory");
			goto out;
		}
		t->mime_allow = nm;
		t->nmime++;
	}
	struct tool_spec spec = {
		.name = t->name,
		.title = json_string_value(json_object_get(tc, "title")),
		.description = json_string_value(json_object_get(tc, "description")),
		.input_schema = in,
		.output_schema = t->response == RESP_JSON ? outs : NULL,
		.annotations = {.read_only = hint_of(ann, "readOnlyHint", get ? HINT_TRUE : HINT_FALSE),
				.destructive = hint_of(ann, "destructiveHint",
						       get ? HINT_FALSE : HINT_TRUE),
				.idempotent = hint_of(ann, "idempotentHint",
						      idempotent(t->method) ? HINT_TRUE : HINT_FALSE),
				.open_world = hint_of(ann, "openWorldHint", HINT_TRUE)},
		.fast = t->cacheable ? api_fast : NULL,
		.handler = api_call,
		.data = t,
	};
	rc = registry_add(reg, &spec, err);
out:
	json_decref(names);
	json_decref(empty);
	return rc;
}

static enum moat_rc parse_api(struct registry *reg, struct http_family *fam, struct api *a,
			      const char *name, const json_t *ac, struct moat_err *err)
{
	const json_t *rl = json_object_get(ac, "rate_limit");
	const json_t *cache = json_object_get(ac, "cache");
	const json_t *retries = json_object_get(ac, "retries");
	const json_t *tools = json_object_get(ac, "tools"), *v;
	bool allow_http = json_is_true(json_object_get(ac, "allow_http"));
	enum moat_rc rc;
	size_t i;

	a->fam = fam;
	if (!(a->name = strdup(name)))
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	if ((rc = parse_base(a, json_string_value(json_object_get(ac, "base_url")), allow_http,
			     err)) ||
	    (rc = parse_headers(a, json_object_get(ac, "headers"), err)) ||
	    (rc = http_policy_nets(json_object_get(ac, "allow_addresses"), &a->nets, &a->nnets,
				   err)))
		return rc;
	if ((v = json_object_get(ac, "ca_file")) &&
	    (rc = http_read_file(json_string_value(v), (size_t)16 << 20, &a->ca, &a->ca_len, err)))
		return rc;
	a->policy = (struct egress_policy){.allow = a->nets, .nallow = a->nnets,
					   .allow_http = allow_http};
	if ((rc = vet_base(a, err)))
		return rc;
	a->timeout_ms = u32_or(ac, "timeout_ms", API_DEFAULT_TIMEOUT_MS);
	a->max_request = size_or(ac, "max_request_bytes", API_DEFAULT_MAX_REQUEST);
	a->max_response = size_or(ac, "max_response_bytes", API_DEFAULT_MAX_RESPONSE);
	if (rl) {
		a->per_minute = u32_or(rl, "per_minute", 60);
		a->burst = u32_or(rl, "burst", a->per_minute);
		bucket_init_burst(&a->bucket, a->per_minute, a->burst);
		a->limited = a->per_minute > 0;
		if (!a->limited)
			bucket_destroy(&a->bucket);
	}
	if (!json_is_false(cache)) {
		uint32_t ttl = u32_or(cache, "ttl_s", API_DEFAULT_TTL_S);
		if (ttl > 0) {
			a->ttl_ns = (uint64_t)ttl * 1000000000u;
			a->cache = rcache_new(size_or(cache, "max_bytes", API_DEFAULT_CACHE_BYTES));
			if (!a->cache)
				return moat_err_set(err, MOAT_ENOMEM, "out of memory");
		}
	}
	a->retries = (int)u32_or(retries, "max", API_DEFAULT_RETRIES);
	a->base_ms = u32_or(retries, "base_ms", API_DEFAULT_BASE_MS);
	a->max_ms = u32_or(retries, "max_ms", API_DEFAULT_MAX_MS);
	if ((rc = registry_grant_port(reg, a->port, err)))
		return rc;
	a->tools = calloc(json_array_size(tools) ? json_array_size(tools) : 1, sizeof(*a->tools));
	if (!a->tools)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	json_array_foreach(tools, i, v) {
		rc = parse_tool(reg, a, &a->tools[i], v, err);
		a->ntools = i + 1;
		if (rc) {
			char inner[MOAT_ERR_MSG_MAX];
			snprintf(inner, sizeof(inner), "%s", err->msg);
			return moat_err_set(err, rc, "API %s: %s", name, inner);
		}
	}
	return MOAT_OK;
}

enum moat_rc api_register(struct registry *reg, struct http_family *fam, const json_t *section,
			  struct moat_err *err)
{
	const char *name;
	json_t *ac;
	enum moat_rc rc;

	if (!section || json_object_size(section) == 0)
		return MOAT_OK;
	apis = calloc(json_object_size(section), sizeof(*apis));
	if (!apis)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	json_object_foreach((json_t *)section, name, ac) {
		rc = parse_api(reg, fam, &apis[napis], name, ac, err);
		napis++;
		if (rc) {
			api_fini();
			return rc;
		}
	}
	return MOAT_OK;
}
