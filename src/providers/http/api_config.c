/*
 * api_config.c - the declared API tools from the config's "http.apis":
 * each API (base URL, headers and query credentials from the environment,
 * allowed addresses, limits, rate limit, cache, retries) and its tools,
 * registered with the registry (each checked by api_tool.c), or, in the
 * grouped form ("operations"), the four tools api_grouped.c registers; a
 * tool's "confirm" handed to the core; their teardown. The calls
 * themselves are api.c's, the lines `moat check` prints api_describe.c's.
 *
 * Start-up vets each base_url as a call would (the egress guard), so that
 * `moat check` fails where `moat serve` would. Single-threaded (start-up
 * and exit).
 */
#include "api.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_template.h"
#include "api_text.h"
#include "excerpt.h"
#include "log.h"
#include "store.h"

#define API_DEFAULT_TIMEOUT_MS 30000
#define API_DEFAULT_MAX_RESPONSE ((size_t)1 << 20)
#define API_DEFAULT_MAX_REQUEST ((size_t)64 << 10)
#define API_DEFAULT_TTL_S 1800
#define API_DEFAULT_CACHE_BYTES ((size_t)8 << 20)
#define API_DEFAULT_RETRIES 2
#define API_DEFAULT_BASE_MS 250
#define API_DEFAULT_MAX_MS 8000

static struct api *apis;
static size_t napis;

/* ---- teardown ----------------------------------------------------------- */

void api_tool_free(struct api_tool *t)
{
	free(t->name);
	free(t->title);
	free(t->description);
	free(t->method);
	free(t->path);
	json_decref(t->query);
	json_decref(t->headers);
	json_decref(t->tags);
	json_decref(t->input_schema);
	schema_free(t->input);
	json_decref(t->body);
	json_decref(t->select);
	schema_free(t->output);
	for (size_t i = 0; i < t->nmime; i++)
		free(t->mime_allow[i]);
	free(t->mime_allow);
}

/* Wipe and free a NULL-terminated array of secrets. */
static void wipe_lines(char **v)
{
	for (size_t i = 0; v && v[i]; i++) {
		explicit_bzero(v[i], strlen(v[i]));
		free(v[i]);
	}
	free(v);
}

static void api_free(struct api *a)
{
	for (size_t i = 0; i < a->ntools; i++)
		api_tool_free(&a->tools[i]);
	free(a->tools);
	for (size_t i = 0; i < a->nops; i++)
		api_tool_free(&a->ops[i]);
	free(a->ops);
	api_group_free(a);
	if (a->cred_query)
		explicit_bzero(a->cred_query, strlen(a->cred_query));
	free(a->cred_query);
	wipe_lines(a->cred_names);
	wipe_lines(a->cred_values);
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
	for (size_t i = 0; i < napis; i++)
		api_describe_one(&apis[i], f);
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
		/* stderr is not scrubbed for us, and the host may be a ${NAME} */
		char line[MOAT_ERR_MSG_MAX + 128];
		snprintf(line, sizeof(line),
			 "http: API %s: cannot vet base_url now (%s); every call will vet it", a->name,
			 e.msg);
		excerpt_scrub(a->fam->cfg, line, sizeof(line));
		log_warn("%s", line);
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

static enum hint hint_of(const json_t *ann, const char *key, enum hint def)
{
	json_t *v = json_object_get(ann, key);

	return json_is_boolean(v) ? (json_is_true(v) ? HINT_TRUE : HINT_FALSE) : def;
}

static enum moat_rc parse_tool(struct registry *reg, struct api *a, struct api_tool *t,
			       const json_t *tc, struct moat_err *err)
{
	const json_t *outs = json_object_get(tc, "output_schema");
	const json_t *ann = json_object_get(tc, "annotations");
	json_t *in = NULL;
	enum moat_rc rc;
	bool get;

	if ((rc = api_tool_parse(a, t, tc, "tool", &in, err)))
		goto out;
	get = strcmp(t->method, "GET") == 0;
	struct tool_spec spec = {
		.name = t->name,
		.title = t->title,
		.description = t->description,
		.input_schema = in,
		.output_schema = t->response == RESP_JSON ? outs : NULL,
		.annotations = {.read_only = hint_of(ann, "readOnlyHint", get ? HINT_TRUE : HINT_FALSE),
				.destructive = hint_of(ann, "destructiveHint",
						       get ? HINT_FALSE : HINT_TRUE),
				.idempotent = hint_of(ann, "idempotentHint",
						      api_idempotent(t->method) ? HINT_TRUE : HINT_FALSE),
				.open_world = hint_of(ann, "openWorldHint", HINT_TRUE)},
		.fast = t->cacheable ? api_fast : NULL,
		.handler = api_call,
		.data = t,
	};
	if ((rc = registry_add(reg, &spec, err)))
		goto out;
	if (t->confirm && spec.annotations.read_only == HINT_TRUE) {
		rc = moat_err_rule(err, MOAT_EINVAL, "http.confirm_read",
				   "tool %s: \"confirm\" with \"readOnlyHint\": true (a tool that "
				   "changes nothing needs no confirmation)", t->name);
		goto out;
	}
	/* The core asks the person before each call (as the config's
	 * top-level "confirm" does). */
	if (t->confirm)
		rc = registry_set_confirm(reg, t->name, err);
out:
	json_decref(in);
	return rc;
}

/* The config as written holds "${NAME}" where the loaded one holds the
 * value: the API's query parameter k there, or NULL. */
static const char *raw_query_value(const struct api *a, const char *k)
{
	const json_t *raw = a->fam && a->fam->cfg ? a->fam->cfg->raw : NULL;

	raw = json_object_get(json_object_get(json_object_get(raw, "http"), "apis"), a->name);
	return json_string_value(json_object_get(json_object_get(raw, "query"), k));
}

/* "query": credential parameters for every request, encoded once; each
 * value must come from the environment (so it is a secret config_scrub
 * masks). */
static enum moat_rc parse_cred_query(struct api *a, const json_t *obj, struct moat_err *err)
{
	struct apit_buf q = {0};
	size_t n = json_object_size(obj), i = 0;
	const char *k;
	json_t *v;
	enum moat_rc rc = MOAT_OK;

	if (n == 0)
		return MOAT_OK;
	a->cred_names = calloc(n + 1, sizeof(*a->cred_names));
	a->cred_values = calloc(n + 1, sizeof(*a->cred_values));
	if (!a->cred_names || !a->cred_values)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	json_object_foreach((json_t *)obj, k, v) {
		struct apit_buf nb = {0}, vb = {0};
		const char *val = json_string_value(v);
		const char *raw = raw_query_value(a, k);

		/* Only values from the environment are masked everywhere
		 * (config_scrub): a credential written into the file is not. */
		if (raw && !strstr(raw, "${")) {
			rc = moat_err_rule(err, MOAT_EINVAL, "http.query_literal",
					   "API %s: query %.64s is written in the config; a query "
					   "credential comes from the environment: \"${NAME}\" "
					   "(constant parameters go in each tool's \"query\") (rule "
					   "http.query_literal)",
					   a->name, k);
			goto out;
		}
		if ((rc = apit_buf_put_encoded(&nb, k, strlen(k), err)) ||
		    (rc = apit_buf_finish(&nb, &a->cred_names[i], err)) ||
		    (rc = apit_buf_put_encoded(&vb, val, strlen(val), err)) ||
		    (rc = apit_buf_finish(&vb, &a->cred_values[i], err)) ||
		    (q.len && (rc = apit_buf_put(&q, "&", 1, err))) ||
		    (rc = apit_buf_put(&q, a->cred_names[i], strlen(a->cred_names[i]), err)) ||
		    (rc = apit_buf_put(&q, "=", 1, err)) ||
		    (rc = apit_buf_put(&q, a->cred_values[i], strlen(a->cred_values[i]), err))) {
			free(nb.p);
			if (vb.p)
				explicit_bzero(vb.p, vb.len);
			free(vb.p);
			goto out;
		}
		i++;
	}
	rc = apit_buf_finish(&q, &a->cred_query, err);
out:
	if (q.p)
		explicit_bzero(q.p, q.len);
	free(q.p);
	return rc;
}

/* A tool's or an operation's config error: the API's name first, and the
 * rule's id last when one refused (the start-up log shows no other). */
static enum moat_rc config_error(struct moat_err *err, enum moat_rc rc, const char *name)
{
	char inner[MOAT_ERR_MSG_MAX];

	snprintf(inner, sizeof(inner), "%s", err->msg);
	if (err->rule && !strstr(inner, err->rule))
		return moat_err_set(err, rc, "API %s: %s (rule %s)", name, inner, err->rule);
	return moat_err_set(err, rc, "API %s: %s", name, inner);
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
	if (!tools == !json_object_get(ac, "operations"))
		return moat_err_rule(err, MOAT_EINVAL, "http.api_tools",
				     "API %s has %s \"tools\" %s \"operations\": %s (\"tools\": one "
				     "MCP tool each; \"operations\": the grouped form) (rule "
				     "http.api_tools)", name, tools ? "both" : "neither",
				     tools ? "and" : "nor", tools ? "keep one" : "add one");
	if ((rc = parse_base(a, json_string_value(json_object_get(ac, "base_url")), allow_http,
			     err)) ||
	    (rc = parse_headers(a, json_object_get(ac, "headers"), err)) ||
	    (rc = parse_cred_query(a, json_object_get(ac, "query"), err)) ||
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
		bucket_set_key(&a->bucket, "api:%s", name);
		a->limited = a->per_minute > 0;
		if (!a->limited)
			bucket_destroy(&a->bucket);
	}
	if (!json_is_false(cache)) {
		uint32_t ttl = u32_or(cache, "ttl_s", API_DEFAULT_TTL_S);
		if (ttl > 0) {
			a->ttl_ns = (uint64_t)ttl * 1000000000u;
			a->cache = rcache_new(size_or(cache, "max_bytes", API_DEFAULT_CACHE_BYTES));
			a->shared = json_is_true(json_object_get(cache, "shared"));
			if (a->shared && fam->cfg && !json_object_get(fam->cfg->doc, "cluster"))
				log_warn("http: api %s: cache.shared has no cluster store to share "
					 "(no \"cluster\" section): its cache stays in this process",
					 name);
			if (!a->cache)
				return moat_err_set(err, MOAT_ENOMEM, "out of memory");
		}
	}
	a->retries = (int)u32_or(retries, "max", API_DEFAULT_RETRIES);
	a->base_ms = u32_or(retries, "base_ms", API_DEFAULT_BASE_MS);
	a->max_ms = u32_or(retries, "max_ms", API_DEFAULT_MAX_MS);
	if ((rc = registry_grant_port(reg, a->port, err)))
		return rc;
	if (json_object_get(ac, "operations")) {
		/* The grouped form: four tools serve every operation. */
		rc = api_group_register(reg, a, json_object_get(ac, "operations"), err);
		return rc ? config_error(err, rc, name) : MOAT_OK;
	}
	a->tools = calloc(json_array_size(tools) ? json_array_size(tools) : 1, sizeof(*a->tools));
	if (!a->tools)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	json_array_foreach(tools, i, v) {
		rc = parse_tool(reg, a, &a->tools[i], v, err);
		a->ntools = i + 1;
		if (rc)
			return config_error(err, rc, name);
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
