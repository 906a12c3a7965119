/*
 * stdio_transport.c - newline-delimited JSON-RPC over a pair of file descriptors.
 */
#include "stdio_transport.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/uio.h>
#include <unistd.h>

#include "framing.h"
#include "log.h"

struct writer {
	int fd;
	pthread_mutex_t lock;
	bool broken; /* the peer went away; drop further output */
};

/* The one writer: a whole message and its newline, under the lock. */
static void writer_send(void *ctx, const char *buf, size_t len)
{
	struct writer *w = ctx;
	struct iovec iov[2] = {{(void *)buf, len}, {(void *)"\n", 1}};
	int idx = 0;

	pthread_mutex_lock(&w->lock);
	while (!w->broken && idx < 2) {
		ssize_t n = writev(w->fd, iov + idx, 2 - idx);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			w->broken = true;
			break;
		}
		while (idx < 2 && (size_t)n >= iov[idx].iov_len) {
			n -= (ssize_t)iov[idx].iov_len;
			idx++;
		}
		if (idx < 2) {
			iov[idx].iov_base = (char *)iov[idx].iov_base + n;
			iov[idx].iov_len -= (size_t)n;
		}
	}
	pthread_mutex_unlock(&w->lock);
}

int stdio_serve(int in_fd, int out_fd, const struct server_opts *opts, struct registry *reg)
{
	struct writer w = {.fd = out_fd};
	struct frame_reader fr;
	struct server *s = NULL;
	sigset_t mask;
	int sfd = -1, ret = -1;
	char *chunk = NULL;
	const size_t chunk_size = 64 * 1024;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	if (pthread_sigmask(SIG_BLOCK, &mask, NULL) != 0 ||
	    (sfd = signalfd(-1, &mask, SFD_CLOEXEC)) < 0) {
		log_error("stdio: cannot set up signal handling: %s", strerror(errno));
		return -1;
	}
	pthread_mutex_init(&w.lock, NULL);
	frame_init(&fr, opts->limits.max_message_bytes);
	chunk = malloc(chunk_size);
	s = server_new(opts, reg, writer_send, &w);
	if (!chunk || !s) {
		log_error("stdio: out of memory");
		goto out;
	}
	log_info("serving over stdio (%zu tools)", registry_count(reg));
	for (;;) {
		struct pollfd pfd[2] = {{.fd = in_fd, .events = POLLIN}, {.fd = sfd, .events = POLLIN}};
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_error("stdio: poll failed: %s", strerror(errno));
			break;
		}
		if (pfd[1].revents & POLLIN) {
			log_info("stdio: termination signal, stopping");
			break;
		}
		if (!(pfd[0].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		ssize_t n = read(in_fd, chunk, chunk_size);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0) {
			log_info("stdio: end of input, stopping");
			break;
		}
		if (!frame_push(&fr, chunk, (size_t)n)) {
			log_error("stdio: out of memory");
			break;
		}
		for (;;) {
			const char *line;
			size_t len;
			enum frame_status st = frame_next(&fr, &line, &len);
			if (st == FRAME_NONE)
				break;
			if (st == FRAME_TOO_LARGE)
				server_reject_oversized(s);
			else
				server_handle(s, line, len);
		}
	}
	ret = 0;
out:
	if (s) {
		if (server_shutdown(s, 800)) {
			server_free(s);
		} else {
			log_warn("stdio: a tool call did not stop in time; exiting anyway");
			/* A worker still uses the server and the registry:
			 * free nothing and let the caller end the process. */
			return 1;
		}
	}
	frame_free(&fr);
	free(chunk);
	close(sfd);
	pthread_mutex_destroy(&w.lock);
	return ret;
}
