/*
 * nullserver.c - the cheapest stdio JSON-RPC server, to calibrate mcpbench.
 *
 * It reads newline-delimited JSON-RPC from stdin, parses each line with
 * jansson and answers every message that has an id with an empty result
 * ({}), in one write per batch of input; it does no MCP at all. What
 * mcpbench measures against it is the floor of the machine and the driver:
 * process start-up, pipe round trips and the driver's own parsing. A real
 * server's figures are read against it (see docs/benchmarks.md).
 *
 * Single-threaded. Exits 0 at end of input, 1 on a read or write error or
 * a line longer than its buffer.
 * Build: cc -O2 -std=c17 -D_GNU_SOURCE bench/nullserver.c -ljansson -o nullserver
 */
#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define NS_IN_MAX (1u << 20)
#define NS_OUT_MAX (1u << 20)

/* Write all n bytes of buf to fd; false on an error. */
static bool ns_write_all(int fd, const char *buf, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, buf, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		buf += w;
		n -= (size_t)w;
	}
	return true;
}

/* Append the answer to the message in line[0, n) to out (used bytes in
 * *olen, capacity cap); nothing when it is not a request. False when out
 * is full. */
static bool ns_answer(const char *line, size_t n, char *out, size_t *olen, size_t cap)
{
	json_error_t jerr;
	json_t *msg = json_loadb(line, n, 0, &jerr);
	json_t *id = json_is_object(msg) ? json_object_get(msg, "id") : NULL;
	json_t *res = NULL;
	bool ok = true;

	if (id && json_object_get(msg, "method")) {
		res = json_pack("{s:s, s:O, s:{}}", "jsonrpc", "2.0", "id", id, "result");
		size_t len = res ? json_dumpb(res, out + *olen, cap - *olen - 1, JSON_COMPACT) : 0;
		if (len == 0 || len >= cap - *olen - 1) {
			ok = false;
		} else {
			*olen += len;
			out[(*olen)++] = '\n';
		}
	}
	json_decref(res);
	json_decref(msg);
	return ok;
}

/* Serve stdin until it ends. */
int main(void)
{
	static char in[NS_IN_MAX], out[NS_OUT_MAX];
	size_t len = 0;

	for (;;) {
		ssize_t got = read(STDIN_FILENO, in + len, sizeof(in) - len);
		size_t olen = 0;
		char *start = in, *nl;

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return 1;
		if (got == 0)
			return 0;
		len += (size_t)got;
		while ((nl = memchr(start, '\n', (size_t)(in + len - start)))) {
			if (!ns_answer(start, (size_t)(nl - start), out, &olen, sizeof(out)))
				return 1;
			start = nl + 1;
		}
		if (olen > 0 && !ns_write_all(STDOUT_FILENO, out, olen))
			return 1;
		len = (size_t)(in + len - start);
		memmove(in, start, len);
		if (len == sizeof(in))
			return 1; /* a line longer than the buffer */
	}
}
