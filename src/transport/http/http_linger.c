/*
 * http_linger.c - a lingering close for requests refused before their
 * body was read (413 for a Content-Length past max_body_bytes, 401, 403,
 * 415 ...).
 *
 * libmicrohttpd sends such an early answer and closes the socket while the
 * client is still sending its body. Closing a socket with unread data makes
 * the kernel send a reset, which can destroy the answer in the client's
 * receive buffer before the client reads it: the client sees "connection
 * reset" instead of 413. So the listener keeps a duplicate of the socket:
 * when libmicrohttpd closes its descriptor (after its half-close, so the
 * answer and a FIN are on their way), the connection stays open and the
 * housekeeper reads and discards what still comes, until the client closes,
 * LINGER_MS pass or LINGER_BYTES were read. Bounded: at most LINGER_MAX
 * connections linger; past that one is closed at once (the old behaviour).
 */
#include "httpd_int.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define LINGER_MS 2000
#define LINGER_BYTES (8u << 20)

void httpd_linger_add(struct httpd_listener *l, struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	int fd;

	if (!ci)
		return;
	fd = fcntl(ci->connect_fd, F_DUPFD_CLOEXEC, 3);
	if (fd < 0)
		return;
	pthread_mutex_lock(&l->linger_lock);
	if (l->nlinger < HTTPD_LINGER_MAX) {
		l->linger[l->nlinger++] = (struct httpd_linger){
			.fd = fd,
			.until_ns = moat_now_ns() + LINGER_MS * 1000000ull,
		};
		fd = -1;
	}
	pthread_mutex_unlock(&l->linger_lock);
	if (fd >= 0)
		close(fd);
}

/* Drop slot i (lock held). */
static void drop(struct httpd_listener *l, unsigned i)
{
	close(l->linger[i].fd);
	l->linger[i] = l->linger[--l->nlinger];
}

int httpd_linger_fds(struct httpd_listener *l, struct pollfd *p, unsigned max)
{
	unsigned n = 0;

	pthread_mutex_lock(&l->linger_lock);
	for (unsigned i = 0; i < l->nlinger && n < max; i++)
		p[n++] = (struct pollfd){.fd = l->linger[i].fd, .events = POLLIN};
	pthread_mutex_unlock(&l->linger_lock);
	return (int)n;
}

void httpd_linger_drain(struct httpd_listener *l)
{
	char buf[16384];
	uint64_t now = moat_now_ns();

	pthread_mutex_lock(&l->linger_lock);
	for (unsigned i = 0; i < l->nlinger;) {
		struct httpd_linger *g = &l->linger[i];
		bool done = now > g->until_ns || g->drained > LINGER_BYTES;
		while (!done) {
			ssize_t k = recv(g->fd, buf, sizeof(buf), MSG_DONTWAIT);
			if (k > 0) {
				g->drained += (size_t)k;
				done = g->drained > LINGER_BYTES;
			} else if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
				break;
			} else if (k < 0 && errno == EINTR) {
				continue;
			} else {
				done = true; /* the client closed, or the connection broke */
			}
		}
		if (done)
			drop(l, i);
		else
			i++;
	}
	pthread_mutex_unlock(&l->linger_lock);
}

void httpd_linger_fini(struct httpd_listener *l)
{
	pthread_mutex_lock(&l->linger_lock);
	while (l->nlinger > 0)
		drop(l, 0);
	pthread_mutex_unlock(&l->linger_lock);
}
