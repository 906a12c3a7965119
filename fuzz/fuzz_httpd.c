/*
 * fuzz_httpd.c - libFuzzer target for the HTTP listener's header parsing
 * (src/transport/http/): listen addresses, the Host and Origin allowlists,
 * media-type lists and SSE framing. The input's first byte picks the
 * listener (loopback IPv4, loopback IPv6, a public address with configured
 * hosts and origins); the rest, NUL-terminated, is the header value.
 *
 * Checks:
 *  - an address httpd_addr_parse accepts has a port in range and a host
 *    that parses again to the same address;
 *  - an allowed Host is printable, holds no comma, space or slash, and
 *    names one of the listener's hosts;
 *  - an allowed Origin has the scheme of the listener;
 *  - media-type matching never reads past the string and agrees with
 *    a match of the upper-case spelling;
 *  - an SSE event has a "data: " line per input line, ends in a blank
 *    line, and no line of it holds a bare CR or LF of the input.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "httpd_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void listener(struct httpd_listener *l, int kind)
{
	char why[160];

	memset(l, 0, sizeof(*l));
	switch (kind % 3) {
	case 0:
		httpd_addr_parse("127.0.0.1:8765", &l->cfg.addr, why, sizeof(why));
		l->port = 8765;
		break;
	case 1:
		httpd_addr_parse("[::1]:443", &l->cfg.addr, why, sizeof(why));
		l->port = 443;
		l->tls = true;
		break;
	default:
		httpd_addr_parse("192.0.2.1:80", &l->cfg.addr, why, sizeof(why));
		l->port = 80;
		l->cfg.hosts[0] = "mcp.example.com";
		l->cfg.hosts[1] = "[2001:db8::1]:8443";
		l->cfg.nhosts = 2;
		l->cfg.origins[0] = "https://app.example";
		l->cfg.norigins = 1;
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct httpd_listener l;
	struct httpd_addr a, b;
	char why[160], *s, *up;
	size_t n;

	if (size < 1 || size > 4096)
		return 0;
	listener(&l, data[0]);
	s = malloc(size);
	up = malloc(size);
	if (!s || !up)
		abort();
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	for (size_t i = 0; i < size; i++)
		up[i] = (char)toupper((unsigned char)s[i]);

	if (httpd_addr_parse(s, &a, why, sizeof(why))) {
		char again[HTTPD_ADDR_MAX + 16];
		snprintf(again, sizeof(again), a.v6 ? "[%s]:%u" : "%s:%u", a.host, (unsigned)a.port);
		if (!httpd_addr_parse(again, &b, why, sizeof(why)) || strcmp(a.host, b.host) ||
		    a.port != b.port || a.v6 != b.v6 || a.loopback != b.loopback)
			abort();
	} else if (!why[0]) {
		abort();
	}
	if (httpd_host_allowed(&l, s)) {
		for (const char *p = s; *p; p++)
			if (!isprint((unsigned char)*p) || *p == ',' || *p == ' ' || *p == '/')
				abort();
		if (!httpd_host_allowed(&l, up))
			abort(); /* host names are case-insensitive */
	}
	if (httpd_origin_allowed(&l, s)) {
		const char *scheme = l.tls ? "https://" : l.cfg.norigins ? "https://" : "http://";
		if (strncasecmp(s, scheme, strlen(scheme)) != 0)
			abort();
	}
	if (httpd_media_listed(s, "application/json") != httpd_media_listed(up, "application/json"))
		abort();
	char *ev = httpd_sse_format(size % 7, s, strlen(s), &n);
	if (ev) {
		size_t lines = 1, datas = 0;
		for (const char *p = s; *p; p++)
			lines += *p == '\n';
		if (n < 2 || ev[n - 1] != '\n' || ev[n - 2] != '\n')
			abort();
		for (size_t i = 0; i + 6 <= n; i++)
			if ((i == 0 || ev[i - 1] == '\n') && memcmp(ev + i, "data: ", 6) == 0)
				datas++;
		if (datas != lines)
			abort();
		free(ev);
	}
	free(s);
	free(up);
	return 0;
}
