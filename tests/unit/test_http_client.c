/*
 * test_http_client.c - unit tests for src/providers/http/http_client.c:
 * a name is resolved once, by the egress guard, and the connection goes to
 * the address it vetted (libcurl never resolves it again), and an answer
 * the guard refuses never gets a connection.
 *
 * A one-shot HTTP server on 127.0.0.1 (a thread) stands in for the
 * upstream; the guard's resolver hook answers for the name "pinned.test",
 * which no real DNS knows: a request that succeeds was pinned.
 *
 * Also: the host every rule sees is canonical (a host_ok callback and the
 * audit's "host" get "pinned.test" for "PINNED.TEST."), a declared API's
 * credentials never leave for another host (http.credentials_other_host)
 * and its query credentials are taken out of a URL bound elsewhere,
 * and a secret is never shown in part where upstream text or a message is
 * cut (excerpt.h, config_scrub), at every offset around the cut.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "http/excerpt.h"
#include "http/http.h"

static int resolver_calls;
static const char *resolver_answer = "127.0.0.1";

static int fake_resolver(const char *host, struct sockaddr_storage *out, size_t max,
			 const char **why)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&out[0];

	resolver_calls++;
	if (strcmp(host, "pinned.test") != 0 || max < 1) {
		*why = "unknown name";
		return -1;
	}
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	inet_pton(AF_INET, resolver_answer, &sin->sin_addr);
	return 1;
}

struct server {
	int fd;
	uint16_t port;
	int accepted;
	pthread_t thread;
};

/* Accept one connection, read the request, answer 200 "pinned". */
static void *serve_once(void *arg)
{
	struct server *s = arg;
	const char *answer = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\n"
			     "Connection: close\r\n\r\npinned";
	char buf[4096];
	int c = accept(s->fd, NULL, NULL);

	if (c < 0)
		return NULL;
	s->accepted++;
	if (read(c, buf, sizeof(buf)) > 0 && write(c, answer, strlen(answer)) < 0)
		s->accepted = -1; /* the test then fails on the count */
	close(c);
	return NULL;
}

static void server_start(struct server *s)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof(a);

	memset(s, 0, sizeof(*s));
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	s->fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(s->fd >= 0);
	assert_int_equal(bind(s->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(s->fd, 4), 0);
	assert_int_equal(getsockname(s->fd, (struct sockaddr *)&a, &len), 0);
	s->port = ntohs(a.sin_port);
	assert_int_equal(pthread_create(&s->thread, NULL, serve_once, s), 0);
}

static void server_stop(struct server *s)
{
	shutdown(s->fd, SHUT_RDWR);
	close(s->fd);
	pthread_join(s->thread, NULL);
}

static void test_resolved_once_and_pinned(void **state)
{
	struct egress_net allow;
	struct moat_err err = {0};
	struct egress_policy pol = {.allow = &allow, .nallow = 1, .allow_http = true};
	struct http_response r = {0};
	struct call_ctx ctx;
	struct server s;
	char url[128];
	struct http_request rq = {.method = "GET", .url = url, .policy = &pol,
				  .follow_redirects = true, .timeout_ms = 5000,
				  .max_response_bytes = 1024};

	(void)state;
	assert_int_equal(egress_parse_net("127.0.0.1", &allow, &err), MOAT_OK);
	server_start(&s);
	snprintf(url, sizeof(url), "http://pinned.test:%u/x", (unsigned)s.port);
	callctx_init(&ctx, "t", 5000, 1 << 20);
	resolver_calls = 0;
	resolver_answer = "127.0.0.1";
	assert_int_equal(http_perform(&rq, &ctx, &r, &err), MOAT_OK);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "pinned");
	assert_int_equal(resolver_calls, 1);
	assert_int_equal(s.accepted, 1);
	http_response_free(&r);
	callctx_release(&ctx);
	server_stop(&s);
}

static void test_refused_answer_never_connects(void **state)
{
	struct egress_policy pol = {.allow_http = true}; /* nothing non-public allowed */
	struct moat_err err = {0};
	struct http_response r = {0};
	struct call_ctx ctx;
	struct server s;
	char url[128];
	struct http_request rq = {.method = "GET", .url = url, .policy = &pol,
				  .timeout_ms = 2000, .max_response_bytes = 1024};

	(void)state;
	server_start(&s);
	snprintf(url, sizeof(url), "http://pinned.test:%u/x", (unsigned)s.port);
	callctx_init(&ctx, "t", 5000, 1 << 20);
	resolver_calls = 0;
	assert_int_equal(http_perform(&rq, &ctx, &r, &err), MOAT_EDENIED);
	assert_non_null(strstr(err.msg, "loopback"));
	assert_int_equal(resolver_calls, 1);
	http_response_free(&r);
	callctx_release(&ctx);
	server_stop(&s);
	assert_int_equal(s.accepted, 0);
}

/* host_ok: records what it saw; refuses "pinned.test" when deny is set. */
static char seen_host[EGRESS_HOST_MAX];
static bool deny_pinned;

static bool host_ok(const void *data, const char *host, const char **why, const char **rule)
{
	(void)data;
	snprintf(seen_host, sizeof(seen_host), "%s", host);
	if (deny_pinned && strcmp(host, "pinned.test") == 0) {
		*why = "on the test's deny list";
		*rule = "egress.denied_host";
		return false;
	}
	return true;
}

static void test_hosts_are_canonical(void **state)
{
	static const char *const spellings[] = {"PINNED.TEST.", "Pinned.Test", "pinned.test.",
						"pInNeD.tEsT"};
	struct egress_net allow;
	struct moat_err err = {0};
	struct egress_policy pol = {.allow = &allow, .nallow = 1, .allow_http = true,
				    .host_ok = host_ok};
	char url[128];
	struct http_request rq = {.method = "GET", .url = url, .policy = &pol, .timeout_ms = 2000,
				  .max_response_bytes = 1024};

	(void)state;
	assert_int_equal(egress_parse_net("127.0.0.1", &allow, &err), MOAT_OK);
	deny_pinned = true;
	for (size_t i = 0; i < sizeof(spellings) / sizeof(spellings[0]); i++) {
		struct http_response r = {0};
		struct call_ctx ctx;
		struct server s;
		server_start(&s);
		snprintf(url, sizeof(url), "http://%s:%u/x?key=v", spellings[i], (unsigned)s.port);
		callctx_init(&ctx, "t", 5000, 1 << 20);
		memset(&err, 0, sizeof(err));
		resolver_calls = 0;
		assert_int_equal(http_perform(&rq, &ctx, &r, &err), MOAT_EDENIED);
		assert_string_equal(seen_host, "pinned.test");
		assert_int_equal(resolver_calls, 0); /* refused before any lookup */
		assert_non_null(err.rule);
		assert_string_equal(err.rule, "egress.denied_host");
		assert_null(strstr(err.msg, "key=v"));
		/* the audit trail gets the canonical host, refused or not */
		assert_string_equal(json_string_value(json_object_get(ctx.touched, "host")),
				    "pinned.test");
		http_response_free(&r);
		callctx_release(&ctx);
		server_stop(&s);
		assert_int_equal(s.accepted, 0);
	}
	deny_pinned = false;
}

static void test_credentials_stay_home(void **state)
{
	struct egress_net allow;
	struct moat_err err = {0};
	struct egress_policy pol = {.allow = &allow, .nallow = 1, .allow_http = true};
	static const char *const hdrs[] = {"Authorization: Bearer k", NULL};
	char url[128];
	struct http_request rq = {.method = "GET", .url = url, .policy = &pol, .timeout_ms = 2000,
				  .max_response_bytes = 1024, .headers = hdrs,
				  .headers_are_credentials = true, .origin_host = "api.test"};
	struct http_response r = {0};
	struct call_ctx ctx;
	struct server s;

	(void)state;
	assert_int_equal(egress_parse_net("127.0.0.1", &allow, &err), MOAT_OK);
	server_start(&s);
	rq.origin_port = s.port;
	snprintf(url, sizeof(url), "http://pinned.test:%u/x", (unsigned)s.port);
	callctx_init(&ctx, "t", 5000, 1 << 20);
	assert_int_equal(http_perform(&rq, &ctx, &r, &err), MOAT_EDENIED);
	assert_string_equal(err.rule, "http.credentials_other_host");
	http_response_free(&r);
	callctx_release(&ctx);
	server_stop(&s);
	assert_int_equal(s.accepted, 0);

	/* the same host in another spelling is the API's own host */
	server_start(&s);
	rq.origin_host = "pinned.test";
	rq.origin_port = s.port;
	snprintf(url, sizeof(url), "http://PINNED.test.:%u/x", (unsigned)s.port);
	callctx_init(&ctx, "t", 5000, 1 << 20);
	memset(&err, 0, sizeof(err));
	assert_int_equal(http_perform(&rq, &ctx, &r, &err), MOAT_OK);
	assert_int_equal(r.status, 200);
	http_response_free(&r);
	callctx_release(&ctx);
	server_stop(&s);
	assert_int_equal(s.accepted, 1);
}

/* ---- query credentials after a redirect elsewhere ------------------------ */

static void strip_is(const char *url, const char *want)
{
	static const char *const names[] = {"api_key", "sig", NULL};
	char buf[256];

	snprintf(buf, sizeof(buf), "%s", url);
	http_query_strip(buf, names);
	assert_string_equal(buf, want);
}

static void test_query_strip(void **state)
{
	(void)state;
	strip_is("http://h/x?api_key=S", "http://h/x");
	strip_is("http://h/x?api_key=S&moved=1", "http://h/x?moved=1");
	strip_is("http://h/x?a=1&api_key=S&b=2", "http://h/x?a=1&b=2");
	strip_is("http://h/x?a=1&api_key=S", "http://h/x?a=1");
	strip_is("http://h/x?api_key=S&api_key=T&sig=U", "http://h/x");
	strip_is("http://h/x?api_key", "http://h/x");
	strip_is("http://h/x?api_key=S#frag", "http://h/x#frag");
	strip_is("http://h/x?a=1&sig=S#f?api_key=1", "http://h/x?a=1#f?api_key=1");
	/* only those names, exactly */
	strip_is("http://h/x?api_key2=S&xapi_key=T&API_KEY=U", "http://h/x?api_key2=S&xapi_key=T&API_KEY=U");
	strip_is("http://h/x?a=api_key&b=1", "http://h/x?a=api_key&b=1");
	strip_is("http://h/x?&&api_key=S&&b=1&", "http://h/x?b=1");
	strip_is("http://h/x", "http://h/x");
	strip_is("http://h/x?", "http://h/x");
	http_query_strip(NULL, NULL);
}

static void add_is(const char *url, const char *pairs, const char *want)
{
	struct moat_err err = {0};
	char *u = strdup(url);

	assert_int_equal(http_query_add(&u, pairs, &err), MOAT_OK);
	assert_string_equal(u, want);
	free(u);
}

static void test_query_add(void **state)
{
	(void)state;
	add_is("http://h/x", "api_key=S", "http://h/x?api_key=S");
	add_is("http://h/x?a=1", "api_key=S&k=2", "http://h/x?a=1&api_key=S&k=2");
	add_is("http://h/x?", "api_key=S", "http://h/x?api_key=S");
	add_is("http://h/x?a=1&", "api_key=S", "http://h/x?a=1&api_key=S");
	add_is("http://h/x#f", "api_key=S", "http://h/x?api_key=S#f");
	add_is("http://h/x?a=1#f?z", "api_key=S", "http://h/x?a=1&api_key=S#f?z");
	add_is("http://h/x", "", "http://h/x");
}

/* ---- secrets at a cut ---------------------------------------------------- */

#define SECRET "sk-LIVE-0123456789ABCDEFGHIJ"

/* No run of 4 or more bytes of the secret appears in text. */
static void assert_no_fragment(const char *text, const char *secret, size_t at)
{
	size_t sl = strlen(secret);

	for (size_t i = 0; i + 4 <= sl; i++) {
		char frag[64];
		snprintf(frag, sizeof(frag), "%.*s", 4, secret + i);
		if (strstr(text, frag))
			fail_msg("secret at offset %zu: fragment '%s' shows in '%s'", at, frag, text);
	}
}

static void test_excerpt_every_offset(void **state)
{
	char *secs[] = {SECRET, "short-but-ok"};
	struct moat_config cfg = {.secrets = secs, .nsecrets = 2};
	const size_t sl = strlen(SECRET), max = 300;
	char body[1024];

	(void)state;
	/* The secret at every offset from well before the cut to past it, in
	 * plain text, after bytes that expand (invalid UTF-8 becomes 3 bytes)
	 * and after control bytes. */
	for (int variant = 0; variant < 3; variant++) {
		for (size_t at = 0; at < max + 10; at++) {
			bool cut = false;
			size_t n;
			char *ex;
			memset(body, '.', sizeof(body));
			if (variant == 1)
				memset(body, 0xFF, at / 2);
			if (variant == 2)
				memset(body, '\n', at);
			memcpy(body + at, SECRET, sl);
			n = at + sl + 200 > max + 50 ? at + sl + 200 : max + 50;
			ex = excerpt_make(&cfg, body, n, max, &cut);
			assert_non_null(ex);
			assert_true(strlen(ex) <= max);
			assert_true(cut);
			assert_no_fragment(ex, SECRET, at);
			for (const char *c = ex; *c; c++)
				assert_true((unsigned char)*c >= 0x20);
			free(ex);
		}
	}
	/* The body itself ends in part of a secret (the upstream cut it). */
	for (size_t k = 1; k < sl; k++) {
		bool cut = true;
		char *ex;
		memset(body, '.', 20);
		memcpy(body + 20, SECRET, k);
		ex = excerpt_make(&cfg, body, 20 + k, max, &cut);
		assert_non_null(ex);
		assert_false(cut);
		if (k >= 4)
			assert_no_fragment(ex, SECRET, k);
		free(ex);
	}
	/* Whole copies anywhere are masked; other text is kept. */
	char *ex = excerpt_make(&cfg, "a " SECRET " b short-but-ok c", 47, max, NULL);
	assert_string_equal(ex, "a **** b **** c");
	free(ex);
	ex = excerpt_make(NULL, "plain\ttext", 10, 5, NULL);
	assert_string_equal(ex, "plain");
	free(ex);
	/* A cut never splits a character. */
	ex = excerpt_make(&cfg, "ab\xC3\xA9", 4, 3, NULL);
	assert_string_equal(ex, "ab");
	free(ex);
}

/* The same class one level up: a message cut at moat_err's 512 bytes and
 * then scrubbed (server.c does this for every error) shows no part of a
 * secret straddling the cut. */
static void test_cut_message_scrubbed(void **state)
{
	char *secs[] = {SECRET};
	struct moat_config cfg = {.secrets = secs, .nsecrets = 1};
	char pad[MOAT_ERR_MSG_MAX];
	const size_t sl = strlen(SECRET);

	(void)state;
	for (size_t at = MOAT_ERR_MSG_MAX - sl - 4; at < MOAT_ERR_MSG_MAX; at++) {
		struct moat_err err = {0};
		memset(pad, 'x', at);
		pad[at] = '\0';
		moat_err_set(&err, MOAT_EUPSTREAM, "%s%s tail", pad, SECRET);
		config_scrub(&cfg, err.msg, sizeof(err.msg));
		assert_no_fragment(err.msg, SECRET, at);
		excerpt_scrub(&cfg, err.msg, sizeof(err.msg));
		assert_no_fragment(err.msg, SECRET, at);
	}
}

static int setup(void **state)
{
	struct moat_err err = {0};

	(void)state;
	egress_set_resolver(fake_resolver);
	return http_client_init(&err) == MOAT_OK ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	egress_set_resolver(NULL);
	http_client_fini();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resolved_once_and_pinned),
		cmocka_unit_test(test_refused_answer_never_connects),
		cmocka_unit_test(test_hosts_are_canonical),
		cmocka_unit_test(test_credentials_stay_home),
		cmocka_unit_test(test_query_strip),
		cmocka_unit_test(test_query_add),
		cmocka_unit_test(test_excerpt_every_offset),
		cmocka_unit_test(test_cut_message_scrubbed),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
