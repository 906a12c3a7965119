/*
 * api.h - what the two files of the declared API tools share: an API and
 * its tools as parsed from the config's "http.apis" (api_config.c) and the
 * tool handlers that use them (api.c).
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

#include "callctx.h"
#include "egress.h"
#include "http.h"
#include "limits_cfg.h"
#include "resp_cache.h"
#include "schema.h"

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
	char *host;           /* canonical (hostname.h): the only host its
				 headers (credentials) are sent to */
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
	bool shared;          /* cache.shared: also in the cluster's store */
	int retries;
	uint32_t base_ms, max_ms;
	char *ca;
	size_t ca_len;
	struct http_family *fam;
	struct api_tool *tools;
	size_t ntools;
};

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
