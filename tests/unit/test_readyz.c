/*
 * test_readyz.c - GET /readyz against a real listener (src/transport/http/
 * http_ops.c) with a stand-in store (store.h): 200 "ready" while the store
 * answers, 503 "store_unavailable" with Retry-After while it does not, and
 * back; /healthz stays 200 throughout (liveness never depends on the
 * store). The drain's 503 is tested end to end (tests/e2e/drain.test.mjs).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "http_listener.h"
#include "registry.h"
#include "server.h"
#include "store.h"

static atomic_bool store_up = true;

static bool fake_ready(void *ctx)
{
	(void)ctx;
	return atomic_load(&store_up);
}

static const struct store_ops fake_ops = {.ready = fake_ready};

/* One request on a new connection; the whole answer into buf. */
static void get(unsigned port, const char *path, char *buf, size_t size)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	char req[256];
	size_t got = 0;
	ssize_t n;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 10.0.0.7:8080\r\nConnection: close\r\n\r\n",
		 path);
	assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	while (got + 1 < size && (n = read(fd, buf + got, size - 1 - got)) > 0)
		got += (size_t)n;
	buf[got] = '\0';
	close(fd);
}

static void *run(void *arg)
{
	return (void *)(intptr_t)httpd_run(arg);
}

static void test_readyz_follows_the_store(void **state)
{
	struct moat_config cfg;
	struct moat_err err = {0};
	struct registry *reg;
	struct server_opts so = {.name = "t", .title = "t", .version = "0"};
	struct httpd_listener *l;
	pthread_t th;
	void *rc;
	char buf[2048];
	unsigned port;

	(void)state;
	assert_int_equal(config_defaults(&cfg, &err), MOAT_OK);
	so.limits = cfg.limits;
	reg = registry_new(cfg.limits.tool_calls_per_minute);
	assert_non_null(reg);
	struct httpd_listener_opts o = {.cfg = &cfg, .cli_addr = "127.0.0.1:0", .reg = reg, .sopts = &so};
	l = httpd_prepare(&o, &err);
	assert_non_null(l);
	assert_int_equal(sscanf(strrchr(httpd_url(l), ':') + 1, "%u", &port), 1);
	store_install(&fake_ops, NULL, STORE_FALLBACK_AUTO);
	assert_int_equal(pthread_create(&th, NULL, run, l), 0);
	for (int i = 0; i < 100; i++) { /* until it serves */
		get(port, "/healthz", buf, sizeof(buf));
		if (strstr(buf, "200 OK"))
			break;
		usleep(20000);
	}
	get(port, "/readyz", buf, sizeof(buf));
	assert_non_null(strstr(buf, "HTTP/1.1 200"));
	assert_non_null(strstr(buf, "{\"status\":\"ready\"}"));

	atomic_store(&store_up, false);
	get(port, "/readyz", buf, sizeof(buf));
	assert_non_null(strstr(buf, "HTTP/1.1 503"));
	assert_non_null(strstr(buf, "{\"status\":\"store_unavailable\"}"));
	assert_non_null(strstr(buf, "Retry-After: 2"));
	get(port, "/healthz", buf, sizeof(buf));
	assert_non_null(strstr(buf, "HTTP/1.1 200"));

	atomic_store(&store_up, true);
	get(port, "/readyz", buf, sizeof(buf));
	assert_non_null(strstr(buf, "HTTP/1.1 200"));

	/* SIGTERM to the listener's thread (it waits on a signalfd). */
	assert_int_equal(pthread_kill(th, SIGTERM), 0);
	assert_int_equal(pthread_join(th, &rc), 0);
	assert_int_equal((intptr_t)rc, 0);
	store_install(NULL, NULL, STORE_FALLBACK_AUTO);
	httpd_free(l);
	registry_free(reg);
	config_free(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_readyz_follows_the_store),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
