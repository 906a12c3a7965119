/*
 * test_http_client.c - unit tests for src/providers/http/http_client.c:
 * a name is resolved once, by the egress guard, and the connection goes to
 * the address it vetted (libcurl never resolves it again), and an answer
 * the guard refuses never gets a connection.
 *
 * A one-shot HTTP server on 127.0.0.1 (a thread) stands in for the
 * upstream; the guard's resolver hook answers for the name "pinned.test",
 * which no real DNS knows: a request that succeeds was pinned.
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
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
