/*
 * mcpbench.c - a small benchmark driver for MCP servers that speak stdio.
 *
 * mcpbench starts the server named after `--` with its stdin and stdout on
 * pipes and talks newline-delimited JSON-RPC to it, the way an MCP client
 * such as Claude Desktop does. It measures three things:
 *
 *   cold start   N runs of: spawn, initialize, notifications/initialized,
 *                tools/list, close stdin, wait4. Wall time (CLOCK_MONOTONIC)
 *                and the peak RSS that wait4() reports (ru_maxrss).
 *   ping         round trips per second of `ping` in one long-lived server.
 *   tools/call   the same for one trivial tool call (--tool, --args); with
 *                --meta JSON every call carries that object as params._meta
 *                (a 2026-07-28 request on the same connection, which moat
 *                serves statelessly beside the initialize-era session).
 *
 * Each throughput figure is taken twice, in a fresh server each time:
 * sequentially (one request in flight: send, wait for its response, repeat)
 * and with --inflight requests outstanding (default 16), responses matched
 * by id; --repeat R takes each figure R times, every time in a fresh server,
 * and reports the median, which keeps a busy machine's noise out of it;
 * --modes picks which of these figures to take.
 * --pin CPU adds a second sequential figure with the driver and the server
 * both bound to that one CPU: a strict ping-pong between two processes on
 * different CPUs pays a cross-CPU wake-up per message, which on a virtual
 * machine with idle vCPUs (a halted vCPU is woken through the hypervisor)
 * can cost more than the server's own work; on one CPU the figure shows
 * the cost of the software path itself.
 * Throughput figures also give the server's CPU time per request
 * (server_cpu_us: user + system of all its threads over the timed span, from
 * /proc/PID/stat), which the load from other processes hardly moves.
 * Every measurement prints one JSON object on a line of stdout and a
 * readable line on stderr. Throughput figures also give the size of the
 * first response of the run (the JSON-RPC line, and the text of its content
 * blocks), so two servers' answers to the same call can be compared; --save
 * FILE keeps that response as it came.
 *
 * The driver never hangs on a broken server: every wait has a deadline
 * (--timeout), a server that dies or stops answering fails the measurement
 * and is killed and reaped. Responses are read line by line. The responses
 * of the handshake and the first response of every run are parsed in full
 * with jansson; in a throughput loop every other line is only scanned for
 * what the driver needs (its top-level "id", "result", "error" and
 * "method", and result.isError), skipping over strings with memchr(), so
 * the driver's cost per response stays small next to the server's even
 * when a response carries megabytes of text (a full parse of 4 KiB of text
 * costs more than some servers take to produce it). --parse-all parses
 * every response in full, as the driver did before. Notifications are
 * ignored and requests from the server are answered with "method not
 * found". A latency sample ends when the whole response line has been
 * read, before the driver looks at it.
 *
 * ru_maxrss of a child counts the pages it shared with this process at
 * fork() time, so the driver runs the cold-start series first, while its
 * own footprint is small, and reports that footprint (driver_rss_mb) and
 * the server's own high-water mark read from /proc (hwm_median_mb) beside it.
 *
 * Single-threaded; no function here is meant to be called from two threads.
 * Build: cc -O2 -std=c17 -D_GNU_SOURCE bench/mcpbench.c -ljansson -o mcpbench
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MB_VERSION "0.1.0"
#define MB_PROTOCOL "2025-06-18"
#define MB_LINE_MAX ((size_t)64 << 20)   /* longest line accepted from a server */
#define MB_BUF_MAX ((size_t)16 << 20)    /* largest batch of requests we write */
#define MB_LAT_MAX ((size_t)50 * 1000 * 1000) /* latency samples kept per run */
#define MB_INFLIGHT_MAX 4096
#define MB_ID_INIT 1
#define MB_ID_LIST 2
#define MB_ID_FIRST 3 /* first id used by a throughput loop */

/* Command-line settings; argv points into main's argv (not owned). */
struct mb_opts {
	long runs;           /* cold-start runs; 0 skips them */
	double seconds;      /* time limit per throughput run; 0 = none */
	long long requests;  /* request limit per throughput run; 0 = none */
	double warmup;       /* seconds of unmeasured traffic first */
	long inflight;       /* outstanding requests in the concurrent runs */
	long repeat;         /* fresh-server repetitions per throughput figure */
	long pin_cpu;        /* also run sequential figures on this one CPU; -1: no */
	long timeout_ms;     /* longest wait for any one response or exit */
	const char *tool;    /* tools/call target; NULL skips those runs */
	const char *args;    /* JSON object of arguments for the tool */
	const char *meta;    /* JSON object sent as the call's params._meta; NULL: none */
	const char *label;   /* names the server in the output */
	const char *save;    /* file for the first tools/call response of a run; NULL: none */
	bool show_stderr;    /* pass the server's stderr through */
	bool parse_all;      /* parse every response with jansson, not only the first */
	bool do_cold, do_ping, do_call;
	bool do_seq, do_pin, do_inflight; /* which throughput figures (--modes) */
	char **argv;         /* the server command line, NULL-terminated */
};

/* A growable byte buffer that refuses to grow past max. */
struct mb_buf {
	char *p;
	size_t len;
	size_t cap;
	size_t max;
};

/* Splits the bytes read from fd into lines. buf[start, len) is unconsumed;
 * the newline search resumes at scan. */
struct mb_reader {
	int fd;
	char *buf;
	size_t cap;
	size_t start;
	size_t len;
	size_t scan;
	bool eof;
};

/* One running server. */
struct mb_child {
	pid_t pid;
	int pidfd;            /* -1 when the kernel has no pidfd_open */
	int in_fd;            /* our end of the server's stdin; -1 once closed */
	struct mb_reader out; /* our end of the server's stdout */
	uint64_t ignored;     /* lines that were not responses */
	uint64_t stray;       /* responses to ids we were not waiting for */
	char first_error[256]; /* the first error response, for the summary */
	size_t last_bytes;      /* the last response parsed in full: its line */
	size_t last_text_bytes; /* and the text of its result's content blocks */
};

/* A request template: prefix + decimal id + suffix (suffix ends in '\n').
 * Both strings are owned by the template. */
struct mb_req {
	char *prefix;
	size_t prefix_len;
	char *suffix;
	size_t suffix_len;
};

/* An outstanding request in a throughput loop. */
struct mb_slot {
	long long id; /* 0 when free */
	uint64_t sent_ns;
};

/* The outcome of one throughput run; lat_us is owned and freed by
 * mb_tput_free(). */
struct mb_tput {
	uint64_t done;
	uint64_t errors;
	double seconds;
	double hwm_mb; /* the server's VmHWM at the end of the run; 0 if unknown */
	double cpu_us; /* the server's CPU time (user + system) per request; <0 if unknown */
	size_t resp_bytes; /* the run's first response: its line */
	size_t text_bytes; /* and the text in its content blocks */
	double *lat_us;
	size_t nlat;
	size_t cap;
};

/* ---- small helpers --------------------------------------------------- */

/* Monotonic time in nanoseconds. Thread-safe. */
static uint64_t mb_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Milliseconds left until deadline (ns), rounded up, for poll(); 0 when
 * the deadline has passed. */
static int mb_ms_left(uint64_t deadline)
{
	uint64_t now = mb_now_ns();
	uint64_t left;

	if (now >= deadline)
		return 0;
	left = (deadline - now + 999999u) / 1000000u;
	return left > INT_MAX ? INT_MAX : (int)left;
}

/* Compare two doubles for qsort(). */
static int mb_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The q-quantile (0..1) of n sorted values, linearly interpolated; 0 for
 * an empty set. v is borrowed. */
static double mb_quantile(const double *v, size_t n, double q)
{
	double pos, frac;
	size_t i;

	if (n == 0)
		return 0.0;
	pos = q * (double)(n - 1);
	i = (size_t)pos;
	frac = pos - (double)i;
	if (i + 1 >= n)
		return v[n - 1];
	return v[i] + (v[i + 1] - v[i]) * frac;
}

/* Parse a whole decimal integer in [lo, hi] into *out; false on junk or
 * out-of-range input. */
static bool mb_parse_ll(const char *s, long long lo, long long hi, long long *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end != '\0' || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

/* Parse a whole decimal number in [lo, hi] into *out; false otherwise. */
static bool mb_parse_double(const char *s, double lo, double hi, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end != '\0' || !(v >= lo && v <= hi))
		return false;
	*out = v;
	return true;
}

/* Append n bytes to b, growing it up to b->max; false when that would
 * exceed the maximum or memory runs out (b is unchanged then). */
static bool mb_buf_add(struct mb_buf *b, const char *data, size_t n)
{
	if (n > b->max - b->len)
		return false;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n)
			cap *= 2;
		if (cap > b->max)
			cap = b->max;
		char *p = realloc(b->p, cap);
		if (!p)
			return false;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	return true;
}

/* Release a buffer's memory; accepts a zeroed buffer. */
static void mb_buf_free(struct mb_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

/* ---- reading lines --------------------------------------------------- */

/* Take the next complete line out of r without reading. On true, *line
 * points into r's buffer (NUL-terminated in place of the newline) and stays
 * valid until the next call on r; *n is its length without the newline. */
static bool mb_reader_next(struct mb_reader *r, char **line, size_t *n)
{
	char *nl = memchr(r->buf + r->scan, '\n', r->len - r->scan);

	if (!nl) {
		r->scan = r->len;
		return false;
	}
	*nl = '\0';
	*line = r->buf + r->start;
	*n = (size_t)(nl - *line);
	r->start = (size_t)(nl - r->buf) + 1;
	r->scan = r->start;
	return true;
}

/* Read once from r->fd, waiting until deadline (ns) for data; wait 0 ms
 * when deadline is 0. Returns 1 when bytes arrived, 0 at end of file or
 * when nothing came by the deadline (*timed_out tells which), -1 on an
 * error or a line longer than MB_LINE_MAX. */
static int mb_reader_fill(struct mb_reader *r, uint64_t deadline, bool *timed_out)
{
	struct pollfd pfd = {.fd = r->fd, .events = POLLIN};
	ssize_t got;

	*timed_out = false;
	if (r->eof)
		return 0;
	if (r->start == r->len) {
		r->start = r->len = r->scan = 0;
	} else if (r->start > 0 && r->cap - r->len < 4096) {
		memmove(r->buf, r->buf + r->start, r->len - r->start);
		r->len -= r->start;
		r->scan -= r->start;
		r->start = 0;
	}
	if (r->cap - r->len < 4096) {
		size_t cap = r->cap ? r->cap * 2 : 65536;
		if (cap > MB_LINE_MAX + 4096) {
			fprintf(stderr, "mcpbench: a line from the server exceeds %zu bytes\n",
				MB_LINE_MAX);
			return -1;
		}
		char *p = realloc(r->buf, cap);
		if (!p)
			return -1;
		r->buf = p;
		r->cap = cap;
	}
	for (;;) {
		int rc = poll(&pfd, 1, deadline ? mb_ms_left(deadline) : 0);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0)
			return -1;
		if (rc == 0) {
			*timed_out = true;
			return 0;
		}
		got = read(r->fd, r->buf + r->len, r->cap - r->len - 1);
		if (got < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (got < 0)
			return -1;
		if (got == 0) {
			r->eof = true;
			return 0;
		}
		r->len += (size_t)got;
		return 1;
	}
}

/* ---- the server process ---------------------------------------------- */

/* Start argv[0] (looked up in PATH) with stdin and stdout on pipes and
 * stderr on /dev/null unless show_stderr. Fills *c; 0 on success, -1 with
 * a message on stderr otherwise. The caller ends it with mb_child_finish(). */
static int mb_spawn(char **argv, bool show_stderr, struct mb_child *c)
{
	int in[2] = {-1, -1}, out[2] = {-1, -1};

	memset(c, 0, sizeof(*c));
	c->pid = -1;
	c->pidfd = -1;
	c->in_fd = -1;
	c->out.fd = -1;
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0) {
		fprintf(stderr, "mcpbench: pipe: %s\n", strerror(errno));
		goto fail;
	}
	c->pid = fork();
	if (c->pid < 0) {
		fprintf(stderr, "mcpbench: fork: %s\n", strerror(errno));
		goto fail;
	}
	if (c->pid == 0) {
		/* The child. The driver has one thread, so the calls below are
		 * safe after fork(). Keep the real stderr (close-on-exec) to say
		 * why an exec failed. */
		int err_fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
		signal(SIGPIPE, SIG_DFL);
		if (dup2(in[0], STDIN_FILENO) < 0 || dup2(out[1], STDOUT_FILENO) < 0)
			_exit(126);
		if (!show_stderr) {
			int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
			if (null >= 0)
				dup2(null, STDERR_FILENO);
		}
		execvp(argv[0], argv);
		if (err_fd >= 0) {
			static const char msg[] = "mcpbench: cannot execute the server: ";
			const char *why = strerror(errno);
			(void)!write(err_fd, msg, sizeof(msg) - 1);
			(void)!write(err_fd, argv[0], strlen(argv[0]));
			(void)!write(err_fd, ": ", 2);
			(void)!write(err_fd, why, strlen(why));
			(void)!write(err_fd, "\n", 1);
		}
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	c->in_fd = in[1];
	c->out.fd = out[0];
	fcntl(c->in_fd, F_SETFL, fcntl(c->in_fd, F_GETFL) | O_NONBLOCK);
	fcntl(c->out.fd, F_SETFL, fcntl(c->out.fd, F_GETFL) | O_NONBLOCK);
#ifdef SYS_pidfd_open
	c->pidfd = (int)syscall(SYS_pidfd_open, c->pid, 0);
	if (c->pidfd >= 0)
		fcntl(c->pidfd, F_SETFD, FD_CLOEXEC);
#endif
	return 0;
fail:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (out[i] >= 0)
			close(out[i]);
	}
	return -1;
}

/* Close the server's stdin and wait until timeout_ns for it to exit,
 * draining its stdout meanwhile; kill it (SIGKILL) if it does not. Fills
 * *ru and *status when not NULL. Returns 0 when the server exited by
 * itself, -1 when it had to be killed or could not be reaped. Frees
 * everything *c holds; accepts a child that never started (pid -1). */
static int mb_child_finish(struct mb_child *c, uint64_t timeout_ns, struct rusage *ru,
			   int *status)
{
	uint64_t deadline = mb_now_ns() + timeout_ns;
	struct rusage ignored_ru;
	int st = 0, ret = -1;
	bool timed_out;

	if (!ru)
		ru = &ignored_ru;
	memset(ru, 0, sizeof(*ru));
	if (c->in_fd >= 0)
		close(c->in_fd);
	c->in_fd = -1;
	if (c->pid <= 0)
		goto out;
	for (;;) {
		struct pollfd pfd[2] = {{.fd = c->pidfd, .events = POLLIN},
					{.fd = c->out.eof ? -1 : c->out.fd, .events = POLLIN}};
		pid_t w = wait4(c->pid, &st, WNOHANG, ru);
		if (w == c->pid) {
			ret = 0;
			break;
		}
		if (w < 0 && errno != EINTR)
			break;
		int left = mb_ms_left(deadline);
		if (left == 0) {
			kill(c->pid, SIGKILL);
			while (wait4(c->pid, &st, 0, ru) < 0 && errno == EINTR)
				;
			break;
		}
		if (c->pidfd < 0 && c->out.eof && left > 1)
			left = 1; /* no pidfd: poll the exit every millisecond */
		if (poll(pfd, 2, left) > 0 && (pfd[1].revents & (POLLIN | POLLHUP | POLLERR))) {
			/* Discard whatever it still prints, so it never blocks on us. */
			c->out.start = c->out.len = c->out.scan = 0;
			if (mb_reader_fill(&c->out, 0, &timed_out) < 0)
				c->out.eof = true;
		}
	}
out:
	if (status)
		*status = st;
	if (c->out.fd >= 0)
		close(c->out.fd);
	if (c->pidfd >= 0)
		close(c->pidfd);
	free(c->out.buf);
	c->out.buf = NULL;
	c->out.fd = c->pidfd = -1;
	c->pid = -1;
	return ret;
}

/* Kill a server that failed a measurement and reap it. */
static void mb_child_kill(struct mb_child *c)
{
	if (c->pid > 0)
		kill(c->pid, SIGKILL);
	mb_child_finish(c, 1000000000u, NULL, NULL);
}

/* The CPU time (utime + stime, all threads) the process has used, in
 * seconds, read from /proc/PID/stat; -1 when unavailable. Clock-tick
 * resolution (10 ms at 100 Hz): meant for runs of seconds. */
static double mb_proc_cpu_s(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long ut, st;
	size_t got;
	FILE *f;
	int n = snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);

	if (n < 0 || (size_t)n >= sizeof(path) || !(f = fopen(path, "re")))
		return -1.0;
	got = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[got] = '\0';
	/* Fields after the command name, which may hold spaces: ") S ppid ..."
	 * utime and stime are fields 14 and 15, the 12th and 13th after ')'. */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
			 &st) != 2)
		return -1.0;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* The server's own peak resident set (VmHWM) in KiB, read from
 * /proc/PID/status; -1 when unavailable. */
static long mb_proc_hwm_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;
	int n = snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);

	if (n < 0 || (size_t)n >= sizeof(path) || !(f = fopen(path, "re")))
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "VmHWM:", 6) == 0) {
			char *end;
			errno = 0;
			kb = strtol(line + 6, &end, 10);
			if (errno || end == line + 6)
				kb = -1;
			break;
		}
	}
	fclose(f);
	return kb;
}

/* Write all n bytes of data to the server's stdin by deadline (ns), reading
 * (and keeping) its output meanwhile so neither side can block the other.
 * 0 on success, -1 on timeout or a broken pipe (message on stderr). */
static int mb_send(struct mb_child *c, const char *data, size_t n, uint64_t deadline)
{
	bool timed_out;

	while (n > 0) {
		ssize_t w = write(c->in_fd, data, n);
		if (w > 0) {
			data += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno != EAGAIN) {
			fprintf(stderr, "mcpbench: writing to the server: %s\n", strerror(errno));
			return -1;
		}
		struct pollfd pfd[2] = {{.fd = c->in_fd, .events = POLLOUT},
					{.fd = c->out.eof ? -1 : c->out.fd, .events = POLLIN}};
		int left = mb_ms_left(deadline);
		if (left == 0) {
			fprintf(stderr, "mcpbench: the server stopped reading its input\n");
			return -1;
		}
		if (poll(pfd, 2, left) > 0 && (pfd[1].revents & (POLLIN | POLLHUP)))
			if (mb_reader_fill(&c->out, 0, &timed_out) < 0)
				return -1;
	}
	return 0;
}

/* Remember the first error response of a run (truncated) for the summary. */
static void mb_note_error(struct mb_child *c, const char *line)
{
	if (c->first_error[0] == '\0')
		snprintf(c->first_error, sizeof(c->first_error), "%s", line);
}

/* The bytes of text in a tool result's content blocks (result is borrowed;
 * 0 when it has none). */
static size_t mb_text_bytes(json_t *result)
{
	json_t *block;
	size_t i, n = 0;

	json_array_foreach(json_object_get(result, "content"), i, block)
		n += json_string_length(json_object_get(block, "text"));
	return n;
}

/* ---- scanning messages without parsing them --------------------------- */

/* What mb_scan() found at the top level of one message. */
struct mb_scan {
	bool id;            /* it has an "id" */
	bool id_int;        /* ... that is an integer, id_value */
	long long id_value;
	bool result;        /* it has a "result" */
	bool error;         /* it has an "error" */
	bool method;        /* it has a "method" */
	bool is_error;      /* result is an object whose "isError" is true */
};

/* The first byte at or after p that is not JSON whitespace (end if none). */
static const char *mb_skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/* p points at a string's opening quote: the position after its closing
 * quote, or NULL when it has none before end. A quote is escaped when an
 * odd number of backslashes precede it. */
static const char *mb_skip_string(const char *p, const char *end)
{
	const char *q = p + 1;

	for (;;) {
		const char *bs;
		q = memchr(q, '"', (size_t)(end - q));
		if (!q)
			return NULL;
		bs = q;
		while (bs > p + 1 && bs[-1] == '\\')
			bs--;
		if (((q - bs) & 1) == 0)
			return q + 1;
		q++;
	}
}

/* Skip the value at p (a string, an object, an array, or a run of the
 * bytes a number or a literal is made of): the position after it, or NULL
 * when it is malformed or does not end before end. This only finds where a
 * value ends; it does not validate it. */
static const char *mb_skip_value(const char *p, const char *end)
{
	size_t depth = 0;
	const char *q = p;

	if (p >= end)
		return NULL;
	if (*p == '"')
		return mb_skip_string(p, end);
	if (*p != '{' && *p != '[') {
		while (q < end && (*q == '-' || *q == '+' || *q == '.' ||
				   (*q >= '0' && *q <= '9') || (*q >= 'a' && *q <= 'z') ||
				   (*q >= 'A' && *q <= 'Z')))
			q++;
		return q > p ? q : NULL;
	}
	while (q < end) {
		if (*q == '"') {
			if (!(q = mb_skip_string(q, end)))
				return NULL;
			continue;
		}
		if (*q == '{' || *q == '[') {
			depth++;
		} else if (*q == '}' || *q == ']') {
			if (--depth == 0)
				return q + 1;
		}
		q++;
	}
	return NULL;
}

/* Step to the next member of an object. *pp points just after its '{' or
 * after the previous member's value. Returns 1 with the member's key (the
 * raw bytes between its quotes) in *key and *klen and *pp at its value; 0
 * at the closing brace, *pp after it; -1 when the input is malformed. */
static int mb_member(const char **pp, const char *end, const char **key, size_t *klen)
{
	const char *p = mb_skip_ws(*pp, end), *k;

	if (p < end && *p == '}') {
		*pp = p + 1;
		return 0;
	}
	if (p < end && *p == ',')
		p = mb_skip_ws(p + 1, end);
	if (p >= end || *p != '"' || !(k = mb_skip_string(p, end)))
		return -1;
	*key = p + 1;
	*klen = (size_t)(k - p - 2);
	p = mb_skip_ws(k, end);
	if (p >= end || *p != ':')
		return -1;
	*pp = mb_skip_ws(p + 1, end);
	return 1;
}

/* True when the raw key[0, klen) is the string name. */
static bool mb_key_is(const char *key, size_t klen, const char *name)
{
	return strlen(name) == klen && memcmp(key, name, klen) == 0;
}

/* True when the object whose members start at p (just after its '{') and
 * which ends before end has an "isError" member that is true. */
static bool mb_scan_is_error(const char *p, const char *end)
{
	const char *key, *v;
	size_t klen;
	bool is_error = false;

	while (mb_member(&p, end, &key, &klen) == 1) {
		v = p;
		if (!(p = mb_skip_value(v, end)))
			break;
		if (mb_key_is(key, klen, "isError"))
			is_error = p - v == 4 && memcmp(v, "true", 4) == 0;
	}
	return is_error;
}

/* Scan the message line[0, n) into *s. False when it is not an object or
 * is malformed in a way the scan notices; it is not a validator. */
static bool mb_scan(const char *line, size_t n, struct mb_scan *s)
{
	const char *end = line + n, *p = mb_skip_ws(line, end), *key, *v;
	size_t klen;
	int k;

	memset(s, 0, sizeof(*s));
	if (p >= end || *p != '{')
		return false;
	p++;
	while ((k = mb_member(&p, end, &key, &klen)) == 1) {
		v = p;
		if (!(p = mb_skip_value(v, end)))
			return false;
		if (mb_key_is(key, klen, "id")) {
			char digits[32];
			long long value;
			size_t len = (size_t)(p - v);
			s->id = true;
			if (len < sizeof(digits)) {
				memcpy(digits, v, len);
				digits[len] = '\0';
				if (mb_parse_ll(digits, LLONG_MIN, LLONG_MAX, &value)) {
					s->id_int = true;
					s->id_value = value;
				}
			}
		} else if (mb_key_is(key, klen, "result")) {
			s->result = true;
			s->is_error = *v == '{' && mb_scan_is_error(v + 1, p);
		} else if (mb_key_is(key, klen, "error")) {
			s->error = true;
		} else if (mb_key_is(key, klen, "method")) {
			s->method = true;
		}
	}
	return k == 0 && mb_skip_ws(p, end) == end;
}

/* Classify one line from the server. Returns 1 for a response, setting *id
 * (-1 when the id is not an integer) and *failed (a JSON-RPC error or a
 * tool result with isError: true); 0 for anything else, which is ignored,
 * except that a request from the server gets a "method not found" error
 * back; -1 when that answer cannot be written. When full is true, or the
 * line is not a plain response, it is parsed with jansson, and a
 * response's size is noted in c->last_bytes and c->last_text_bytes;
 * otherwise mb_scan() decides. */
static int mb_classify(struct mb_child *c, char *line, size_t n, bool full, long long *id,
		       bool *failed, uint64_t deadline)
{
	json_error_t jerr;
	json_t *msg = NULL;
	json_t *jid, *res;
	struct mb_scan s;
	int ret = 0;

	*id = -1;
	*failed = false;
	if (!full && mb_scan(line, n, &s) && !s.method) {
		if (!s.id || !(s.result || s.error)) {
			c->ignored++;
			return 0;
		}
		if (s.id_int)
			*id = s.id_value;
		*failed = !s.result || s.is_error;
		if (*failed)
			mb_note_error(c, line);
		return 1;
	}
	msg = json_loadb(line, n, 0, &jerr);
	if (!json_is_object(msg)) {
		c->ignored++;
		goto out;
	}
	jid = json_object_get(msg, "id");
	res = json_object_get(msg, "result");
	if (jid && (res || json_object_get(msg, "error"))) {
		if (json_is_integer(jid))
			*id = (long long)json_integer_value(jid);
		*failed = !res || json_is_true(json_object_get(res, "isError"));
		if (*failed)
			mb_note_error(c, line);
		c->last_bytes = n;
		c->last_text_bytes = res ? mb_text_bytes(res) : 0;
		ret = 1;
		goto out;
	}
	c->ignored++;
	if (jid && json_is_string(json_object_get(msg, "method"))) {
		char *idtext = json_dumps(jid, JSON_ENCODE_ANY | JSON_COMPACT);
		struct mb_buf b = {.max = 4096};
		static const char head[] = "{\"jsonrpc\":\"2.0\",\"id\":";
		static const char tail[] =
			",\"error\":{\"code\":-32601,"
			"\"message\":\"mcpbench answers no requests\"}}\n";
		if (!idtext || !mb_buf_add(&b, head, sizeof(head) - 1) ||
		    !mb_buf_add(&b, idtext, strlen(idtext)) ||
		    !mb_buf_add(&b, tail, sizeof(tail) - 1) || mb_send(c, b.p, b.len, deadline) < 0)
			ret = -1;
		free(idtext);
		mb_buf_free(&b);
	}
out:
	json_decref(msg);
	return ret;
}

/* Wait until deadline (ns) for the response to id, skipping other lines.
 * Sets *failed as mb_classify() does. 0 on success, -1 with a message on
 * stderr when the server closes its output, errs or times out. */
static int mb_await(struct mb_child *c, long long id, uint64_t deadline, bool *failed)
{
	char *line;
	size_t n;
	long long got;
	bool timed_out;

	for (;;) {
		while (mb_reader_next(&c->out, &line, &n)) {
			int k = mb_classify(c, line, n, true, &got, failed, deadline);
			if (k < 0)
				return -1;
			if (k == 1 && got == id)
				return 0;
			if (k == 1)
				c->stray++;
		}
		int rc = mb_reader_fill(&c->out, deadline, &timed_out);
		if (rc < 0)
			return -1;
		if (rc == 0) {
			fprintf(stderr, "mcpbench: %s while waiting for the response to id %lld\n",
				timed_out ? "timed out" : "the server closed its output", id);
			return -1;
		}
	}
}

/* ---- requests -------------------------------------------------------- */

/* Build a request template for method with params (a JSON text, or NULL
 * for none). 0 on success, -1 if params is not valid JSON or memory runs
 * out. The template owns its strings; free them with mb_req_free(). */
static int mb_req_init(struct mb_req *r, const char *method, const char *params)
{
	static const char prefix[] = "{\"jsonrpc\":\"2.0\",\"id\":";
	json_t *m = json_string(method), *p = NULL;
	char *mtext = NULL, *ptext = NULL;
	json_error_t jerr;
	struct mb_buf b = {.max = MB_BUF_MAX};
	int ret = -1;

	memset(r, 0, sizeof(*r));
	if (params && !(p = json_loads(params, JSON_DECODE_ANY, &jerr))) {
		fprintf(stderr, "mcpbench: invalid JSON: %s\n", jerr.text);
		goto out;
	}
	mtext = json_dumps(m, JSON_ENCODE_ANY | JSON_COMPACT);
	ptext = p ? json_dumps(p, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
	if (!mtext || (p && !ptext))
		goto out;
	if (!mb_buf_add(&b, ",\"method\":", 10) || !mb_buf_add(&b, mtext, strlen(mtext)))
		goto out;
	if (ptext && (!mb_buf_add(&b, ",\"params\":", 10) || !mb_buf_add(&b, ptext, strlen(ptext))))
		goto out;
	if (!mb_buf_add(&b, "}\n", 2))
		goto out;
	r->prefix = strdup(prefix);
	if (!r->prefix)
		goto out;
	r->prefix_len = sizeof(prefix) - 1;
	r->suffix = b.p;
	r->suffix_len = b.len;
	b.p = NULL;
	ret = 0;
out:
	mb_buf_free(&b);
	free(mtext);
	free(ptext);
	json_decref(m);
	json_decref(p);
	return ret;
}

/* Free a template's strings; accepts a zeroed template. */
static void mb_req_free(struct mb_req *r)
{
	free(r->prefix);
	free(r->suffix);
	memset(r, 0, sizeof(*r));
}

/* Append the request r with this id to b; false when b is full. */
static bool mb_req_add(struct mb_buf *b, const struct mb_req *r, long long id)
{
	char digits[24];
	int n = snprintf(digits, sizeof(digits), "%lld", id);

	if (n < 0 || (size_t)n >= sizeof(digits))
		return false;
	return mb_buf_add(b, r->prefix, r->prefix_len) && mb_buf_add(b, digits, (size_t)n) &&
	       mb_buf_add(b, r->suffix, r->suffix_len);
}

/* Start a server and take it through initialize and
 * notifications/initialized. Returns the initialize response time in ms, or
 * a negative value on failure (the server is killed then). When list is
 * true, also sends tools/list in the same write and waits for its answer;
 * *ready_ms is then the time to that answer. */
static double mb_session_open(const struct mb_opts *o, struct mb_child *c, bool list,
			      uint64_t t0, double *ready_ms)
{
	static const char init[] =
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{"
		"\"protocolVersion\":\"" MB_PROTOCOL "\",\"capabilities\":{},"
		"\"clientInfo\":{\"name\":\"mcpbench\",\"version\":\"" MB_VERSION "\"}}}\n";
	static const char inited[] =
		"{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}\n";
	static const char tlist[] = "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\"}\n";
	uint64_t timeout = (uint64_t)o->timeout_ms * 1000000u;
	double init_ms;
	bool failed;
	struct mb_buf b = {.max = 4096};

	if (mb_spawn(o->argv, o->show_stderr, c) < 0)
		return -1.0;
	if (mb_send(c, init, sizeof(init) - 1, mb_now_ns() + timeout) < 0 ||
	    mb_await(c, MB_ID_INIT, mb_now_ns() + timeout, &failed) < 0)
		goto fail;
	if (failed) {
		fprintf(stderr, "mcpbench: initialize failed: %s\n", c->first_error);
		goto fail;
	}
	init_ms = (double)(mb_now_ns() - t0) / 1e6;
	if (!mb_buf_add(&b, inited, sizeof(inited) - 1) ||
	    (list && !mb_buf_add(&b, tlist, sizeof(tlist) - 1)) ||
	    mb_send(c, b.p, b.len, mb_now_ns() + timeout) < 0)
		goto fail;
	if (list) {
		if (mb_await(c, MB_ID_LIST, mb_now_ns() + timeout, &failed) < 0)
			goto fail;
		if (failed) {
			fprintf(stderr, "mcpbench: tools/list failed: %s\n", c->first_error);
			goto fail;
		}
		*ready_ms = (double)(mb_now_ns() - t0) / 1e6;
	}
	mb_buf_free(&b);
	return init_ms;
fail:
	mb_buf_free(&b);
	mb_child_kill(c);
	return -1.0;
}

/* ---- measurements ---------------------------------------------------- */

/* Print one result object as a line of stdout. Steals obj. */
static void mb_emit(json_t *obj)
{
	if (!obj)
		return;
	json_dumpf(obj, stdout, JSON_COMPACT | JSON_REAL_PRECISION(6));
	fputc('\n', stdout);
	fflush(stdout);
	json_decref(obj);
}

/* Cold start: o->runs times spawn, initialize, tools/list, close stdin and
 * reap. Prints one "cold_start" line. 0 when every run succeeded. */
static int mb_cold(const struct mb_opts *o)
{
	double *total = calloc((size_t)o->runs, sizeof(double));
	double *ready = calloc((size_t)o->runs, sizeof(double));
	double *init = calloc((size_t)o->runs, sizeof(double));
	double *rss = calloc((size_t)o->runs, sizeof(double));
	double *hwm = calloc((size_t)o->runs, sizeof(double));
	uint64_t timeout = (uint64_t)o->timeout_ms * 1000000u;
	size_t ok = 0, nhwm = 0, bad_exit = 0;
	struct rusage self;
	double driver_mb;
	int ret = -1;

	if (!total || !ready || !init || !rss || !hwm) {
		fprintf(stderr, "mcpbench: out of memory\n");
		goto out;
	}
	getrusage(RUSAGE_SELF, &self);
	driver_mb = (double)self.ru_maxrss / 1024.0;
	for (long i = 0; i < o->runs; i++) {
		struct mb_child c;
		struct rusage ru;
		double ready_ms = 0.0;
		int status;
		uint64_t t0 = mb_now_ns();
		double init_ms = mb_session_open(o, &c, true, t0, &ready_ms);
		if (init_ms < 0)
			continue;
		uint64_t t_ready = mb_now_ns();
		long kb = mb_proc_hwm_kb(c.pid); /* outside the timed span */
		uint64_t t_close = mb_now_ns();
		if (mb_child_finish(&c, timeout, &ru, &status) < 0) {
			fprintf(stderr,
				"mcpbench: run %ld: the server did not exit after stdin closed\n",
				i + 1);
			continue;
		}
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			bad_exit++;
		total[ok] = (double)((t_ready - t0) + (mb_now_ns() - t_close)) / 1e6;
		ready[ok] = ready_ms;
		init[ok] = init_ms;
		rss[ok] = (double)ru.ru_maxrss / 1024.0;
		if (kb > 0)
			hwm[nhwm++] = (double)kb / 1024.0;
		ok++;
	}
	qsort(total, ok, sizeof(double), mb_cmp_double);
	qsort(ready, ok, sizeof(double), mb_cmp_double);
	qsort(init, ok, sizeof(double), mb_cmp_double);
	qsort(rss, ok, sizeof(double), mb_cmp_double);
	qsort(hwm, nhwm, sizeof(double), mb_cmp_double);
	mb_emit(json_pack("{s:s, s:s, s:b, s:I, s:I, s:I, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, "
			  "s:f, s:f}",
			  "label", o->label, "metric", "cold_start", "ok", ok == (size_t)o->runs,
			  "runs", (json_int_t)o->runs,
			  "ok_runs", (json_int_t)ok, "bad_exits", (json_int_t)bad_exit, "median_ms",
			  mb_quantile(total, ok, 0.5), "p90_ms", mb_quantile(total, ok, 0.9),
			  "min_ms", mb_quantile(total, ok, 0.0), "max_ms",
			  mb_quantile(total, ok, 1.0), "init_median_ms", mb_quantile(init, ok, 0.5),
			  "ready_median_ms", mb_quantile(ready, ok, 0.5), "rss_median_mb",
			  mb_quantile(rss, ok, 0.5), "rss_max_mb", mb_quantile(rss, ok, 1.0),
			  "hwm_median_mb", mb_quantile(hwm, nhwm, 0.5), "driver_rss_mb",
			  driver_mb));
	if (ok == 0) {
		fprintf(stderr, "[%s] cold start: FAILED (no run completed)\n", o->label);
		goto out;
	}
	fprintf(stderr,
		"[%s] cold start: median %.2f ms, p90 %.2f ms (%zu/%ld runs ok; initialize "
		"answered at %.2f ms, tools/list at %.2f ms)\n",
		o->label, mb_quantile(total, ok, 0.5), mb_quantile(total, ok, 0.9), ok, o->runs,
		mb_quantile(init, ok, 0.5), mb_quantile(ready, ok, 0.5));
	fprintf(stderr,
		"[%s] peak RSS (wait4 ru_maxrss): median %.2f MB, max %.2f MB; server VmHWM at "
		"ready %.2f MB; driver %.2f MB\n",
		o->label, mb_quantile(rss, ok, 0.5), mb_quantile(rss, ok, 1.0),
		mb_quantile(hwm, nhwm, 0.5), driver_mb);
	if (bad_exit)
		fprintf(stderr, "[%s] warning: %zu runs ended with a non-zero status\n", o->label,
			bad_exit);
out:
	ret = ok == (size_t)o->runs ? 0 : -1;
	free(total);
	free(ready);
	free(init);
	free(rss);
	free(hwm);
	return ret;
}

/* Record one latency sample, growing t->lat_us up to MB_LAT_MAX samples
 * (later samples are dropped, the count still rises). */
static void mb_tput_sample(struct mb_tput *t, double us)
{
	if (t->nlat == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 65536;
		if (cap > MB_LAT_MAX)
			return;
		double *p = realloc(t->lat_us, cap * sizeof(double));
		if (!p)
			return;
		t->lat_us = p;
		t->cap = cap;
	}
	t->lat_us[t->nlat++] = us;
}

/* Write one response line (n bytes, without its newline) to path, replacing
 * what the file held; a failure is reported on stderr and otherwise
 * ignored. */
static void mb_save(const char *path, const char *line, size_t n)
{
	FILE *f = fopen(path, "we");

	if (!f || fwrite(line, 1, n, f) != n || fputc('\n', f) == EOF) {
		fprintf(stderr, "mcpbench: cannot write %s: %s\n", path, strerror(errno));
		if (f)
			fclose(f);
		return;
	}
	if (fclose(f) != 0)
		fprintf(stderr, "mcpbench: cannot write %s: %s\n", path, strerror(errno));
}

/* Free a run's samples. */
static void mb_tput_free(struct mb_tput *t)
{
	free(t->lat_us);
	memset(t, 0, sizeof(*t));
}

/* Drive traffic of request r with `inflight` outstanding requests for
 * duration_ns (0 = no limit) or max_req requests (0 = no limit), whichever
 * ends first, then wait for the stragglers. Ids start at *next_id, which
 * is advanced. Results go to *t when it is not NULL (a warm-up passes
 * NULL): the first response is parsed in full, measured and written to
 * o->save when that is set, the others only scanned. 0 on success, -1
 * when the server fails. */
static int mb_drive(const struct mb_opts *o, struct mb_child *c, const struct mb_req *r,
		    long inflight, uint64_t duration_ns, long long max_req, long long *next_id,
		    struct mb_tput *t)
{
	struct mb_slot *slots = calloc((size_t)inflight, sizeof(*slots));
	struct mb_buf b = {.max = MB_BUF_MAX};
	uint64_t timeout = (uint64_t)o->timeout_ms * 1000000u;
	uint64_t start = mb_now_ns(), now = start;
	uint64_t end = duration_ns ? start + duration_ns : UINT64_MAX;
	long long sent = 0;
	long outstanding = 0;
	int ret = -1;

	if (!slots) {
		fprintf(stderr, "mcpbench: out of memory\n");
		goto out;
	}
	for (;;) {
		char *line;
		size_t n;
		long long id;
		bool failed, timed_out;

		/* Top up to `inflight` outstanding requests with one write. */
		b.len = 0;
		while (outstanding < inflight && now < end && (max_req == 0 || sent < max_req)) {
			long s = 0;
			while (slots[s].id != 0)
				s++;
			slots[s].id = (*next_id)++;
			slots[s].sent_ns = now;
			if (!mb_req_add(&b, r, slots[s].id)) {
				fprintf(stderr, "mcpbench: request too large\n");
				goto out;
			}
			outstanding++;
			sent++;
		}
		if (b.len > 0 && mb_send(c, b.p, b.len, now + timeout) < 0)
			goto out;
		if (outstanding == 0)
			break;
		/* Take every response already buffered, else wait for more. */
		bool any = false;
		while (mb_reader_next(&c->out, &line, &n)) {
			uint64_t got = mb_now_ns(); /* read in full; not yet parsed */
			bool first = t && t->done == 0;
			int k = mb_classify(c, line, n, first || o->parse_all, &id, &failed,
					    got + timeout);
			if (k < 0)
				goto out;
			if (k == 0)
				continue;
			long s = 0;
			while (s < inflight && slots[s].id != id)
				s++;
			if (s == inflight || id <= 0) {
				c->stray++;
				continue;
			}
			if (first) {
				t->resp_bytes = c->last_bytes;
				t->text_bytes = c->last_text_bytes;
				if (o->save)
					mb_save(o->save, line, n);
			}
			if (t) {
				t->done++;
				t->errors += failed;
				mb_tput_sample(t, (double)(got - slots[s].sent_ns) / 1e3);
			}
			slots[s].id = 0;
			outstanding--;
			any = true;
		}
		if (any) {
			now = mb_now_ns();
			continue;
		}
		int rc = mb_reader_fill(&c->out, mb_now_ns() + timeout, &timed_out);
		if (rc < 0)
			goto out;
		if (rc == 0) {
			fprintf(stderr, "mcpbench: %s with %ld requests outstanding\n",
				timed_out ? "timed out" : "the server closed its output",
				outstanding);
			goto out;
		}
		now = mb_now_ns();
	}
	if (t)
		t->seconds = (double)(mb_now_ns() - start) / 1e9;
	ret = 0;
out:
	mb_buf_free(&b);
	free(slots);
	return ret;
}

/* Bind this process (and so the servers it starts from now on) to one CPU,
 * saving the previous mask in *saved; cpu -1 does nothing. 0 on success,
 * -1 with a message on stderr. */
static int mb_pin(long cpu, cpu_set_t *saved)
{
	cpu_set_t one;

	if (cpu < 0)
		return 0;
	if (sched_getaffinity(0, sizeof(*saved), saved) < 0) {
		fprintf(stderr, "mcpbench: sched_getaffinity: %s\n", strerror(errno));
		return -1;
	}
	CPU_ZERO(&one);
	CPU_SET((int)cpu, &one);
	if (sched_setaffinity(0, sizeof(one), &one) < 0) {
		fprintf(stderr, "mcpbench: cannot run on CPU %ld: %s\n", cpu, strerror(errno));
		return -1;
	}
	return 0;
}

/* Undo mb_pin(cpu, saved). */
static void mb_unpin(long cpu, const cpu_set_t *saved)
{
	if (cpu >= 0 && sched_setaffinity(0, sizeof(*saved), saved) < 0)
		fprintf(stderr, "mcpbench: cannot restore the CPU mask: %s\n", strerror(errno));
}

/* One throughput run in a fresh server: warm up, then drive r with
 * `inflight` outstanding requests, the driver and the server bound to CPU
 * `cpu` unless it is -1. Fills *t (the caller frees it with mb_tput_free())
 * and copies the first error response into first_error (size n). 0 on
 * success, -1 when the server failed. */
static int mb_throughput_once(const struct mb_opts *o, const struct mb_req *r, long inflight,
			      long cpu, struct mb_tput *t, char *first_error, size_t n)
{
	struct mb_child c;
	long long next_id = MB_ID_FIRST;
	cpu_set_t saved;
	double unused;
	int status = 0, ret = -1;

	if (mb_pin(cpu, &saved) < 0)
		return -1;
	if (mb_session_open(o, &c, false, mb_now_ns(), &unused) < 0)
		goto out;
	if (o->warmup > 0 &&
	    mb_drive(o, &c, r, inflight, (uint64_t)(o->warmup * 1e9), 0, &next_id, NULL) < 0)
		goto fail;
	c.first_error[0] = '\0';
	double cpu0 = mb_proc_cpu_s(c.pid);
	if (mb_drive(o, &c, r, inflight, (uint64_t)(o->seconds * 1e9), o->requests, &next_id,
		     t) < 0)
		goto fail;
	double cpu1 = mb_proc_cpu_s(c.pid);
	t->cpu_us = cpu0 >= 0 && cpu1 >= 0 && t->done > 0 ? (cpu1 - cpu0) * 1e6 / (double)t->done
							   : -1.0;
	snprintf(first_error, n, "%s", c.first_error);
	if (c.stray > 0)
		fprintf(stderr, "[%s] warning: %" PRIu64 " responses carried ids never sent\n",
			o->label, c.stray);
	long kb = mb_proc_hwm_kb(c.pid);
	t->hwm_mb = kb > 0 ? (double)kb / 1024.0 : 0.0;
	if (mb_child_finish(&c, (uint64_t)o->timeout_ms * 1000000u, NULL, &status) < 0)
		fprintf(stderr, "[%s] warning: the server had to be killed after its run\n",
			o->label);
	ret = 0;
	goto out;
fail:
	snprintf(first_error, n, "%s", c.first_error);
	mb_child_kill(&c);
out:
	mb_unpin(cpu, &saved);
	return ret;
}

/* One throughput figure: o->repeat runs of mb_throughput_once(), each in a
 * fresh server, on CPU `cpu` (-1: wherever the scheduler likes); the run
 * with the median rate is reported (all rates are listed in
 * "runs_per_second"). `metric` names it. Prints one line; 0 when every run
 * succeeded. */
static int mb_throughput(const struct mb_opts *o, const char *metric, const struct mb_req *r,
			 long inflight, long cpu)
{
	struct mb_tput *t = calloc((size_t)o->repeat, sizeof(*t));
	double *rates = calloc((size_t)o->repeat, sizeof(double));
	const char *mode = "sequential";
	char first_error[256] = "", err[256];
	json_t *all = json_array();
	long ok = 0, pick = -1;
	uint64_t errors = 0;
	double p50 = 0.0, p99 = 0.0, rate = 0.0;
	int ret = -1;

	if (!t || !rates || !all) {
		fprintf(stderr, "mcpbench: out of memory\n");
		goto out;
	}
	if (inflight > 1)
		mode = "concurrent";
	else if (cpu >= 0)
		mode = "sequential-pinned";
	for (long i = 0; i < o->repeat; i++) {
		err[0] = '\0';
		if (mb_throughput_once(o, r, inflight, cpu, &t[i], err, sizeof(err)) == 0) {
			t[i].seconds = t[i].seconds > 0 ? t[i].seconds : 1e-9;
			rates[ok++] = (double)t[i].done / t[i].seconds;
			json_array_append_new(all, json_real((double)t[i].done / t[i].seconds));
		} else {
			t[i].done = 0;
			t[i].seconds = 0;
		}
		errors += t[i].errors;
		if (first_error[0] == '\0' && err[0] != '\0')
			snprintf(first_error, sizeof(first_error), "%s", err);
	}
	if (ok > 0) {
		qsort(rates, (size_t)ok, sizeof(double), mb_cmp_double);
		rate = rates[(ok - 1) / 2]; /* a real run's rate: the lower median */
		for (long i = 0; i < o->repeat && pick < 0; i++)
			if (t[i].seconds > 0 && (double)t[i].done / t[i].seconds == rate)
				pick = i;
	}
	if (pick >= 0) {
		qsort(t[pick].lat_us, t[pick].nlat, sizeof(double), mb_cmp_double);
		p50 = mb_quantile(t[pick].lat_us, t[pick].nlat, 0.5);
		p99 = mb_quantile(t[pick].lat_us, t[pick].nlat, 0.99);
	}
	ret = ok == o->repeat ? 0 : -1;
	mb_emit(json_pack("{s:s, s:s, s:s, s:I, s:I, s:b, s:I, s:I, s:I, s:f, s:f, s:f, s:f, s:f, "
			  "s:f, s:I, s:I, s:O}",
			  "label", o->label, "metric", metric, "mode", mode, "inflight",
			  (json_int_t)inflight, "cpu", (json_int_t)cpu, "ok", ret == 0, "repeat",
			  (json_int_t)o->repeat, "requests",
			  (json_int_t)(pick >= 0 ? t[pick].done : 0), "errors", (json_int_t)errors,
			  "seconds", pick >= 0 ? t[pick].seconds : 0.0, "per_second", rate,
			  "p50_us", p50, "p99_us", p99, "hwm_mb", pick >= 0 ? t[pick].hwm_mb : 0.0,
			  "server_cpu_us", pick >= 0 ? t[pick].cpu_us : -1.0,
			  "resp_bytes", (json_int_t)(pick >= 0 ? t[pick].resp_bytes : 0),
			  "text_bytes", (json_int_t)(pick >= 0 ? t[pick].text_bytes : 0),
			  "runs_per_second", all));
	if (ret == 0) {
		fprintf(stderr,
			"[%s] %s, %s (%ld in flight%s): %.0f req/s (%" PRIu64 " in %.2f s",
			o->label, metric, mode, inflight, cpu >= 0 ? ", one CPU" : "", rate,
			t[pick].done, t[pick].seconds);
		if (o->repeat > 1)
			fprintf(stderr, "; median of %ld runs, %.0f to %.0f", o->repeat, rates[0],
				rates[ok - 1]);
		fprintf(stderr,
			"), latency p50 %.1f us, p99 %.1f us, server VmHWM %.1f MB, first response "
			"%zu bytes (text %zu)\n",
			p50, p99, t[pick].hwm_mb, t[pick].resp_bytes, t[pick].text_bytes);
	} else {
		fprintf(stderr, "[%s] %s, %s: FAILED (%ld of %ld runs completed)\n", o->label,
			metric, mode, ok, o->repeat);
	}
	if (errors)
		fprintf(stderr, "[%s] warning: %" PRIu64 " error responses; the first: %.200s\n",
			o->label, errors, first_error);
out:
	if (t)
		for (long i = 0; i < o->repeat; i++)
			mb_tput_free(&t[i]);
	free(t);
	free(rates);
	json_decref(all);
	return ret;
}

/* The throughput figures --modes asks for, for request r: sequential,
 * sequential on one CPU (with --pin), and o->inflight in flight. Returns
 * how many failed. */
static int mb_throughput_modes(const struct mb_opts *o, const char *metric,
			       const struct mb_req *r)
{
	int failures = 0;

	if (o->do_seq)
		failures += mb_throughput(o, metric, r, 1, -1) < 0;
	if (o->do_pin && o->pin_cpu >= 0)
		failures += mb_throughput(o, metric, r, 1, o->pin_cpu) < 0;
	if (o->do_inflight)
		failures += mb_throughput(o, metric, r, o->inflight, -1) < 0;
	return failures;
}

/* ---- command line ---------------------------------------------------- */

/* Print the usage text to f. */
static void mb_usage(FILE *f)
{
	fputs("usage: mcpbench [options] -- SERVER [ARGS...]\n"
	      "\n"
	      "Benchmarks an MCP server that speaks newline-delimited JSON-RPC on stdio.\n"
	      "  --runs N        cold-start runs (default 50; 0 skips them)\n"
	      "  --seconds S     length of each throughput run (default 3; 0 = no limit)\n"
	      "  --requests N    stop each throughput run after N requests (default 0 = no limit)\n"
	      "  --warmup S      unmeasured traffic before each throughput run (default 0.5)\n"
	      "  --inflight K    outstanding requests in the concurrent runs (default 16)\n"
	      "  --repeat R      runs per throughput figure, each in a fresh server; the\n"
	      "                  median is reported (default 1)\n"
	      "  --pin CPU       add sequential figures with driver and server on that CPU\n"
	      "  --tool NAME     tool for the tools/call runs (none: skip them)\n"
	      "  --args JSON     its arguments (default {})\n"
	      "  --meta JSON     params._meta of every tools/call (default: none)\n"
	      "  --label NAME    names the server in the output (default: SERVER)\n"
	      "  --timeout MS    longest wait for any response or exit (default 10000)\n"
	      "  --only LIST     comma-separated subset of cold,ping,call\n"
	      "  --modes LIST    throughput figures to take, a subset of seq,pin,inflight\n"
	      "                  (default all; pin needs --pin)\n"
	      "  --save FILE     write the first tools/call response of each run to FILE\n"
	      "  --parse-all     parse every response with jansson (default: the first of\n"
	      "                  each run; the rest are only scanned for id and errors)\n"
	      "  --show-stderr   let the server's stderr through\n"
	      "Results: one JSON object per line on stdout; a summary on stderr.\n",
	      f);
}

/* Parse a comma-separated list of words into flags: names[i] sets
 * *flags[i]; every flag is cleared first. False on an unknown word. */
static bool mb_parse_words(const char *list, const char *const *names, bool *const *flags,
			   size_t count)
{
	for (size_t i = 0; i < count; i++)
		*flags[i] = false;
	while (*list) {
		size_t n = strcspn(list, ","), i = 0;
		while (i < count && !(strlen(names[i]) == n && strncmp(list, names[i], n) == 0))
			i++;
		if (i < count)
			*flags[i] = true;
		else if (n > 0)
			return false;
		list += n;
		if (*list == ',')
			list++;
	}
	return true;
}

/* Parse --only's list into o; false on an unknown word. */
static bool mb_parse_only(const char *list, struct mb_opts *o)
{
	static const char *const names[] = {"cold", "ping", "call"};
	bool *const flags[] = {&o->do_cold, &o->do_ping, &o->do_call};

	return mb_parse_words(list, names, flags, 3);
}

/* Parse --modes' list into o; false on an unknown word. */
static bool mb_parse_modes(const char *list, struct mb_opts *o)
{
	static const char *const names[] = {"seq", "pin", "inflight"};
	bool *const flags[] = {&o->do_seq, &o->do_pin, &o->do_inflight};

	return mb_parse_words(list, names, flags, 3);
}

/* Fill *o from argv; returns 0, or 2 after printing a usage error (1 when
 * only help was asked for, printed to stdout). */
static int mb_parse_args(int argc, char **argv, struct mb_opts *o)
{
	long long v;
	int i;

	*o = (struct mb_opts){.runs = 50, .seconds = 3.0, .warmup = 0.5, .inflight = 16,
			      .repeat = 1, .pin_cpu = -1,
			      .timeout_ms = 10000, .args = "{}", .do_cold = true,
			      .do_ping = true, .do_call = true, .do_seq = true, .do_pin = true,
			      .do_inflight = true};
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;
		bool ok = true;

		if (strcmp(a, "--") == 0) {
			i++;
			break;
		}
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			mb_usage(stdout);
			return 1;
		}
		if (strcmp(a, "--show-stderr") == 0) {
			o->show_stderr = true;
			continue;
		}
		if (strcmp(a, "--parse-all") == 0) {
			o->parse_all = true;
			continue;
		}
		if (!val) {
			fprintf(stderr, "mcpbench: %s needs a value (or is unknown)\n", a);
			return 2;
		}
		i++;
		if (strcmp(a, "--runs") == 0) {
			ok = mb_parse_ll(val, 0, 100000, &v);
			o->runs = (long)v;
		} else if (strcmp(a, "--seconds") == 0) {
			ok = mb_parse_double(val, 0.0, 3600.0, &o->seconds);
		} else if (strcmp(a, "--requests") == 0) {
			ok = mb_parse_ll(val, 0, LLONG_MAX / 2, &o->requests);
		} else if (strcmp(a, "--warmup") == 0) {
			ok = mb_parse_double(val, 0.0, 600.0, &o->warmup);
		} else if (strcmp(a, "--inflight") == 0) {
			ok = mb_parse_ll(val, 1, MB_INFLIGHT_MAX, &v);
			o->inflight = (long)v;
		} else if (strcmp(a, "--repeat") == 0) {
			ok = mb_parse_ll(val, 1, 1000, &v);
			o->repeat = (long)v;
		} else if (strcmp(a, "--pin") == 0) {
			ok = mb_parse_ll(val, 0, CPU_SETSIZE - 1, &v);
			o->pin_cpu = (long)v;
		} else if (strcmp(a, "--timeout") == 0) {
			ok = mb_parse_ll(val, 1, 3600000, &v);
			o->timeout_ms = (long)v;
		} else if (strcmp(a, "--tool") == 0) {
			o->tool = val;
		} else if (strcmp(a, "--args") == 0) {
			o->args = val;
		} else if (strcmp(a, "--meta") == 0) {
			o->meta = val;
		} else if (strcmp(a, "--label") == 0) {
			o->label = val;
		} else if (strcmp(a, "--only") == 0) {
			ok = mb_parse_only(val, o);
		} else if (strcmp(a, "--modes") == 0) {
			ok = mb_parse_modes(val, o);
		} else if (strcmp(a, "--save") == 0) {
			o->save = val;
		} else {
			fprintf(stderr, "mcpbench: unknown option %s\n", a);
			return 2;
		}
		if (!ok) {
			fprintf(stderr, "mcpbench: bad value for %s: %s\n", a, val);
			return 2;
		}
	}
	if (i >= argc) {
		fprintf(stderr, "mcpbench: no server command after --\n");
		mb_usage(stderr);
		return 2;
	}
	if (o->seconds == 0.0 && o->requests == 0) {
		fprintf(stderr, "mcpbench: --seconds 0 needs --requests N\n");
		return 2;
	}
	o->argv = argv + i;
	if (!o->label)
		o->label = o->argv[0];
	return 0;
}

/* Run the measurements the options ask for; exit status 0 when all
 * succeeded, 1 when any failed, 2 on a usage error. */
int main(int argc, char **argv)
{
	struct mb_opts o;
	struct mb_req ping = {0}, call = {0};
	int rc = mb_parse_args(argc, argv, &o), failures = 0;

	if (rc != 0)
		return rc == 1 ? 0 : 2;
	signal(SIGPIPE, SIG_IGN); /* a dead server shows up as EPIPE */
	if (o.do_call && o.tool) {
		json_error_t jerr;
		json_t *params = json_pack("{s:s}", "name", o.tool);
		json_t *args = json_loads(o.args, 0, &jerr);
		char *text = NULL;
		if (!json_is_object(args)) {
			fprintf(stderr, "mcpbench: --args must be a JSON object\n");
			json_decref(params);
			json_decref(args);
			return 2;
		}
		json_object_set_new(params, "arguments", args);
		if (o.meta) {
			json_t *meta = json_loads(o.meta, 0, &jerr);
			if (!json_is_object(meta)) {
				fprintf(stderr, "mcpbench: --meta must be a JSON object\n");
				json_decref(params);
				json_decref(meta);
				return 2;
			}
			json_object_set_new(params, "_meta", meta);
		}
		text = json_dumps(params, JSON_COMPACT);
		json_decref(params);
		rc = text ? mb_req_init(&call, "tools/call", text) : -1;
		free(text);
		if (rc < 0)
			return 2;
	}
	if (mb_req_init(&ping, "ping", NULL) < 0)
		return 2;
	/* Cold start first, while this process is small: see the file comment. */
	if (o.do_cold && o.runs > 0 && mb_cold(&o) < 0)
		failures++;
	if (o.do_ping)
		failures += mb_throughput_modes(&o, "ping", &ping);
	if (o.do_call && o.tool)
		failures += mb_throughput_modes(&o, "tools_call", &call);
	mb_req_free(&ping);
	mb_req_free(&call);
	return failures ? 1 : 0;
}
