/*
 * fuzz_url.c - libFuzzer target for the http family's egress guard. The
 * input is split at its first newline: the text before is the URL given to
 * egress_vet_url (and to egress_parse_net), the bytes after feed a fake
 * resolver (egress_set_resolver) as records of one selector byte (bit 0:
 * IPv4 or IPv6; 0xFF: fail) and 4 or 16 address bytes; no record means the
 * name does not resolve. No real DNS is ever asked.
 *
 * Each URL is vetted under two policies (open; https-only with allowed nets
 * and a port list). Checks on success: the scheme is http or https (https
 * when http is not allowed), the host is non-empty, lower-case, fits, and
 * shows in the URL; the port is non-zero and on the list; every vetted
 * address passes egress_sockaddr_allowed, carries the port, and is found by
 * egress_target_has; the resolve string is empty only for an IPv6 literal
 * and otherwise starts with "host:port:"; the URL is control-free and
 * vetting it again gives the same host, port and resolve string. On failure:
 * a control-free message and a matching rc. Classification must agree with
 * egress_sockaddr_allowed for every address the resolver hands out.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/egress.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t *addr_data;
static size_t addr_size;

static int fake_resolver(const char *host, struct sockaddr_storage *out, size_t max,
			 const char **why)
{
	size_t i = 0, n = 0;

	if (!host || host[0] == '\0')
		abort();
	while (i < addr_size && n < max) {
		uint8_t sel = addr_data[i++];
		memset(&out[n], 0, sizeof out[n]);
		if (sel == 0xFF) {
			*why = "fuzz resolver failure";
			return -1;
		}
		if ((sel & 1) == 0) {
			struct sockaddr_in *in = (struct sockaddr_in *)(void *)&out[n];
			if (addr_size - i < 4)
				break;
			in->sin_family = AF_INET;
			memcpy(&in->sin_addr, addr_data + i, 4);
			i += 4;
		} else {
			struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)(void *)&out[n];
			if (addr_size - i < 16)
				break;
			in6->sin6_family = AF_INET6;
			memcpy(&in6->sin6_addr, addr_data + i, 16);
			i += 16;
		}
		n++;
	}
	if (n == 0) {
		*why = "no address (fuzz)";
		return -1;
	}
	return (int)n;
}

static uint16_t sa_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)(const void *)ss)->sin_port);
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)(const void *)ss)->sin6_port);
	abort();
}

static void check_target(const struct egress_policy *p, const struct egress_target *t)
{
	char prefix[EGRESS_HOST_MAX + 16];
	size_t hl = strnlen(t->host, sizeof t->host);

	if (strcmp(t->scheme, "https") != 0 && strcmp(t->scheme, "http") != 0)
		abort();
	if (!p->allow_http && strcmp(t->scheme, "https") != 0)
		abort();
	if (hl == 0 || hl >= sizeof t->host)
		abort();
	for (size_t i = 0; i < hl; i++)
		if (t->host[i] >= 'A' && t->host[i] <= 'Z')
			abort();
	if (!t->url || !egress_text_safe(t->url, strlen(t->url)) || !strstr(t->url, t->host))
		abort();
	if (strncmp(t->url, t->scheme, strlen(t->scheme)) != 0)
		abort();
	if (t->port == 0)
		abort();
	if (p->nports > 0) {
		bool ok = false;
		for (size_t i = 0; i < p->nports; i++)
			ok = ok || p->ports[i] == t->port;
		if (!ok)
			abort();
	}
	if (t->naddr == 0 || t->naddr > EGRESS_MAX_ADDRS)
		abort();
	if (t->host_is_ip && t->naddr != 1)
		abort();
	for (size_t i = 0; i < t->naddr; i++) {
		const struct sockaddr *sa = (const struct sockaddr *)&t->addr[i];
		const char *why = NULL;
		if (!egress_sockaddr_allowed(p, sa, &why) || why)
			abort();
		if (!egress_target_has(t, sa) || sa_port(&t->addr[i]) != t->port)
			abort();
	}
	if (t->host_is_ip && t->addr[0].ss_family == AF_INET6) {
		if (t->resolve[0] != '\0' || !strchr(t->host, ':'))
			abort();
	} else {
		snprintf(prefix, sizeof prefix, "%s:%u:", t->host, (unsigned)t->port);
		if (strncmp(t->resolve, prefix, strlen(prefix)) != 0)
			abort();
		if (!egress_text_safe(t->resolve, strlen(t->resolve)))
			abort();
	}
}

static void vet(const struct egress_policy *p, const char *url)
{
	struct egress_target t;
	struct moat_err err = {0};
	enum moat_rc rc = egress_vet_url(p, url, &t, &err);

	if (rc != MOAT_OK) {
		if (err.rc != rc || err.msg[0] == '\0' || !egress_text_safe(err.msg, strlen(err.msg)))
			abort();
		if (t.url || t.naddr != 0)
			abort();
		egress_target_free(&t);
		return;
	}
	check_target(p, &t);

	/* The normalised URL vets to the same target (the resolver answers the
	 * same way for every name). */
	struct egress_target again;
	struct moat_err err2 = {0};
	if (egress_vet_url(p, t.url, &again, &err2) != MOAT_OK)
		abort();
	if (strcmp(again.host, t.host) != 0 || again.port != t.port ||
	    strcmp(again.url, t.url) != 0 || strcmp(again.resolve, t.resolve) != 0 ||
	    again.naddr != t.naddr || again.host_is_ip != t.host_is_ip)
		abort();
	egress_target_free(&again);
	egress_target_free(&t);
}

/* Classification and the allow check agree for every address handed out. */
static void check_classes(const struct egress_policy *p)
{
	struct sockaddr_storage out[EGRESS_MAX_ADDRS];
	const char *why = NULL;
	int n = fake_resolver("x", out, EGRESS_MAX_ADDRS, &why);

	for (int i = 0; i < n; i++) {
		const struct sockaddr *sa = (const struct sockaddr *)&out[i];
		const char *cls = egress_addr_class(sa);
		bool open_ok = egress_sockaddr_allowed(NULL, sa, &why);
		if (open_ok != (cls == NULL) || (!open_ok && (!why || strcmp(why, cls) != 0)))
			abort();
		if (open_ok && !egress_sockaddr_allowed(p, sa, NULL))
			abort();
	}
}

static void parse_net(const char *s)
{
	struct egress_net n;
	struct moat_err err = {0};

	if (egress_parse_net(s, &n, &err) != MOAT_OK)
		return;
	if ((n.family == AF_INET && n.prefix > 32) || (n.family == AF_INET6 && n.prefix > 128) ||
	    (n.family != AF_INET && n.family != AF_INET6))
		abort();
	/* A net allows its own network address. */
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof ss);
	if (n.family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)(void *)&ss;
		in->sin_family = AF_INET;
		memcpy(&in->sin_addr, n.addr, 4);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)(void *)&ss;
		in6->sin6_family = AF_INET6;
		memcpy(&in6->sin6_addr, n.addr, 16);
	}
	struct egress_policy p = {.allow = &n, .nallow = 1};
	if (!egress_sockaddr_allowed(&p, (const struct sockaddr *)&ss, NULL))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct egress_net nets[2];
	static bool ready;
	static const uint16_t ports[] = {443, 8443, 80};
	const struct egress_policy open_policy = {.allow_http = true};
	const struct egress_policy strict = {
		.allow = nets, .nallow = 2, .allow_http = false, .ports = ports, .nports = 3};
	const uint8_t *nl = memchr(data, '\n', size);
	size_t ulen = nl ? (size_t)(nl - data) : size;
	char *url;

	if (!ready) {
		struct moat_err err = {0};
		egress_set_resolver(fake_resolver);
		if (egress_parse_net("127.0.0.0/8", &nets[0], &err) != MOAT_OK ||
		    egress_parse_net("fd00::/8", &nets[1], &err) != MOAT_OK)
			abort();
		ready = true;
	}
	addr_data = nl ? nl + 1 : NULL;
	addr_size = nl ? size - ulen - 1 : 0;
	url = malloc(ulen + 1);
	if (!url)
		return 0;
	memcpy(url, data, ulen);
	url[ulen] = '\0';

	vet(&open_policy, url);
	vet(&strict, url);
	check_classes(&strict);
	parse_net(url);
	free(url);
	return 0;
}
