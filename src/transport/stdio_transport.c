/*
 * stdio_transport.c - newline-delimited JSON-RPC over a pair of file
 * descriptors, with the reading handed between threads.
 *
 * One thread at a time holds the reader role: it polls the input and the
 * termination signals, frames lines and hands each to the server. The
 * server may run a `quick` tool call on that thread (it asks first, through
 * quick_begin): such a call usually ends in microseconds, far sooner than
 * a hand-off to a worker would, but it may block on I/O. So while one runs,
 * a one-shot timer is armed (TAKEOVER_US), and a standby thread waits on
 * it: if the call is still running when the timer fires, the standby takes
 * the reader role (the framing state passes with it under the lock) and a
 * new standby is started, so ping, cancellation and other calls keep being
 * read. The thread whose call ran long finishes it, answers, and becomes
 * the standby or ends. At most limits.workers threads besides the first
 * take part; with none left to stand by, quick_begin says no and the call
 * goes to the server's worker pool like any other.
 *
 * Output: one writer at a time, under a mutex, each message whole with its
 * '\n'; what the reader answers while working through one read's worth of
 * lines is written together when the burst ends.
 *
 * The end: EOF on input, SIGTERM or SIGINT (SIGHUP only reopens the audit
 * file). On EOF, the MCP stdio shutdown sequence, reading stops and every
 * call in flight runs to its end (bounded by its own deadline) and answers
 * before moat exits 0. On a signal, calls get SIGNAL_DRAIN_MS more, then
 * are cancelled and answer with that error. The thread that sees the end
 * does this; the first thread then joins the others and frees everything.
 */
#include "stdio_transport.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "framing.h"
#include "log.h"

/* How long a quick call may hold the reader role before a standby takes
 * it over. Long enough that a small file read never pays for the
 * takeover, short enough that a client never notices a stalled reader. */
#define TAKEOVER_US 2000

/* The end. On EOF (the MCP stdio shutdown: the client closes our input
 * and waits) every call in flight runs on to its own deadline and
 * answers; a termination signal during that wait, or instead of it, lets
 * calls run on for SIGNAL_DRAIN_MS more; then what still runs is
 * cancelled and has CANCEL_MS to answer with its error. A call that
 * overruns its deadline gets DEADLINE_GRACE_MS before it counts as stuck. */
#define SIGNAL_DRAIN_MS 2000
#define CANCEL_MS 800
#define DEADLINE_GRACE_MS 1000

/* Output. Messages the reader produces while it works through the lines
 * of one read (a client that pipelines requests sends many per read) are
 * gathered and written together when it is about to wait for input again:
 * one write and one wake-up of the client per burst instead of per
 * message. Every other message (from workers, or once the burst is over)
 * is written at once, after whatever was gathered, so nothing waits. */
struct writer {
	int fd;
	pthread_mutex_t lock;
	bool broken; /* the peer went away; drop further output */
	char *held;  /* gathered messages, each with its '\n'; owned */
	size_t held_len;
	size_t held_cap;
	unsigned held_count; /* messages in held */
};

/* Set while the calling thread is the reader working through a burst. */
static _Thread_local bool in_burst;

/* Gather at most this much, or this many messages, before writing anyway:
 * a client that reads answers as they come then works on the first ones
 * while moat answers the rest (with 16 in flight, writing every 8 doubled
 * the trivial calls answered per second over writing once per burst). */
#define HOLD_MAX (256 * 1024)
#define HOLD_MSGS 8

/* Write iov[0..n) whole. Lock held. */
static void write_all(struct writer *w, struct iovec *iov, int n)
{
	int idx = 0;

	while (!w->broken && idx < n) {
		ssize_t k = writev(w->fd, iov + idx, n - idx);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			w->broken = true;
			break;
		}
		while (idx < n && (size_t)k >= iov[idx].iov_len) {
			k -= (ssize_t)iov[idx].iov_len;
			idx++;
		}
		if (idx < n) {
			iov[idx].iov_base = (char *)iov[idx].iov_base + k;
			iov[idx].iov_len -= (size_t)k;
		}
	}
}

/* Append a message and its newline to the held bytes. Lock held. Returns
 * false when memory ran out (the caller then writes directly). */
static bool hold(struct writer *w, const char *buf, size_t len)
{
	size_t need = w->held_len + len + 1;

	if (need > w->held_cap) {
		size_t ncap = w->held_cap ? w->held_cap : 16384;
		while (ncap < need)
			ncap *= 2;
		char *nb = realloc(w->held, ncap);
		if (!nb)
			return false;
		w->held = nb;
		w->held_cap = ncap;
	}
	memcpy(w->held + w->held_len, buf, len);
	w->held[w->held_len + len] = '\n';
	w->held_len = need;
	return true;
}

/* Write what is held, then buf[0..len) and its newline (buf NULL: nothing
 * more). Lock held. */
static void flush_with(struct writer *w, const char *buf, size_t len)
{
	struct iovec iov[3];
	int n = 0;

	if (w->held_len)
		iov[n++] = (struct iovec){w->held, w->held_len};
	if (buf) {
		iov[n++] = (struct iovec){(void *)buf, len};
		iov[n++] = (struct iovec){(void *)"\n", 1};
	}
	if (n)
		write_all(w, iov, n);
	w->held_len = 0;
	w->held_count = 0;
	if (w->held_cap > HOLD_MAX) { /* a burst of large answers: give it back */
		free(w->held);
		w->held = NULL;
		w->held_cap = 0;
	}
}

/* server_send_fn: one message, whole, in order with the others. */
static void writer_send(void *ctx, void *route, const char *buf, size_t len, bool final)
{
	struct writer *w = ctx;

	(void)route; /* one stream: every message goes to stdout */
	(void)final;
	if (len == 0)
		return;

	pthread_mutex_lock(&w->lock);
	if (!(in_burst && w->held_len + len < HOLD_MAX && hold(w, buf, len)))
		flush_with(w, buf, len);
	else if (++w->held_count >= HOLD_MSGS)
		flush_with(w, NULL, 0);
	pthread_mutex_unlock(&w->lock);
}

/* Write whatever the reader's burst gathered. */
static void writer_flush(struct writer *w)
{
	pthread_mutex_lock(&w->lock);
	if (w->held_len)
		flush_with(w, NULL, 0);
	pthread_mutex_unlock(&w->lock);
}

/* The state the threads share. Fields marked (role) belong to whichever
 * thread holds the reader role; everything else is guarded by lock. */
struct loop {
	int in_fd;
	int sig_fd;                /* signalfd for SIGTERM/SIGINT */
	int timer_fd;              /* the takeover timer; -1: no takeover */
	int wake_fd;               /* eventfd that wakes the standby at the end */
	struct writer w;
	struct frame_reader fr;    /* (role) */
	char *chunk;               /* (role) read buffer */
	size_t chunk_size;
	struct server *s;

	pthread_mutex_t lock;
	pthread_cond_t ended;      /* done was set, or a thread is leaving */
	pthread_t first;           /* the thread that called stdio_serve */
	pthread_t reader;          /* holds the role, when has_reader */
	bool has_reader;
	bool has_standby;
	bool busy;                 /* the reader is inside a quick call */
	uint64_t busy_since;       /* when it began (CLOCK_MONOTONIC ns) */
	bool timer_armed;          /* the takeover timer will fire */
	bool done;                 /* reading has ended for good */
	int result;                /* what stdio_serve returns */
	struct slot *slots;        /* threads started besides the first */
	uint32_t max_threads;
	uint32_t call_timeout_ms;  /* limits.call_timeout_ms (0: none) */
	struct audit *audit;       /* reopened on SIGHUP; borrowed, may be NULL */
};

/* One thread besides the first; joined when it has exited and its slot is
 * wanted again, or at the end. */
struct slot {
	struct loop *l;
	pthread_t thread;
	bool used;   /* thread was started and not yet joined */
	bool exited; /* it returned (or is about to) */
};

static void timer_set(struct loop *l, long usec)
{
	struct itimerspec its = {.it_value = {.tv_sec = usec / 1000000,
					      .tv_nsec = (usec % 1000000) * 1000}};

	if (timerfd_settime(l->timer_fd, 0, &its, NULL) != 0)
		log_warn("stdio: cannot set the takeover timer: %s", strerror(errno));
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void start_standby(struct loop *l);

/* True when the calling thread holds the reader role. Lock held. */
static bool is_reader(const struct loop *l)
{
	return l->has_reader && pthread_equal(l->reader, pthread_self());
}

/* server_opts.quick_begin: promise a takeover if a standby is waiting
 * (started here on first use, so a session without quick calls never
 * starts one). */
static bool quick_begin(void *ctx)
{
	struct loop *l = ctx;
	bool ok;

	pthread_mutex_lock(&l->lock);
	if (!l->done && is_reader(l))
		start_standby(l);
	ok = l->has_standby && !l->done && is_reader(l);
	if (ok) {
		l->busy = true;
		l->busy_since = now_ns();
		/* One timer serves a stream of calls: if it is already armed
		 * (for an earlier call), the standby re-arms it for the rest
		 * of this call's time when it fires. That saves two system
		 * calls per call. */
		if (!l->timer_armed) {
			timer_set(l, TAKEOVER_US);
			l->timer_armed = true;
		}
	}
	pthread_mutex_unlock(&l->lock);
	return ok;
}

/* server_opts.quick_end: the call is over, unless the role has moved on
 * (the flag then belongs to the new reader). The timer stays armed; the
 * standby ignores a tick that finds no call running. */
static void quick_end(void *ctx)
{
	struct loop *l = ctx;

	pthread_mutex_lock(&l->lock);
	if (is_reader(l))
		l->busy = false;
	pthread_mutex_unlock(&l->lock);
}

enum end_reason { END_EOF, END_SIGNAL, END_ERROR };

/* Read one pending signal: true for SIGTERM/SIGINT; SIGHUP reopens the
 * audit file and returns false. */
static bool take_signal(struct loop *l)
{
	struct signalfd_siginfo si;

	if (read(l->sig_fd, &si, sizeof(si)) != (ssize_t)sizeof(si))
		return false;
	if (si.ssi_signo == SIGHUP) {
		log_info("stdio: SIGHUP, reopening the audit file");
		audit_reopen(l->audit);
		return false;
	}
	return true;
}

/* After EOF: wait for the calls in flight to finish and answer, each
 * within its own deadline. Returns END_SIGNAL when a termination signal
 * arrives meanwhile, END_EOF otherwise. */
static enum end_reason drain_after_eof(struct loop *l)
{
	uint64_t limit_ns = l->call_timeout_ms
				    ? (uint64_t)(l->call_timeout_ms + DEADLINE_GRACE_MS) * 1000000u
				    : 0;
	uint64_t start = now_ns();

	while (!server_wait_idle(l->s, 50)) {
		struct pollfd pfd = {.fd = l->sig_fd, .events = POLLIN};
		if (poll(&pfd, 1, 0) > 0 && (pfd.revents & POLLIN) && take_signal(l)) {
			log_info("stdio: termination signal while calls finish; %d ms more",
				 SIGNAL_DRAIN_MS);
			return END_SIGNAL;
		}
		if (limit_ns && now_ns() - start > limit_ns) {
			log_warn("stdio: a call ran past its deadline; cancelling it");
			break;
		}
	}
	return END_EOF;
}

/* Reading ended (EOF, a signal or an error): stop everyone, let the calls
 * in flight end as the reason allows, shut the server down. Called by the
 * reader, without the lock. */
static void finish(struct loop *l, enum end_reason why)
{
	uint64_t one = 1;

	pthread_mutex_lock(&l->lock);
	l->done = true;
	l->has_reader = false;
	pthread_cond_broadcast(&l->ended);
	pthread_mutex_unlock(&l->lock);
	if (write(l->wake_fd, &one, sizeof(one)) < 0)
		log_warn("stdio: cannot wake the standby: %s", strerror(errno));
	if (why == END_EOF)
		why = drain_after_eof(l);
	if (!server_shutdown(l->s, why == END_SIGNAL ? SIGNAL_DRAIN_MS : 0, CANCEL_MS)) {
		log_warn("stdio: a tool call did not stop in time; exiting anyway");
		/* The first thread may be the one stuck in that call, so it
		 * cannot be relied on to end the process: do it here, as the
		 * caller of stdio_serve would (nothing is buffered; every
		 * message was written whole). */
		if (!pthread_equal(l->first, pthread_self()))
			_exit(0);
		pthread_mutex_lock(&l->lock);
		l->result = 1;
		pthread_mutex_unlock(&l->lock);
	}
}

enum read_end { READ_LOST, READ_DONE };

/* Serve input while this thread holds the reader role. Returns READ_LOST
 * when a standby took the role over during a quick call, READ_DONE when
 * input ended (finish() has run). */
static enum read_end read_loop(struct loop *l)
{
	enum end_reason why = END_ERROR;

	for (;;) {
		in_burst = true;
		for (;;) {
			const char *line;
			size_t len;
			enum frame_status st = frame_next(&l->fr, &line, &len);
			bool still;

			if (st == FRAME_NONE)
				break;
			if (st == FRAME_TOO_LARGE) {
				size_t hl;
				const char *head = frame_head(&l->fr, &hl);
				server_reject_oversized(l->s, head, hl);
			}
			else
				server_handle(l->s, line, len);
			pthread_mutex_lock(&l->lock);
			still = is_reader(l);
			pthread_mutex_unlock(&l->lock);
			if (!still) {
				in_burst = false;
				writer_flush(&l->w);
				return READ_LOST;
			}
		}
		in_burst = false;
		writer_flush(&l->w);
		struct pollfd pfd[2] = {{.fd = l->in_fd, .events = POLLIN},
					{.fd = l->sig_fd, .events = POLLIN}};
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_error("stdio: poll failed: %s", strerror(errno));
			break;
		}
		if (pfd[1].revents & POLLIN) {
			if (!take_signal(l))
				continue;
			log_info("stdio: termination signal, stopping (calls in flight get %d ms)",
				 SIGNAL_DRAIN_MS);
			why = END_SIGNAL;
			break;
		}
		if (!(pfd[0].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		ssize_t n = read(l->in_fd, l->chunk, l->chunk_size);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0) {
			log_info("stdio: end of input; finishing the calls in flight");
			why = END_EOF;
			break;
		}
		if (!frame_push(&l->fr, l->chunk, (size_t)n)) {
			log_error("stdio: out of memory");
			break;
		}
	}
	finish(l, why);
	return READ_DONE;
}

static void *standby_main(void *arg);

/* Start a standby if none waits and the bound allows, reusing the slot of
 * a thread that has exited. Lock held. */
static void start_standby(struct loop *l)
{
	struct slot *free_slot = NULL;

	if (l->has_standby || l->done)
		return;
	for (uint32_t i = 0; i < l->max_threads; i++) {
		struct slot *sl = &l->slots[i];
		if (sl->used && sl->exited) {
			pthread_join(sl->thread, NULL); /* it no longer needs the lock */
			sl->used = false;
		}
		if (!sl->used && !free_slot)
			free_slot = sl;
	}
	if (!free_slot)
		return; /* every slot busy: quick calls go to the workers */
	free_slot->l = l;
	free_slot->exited = false;
	if (pthread_create(&free_slot->thread, NULL, standby_main, free_slot) != 0) {
		log_warn("stdio: cannot start a standby reader: %s", strerror(errno));
		return;
	}
	free_slot->used = true;
	l->has_standby = true;
}

/* A standby: wait for the takeover timer; when the reader is still inside
 * the quick call it armed the timer for, take the role. After losing the
 * role in turn, stand by again if nobody else does, else end. */
static void *standby_main(void *arg)
{
	struct slot *self = arg;
	struct loop *l = self->l;

	for (;;) {
		struct pollfd pfd[2] = {{.fd = l->timer_fd, .events = POLLIN},
					{.fd = l->wake_fd, .events = POLLIN}};
		uint64_t ticks = 0;
		bool take;

		if (poll(pfd, 2, -1) < 0 && errno != EINTR) {
			log_error("stdio: standby poll failed: %s", strerror(errno));
			pthread_mutex_lock(&l->lock);
			l->has_standby = false; /* quick calls go to the workers */
			pthread_mutex_unlock(&l->lock);
			break;
		}
		bool fired = (pfd[0].revents & POLLIN) &&
			     read(l->timer_fd, &ticks, sizeof(ticks)) == sizeof(ticks);
		pthread_mutex_lock(&l->lock);
		if (l->done) {
			pthread_mutex_unlock(&l->lock);
			break;
		}
		if (!fired) {
			pthread_mutex_unlock(&l->lock);
			continue;
		}
		l->timer_armed = false;
		take = false;
		if (l->has_reader && l->busy) {
			/* The timer may have been armed for an earlier call:
			 * take over only once this one has run its full time,
			 * else wait for the rest of it. */
			uint64_t ran_us = (now_ns() - l->busy_since) / 1000u;
			take = ran_us >= TAKEOVER_US;
			if (!take) {
				timer_set(l, (long)(TAKEOVER_US - ran_us));
				l->timer_armed = true;
			}
		}
		if (take) {
			l->reader = pthread_self();
			l->busy = false;
			l->has_standby = false;
		}
		pthread_mutex_unlock(&l->lock);
		if (!take)
			continue;
		log_debug("stdio: a quick call ran past %d us; another thread reads on", TAKEOVER_US);
		if (read_loop(l) == READ_DONE)
			break;
		pthread_mutex_lock(&l->lock);
		bool again = !l->has_standby && !l->done;
		if (again)
			l->has_standby = true;
		pthread_mutex_unlock(&l->lock);
		if (!again)
			break;
	}
	pthread_mutex_lock(&l->lock);
	self->exited = true;
	pthread_mutex_unlock(&l->lock);
	return NULL;
}

/* Set up l's descriptors, buffers and server. Returns false (logged) on
 * failure; loop_free() cleans up either way. */
static bool loop_init(struct loop *l, int in_fd, int out_fd, const struct server_opts *opts,
		      struct registry *reg)
{
	struct server_opts so = *opts;
	sigset_t mask;

	memset(l, 0, sizeof(*l));
	l->in_fd = in_fd;
	l->sig_fd = l->timer_fd = l->wake_fd = -1;
	l->w.fd = out_fd;
	pthread_mutex_init(&l->w.lock, NULL);
	pthread_mutex_init(&l->lock, NULL);
	pthread_cond_init(&l->ended, NULL);
	frame_init(&l->fr, opts->limits.max_message_bytes);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	if (pthread_sigmask(SIG_BLOCK, &mask, NULL) != 0 ||
	    (l->sig_fd = signalfd(-1, &mask, SFD_CLOEXEC)) < 0) {
		log_error("stdio: cannot set up signal handling: %s", strerror(errno));
		return false;
	}
	l->chunk_size = 64 * 1024;
	l->chunk = malloc(l->chunk_size);
	l->max_threads = opts->limits.workers;
	l->call_timeout_ms = opts->limits.call_timeout_ms;
	l->audit = opts->audit;
	l->slots = calloc(l->max_threads ? l->max_threads : 1, sizeof(*l->slots));
	if (!l->chunk || !l->slots) {
		log_error("stdio: out of memory");
		return false;
	}
	/* Without the timer or the eventfd, quick calls simply use workers. */
	l->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	l->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (l->timer_fd >= 0 && l->wake_fd >= 0 && l->max_threads > 0) {
		so.quick_begin = quick_begin;
		so.quick_end = quick_end;
		so.quick_ctx = l;
	} else {
		log_warn("stdio: no takeover timer (%s); quick calls run on workers",
			 strerror(errno));
	}
	l->s = server_new(&so, reg, writer_send, &l->w);
	if (!l->s) {
		log_error("stdio: out of memory");
		return false;
	}
	return true;
}

static void loop_free(struct loop *l)
{
	server_free(l->s);
	frame_free(&l->fr);
	free(l->chunk);
	free(l->slots);
	free(l->w.held);
	if (l->sig_fd >= 0)
		close(l->sig_fd);
	if (l->timer_fd >= 0)
		close(l->timer_fd);
	if (l->wake_fd >= 0)
		close(l->wake_fd);
	pthread_cond_destroy(&l->ended);
	pthread_mutex_destroy(&l->lock);
	pthread_mutex_destroy(&l->w.lock);
}

int stdio_serve(int in_fd, int out_fd, const struct server_opts *opts, struct registry *reg)
{
	struct loop l;
	int ret;

	if (!loop_init(&l, in_fd, out_fd, opts, reg)) {
		loop_free(&l);
		return -1;
	}
	log_info("serving over stdio (%zu tools)", registry_count(reg));
	pthread_mutex_lock(&l.lock);
	l.first = l.reader = pthread_self();
	l.has_reader = true;
	pthread_mutex_unlock(&l.lock);

	/* Read until the end, or until a standby takes the role over; the
	 * first thread then only waits for the end, whoever sees it. */
	if (read_loop(&l) == READ_LOST) {
		pthread_mutex_lock(&l.lock);
		while (!l.done)
			pthread_cond_wait(&l.ended, &l.lock);
		pthread_mutex_unlock(&l.lock);
	}
	pthread_mutex_lock(&l.lock);
	ret = l.result;
	pthread_mutex_unlock(&l.lock);
	if (ret == 1)
		return 1; /* a handler still runs: free nothing */
	for (uint32_t i = 0; i < l.max_threads; i++)
		if (l.slots[i].used)
			pthread_join(l.slots[i].thread, NULL);
	loop_free(&l);
	return 0;
}
