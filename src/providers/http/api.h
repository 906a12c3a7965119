/*
 * api.h - what the files of the declared API tools share: an API and
 * its tools (or grouped operations) as parsed from the config's
 * "http.apis" (api_config.c, api_tool.c, api_grouped.c) and the tool
 * handlers that use them (api.c, api_grouped.c).
 *
 * Built single-threaded at start-up, read-only afterwards; the cache and
 * the rate limiter inside lock themselves.
 */
#ifndef MOAT_PROVIDERS_HTTP_API_H
#define MOAT_PROVIDERS_HTTP_API_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "callctx.h"
#include "egress.h"
#include "http.h"
#include "limits_cfg.h"
#include "resp_cache.h"
#include "schema.h"

enum api_response { RESP_JSON, RESP_TEXT, RESP_BINARY };

struct api;
struct api_group;

struct api_tool {
	struct api *api;
	char *name;
	char *title;          /* may be NULL */
	char *description;
	char *method;
	char *path;
	json_t *query;        /* owned; may be NULL */
	json_t *headers;      /* owned; header name -> template; may be NULL */
	json_t *body;         /* owned; may be NULL */
	bool form;            /* body_format "form": x-www-form-urlencoded */
	bool confirm;         /* the person confirms each call */
	bool write;           /* not GET/HEAD */
	json_t *tags;         /* owned; array of strings; may be NULL */
	json_t *input_schema; /* owned (a grouped operation's, for its schema
				 tool); NULL for a declared tool */
	struct schema *input; /* owned: a grouped operation's compiled input
				 schema (the registry checks a tool's) */
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
	char *host;           /* canonical (hostname.h): the only host its
				 headers (credentials) are sent to */
	char **headers;       /* "Name: value", NULL-terminated */
	size_t nheaders;
	/* "query": credential parameters added to every request, already
	 * encoded ("api_key=..."); secrets, wiped at exit. cred_names and
	 * cred_values (NULL-terminated, encoded) let a redirect to another
	 * origin drop them (http_request.strip_query). */
	char *cred_query;     /* NULL: none */
	char **cred_names;
	char **cred_values;
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
	bool shared;          /* cache.shared: also in the cluster's store */
	int retries;
	uint32_t base_ms, max_ms;
	char *ca;
	size_t ca_len;
	struct http_family *fam;
	struct api_tool *tools;
	size_t ntools;
	/* The grouped form ("operations"): the operations (never registered
	 * as tools) and the four tools that serve them (api_grouped.c). */
	struct api_tool *ops;
	size_t nops;
	struct api_group *group;
};

/*
 * api_tool_parse - fill t (zeroed by the caller) from tc, one item of an
 * API's "tools" or "operations", and check it (templates against the
 * input schema's properties, headers, confirm, body_format); an error
 * starts with kind ("tool", "operation") and the name. *in_out is
 * the input schema to register (borrowed from tc, or a new empty one the
 * caller releases with json_decref). Start-up only.
 */
enum moat_rc api_tool_parse(struct api *a, struct api_tool *t, const json_t *tc, const char *kind,
			    json_t **in_out, struct moat_err *err);

/* api_tool_free - release what t owns. */
void api_tool_free(struct api_tool *t);

/*
 * api_group_register - register the grouped tools of a (NAME_operations,
 * NAME_operation_schema, NAME_call and, when an operation writes,
 * NAME_call_write) for its "operations" array ops. Start-up only.
 */
enum moat_rc api_group_register(struct registry *reg, struct api *a, const json_t *ops,
				struct moat_err *err);

/* api_group_free - release a->group (api_grouped.c). */
void api_group_free(struct api *a);

/* api_describe_one - the lines `moat check` prints for API a: its tools
 * (or grouped operations) with method, path, write and confirm, the
 * environment variables it reads (names only), its host and whether it
 * writes (api_describe.c). */
void api_describe_one(const struct api *a, FILE *f);

/* api_idempotent - GET, HEAD, PUT, DELETE and OPTIONS (retried, hinted). */
bool api_idempotent(const char *method);

/* api_read_only - GET and HEAD: a call that changes nothing upstream (no
 * cache clearing; a shared limit may fall back while the store is down). */
bool api_read_only(const char *method);

/* api_call - the tool handler (tool_spec.handler); data is the api_tool. */
enum moat_rc api_call(struct call_ctx *ctx, void *data, json_t *args, struct tool_result *out,
		      struct moat_err *err);

/* api_fast - tool_spec.fast for a cacheable GET: answers from the cache
 * when it can. */
bool api_fast(struct call_ctx *ctx, void *data, json_t *args, struct tool_result *out,
	      enum moat_rc *rc, struct moat_err *err);

#endif
