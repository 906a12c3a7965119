/*
 * http.h - what the http family's files share: the family's state, the
 * HTTP client every request goes through, and the two tool groups (fetch,
 * declared API tools).
 *
 * Every request is made by http_perform(): the URL is vetted by the egress
 * guard (egress.h) on every hop, the vetted addresses are pinned, redirects
 * are followed here (never by libcurl), at most HTTP_MAX_REDIRECTS, each
 * re-vetted, never from https to http, and the caller's credential headers
 * and query parameters go only to the first hop's origin. libcurl runs with its own redirect
 * following, proxies from the environment, .netrc and cookies all off,
 * TLS 1.2 or newer with peer and host verification always on, and the CA
 * bundle loaded into memory at start-up (the sandbox leaves no way to read
 * it later). Responses are read into memory up to a byte bound, and the
 * transfer is cut at the call's deadline or when the client cancels.
 *
 * Start-up (http_family_init and the registration functions) is
 * single-threaded; http_perform is thread-safe (one libcurl handle per
 * thread, kept for connection reuse).
 */
#ifndef MOAT_PROVIDERS_HTTP_HTTP_H
#define MOAT_PROVIDERS_HTTP_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "callctx.h"
#include "config.h"
#include "egress.h"
#include "registry.h"
#include "result.h"

#define HTTP_MAX_REDIRECTS 5

/* The family's state, built at start-up, read-only afterwards. */
struct http_family {
	char *ca_default;     /* the system CA bundle's bytes; owned */
	size_t ca_default_len;
	void *magic;          /* libmagic cookie (magic_t), guarded by magic_lock */
	void *magic_lock;     /* pthread_mutex_t *, owned */
	char *user_agent;     /* default User-Agent; owned */
	const struct moat_config *cfg; /* borrowed: its secrets are masked in
					  every excerpt of upstream text */
};

/* One request. Everything is borrowed for the call's duration. */
struct http_request {
	const char *method;          /* "GET", "POST", ... */
	const char *url;             /* absolute http(s) URL */
	const char *const *headers;  /* "Name: value" lines, NULL-terminated; may be NULL */
	bool headers_are_credentials; /* drop headers when a redirect leaves the origin */
	const char *body;            /* may be NULL */
	size_t body_len;
	const char *content_type;    /* of the body; NULL: none */
	const struct egress_policy *policy;
	bool follow_redirects;
	uint32_t timeout_ms;         /* this request (the call's deadline also applies) */
	size_t max_response_bytes;
	const char *ca;              /* CA bundle bytes (PEM) */
	size_t ca_len;
	const char *user_agent;
	/* When set (a declared API: its credentials), the first hop must go to
	 * this canonical host and port, else the request is refused
	 * (http.credentials_other_host) before anything is sent; later hops
	 * elsewhere go without the headers (headers_are_credentials). */
	const char *origin_host;
	uint16_t origin_port;
	/* Credentials in the query string (a declared API's "query"): the
	 * encoded parameter names and values, NULL-terminated (may be NULL),
	 * and the "name=value&..." text the first URL ends with. A hop to
	 * another origin goes with every parameter of those names taken out
	 * of its URL, and is refused (http.credentials_other_host) if a value
	 * still shows anywhere in it; a hop that stays at the first origin
	 * (and never left it) gets them again, as it gets the headers, in
	 * place of any the upstream wrote. */
	const char *const *cred_query_names;
	const char *const *cred_query_values;
	const char *cred_query;
	const struct moat_config *cfg; /* its secrets are masked in what the
					  request records (may be NULL) */
};

/* What came back. Owned; http_response_free wipes and frees. */
struct http_response {
	long status;
	char *content_type;   /* lower-cased media type without parameters, or NULL */
	char *charset;        /* the charset parameter, or NULL */
	char *body;           /* NUL-terminated */
	size_t body_len;
	char *final_url;      /* the URL that answered (after redirects) */
	long retry_after_s;   /* Retry-After in seconds, -1 when absent */
	char host[EGRESS_HOST_MAX]; /* the host that answered, for messages */
};

/*
 * http_perform - make rq (following redirects when asked) and fill out.
 * An HTTP status of any value is success here (the caller decides); errors
 * are for refusals by the egress guard (MOAT_EDENIED), limits (MOAT_ELIMIT:
 * response too large), the deadline and cancellation (MOAT_ETIMEOUT,
 * MOAT_ECANCELLED) and transport failures (MOAT_EUPSTREAM: connection,
 * TLS, protocol). Messages name the host but never the query, user info
 * or a header value. out must be freed with http_response_free in every
 * case. Refusals carry a rule id (the egress guard's, egress.redirect for
 * a redirect from https to http, limits.redirects, limits.response_bytes,
 * egress.unvetted_address, http.credentials_other_host, and host_ok's).
 * Records the first hop's canonical host in ctx as touched "host" (also
 * when a later rule refused it). Each hop checks the call's deadline and
 * cancellation first. Thread-safe.
 */
enum moat_rc http_perform(const struct http_request *rq, struct call_ctx *ctx,
			  struct http_response *out, struct moat_err *err);

/* http_query_strip - remove from the URL u (NUL-terminated, edited in
 * place) every query parameter whose name, as written, is one of names
 * (NULL-terminated, may be NULL); the fragment is kept, and a '?' left
 * with nothing after it goes too. Pure; thread-safe. */
void http_query_strip(char *u, const char *const *names);

/* http_query_add - append pairs ("a=1&b=2", already encoded) to the
 * query of the URL *u (heap; replaced by a new one), before any fragment.
 * MOAT_ENOMEM leaves *u as it was. Thread-safe. */
enum moat_rc http_query_add(char **u, const char *pairs, struct moat_err *err);

/* http_utf8_repair - a copy of s[0..n) with every invalid UTF-8 sequence
 * (and NUL) replaced by U+FFFD; latin1 true reads the bytes as ISO-8859-1
 * instead. NUL-terminated, length in *out_len; NULL on ENOMEM. */
char *http_utf8_repair(const char *s, size_t n, bool latin1, size_t *out_len);

/* http_touch - callctx_touch(ctx, key, value) with every secret of cfg
 * (may be NULL) masked first: config strings (a base_url, a path template)
 * may hold ${NAME} values, and the audit trail must not. */
void http_touch(struct call_ctx *ctx, const struct moat_config *cfg, const char *key,
		const char *value);

/* http_response_free - wipe (explicit_bzero) and free out's buffers. */
void http_response_free(struct http_response *out);

/* http_client_init / http_client_fini - libcurl's global state (start-up
 * and exit only). */
enum moat_rc http_client_init(struct moat_err *err);
void http_client_fini(void);

/* http_sniff_mime - the MIME type libmagic sees in buf[0..len) (from its
 * content, never a name), into out (size n). Thread-safe. */
void http_sniff_mime(const struct http_family *fam, const char *buf, size_t len, char *out,
		     size_t n);

/* http_read_file - read a whole small file (a CA bundle) at start-up into
 * a new buffer. */
enum moat_rc http_read_file(const char *path, size_t max, char **out, size_t *len,
			    struct moat_err *err);

/* http_policy_parse - fill an egress policy's allow list from a config
 * array of strings (may be NULL); *nets is owned by the caller. */
enum moat_rc http_policy_nets(const json_t *arr, struct egress_net **nets, size_t *n,
			      struct moat_err *err);

/* Tool groups: fetch (section = config "http.fetch") and the declared APIs
 * (section = config "http.apis"). They record the ports they connect to
 * with registry_grant_port. */
enum moat_rc fetch_register(struct registry *reg, struct http_family *fam, const json_t *section,
			    struct moat_err *err);
void fetch_fini(void);
void fetch_describe(FILE *f);
enum moat_rc api_register(struct registry *reg, struct http_family *fam, const json_t *section,
			  struct moat_err *err);
void api_fini(void);
void api_describe(FILE *f);

#endif
