/*
 * nullserver.c - the cheapest stdio JSON-RPC server, to calibrate mcpbench.
 *
 * It reads newline-delimited JSON-RPC from stdin, parses each line with
 * jansson and answers every message that has an id with an empty result
 * ({}), in one write per batch of input; it does no MCP at all. What
 * mcpbench measures against it is the floor of the machine and the driver:
 * process start-up, pipe round trips and the driver's own parsing. A real
 * server's figures are read against it (see docs/benchmarks.md).
 * `nullserver --text N` answers with a tool result instead, one text block
 * of N bytes ("xxx...") serialized once at start and copied into every
 * answer: the floor for a call that returns that much text, such as
 * read_text_file of an N-byte file.
 *
 * Single-threaded. Exits 0 at end of input, 1 on a read or write error or
 * a line longer than its buffer, 2 on a bad command line.
 * Build: cc -O2 -std=c17 -D_GNU_SOURCE bench/nullserver.c -ljansson -o nullserver
 */
#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NS_IN_MAX (1u << 20)
#define NS_OUT_MAX (1u << 24)
#define NS_TEXT_MAX (1u << 20)

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

/* Append n bytes of s to out (used bytes in *olen, capacity cap); false
 * when they do not fit. */
static bool ns_put(const char *s, size_t n, char *out, size_t *olen, size_t cap)
{
	if (n > cap - *olen)
		return false;
	memcpy(out + *olen, s, n);
	*olen += n;
	return true;
}

/* Append the answer to the message in line[0, n) to out (used bytes in
 * *olen, capacity cap); nothing when it is not a request. The answer's
 * result is the JSON text result[0, rlen) (borrowed). False when out is
 * full. */
static bool ns_answer(const char *line, size_t n, const char *result, size_t rlen, char *out,
		      size_t *olen, size_t cap)
{
	static const char head[] = "{\"jsonrpc\":\"2.0\",\"id\":";
	static const char mid[] = ",\"result\":";
	json_error_t jerr;
	json_t *msg = json_loadb(line, n, 0, &jerr);
	json_t *id = json_is_object(msg) ? json_object_get(msg, "id") : NULL;
	char idtext[256];
	size_t idlen;
	bool ok = true;

	if (id && json_object_get(msg, "method")) {
		idlen = json_dumpb(id, idtext, sizeof(idtext), JSON_COMPACT | JSON_ENCODE_ANY);
		ok = idlen > 0 && idlen <= sizeof(idtext) &&
		     ns_put(head, sizeof(head) - 1, out, olen, cap) &&
		     ns_put(idtext, idlen, out, olen, cap) &&
		     ns_put(mid, sizeof(mid) - 1, out, olen, cap) &&
		     ns_put(result, rlen, out, olen, cap) && ns_put("}\n", 2, out, olen, cap);
	}
	json_decref(msg);
	return ok;
}

/* The result {"content":[{"type":"text","text":"xxx..."}]} with n bytes
 * of text, as compact JSON text; NULL when memory runs out. The caller
 * frees it. */
static char *ns_text_result(size_t n)
{
	char *text = malloc(n + 1), *dump = NULL;
	json_t *res;

	if (!text)
		return NULL;
	memset(text, 'x', n);
	text[n] = '\0';
	res = json_pack("{s:[{s:s, s:s}]}", "content", "type", "text", "text", text);
	if (res)
		dump = json_dumps(res, JSON_COMPACT);
	json_decref(res);
	free(text);
	return dump;
}

/* Serve stdin until it ends. */
int main(int argc, char **argv)
{
	static char in[NS_IN_MAX], out[NS_OUT_MAX];
	char *text_result = NULL;
	const char *result = "{}";
	size_t len = 0, rlen;

	if (argc == 3 && strcmp(argv[1], "--text") == 0) {
		char *end;
		errno = 0;
		unsigned long long n = strtoull(argv[2], &end, 10);
		if (errno || end == argv[2] || *end != '\0' || n > NS_TEXT_MAX ||
		    !(text_result = ns_text_result((size_t)n)))
			return 2;
		result = text_result; /* lives as long as the process */
	} else if (argc != 1) {
		fprintf(stderr, "usage: nullserver [--text BYTES]\n");
		return 2;
	}
	rlen = strlen(result);

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
			if (!ns_answer(start, (size_t)(nl - start), result, rlen, out, &olen,
				       sizeof(out)))
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
