/*
 * test_httpd.c - unit tests for the parsing and checking parts of the
 * HTTP transport (src/transport/http/): listen addresses, the listen
 * section's cross-key rules, the Host and Origin allowlists, media-type
 * lists, SSE framing and the per-address rate limit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "http_config.h"
#include "httpd_int.h"

static void test_addr_parse(void **state)
{
	struct httpd_addr a;
	char why[160];

	assert_true(httpd_addr_parse("127.0.0.1:8765", &a, why, sizeof(why)));
	assert_string_equal(a.host, "127.0.0.1");
	assert_int_equal(a.port, 8765);
	assert_true(a.loopback);
	assert_false(a.v6);
	assert_true(httpd_addr_parse("localhost:0", &a, why, sizeof(why)));
	assert_string_equal(a.host, "127.0.0.1");
	assert_int_equal(a.port, 0);
	assert_true(httpd_addr_parse("[::1]:80", &a, why, sizeof(why)));
	assert_true(a.v6 && a.loopback);
	assert_string_equal(a.host, "::1");
	assert_true(httpd_addr_parse("127.8.9.10:1", &a, why, sizeof(why)));
	assert_true(a.loopback);
	assert_true(httpd_addr_parse("0.0.0.0:443", &a, why, sizeof(why)));
	assert_true(a.wildcard && !a.loopback);
	assert_true(httpd_addr_parse("[::]:443", &a, why, sizeof(why)));
	assert_true(a.wildcard && a.v6);
	assert_true(httpd_addr_parse("192.0.2.1:8080", &a, why, sizeof(why)));
	assert_false(a.loopback || a.wildcard);
	static const char *const bad[] = {
		"127.0.0.1",    "127.0.0.1:",      "127.0.0.1:65536", "127.0.0.1:-1",
		"::1:80",       "[::1]",           "[::1]80",         "example.com:80",
		"[127.0.0.1]:80", "127.1:80",      "1.2.3.4:8x",      ":80",
		"[::ffff:zz]:1", "127.0.0.1:+80",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(httpd_addr_parse(bad[i], &a, why, sizeof(why)));
	assert_non_null(strstr(why, "ADDRESS:PORT"));
}

static enum moat_rc load(const char *text, const char *cli, struct moat_config *cfg,
			 struct httpd_config *c, struct moat_err *err)
{
	enum moat_rc rc = config_load_text(text, strlen(text), NULL, cfg, err);

	if (rc)
		return rc;
	return httpd_config_load(cfg, cli, c, err);
}

static void test_config_rules(void **state)
{
	struct moat_config cfg;
	struct httpd_config c;
	struct moat_err err = {0};

	/* Nothing asks for HTTP: disabled, defaults filled. */
	assert_int_equal(load("{}", NULL, &cfg, &c, &err), MOAT_OK);
	assert_false(c.enabled);
	assert_int_equal(c.session_idle_s, HTTPD_DEF_SESSION_IDLE_S);
	assert_int_equal(c.session_max_lifetime_s, 86400);
	assert_int_equal(c.max_body_bytes, cfg.limits.max_message_bytes);
	config_free(&cfg);
	/* listen.session_max_lifetime_s: given, and held to 60 s .. 30 days. */
	assert_int_equal(load("{\"listen\": {\"session_max_lifetime_s\": 3600}}", NULL, &cfg, &c, &err),
			 MOAT_OK);
	assert_int_equal(c.session_max_lifetime_s, 3600);
	config_free(&cfg);
	assert_int_not_equal(load("{\"listen\": {\"session_max_lifetime_s\": 59}}", NULL, &cfg, &c, &err),
			     MOAT_OK);
	assert_int_not_equal(load("{\"listen\": {\"session_max_lifetime_s\": 2592001}}", NULL, &cfg, &c,
				  &err),
			     MOAT_OK);
	/* --http wins over listen.http. */
	assert_int_equal(load("{\"listen\": {\"http\": \"127.0.0.1:1\", \"max_sessions\": 5}}",
			      "127.0.0.1:2", &cfg, &c, &err),
			 MOAT_OK);
	assert_true(c.enabled);
	assert_int_equal(c.addr.port, 2);
	assert_int_equal(c.max_sessions, 5);
	config_free(&cfg);
	/* Off loopback: auth first, then TLS or insecure_plaintext. */
	setenv("MOAT_TEST_TOKEN", "0123456789abcdef0123456789abcdef0123456789abcdef", 1);
	assert_int_equal(load("{}", "192.0.2.1:80", &cfg, &c, &err), MOAT_EINVAL);
	assert_non_null(strstr(err.msg, "http.auth_required"));
	config_free(&cfg);
	assert_int_equal(load("{\"auth\": {\"tokens\": [{\"name\": \"a\", \"token\": \"${MOAT_TEST_TOKEN}\", \"tools\": [\"*\"]}]}}", "192.0.2.1:80", &cfg, &c, &err), MOAT_EINVAL);
	assert_non_null(strstr(err.msg, "http.tls_required"));
	config_free(&cfg);
	assert_int_equal(load("{\"auth\": {\"tokens\": [{\"name\": \"a\", \"token\": \"${MOAT_TEST_TOKEN}\", \"tools\": [\"*\"]}]}, \"listen\": {\"insecure_plaintext\": true}}",
			      "192.0.2.1:80", &cfg, &c, &err),
			 MOAT_OK);
	config_free(&cfg);
	/* A wildcard address needs its host names. */
	assert_int_equal(load("{\"auth\": {\"tokens\": [{\"name\": \"a\", \"token\": \"${MOAT_TEST_TOKEN}\", \"tools\": [\"*\"]}]}, \"listen\": {\"insecure_plaintext\": true}}",
			      "0.0.0.0:80", &cfg, &c, &err),
			 MOAT_EINVAL);
	assert_non_null(strstr(err.msg, "allowed_hosts"));
	config_free(&cfg);
	/* TLS needs both files. */
	assert_int_equal(load("{\"listen\": {\"http\": \"127.0.0.1:1\", \"tls\": {\"cert\": \"/c\"}}}",
			      NULL, &cfg, &c, &err),
			 MOAT_EINVAL);
	config_free(&cfg);
	/* The schema bounds the keys. */
	assert_int_not_equal(load("{\"listen\": {\"max_sessions\": 0}}", NULL, &cfg, &c, &err),
			     MOAT_OK);
	config_free(&cfg);
	assert_int_not_equal(load("{\"listen\": {\"http\": \"evil.example:80\"}}", NULL, &cfg, &c,
				  &err),
			     MOAT_OK);
	config_free(&cfg);
}

static void test_hosts(void **state)
{
	struct httpd_listener l = {0};
	char why[160];

	assert_true(httpd_addr_parse("127.0.0.1:8765", &l.cfg.addr, why, sizeof(why)));
	l.port = 8765;
	static const char *const ok[] = {
		"127.0.0.1", "127.0.0.1:8765", "localhost", "LOCALHOST:8765", "[::1]", "[::1]:8765",
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		assert_true(httpd_host_allowed(&l, ok[i]));
	static const char *const bad[] = {
		"",
		"evil.example",
		"localhost.evil.example",
		"localhost.",
		"127.0.0.1.nip.io",
		"127.0.0.1:8766",
		"127.0.0.1:8765x",
		"localhost:8765.evil.example",
		"127.0.0.2",
		"2130706433",
		"0x7f.0.0.1",
		"[::ffff:127.0.0.1]",
		"[0:0:0:0:0:0:0:1]",
		"127.0.0.1:",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(httpd_host_allowed(&l, bad[i]));
	assert_false(httpd_host_allowed(&l, NULL));
	/* No allowed_origins: the listener's own origins only. */
	assert_true(httpd_origin_allowed(&l, "http://localhost:8765"));
	assert_true(httpd_origin_allowed(&l, "http://127.0.0.1:8765"));
	assert_true(httpd_origin_allowed(&l, "http://[::1]:8765"));
	assert_false(httpd_origin_allowed(&l, "http://localhost"));
	assert_false(httpd_origin_allowed(&l, "http://localhost:8766"));
	assert_false(httpd_origin_allowed(&l, "https://localhost:8765"));
	assert_false(httpd_origin_allowed(&l, "http://localhost:8765.evil.example"));
	assert_false(httpd_origin_allowed(&l, "null"));
	/* Configured names: without a port any port, with one exactly. */
	l.cfg.hosts[0] = "mcp.example.com";
	l.cfg.hosts[1] = "proxy.example:8443";
	l.cfg.nhosts = 2;
	assert_true(httpd_host_allowed(&l, "mcp.example.com"));
	assert_true(httpd_host_allowed(&l, "MCP.example.com:443"));
	assert_true(httpd_host_allowed(&l, "proxy.example:8443"));
	assert_false(httpd_host_allowed(&l, "proxy.example"));
	assert_false(httpd_host_allowed(&l, "proxy.example:8444"));
	assert_false(httpd_host_allowed(&l, "mcp.example.com.evil"));
	assert_false(httpd_host_allowed(&l, "mcp.example.com:"));
	assert_false(httpd_host_allowed(&l, "localhost")); /* configured hosts replace the defaults */
	/* Origins: exact (scheme, host and port), case-insensitive. */
	l.cfg.origins[0] = "https://app.example";
	l.cfg.norigins = 1;
	assert_true(httpd_origin_allowed(&l, "https://app.example"));
	assert_true(httpd_origin_allowed(&l, "HTTPS://APP.EXAMPLE"));
	assert_false(httpd_origin_allowed(&l, "http://app.example"));
	assert_false(httpd_origin_allowed(&l, "https://app.example:8443"));
	assert_false(httpd_origin_allowed(&l, "https://app.example.evil"));
	assert_false(httpd_origin_allowed(&l, "null"));
	assert_false(httpd_origin_allowed(&l, NULL));
}

static void test_media(void **state)
{
	assert_true(httpd_media_listed("application/json, text/event-stream", "application/json"));
	assert_true(httpd_media_listed("application/json, text/event-stream", "text/event-stream"));
	assert_true(httpd_media_listed("text/event-stream;q=0.5 , Application/JSON", "application/json"));
	assert_true(httpd_media_listed("application/json; charset=utf-8", "application/json"));
	assert_false(httpd_media_listed("*/*", "application/json"));
	assert_false(httpd_media_listed("application/*", "application/json"));
	assert_false(httpd_media_listed("application/jsonx", "application/json"));
	assert_false(httpd_media_listed("xapplication/json", "application/json"));
	assert_false(httpd_media_listed("", "application/json"));
	assert_false(httpd_media_listed(NULL, "application/json"));
}

static void test_sse_format(void **state)
{
	size_t n;
	char *s = httpd_sse_format(0, "{\"a\":1}", 7, &n);

	s = realloc(s, n + 1);
	s[n] = '\0';
	assert_string_equal(s, "event: message\ndata: {\"a\":1}\n\n");
	free(s);
	s = httpd_sse_format(42, "x\ny", 3, &n);
	s = realloc(s, n + 1);
	s[n] = '\0';
	assert_string_equal(s, "id: 42\nevent: message\ndata: x\ndata: y\n\n");
	free(s);
}

static void test_ratelimit(void **state)
{
	struct httpd_ratelimit *rl = httpd_ratelimit_new(5);
	unsigned wait = 0, taken = 0;

	assert_null(httpd_ratelimit_new(0)); /* 0: no limit */
	assert_int_equal(httpd_ratelimit_take(NULL, "1.2.3.4"), 0);
	for (int i = 0; i < 20; i++) {
		unsigned w = httpd_ratelimit_take(rl, "10.0.0.1");
		if (w == 0)
			taken++;
		else
			wait = w;
	}
	assert_int_equal(taken, 10); /* a burst of twice the rate */
	assert_true(wait >= 1);
	/* Another address has its own bucket. */
	assert_int_equal(httpd_ratelimit_take(rl, "10.0.0.2"), 0);
	/* A flood of addresses cannot grow the table. */
	char a[32];
	for (int i = 0; i < 100000; i++) {
		snprintf(a, sizeof(a), "10.%d.%d.%d", i >> 16, (i >> 8) & 255, i & 255);
		httpd_ratelimit_take(rl, a);
	}
	httpd_ratelimit_free(rl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr_parse), cmocka_unit_test(test_config_rules),
		cmocka_unit_test(test_hosts),      cmocka_unit_test(test_media),
		cmocka_unit_test(test_sse_format), cmocka_unit_test(test_ratelimit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
