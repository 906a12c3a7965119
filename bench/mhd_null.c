/*
 * mhd_null.c - the floor for the HTTP transport benchmark: a null
 * Streamable-HTTP-shaped responder on libmicrohttpd, in the threading mode
 * moat's transport uses (one internal polling thread, epoll, keep-alive),
 * that answers every POST /mcp with one fixed small JSON-RPC result. What
 * it costs is what libmicrohttpd and the kernel cost, with no MCP around
 * it, so moat's figure over HTTP reads against it.
 *
 *   mhd_null [PORT [POOL]]
 *
 * Listens on 127.0.0.1:PORT (0, the default: any free port), prints the
 * port on stdout, and serves until SIGINT or SIGTERM. POOL > 1 runs that
 * many polling threads instead of one (MHD's thread pool), to compare with
 * a transport that uses one. The body is read and dropped; the answer
 * carries the headers moat's transport must send on every response
 * (nosniff, no-store, the CSP, no-referrer), a fresh Mcp-Session-Id for
 * an initialize (so a client can open sessions against it), and
 * Content-Type application/json. Anything else gets 404 (another path) or
 * 405 (another method).
 *
 * A bench tool, never installed. Build:
 *   cc -O2 -std=c17 -D_GNU_SOURCE bench/mhd_null.c $(pkg-config --cflags --libs libmicrohttpd) -o mhd_null
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char result[] =
	"{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"x\"}],"
	"\"structuredContent\":{\"text\":\"x\"},\"isError\":false}}";

static atomic_ullong sessions;
static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* Per request: whether the body so far looks like an initialize. */
struct req {
	bool initialize;
};

static enum MHD_Result answer(struct MHD_Connection *c, unsigned status, const char *body,
			      size_t len, bool new_session)
{
	struct MHD_Response *r =
		MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(r, "Content-Security-Policy",
				"default-src 'none'; frame-ancestors 'none'");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	if (new_session) {
		char id[40];
		unsigned long long n = atomic_fetch_add(&sessions, 1) + 1;
		snprintf(id, sizeof(id), "%032llx", n);
		MHD_add_response_header(r, "Mcp-Session-Id", id);
	}
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_size, void **con_cls)
{
	struct req *q = *con_cls;

	(void)cls;
	(void)version;
	if (strcmp(url, "/mcp") != 0)
		return answer(c, MHD_HTTP_NOT_FOUND, "", 0, false);
	if (strcmp(method, "POST") != 0)
		return answer(c, MHD_HTTP_METHOD_NOT_ALLOWED, "", 0, false);
	if (!q) { /* first call: headers only */
		if (!(q = calloc(1, sizeof(*q))))
			return MHD_NO;
		*con_cls = q;
		return MHD_YES;
	}
	if (*upload_size > 0) {
		/* "initialize" in the first chunk is good enough for a bench. */
		if (memmem(upload, *upload_size, "\"initialize\"", 12))
			q->initialize = true;
		*upload_size = 0;
		return MHD_YES;
	}
	return answer(c, MHD_HTTP_OK, result, sizeof(result) - 1, q->initialize);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)c;
	(void)toe;
	free(*con_cls);
	*con_cls = NULL;
}

int main(int argc, char **argv)
{
	unsigned port = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 0;
	unsigned pool = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 1;
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	struct MHD_Daemon *d;
	const union MHD_DaemonInfo *info;

	if (port > 65535 || pool < 1 || pool > 64) {
		fprintf(stderr, "usage: mhd_null [PORT [POOL]]\n");
		return 2;
	}
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG,
			     (uint16_t)port, NULL, NULL, handle, NULL,
			     MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
			     MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
			     MHD_OPTION_CONNECTION_LIMIT, (unsigned)20000,
			     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
			     MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)1024,
			     pool > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END, pool,
			     MHD_OPTION_END);
	if (!d) {
		fprintf(stderr, "mhd_null: cannot start the daemon on port %u\n", port);
		return 1;
	}
	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	printf("%u\n", info ? (unsigned)info->port : port);
	fflush(stdout);
	while (!stop)
		pause();
	MHD_stop_daemon(d);
	return 0;
}
