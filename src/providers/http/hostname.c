/*
 * hostname.c - canonical hosts and host patterns (see hostname.h): one
 * function decides what a host is, so that the egress guard, fetch's host
 * lists and a declared API's "credentials stay on this host" rule can never
 * disagree about two spellings of one host.
 */
#include "hostname.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#define LABEL_MAX 63
#define NAME_MAX_LEN 253
#define SHOW_MAX 64

/* True when s[0..n) is printable ASCII, so a message may show it. */
static bool showable(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7F)
			return false;
	return true;
}

static enum moat_rc bad_host(struct moat_err *err, const char *s, size_t n, const char *why)
{
	if (n > 0 && showable(s, n))
		return moat_err_rule(err, MOAT_EINVAL, "egress.bad_host",
				     "refused: the host '%.*s%s' %s",
				     (int)(n < SHOW_MAX ? n : SHOW_MAX), s,
				     n > SHOW_MAX ? "..." : "", why);
	return moat_err_rule(err, MOAT_EINVAL, "egress.bad_host", "refused: the host %s", why);
}

/* True when the last label of name (no trailing dot) is a number in the
 * WHATWG sense: decimal digits, or "0x"/"0X" and hex digits. */
static bool ends_in_number(const char *name)
{
	const char *last = strrchr(name, '.');

	last = last ? last + 1 : name;
	if (last[0] == '\0')
		return false;
	if (last[0] == '0' && (last[1] == 'x' || last[1] == 'X'))
		return strspn(last + 2, "0123456789abcdefABCDEF") == strlen(last + 2);
	return strspn(last, "0123456789") == strlen(last);
}

/* "[v6]" or a bare v6 (config); inner is s without the brackets. */
static enum moat_rc canon_v6(const char *s, size_t n, const char *inner, size_t in_n,
			     struct hostname *out, struct moat_err *err)
{
	char buf[64];

	if (memchr(inner, '%', in_n))
		return moat_err_rule(err, MOAT_EDENIED, "egress.zone_id",
				     "refused: IPv6 zone ids (%%25...) are not allowed in hosts");
	if (in_n == 0 || in_n >= sizeof buf)
		return bad_host(err, s, n, "is not a valid IPv6 address");
	memcpy(buf, inner, in_n);
	buf[in_n] = '\0';
	if (inet_pton(AF_INET6, buf, out->bin) != 1 ||
	    !inet_ntop(AF_INET6, out->bin, out->text, sizeof out->text))
		return bad_host(err, s, n, "is not a valid IPv6 address");
	out->kind = HOSTNAME_IPV6;
	return MOAT_OK;
}

static enum moat_rc canon(const char *s, size_t n, struct hostname *out, struct moat_err *err)
{
	char name[HOSTNAME_MAX];
	size_t label = 0;

	if (!s || n == 0)
		return moat_err_rule(err, MOAT_EINVAL, "egress.bad_host",
				     "refused: the host is empty");
	if (n >= HOSTNAME_MAX)
		return moat_err_rule(err, MOAT_EINVAL, "egress.bad_host",
				     "refused: the host is longer than %d bytes", HOSTNAME_MAX - 1);
	if (s[0] == '[') {
		if (n < 3 || s[n - 1] != ']')
			return bad_host(err, s, n, "is not a valid IPv6 address");
		return canon_v6(s, n, s + 1, n - 2, out, err);
	}
	if (memchr(s, ':', n))
		return canon_v6(s, n, s, n, out, err);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x80)
			return bad_host(err, s, n,
					"is not ASCII: write internationalised names in punycode "
					"(xn--...)");
		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		      c == '.'))
			return bad_host(err, s, n,
					"may hold only letters, digits, '-', '_' and '.' (write "
					"internationalised names in punycode, xn--...)");
		name[i] = (char)c;
	}
	name[n] = '\0';
	/* One trailing dot names the same host (an absolute DNS name), as
	 * WHATWG URL parsers and resolvers read it. Messages show s whole. */
	const size_t shown = n;
	if (n > 1 && name[n - 1] == '.')
		name[--n] = '\0';

	struct in_addr in;
	if (inet_aton(name, &in) != 0) {
		memcpy(out->bin, &in, 4);
		if (!inet_ntop(AF_INET, out->bin, out->text, sizeof out->text))
			return moat_err_set(err, MOAT_EINTERNAL, "cannot format an IPv4 address");
		out->kind = HOSTNAME_IPV4;
		return MOAT_OK;
	}
	if (ends_in_number(name))
		return bad_host(err, s, shown, "ends in a number but is not a valid IPv4 address");
	if (n > NAME_MAX_LEN)
		return bad_host(err, s, shown, "is longer than 253 bytes");
	for (size_t i = 0; i <= n; i++) {
		if (name[i] == '.' || name[i] == '\0') {
			if (label == 0)
				return bad_host(err, s, shown, "has an empty label");
			label = 0;
		} else if (++label > LABEL_MAX) {
			return bad_host(err, s, shown, "has a label longer than 63 bytes");
		}
	}
	memcpy(out->text, name, n + 1);
	out->kind = HOSTNAME_NAME;
	return MOAT_OK;
}

enum moat_rc hostname_canon(const char *s, size_t n, struct hostname *out, struct moat_err *err)
{
	enum moat_rc rc;

	memset(out, 0, sizeof *out);
	if (s && n > 0 && !showable(s, n)) {
		for (size_t i = 0; i < n; i++) {
			unsigned char c = (unsigned char)s[i];
			if (c < 0x20 || c == 0x7F)
				return moat_err_rule(err, MOAT_EINVAL, "egress.bad_host",
						     "refused: the host holds a control character");
		}
	}
	rc = canon(s, n, out, err);
	if (rc != MOAT_OK)
		memset(out, 0, sizeof *out);
	return rc;
}

enum moat_rc hostname_pattern_parse(const char *s, struct hostname_pattern *out,
				    struct moat_err *err)
{
	enum moat_rc rc;

	memset(out, 0, sizeof *out);
	if (!s)
		return moat_err_rule(err, MOAT_EINVAL, "egress.bad_host",
				     "refused: the host is empty");
	if (strncmp(s, "*.", 2) == 0) {
		out->wildcard = true;
		rc = hostname_canon(s + 2, strlen(s + 2), &out->host, err);
		if (rc == MOAT_OK && out->host.kind != HOSTNAME_NAME) {
			memset(out, 0, sizeof *out);
			return bad_host(err, s, strlen(s), "is a wildcard over an address");
		}
		return rc;
	}
	return hostname_canon(s, strlen(s), &out->host, err);
}

bool hostname_pattern_match(const struct hostname_pattern *p, const char *canon_host)
{
	size_t hl, sl;

	if (!p || !canon_host)
		return false;
	if (!p->wildcard)
		return strcmp(p->host.text, canon_host) == 0;
	hl = strlen(canon_host);
	sl = strlen(p->host.text);
	return hl > sl + 1 && canon_host[hl - sl - 1] == '.' &&
	       strcmp(canon_host + hl - sl, p->host.text) == 0;
}
