/*
 * fuzz_host.c - libFuzzer target for the http family's host
 * canonicalisation (hostname.h) and the vetting built on it. The input is
 * split at its first newline: the bytes before are a host (given to
 * hostname_canon as they are, NUL and all, and to hostname_pattern_parse),
 * the bytes after a second host to compare with the first.
 *
 * Checks:
 *  - canonical text is non-empty, fits, holds only [a-z0-9._-] for a name
 *    (no upper case, no trailing dot, no empty label, labels <= 63 bytes,
 *    not ending in a number), is a dotted quad inet_pton reads back for
 *    IPv4, and is inet_ntop's own text for IPv6;
 *  - canonicalisation is idempotent: the canonical text canonicalises to
 *    itself (IPv6 also in brackets), and so do its upper-case spelling and
 *    the spelling with one trailing dot (names and IPv4);
 *  - a failure leaves *out zeroed, carries a rule id and a printable,
 *    non-empty message;
 *  - a pattern made from a canonical name matches that name, and a
 *    wildcard never matches its own base; two hosts that canonicalise
 *    equal match each other's pattern;
 *  - egress_vet_url of "http://HOST/" (when HOST is printable) yields the
 *    same canonical host as hostname_canon, or is refused; no DNS is asked
 *    (a resolver hook answers with one public address).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/egress.h"
#include "http/hostname.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int public_resolver(const char *host, struct sockaddr_storage *out, size_t max,
			   const char **why)
{
	struct sockaddr_in *in = (struct sockaddr_in *)(void *)&out[0];

	(void)why;
	if (!host || !host[0] || max < 1)
		abort();
	memset(&out[0], 0, sizeof out[0]);
	in->sin_family = AF_INET;
	inet_pton(AF_INET, "93.184.216.34", &in->sin_addr);
	return 1;
}

static bool printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7F)
			return false;
	return true;
}

static void check_name(const char *t)
{
	size_t n = strlen(t), label = 0;

	if (n == 0 || n > 253 || t[n - 1] == '.' || t[0] == '.')
		abort();
	for (size_t i = 0; i <= n; i++) {
		char c = t[i];
		if (c == '.' || c == '\0') {
			if (label == 0)
				abort();
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
			abort();
		if (++label > 63)
			abort();
	}
}

static void canon_again(const char *s, const struct hostname *want)
{
	struct hostname h;
	struct moat_err err = {0};

	if (hostname_canon(s, strlen(s), &h, &err) != MOAT_OK)
		abort();
	if (strcmp(h.text, want->text) != 0 || h.kind != want->kind ||
	    memcmp(h.bin, want->bin, sizeof h.bin) != 0)
		abort();
}

static void check_ok(const struct hostname *h)
{
	char buf[HOSTNAME_MAX + 4];
	unsigned char bin[16];

	if (h->text[0] == '\0' || strnlen(h->text, sizeof h->text) >= sizeof h->text)
		abort();
	switch (h->kind) {
	case HOSTNAME_NAME:
		check_name(h->text);
		break;
	case HOSTNAME_IPV4:
		if (inet_pton(AF_INET, h->text, bin) != 1 || memcmp(bin, h->bin, 4) != 0)
			abort();
		break;
	case HOSTNAME_IPV6:
		if (inet_pton(AF_INET6, h->text, bin) != 1 || memcmp(bin, h->bin, 16) != 0)
			abort();
		if (!inet_ntop(AF_INET6, bin, buf, sizeof buf) || strcmp(buf, h->text) != 0)
			abort();
		break;
	default:
		abort();
	}
	canon_again(h->text, h);
	if (h->kind == HOSTNAME_IPV6) {
		snprintf(buf, sizeof buf, "[%s]", h->text);
		canon_again(buf, h);
		return;
	}
	snprintf(buf, sizeof buf, "%s.", h->text);
	canon_again(buf, h);
	for (char *c = buf; *c; c++)
		if (*c >= 'a' && *c <= 'z')
			*c = (char)(*c - 'a' + 'A');
	canon_again(buf, h);

	struct hostname_pattern p;
	struct moat_err err = {0};
	if (hostname_pattern_parse(h->text, &p, &err) != MOAT_OK ||
	    !hostname_pattern_match(&p, h->text))
		abort();
	if (h->kind == HOSTNAME_NAME && strlen(h->text) + 2 < sizeof buf) {
		snprintf(buf, sizeof buf, "*.%s", h->text);
		if (hostname_pattern_parse(buf, &p, &err) == MOAT_OK &&
		    hostname_pattern_match(&p, h->text))
			abort();
	}
}

/* Vetting "http://HOST/" agrees with hostname_canon. */
static void check_vet(const char *host, const struct hostname *h, bool ok)
{
	static const struct egress_policy open_policy = {.allow_http = true};
	char url[HOSTNAME_MAX + 32];
	struct egress_target t;
	struct moat_err err = {0};

	if (strlen(host) + 16 > sizeof url || !printable(host) || strpbrk(host, "/?#@\\:[]% "))
		return;
	snprintf(url, sizeof url, "http://%s/", host);
	if (egress_vet_url(&open_policy, url, &t, &err) == MOAT_OK) {
		/* curl accepted it: hostname_canon must have, to the same host. */
		if (!ok || strcmp(t.host, h->text) != 0)
			abort();
	} else if (err.msg[0] == '\0' || !printable(err.msg)) {
		abort();
	}
	egress_target_free(&t);
}

static void one(const char *s, size_t n, struct hostname *h, bool *ok)
{
	struct moat_err err = {0};
	static const struct hostname zero;

	*ok = hostname_canon(s, n, h, &err) == MOAT_OK;
	if (*ok) {
		check_ok(h);
		return;
	}
	if (memcmp(h, &zero, sizeof zero) != 0 || !err.rule || err.msg[0] == '\0' ||
	    !printable(err.msg))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	const uint8_t *nl = memchr(data, '\n', size);
	size_t alen = nl ? (size_t)(nl - data) : size;
	size_t blen = nl ? size - alen - 1 : 0;
	struct hostname a, b;
	bool aok, bok;
	char *as;

	if (!ready) {
		egress_set_resolver(public_resolver);
		ready = true;
	}
	one((const char *)data, alen, &a, &aok);
	if (nl) {
		one((const char *)nl + 1, blen, &b, &bok);
		if (aok && bok && strcmp(a.text, b.text) == 0) {
			struct hostname_pattern p;
			struct moat_err err = {0};
			if (a.kind != b.kind || hostname_pattern_parse(b.text, &p, &err) != MOAT_OK ||
			    !hostname_pattern_match(&p, a.text))
				abort();
		}
	}
	as = malloc(alen + 1);
	if (!as)
		return 0;
	memcpy(as, data, alen);
	as[alen] = '\0';
	if (strlen(as) == alen) {
		struct hostname_pattern p;
		struct moat_err err = {0};
		if (hostname_pattern_parse(as, &p, &err) == MOAT_OK && p.wildcard &&
		    (p.host.kind != HOSTNAME_NAME || hostname_pattern_match(&p, p.host.text)))
			abort();
		check_vet(as, &a, aok);
	}
	free(as);
	return 0;
}
