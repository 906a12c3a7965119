/*
 * fetch.c - the fetch tool: {url, max_length?, start_index?, raw?}, with
 * the reference fetch server's parameters and paging note. HTML becomes
 * readable text (html_text.h); other text types come back as they are;
 * binary types are refused unless raw, and then come back base64 as an
 * embedded resource. Every hop goes through the egress guard; the config's
 * "http.fetch" section adds a host allowlist and denylist, addresses and
 * ports allowed, a user agent, and size and time limits.
 *
 * Thread-safe: the configuration is read-only after registration.
 */
#include "http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hostname.h"
#include "html_text.h"
#include "log.h"
#include "text.h"

#define FETCH_DEFAULT_TIMEOUT_MS 30000
#define FETCH_DEFAULT_MAX_BYTES ((size_t)5 << 20)

struct fetch_cfg {
	struct egress_net *nets;
	size_t nnets;
	uint16_t ports[32];
	size_t nports;
	struct egress_policy policy;
	struct hostname_pattern *allow_hosts; /* canonical (hostname.h) */
	size_t nallow;
	struct hostname_pattern *deny_hosts;
	size_t ndeny;
	char *user_agent;
	uint32_t timeout_ms;
	size_t max_bytes;
	char *ca;           /* ca_file's bytes, or NULL for the system bundle */
	size_t ca_len;
	struct http_family *fam;
};

static struct fetch_cfg *fetch_state;

static void cfg_free(struct fetch_cfg *c)
{
	if (!c)
		return;
	free(c->nets);
	free(c->allow_hosts);
	free(c->deny_hosts);
	free(c->user_agent);
	free(c->ca);
	free(c);
}

void fetch_fini(void)
{
	cfg_free(fetch_state);
	fetch_state = NULL;
}

void fetch_describe(FILE *f)
{
	const struct fetch_cfg *c = fetch_state;

	if (!c) {
		fprintf(f, "  fetch        off\n");
		return;
	}
	fprintf(f, "  fetch        %s, port%s", c->policy.allow_http ? "http and https" : "https only",
		c->nports == 1 ? "" : "s");
	for (size_t i = 0; i < c->nports; i++)
		fprintf(f, "%s %u", i ? "," : "", (unsigned)c->ports[i]);
	fprintf(f, "; %s hosts", c->nallow ? "only listed" : "any public");
	if (c->nallow)
		fprintf(f, " (%zu)", c->nallow);
	if (c->ndeny)
		fprintf(f, ", %zu denied", c->ndeny);
	if (c->nnets)
		fprintf(f, "; %zu non-public address%s allowed", c->nnets, c->nnets == 1 ? "" : "es");
	fprintf(f, "; %zu bytes, %u ms at most\n", c->max_bytes, c->timeout_ms);
}

/* A config array of host patterns in canonical form (hostname.h), so that
 * "LocalHost.", "localhost" and "localhost" in a URL all compare equal; an
 * entry that is not a host is refused at start-up, naming it by pointer. */
static enum moat_rc host_list(const json_t *arr, const char *key,
			      struct hostname_pattern **out, size_t *n, struct moat_err *err)
{
	size_t i;
	json_t *v;

	*out = NULL;
	*n = 0;
	if (!arr || json_array_size(arr) == 0)
		return MOAT_OK;
	*out = calloc(json_array_size(arr), sizeof(**out));
	if (!*out)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	json_array_foreach(arr, i, v) {
		enum moat_rc rc = hostname_pattern_parse(json_string_value(v), &(*out)[i], err);
		if (rc) {
			char inner[MOAT_ERR_MSG_MAX];
			snprintf(inner, sizeof(inner), "%s", err->msg);
			return moat_err_set(err, rc, "/http/fetch/%s/%zu: %s", key, i, inner);
		}
		*n = i + 1;
	}
	return MOAT_OK;
}

/* host is canonical (the egress guard made it so). */
static bool fetch_host_ok(const void *data, const char *host, const char **why,
			  const char **rule)
{
	const struct fetch_cfg *c = data;

	for (size_t i = 0; i < c->ndeny; i++) {
		if (hostname_pattern_match(&c->deny_hosts[i], host)) {
			*why = "on http.fetch.deny_hosts";
			*rule = "egress.denied_host";
			return false;
		}
	}
	if (c->nallow == 0)
		return true;
	for (size_t i = 0; i < c->nallow; i++)
		if (hostname_pattern_match(&c->allow_hosts[i], host))
			return true;
	*why = "not on http.fetch.allow_hosts";
	*rule = "egress.host_not_allowed";
	return false;
}

/* ---- content ------------------------------------------------------------ */

static bool is_html(const struct http_response *r)
{
	const char *p = r->body;

	if (r->content_type)
		return strcmp(r->content_type, "text/html") == 0 ||
		       strcmp(r->content_type, "application/xhtml+xml") == 0;
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	return strncasecmp(p, "<!doctype html", 14) == 0 || strncasecmp(p, "<html", 5) == 0;
}

static bool is_text(const char *ct)
{
	size_t n;

	if (!ct)
		return true; /* untyped: judged by its bytes below */
	if (strncmp(ct, "text/", 5) == 0)
		return true;
	n = strlen(ct);
	return strcmp(ct, "application/json") == 0 || strcmp(ct, "application/xml") == 0 ||
	       strcmp(ct, "application/javascript") == 0 ||
	       strcmp(ct, "application/ecmascript") == 0 ||
	       strcmp(ct, "application/x-ndjson") == 0 ||
	       (n > 5 && strcmp(ct + n - 5, "+json") == 0) ||
	       (n > 4 && strcmp(ct + n - 4, "+xml") == 0);
}

static bool latin1_charset(const char *cs)
{
	return cs && (strcasecmp(cs, "iso-8859-1") == 0 || strcasecmp(cs, "latin1") == 0 ||
		      strcasecmp(cs, "iso8859-1") == 0 || strcasecmp(cs, "us-ascii") == 0);
}

/* Byte offset of the code point index cp in s (n bytes), or n. */
static size_t cp_offset(const char *s, size_t n, size_t cp)
{
	size_t i = 0;

	while (i < n && cp > 0) {
		i++;
		while (i < n && ((unsigned char)s[i] & 0xC0) == 0x80)
			i++;
		cp--;
	}
	return i;
}

static size_t cp_count(const char *s, size_t n)
{
	size_t c = 0;

	for (size_t i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			c++;
	return c;
}

/* The page of text the call asked for, worded as the reference fetch
 * server words it: "{prefix}Contents of {url}:\n{page}", the page being
 * "<error>No more content available.</error>" past the end, and followed by
 * the truncation note when more remains. url is the one the call named. */
static enum moat_rc page_text(const char *url, const char *prefix, const char *text, size_t len,
			      json_int_t start, json_int_t max_len, struct tool_result *out,
			      struct moat_err *err)
{
	size_t total = cp_count(text, len);
	size_t from, to;
	char *msg = NULL, note[200];
	int w;
	enum moat_rc rc = MOAT_OK;

	note[0] = '\0';
	if ((size_t)start >= total) {
		w = asprintf(&msg, "%sContents of %s:\n<error>No more content available.</error>",
			     prefix, url);
	} else {
		from = cp_offset(text, len, (size_t)start);
		to = from + cp_offset(text + from, len - from, (size_t)max_len);
		if (to < len)
			snprintf(note, sizeof(note),
				 "\n\n<error>Content truncated. Call the fetch tool with a start_index "
				 "of %zu to get more content.</error>",
				 (size_t)start + (size_t)max_len);
		w = asprintf(&msg, "%sContents of %s:\n%.*s%s", prefix, url, (int)(to - from),
			     text + from, note);
	}
	if (w < 0)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	if (tool_result_text(out, msg))
		rc = moat_err_set(err, MOAT_ENOMEM, "out of memory");
	free(msg);
	return rc;
}

/* A binary response, base64 in an embedded resource. */
static enum moat_rc binary_result(const struct fetch_cfg *c, const struct http_response *r,
				  struct tool_result *out, struct moat_err *err)
{
	char *enc = text_base64((const unsigned char *)r->body, r->body_len), mime[128];
	json_t *block;

	if (!enc)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	http_sniff_mime(c->fam, r->body, r->body_len, mime, sizeof(mime));
	block = json_pack("{s:s, s:{s:s, s:s, s:s}}", "type", "resource", "resource", "uri",
			  r->final_url ? r->final_url : "", "mimeType", mime, "blob", enc);
	free(enc);
	if (!block || (!out->content && !(out->content = json_array())) ||
	    json_array_append_new(out->content, block) != 0)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	return MOAT_OK;
}

/* ---- the tool ----------------------------------------------------------- */

static json_int_t int_arg(const json_t *args, const char *key, json_int_t def)
{
	json_t *v = json_object_get(args, key);

	return json_is_integer(v) ? json_integer_value(v) : def;
}

static enum moat_rc fetch_tool(struct call_ctx *ctx, void *data, json_t *args,
			       struct tool_result *out, struct moat_err *err)
{
	const struct fetch_cfg *c = data;
	const char *url = json_string_value(json_object_get(args, "url"));
	json_int_t max_len = int_arg(args, "max_length", 5000);
	json_int_t start = int_arg(args, "start_index", 0);
	bool raw = json_is_true(json_object_get(args, "raw"));
	struct http_request rq = {
		.method = "GET",
		.url = url,
		.policy = &c->policy,
		.follow_redirects = true,
		.timeout_ms = c->timeout_ms,
		.max_response_bytes = c->max_bytes,
		.ca = c->ca ? c->ca : c->fam->ca_default,
		.ca_len = c->ca ? c->ca_len : c->fam->ca_default_len,
		.user_agent = c->user_agent ? c->user_agent : c->fam->user_agent,
		.cfg = c->fam->cfg,
	};
	struct http_response r = {0};
	char *text = NULL;
	size_t tlen = 0;
	enum moat_rc rc;

	if ((rc = http_perform(&rq, ctx, &r, err)))
		goto out;
	if (r.status >= 400) {
		rc = moat_err_set(err, MOAT_EUPSTREAM, "failed to fetch: %s answered HTTP %ld", r.host,
				  r.status);
		goto out;
	}
	if (!raw && is_html(&r)) {
		if ((rc = htext_convert(r.body, r.body_len, r.final_url, c->max_bytes, ctx, &text,
					&tlen, NULL, err)))
			goto out;
		rc = page_text(url, "", text, tlen, start, max_len, out, err);
	} else if (is_text(r.content_type) &&
		   (r.content_type || !memchr(r.body, '\0', r.body_len))) {
		char prefix[256];
		text = http_utf8_repair(r.body, r.body_len, latin1_charset(r.charset), &tlen);
		if (!text) {
			rc = moat_err_set(err, MOAT_ENOMEM, "out of memory");
			goto out;
		}
		/* As the reference says it for everything it does not simplify. */
		snprintf(prefix, sizeof(prefix),
			 "Content type %s%s%s cannot be simplified to markdown, but here is the raw "
			 "content:\n",
			 r.content_type ? r.content_type : "", r.charset ? "; charset=" : "",
			 r.charset ? r.charset : "");
		rc = page_text(url, prefix, text, tlen, start, max_len, out, err);
	} else if (raw) {
		rc = binary_result(c, &r, out, err);
	} else {
		rc = moat_err_rule(err, MOAT_EINVAL, "http.binary_content",
				   "refused: %s returned binary content (%.80s); call fetch with "
				   "raw=true to get it base64-encoded", r.host,
				   r.content_type ? r.content_type : "untyped");
	}
out:
	if (text) {
		explicit_bzero(text, tlen);
		free(text);
	}
	http_response_free(&r);
	return rc;
}

#define FETCH_DESC                                                                             \
	"Fetches a URL from the internet and optionally extracts its contents as markdown.\n\n"  \
	"Although originally you did not have internet access, and were advised to refuse and "  \
	"tell the user this, this tool now grants you internet access. Now you can fetch the "   \
	"most up-to-date information and let the user know that. Only public addresses are "     \
	"reachable; the server refuses private, loopback and link-local ones."

#define FETCH_SCHEMA                                                                           \
	"{\"type\":\"object\",\"properties\":{"                                                \
	"\"url\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":8192,\"description\":"      \
	"\"URL to fetch\"},"                                                                   \
	"\"max_length\":{\"type\":\"integer\",\"exclusiveMinimum\":0,\"exclusiveMaximum\":"     \
	"1000000,\"default\":5000,\"description\":\"Maximum number of characters to return.\"},"  \
	"\"start_index\":{\"type\":\"integer\",\"minimum\":0,\"default\":0,\"description\":"    \
	"\"On return output starting at this character index, useful if a previous fetch was "  \
	"truncated and more context is required.\"},"                                          \
	"\"raw\":{\"type\":\"boolean\",\"default\":false,\"description\":\"Get the actual HTML "  \
	"content of the requested page, without simplification.\"}},"                         \
	"\"required\":[\"url\"],\"additionalProperties\":false}"

enum moat_rc fetch_register(struct registry *reg, struct http_family *fam, const json_t *section,
			    struct moat_err *err)
{
	struct fetch_cfg *c;
	json_t *in = NULL, *v;
	enum moat_rc rc;
	size_t i;

	if (!section || json_is_false(section))
		return MOAT_OK;
	c = calloc(1, sizeof(*c));
	if (!c)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	c->fam = fam;
	c->timeout_ms = FETCH_DEFAULT_TIMEOUT_MS;
	c->max_bytes = FETCH_DEFAULT_MAX_BYTES;
	c->policy.allow_http = true;
	if (json_is_object(section)) {
		if ((v = json_object_get(section, "timeout_ms")))
			c->timeout_ms = (uint32_t)json_integer_value(v);
		if ((v = json_object_get(section, "max_response_bytes")))
			c->max_bytes = (size_t)json_integer_value(v);
		if ((v = json_object_get(section, "allow_http")))
			c->policy.allow_http = json_is_true(v);
		if ((v = json_object_get(section, "user_agent")) &&
		    !(c->user_agent = strdup(json_string_value(v)))) {
			rc = moat_err_set(err, MOAT_ENOMEM, "out of memory");
			goto fail;
		}
		json_array_foreach(json_object_get(section, "ports"), i, v) {
			if (c->nports < sizeof(c->ports) / sizeof(c->ports[0]))
				c->ports[c->nports++] = (uint16_t)json_integer_value(v);
		}
		if ((rc = http_policy_nets(json_object_get(section, "allow_addresses"), &c->nets,
					   &c->nnets, err)) ||
		    (rc = host_list(json_object_get(section, "allow_hosts"), "allow_hosts",
				    &c->allow_hosts, &c->nallow, err)) ||
		    (rc = host_list(json_object_get(section, "deny_hosts"), "deny_hosts",
				    &c->deny_hosts, &c->ndeny, err)))
			goto fail;
		if ((v = json_object_get(section, "ca_file")) &&
		    (rc = http_read_file(json_string_value(v), (size_t)16 << 20, &c->ca, &c->ca_len,
					 err)))
			goto fail;
	}
	if (c->nports == 0) {
		c->ports[c->nports++] = 80;
		c->ports[c->nports++] = 443;
	}
	c->policy.allow = c->nets;
	c->policy.nallow = c->nnets;
	c->policy.ports = c->ports;
	c->policy.nports = c->nports;
	c->policy.host_ok = fetch_host_ok;
	c->policy.host_ok_data = c;
	for (i = 0; i < c->nports; i++)
		if ((rc = registry_grant_port(reg, c->ports[i], err)))
			goto fail;
	in = json_loads(FETCH_SCHEMA, 0, NULL);
	if (!in) {
		rc = moat_err_set(err, MOAT_EINTERNAL, "fetch: bad input schema");
		goto fail;
	}
	struct tool_spec spec = {
		.name = "fetch",
		.title = "Fetch",
		.description = FETCH_DESC,
		.input_schema = in,
		.annotations = {.read_only = HINT_TRUE, .destructive = HINT_FALSE,
				.idempotent = HINT_TRUE, .open_world = HINT_TRUE},
		.handler = fetch_tool,
		.data = c,
	};
	rc = registry_add(reg, &spec, err);
	json_decref(in);
	if (rc)
		goto fail;
	fetch_state = c;
	return MOAT_OK;
fail:
	cfg_free(c);
	return rc;
}
