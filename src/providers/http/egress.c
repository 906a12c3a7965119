/*
 * egress.c - the egress guard (see egress.h): URL vetting with libcurl's
 * URL API, IPv4 literal normalisation, address classification against the
 * IANA special-purpose registries, allowed nets, and the CURLOPT_RESOLVE
 * pin string.
 *
 * Error messages name the rule that was broken. They may name the scheme,
 * the host (after it passed the character check), the port and addresses,
 * never user info, the path or the query string of the URL.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "egress.h"
#include "hostname.h"

/* Longest URL egress_vet_url accepts. */
#define EGRESS_URL_MAX 8192
/* Longest scheme named in a refusal. */
#define SCHEME_SHOW_MAX 16

static const char public_hint[] =
	"moat connects only to public addresses unless the config allows this one "
	"(allow_addresses)";

static egress_resolver_fn resolver_hook;

void egress_set_resolver(egress_resolver_fn fn)
{
	resolver_hook = fn;
}

bool egress_text_safe(const char *s, size_t n)
{
	if (!s)
		return n == 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7F)
			return false;
	}
	return true;
}

/* ---- address classes ---------------------------------------------------- */

/* The IPv4 classes and their names when embedded in an IPv6 address. */
struct v4_class {
	const char *name;
	const char *mapped;
	const char *compat;
	const char *nat64;
	const char *six_to_four;
};

#define V4_CLASS(n) {n, "IPv4-mapped " n, "IPv4-compatible " n, "NAT64 " n, "6to4 " n}

enum {
	V4_UNSPECIFIED,
	V4_PRIVATE,
	V4_CGNAT,
	V4_LOOPBACK,
	V4_LINK_LOCAL,
	V4_RESERVED,
	V4_DOCUMENTATION,
	V4_BENCHMARKING,
	V4_MULTICAST,
	V4_BROADCAST,
	V4_PUBLIC,
};

static const struct v4_class v4_classes[] = {
	[V4_UNSPECIFIED] = V4_CLASS("unspecified"),
	[V4_PRIVATE] = V4_CLASS("private"),
	[V4_CGNAT] = V4_CLASS("CGNAT"),
	[V4_LOOPBACK] = V4_CLASS("loopback"),
	[V4_LINK_LOCAL] = V4_CLASS("link-local"),
	[V4_RESERVED] = V4_CLASS("reserved"),
	[V4_DOCUMENTATION] = V4_CLASS("documentation"),
	[V4_BENCHMARKING] = V4_CLASS("benchmarking"),
	[V4_MULTICAST] = V4_CLASS("multicast"),
	[V4_BROADCAST] = V4_CLASS("broadcast"),
	/* A public address embedded in IPv4-mapped or -compatible IPv6 is
	 * still refused (no public server needs either form); NAT64 and 6to4
	 * of a public address are public. */
	[V4_PUBLIC] = {NULL, "IPv4-mapped", "IPv4-compatible", NULL, NULL},
};

/* The class of the IPv4 address in b[0..4) (network byte order). */
static int v4_class_of(const unsigned char *b)
{
	uint32_t a = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
	static const struct {
		uint32_t net;
		unsigned prefix;
		int cls;
	} table[] = {
		{0x00000000, 8, V4_UNSPECIFIED},   /* 0.0.0.0/8 "this network" */
		{0x0A000000, 8, V4_PRIVATE},       /* 10.0.0.0/8 */
		{0x64400000, 10, V4_CGNAT},        /* 100.64.0.0/10 */
		{0x7F000000, 8, V4_LOOPBACK},      /* 127.0.0.0/8 */
		{0xA9FE0000, 16, V4_LINK_LOCAL},   /* 169.254.0.0/16, cloud metadata */
		{0xAC100000, 12, V4_PRIVATE},      /* 172.16.0.0/12 */
		{0xC0000000, 24, V4_RESERVED},     /* 192.0.0.0/24 IETF assignments */
		{0xC0000200, 24, V4_DOCUMENTATION}, /* 192.0.2.0/24 TEST-NET-1 */
		{0xC0586300, 24, V4_RESERVED},     /* 192.88.99.0/24 6to4 relay anycast */
		{0xC0A80000, 16, V4_PRIVATE},      /* 192.168.0.0/16 */
		{0xC6120000, 15, V4_BENCHMARKING}, /* 198.18.0.0/15 */
		{0xC6336400, 24, V4_DOCUMENTATION}, /* 198.51.100.0/24 TEST-NET-2 */
		{0xCB007100, 24, V4_DOCUMENTATION}, /* 203.0.113.0/24 TEST-NET-3 */
		{0xE0000000, 4, V4_MULTICAST},     /* 224.0.0.0/4 */
		{0xFFFFFFFF, 32, V4_BROADCAST},    /* 255.255.255.255 (before 240/4) */
		{0xF0000000, 4, V4_RESERVED},      /* 240.0.0.0/4 */
	};

	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
		uint32_t mask = table[i].prefix ? UINT32_MAX << (32 - table[i].prefix) : 0;
		if ((a & mask) == table[i].net)
			return table[i].cls;
	}
	return V4_PUBLIC;
}

/* True when the first bits of a and b (prefix bits long) are equal. */
static bool prefix_equal(const unsigned char *a, const unsigned char *b, unsigned bits)
{
	size_t whole = bits / 8;
	unsigned rest = bits % 8;

	if (memcmp(a, b, whole) != 0)
		return false;
	if (rest == 0)
		return true;
	unsigned char mask = (unsigned char)(0xFF << (8 - rest));
	return (a[whole] & mask) == (b[whole] & mask);
}

static const char *v6_class(const unsigned char *b)
{
	static const unsigned char zero[16];
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
	static const unsigned char nat64[12] = {0, 0x64, 0xFF, 0x9B};
	static const unsigned char nat64_local[6] = {0, 0x64, 0xFF, 0x9B, 0, 1};
	static const unsigned char discard[8] = {0x01, 0x00};
	static const struct {
		unsigned char net[16];
		unsigned prefix;
		const char *name;
	} table[] = {
		{{0x20, 0x01, 0x00, 0x00}, 32, "Teredo"},        /* 2001::/32 */
		{{0x20, 0x01, 0x00, 0x02}, 48, "benchmarking"},  /* 2001:2::/48 */
		{{0x20, 0x01, 0x0D, 0xB8}, 32, "documentation"}, /* 2001:db8::/32 */
		{{0x20, 0x01, 0x00, 0x10}, 28, "reserved"},      /* 2001:10::/28 ORCHID */
		{{0x20, 0x01, 0x00, 0x20}, 28, "reserved"},      /* 2001:20::/28 ORCHIDv2 */
		{{0x3F, 0xFF, 0x00, 0x00}, 20, "documentation"}, /* 3fff::/20 */
		{{0xFC, 0x00}, 7, "unique-local"},               /* fc00::/7 */
		{{0xFE, 0x80}, 10, "link-local"},                /* fe80::/10 */
		{{0xFE, 0xC0}, 10, "site-local"},                /* fec0::/10 */
		{{0xFF, 0x00}, 8, "multicast"},                  /* ff00::/8 */
	};

	if (memcmp(b, zero, 16) == 0)
		return "unspecified";
	if (memcmp(b, zero, 15) == 0 && b[15] == 1)
		return "loopback";
	if (memcmp(b, mapped, 12) == 0)
		return v4_classes[v4_class_of(b + 12)].mapped;
	if (memcmp(b, zero, 12) == 0)
		return v4_classes[v4_class_of(b + 12)].compat;
	if (memcmp(b, nat64, 12) == 0)
		return v4_classes[v4_class_of(b + 12)].nat64;
	if (memcmp(b, nat64_local, 6) == 0)
		return "local-use NAT64";
	if (memcmp(b, discard, 8) == 0)
		return "discard";
	if (b[0] == 0x20 && b[1] == 0x02) /* 2002::/16 6to4 */
		return v4_classes[v4_class_of(b + 2)].six_to_four;
	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
		if (prefix_equal(b, table[i].net, table[i].prefix))
			return table[i].name;
	if ((b[0] & 0xE0) == 0x20) /* 2000::/3 global unicast */
		return NULL;
	return "reserved";
}

const char *egress_addr_class(const struct sockaddr *sa)
{
	if (!sa)
		return "unsupported address family";
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
		return v4_classes[v4_class_of((const unsigned char *)&in->sin_addr)].name;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
		return v6_class(in6->sin6_addr.s6_addr);
	}
	return "unsupported address family";
}

/* The address bytes of sa and their count (4 or 16), or 0 for other families. */
static size_t sa_bytes(const struct sockaddr *sa, const unsigned char **out)
{
	if (sa && sa->sa_family == AF_INET) {
		*out = (const unsigned char *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr;
		return 4;
	}
	if (sa && sa->sa_family == AF_INET6) {
		*out = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr;
		return 16;
	}
	*out = NULL;
	return 0;
}

bool egress_sockaddr_allowed(const struct egress_policy *p, const struct sockaddr *sa,
			     const char **why)
{
	const unsigned char *b;
	size_t n = sa_bytes(sa, &b);
	const char *cls;

	if (n == 0) {
		if (why)
			*why = "unsupported address family";
		return false;
	}
	/* An allowed net wins over the class; families must match (an allowed
	 * 127.0.0.1 does not allow ::ffff:127.0.0.1). */
	for (size_t i = 0; p && i < p->nallow; i++) {
		const struct egress_net *net = &p->allow[i];
		if (net->family == sa->sa_family && net->prefix <= n * 8 &&
		    prefix_equal(b, net->addr, net->prefix)) {
			if (why)
				*why = NULL;
			return true;
		}
	}
	cls = egress_addr_class(sa);
	if (why)
		*why = cls;
	return cls == NULL;
}

bool egress_target_has(const struct egress_target *t, const struct sockaddr *sa)
{
	const unsigned char *b;
	size_t n = sa_bytes(sa, &b);

	if (!t || n == 0)
		return false;
	for (size_t i = 0; i < t->naddr && i < EGRESS_MAX_ADDRS; i++) {
		const unsigned char *tb;
		size_t tn = sa_bytes((const struct sockaddr *)&t->addr[i], &tb);
		if (tn == n && t->addr[i].ss_family == sa->sa_family && memcmp(tb, b, n) == 0)
			return true;
	}
	return false;
}

/* ---- allowed nets from the config --------------------------------------- */

/* Fills out only on success; it is zeroed on failure. */
enum moat_rc egress_parse_net(const char *s, struct egress_net *out, struct moat_err *err)
{
	struct egress_net n = {0};
	char buf[64];
	const char *slash;
	size_t alen;
	unsigned max;
	long prefix;

	if (!s || !out)
		return moat_err_set(err, MOAT_EINVAL, "allowed address: missing value");
	memset(out, 0, sizeof *out);
	if (!egress_text_safe(s, strlen(s)))
		return moat_err_set(err, MOAT_EINVAL, "allowed address holds a control character");
	slash = strchr(s, '/');
	alen = slash ? (size_t)(slash - s) : strlen(s);
	if (alen == 0 || alen >= sizeof buf)
		return moat_err_set(err, MOAT_EINVAL,
				    "allowed address '%.64s' is not an IPv4 or IPv6 address", s);
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	/* glibc's inet_pton accepts strict dotted quads only (no octal, hex or
	 * short forms, no leading zeros) and plain IPv6 (no zone id). */
	if (inet_pton(AF_INET, buf, n.addr) == 1) {
		n.family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, n.addr) == 1) {
		n.family = AF_INET6;
		max = 128;
	} else {
		return moat_err_set(err, MOAT_EINVAL,
				    "allowed address '%.64s' is not a dotted-quad IPv4 or an IPv6 "
				    "address (with an optional /prefix)",
				    s);
	}
	prefix = max;
	if (slash) {
		const char *d = slash + 1;
		size_t nd = strspn(d, "0123456789");
		if (nd == 0 || d[nd] != '\0' || nd > 3 || (nd > 1 && d[0] == '0'))
			return moat_err_set(err, MOAT_EINVAL,
					    "allowed address '%.64s': the prefix length after '/' "
					    "must be a number from 0 to %u",
					    s, max);
		prefix = strtol(d, NULL, 10);
		if (prefix > (long)max)
			return moat_err_set(err, MOAT_EINVAL,
					    "allowed address '%.64s': the prefix length after '/' "
					    "must be a number from 0 to %u",
					    s, max);
	}
	n.prefix = (unsigned)prefix;
	/* Host bits set ("10.1.2.3/8") usually mean the writer meant a
	 * different range; refusing is safer than silently widening. */
	for (unsigned bit = n.prefix; bit < max; bit++) {
		if (n.addr[bit / 8] & (0x80 >> (bit % 8))) {
			return moat_err_set(err, MOAT_EINVAL,
					    "allowed address '%.64s' has bits set after its /%ld "
					    "prefix; write the network address of the range",
					    s, prefix);
		}
	}
	*out = n;
	return MOAT_OK;
}

/* ---- URL vetting -------------------------------------------------------- */

/* "a" or "an" before a class name. */
static const char *article(const char *name)
{
	if (strncmp(name, "uni", 3) == 0)
		return "a";
	return strchr("aeiouAEIOU", name[0]) ? "an" : "a";
}

static void sa_set(struct sockaddr_storage *ss, int family, const void *addr, uint16_t port)
{
	memset(ss, 0, sizeof *ss);
	if (family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)(void *)ss;
		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		memcpy(&in->sin_addr, addr, 4);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)(void *)ss;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		memcpy(&in6->sin6_addr, addr, 16);
	}
}

/* Text form of sa's address into buf (no brackets). */
static const char *sa_text(const struct sockaddr *sa, char *buf, size_t n)
{
	const unsigned char *b;
	size_t len = sa_bytes(sa, &b);

	if (len == 0 || !inet_ntop(len == 4 ? AF_INET : AF_INET6, b, buf, (socklen_t)n))
		snprintf(buf, n, "?");
	return buf;
}

/* The leading scheme of url ([A-Za-z][A-Za-z0-9+.-]* then ':'), lower-cased
 * and cut to n-1 bytes into buf; false when the URL does not start with one. */
static bool scheme_of(const char *url, char *buf, size_t n)
{
	size_t i = 0;

	if (!((url[0] >= 'a' && url[0] <= 'z') || (url[0] >= 'A' && url[0] <= 'Z')))
		return false;
	for (; url[i] && url[i] != ':'; i++) {
		char c = url[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '+' || c == '-' || c == '.'))
			return false;
		if (i + 1 < n)
			buf[i] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
	}
	if (url[i] != ':')
		return false;
	buf[i + 1 < n ? i : n - 1] = '\0';
	return true;
}

static enum moat_rc refuse_scheme(struct moat_err *err, const char *scheme)
{
	return moat_err_rule(err, MOAT_EDENIED, "egress.scheme",
			     "refused: the URL scheme '%.*s' is not allowed; only http:// and "
			     "https:// URLs are", SCHEME_SHOW_MAX, scheme);
}

/* Map a curl_url_set failure to a moat error. */
static enum moat_rc url_error(struct moat_err *err, CURLUcode uc)
{
	switch (uc) {
	case CURLUE_OUT_OF_MEMORY:
		return moat_err_set(err, MOAT_ENOMEM, "out of memory parsing a URL");
	case CURLUE_BAD_PORT_NUMBER:
		return moat_err_rule(err, MOAT_EINVAL, "egress.port",
				     "refused: the URL's port is not a number from 1 to 65535");
	case CURLUE_UNSUPPORTED_SCHEME:
	case CURLUE_BAD_SCHEME:
	case CURLUE_NO_SCHEME:
		return moat_err_rule(err, MOAT_EDENIED, "egress.scheme",
				     "refused: only http:// and https:// URLs are allowed");
	case CURLUE_BAD_IPV6:
		return moat_err_rule(err, MOAT_EINVAL, "egress.bad_host",
				     "refused: the URL's IPv6 address is malformed");
	case CURLUE_NO_HOST:
	case CURLUE_BAD_HOSTNAME:
		return moat_err_rule(err, MOAT_EINVAL, "egress.bad_host",
				     "refused: the URL's host is missing or malformed");
	default:
		return moat_err_rule(err, MOAT_EINVAL, "egress.bad_url",
				     "refused: the URL is malformed (%s)", curl_url_strerror(uc));
	}
}

/*
 * The host curl parsed (raw, "[v6]" bracketed) in canonical form
 * (hostname.h) into t->host, t->host_is_ip and, for literals, *family and
 * bin. Returns MOAT_OK or a refusal.
 */
static enum moat_rc normalise_host(const char *raw, struct egress_target *t, int *family,
				   unsigned char *bin, struct moat_err *err)
{
	struct hostname h;
	enum moat_rc rc = hostname_canon(raw, strlen(raw), &h, err);

	*family = AF_UNSPEC;
	if (rc != MOAT_OK)
		return rc;
	memcpy(t->host, h.text, sizeof t->host);
	t->host_is_ip = h.kind != HOSTNAME_NAME;
	if (h.kind == HOSTNAME_IPV4) {
		*family = AF_INET;
		memcpy(bin, h.bin, 4);
	} else if (h.kind == HOSTNAME_IPV6) {
		*family = AF_INET6;
		memcpy(bin, h.bin, 16);
	}
	return MOAT_OK;
}

/* Add sa to t unless it is already there or t is full. */
static void add_addr(struct egress_target *t, const struct sockaddr_storage *ss)
{
	if (t->naddr >= EGRESS_MAX_ADDRS || egress_target_has(t, (const struct sockaddr *)ss))
		return;
	t->addr[t->naddr++] = *ss;
}

/* Check one address; a refusal names it and its class. */
static enum moat_rc vet_addr(const struct egress_policy *p, const struct egress_target *t,
			     const struct sockaddr *sa, struct moat_err *err)
{
	const char *why = NULL;
	char text[INET6_ADDRSTRLEN];

	if (egress_sockaddr_allowed(p, sa, &why))
		return MOAT_OK;
	if (!why)
		why = "unsupported address family";
	if (t->host_is_ip)
		return moat_err_rule(err, MOAT_EDENIED, "egress.private_address",
				     "refused: the host %s is %s %s address; %s", t->host,
				     article(why), why, public_hint);
	return moat_err_rule(err, MOAT_EDENIED, "egress.private_address",
			     "refused: %s resolves to %s, %s %s address; %s", t->host,
			     sa_text(sa, text, sizeof text), article(why), why, public_hint);
}

/* Resolve t->host (a name), vet every answer and keep up to
 * EGRESS_MAX_ADDRS distinct ones in t. */
static enum moat_rc resolve_host(const struct egress_policy *p, struct egress_target *t,
				 struct moat_err *err)
{
	enum moat_rc rc = MOAT_OK;

	if (resolver_hook) {
		struct sockaddr_storage got[EGRESS_MAX_ADDRS];
		const char *why = NULL;
		int n = resolver_hook(t->host, got, EGRESS_MAX_ADDRS, &why);
		if (n < 0)
			return moat_err_set(err, MOAT_EUPSTREAM, "cannot resolve %s: %s", t->host,
					    why ? why : "resolver failed");
		if (n > EGRESS_MAX_ADDRS)
			n = EGRESS_MAX_ADDRS;
		for (int i = 0; i < n; i++) {
			const unsigned char *b;
			size_t len = sa_bytes((const struct sockaddr *)&got[i], &b);
			struct sockaddr_storage ss;
			if (len == 0)
				continue;
			sa_set(&ss, len == 4 ? AF_INET : AF_INET6, b, t->port);
			rc = vet_addr(p, t, (const struct sockaddr *)&ss, err);
			if (rc != MOAT_OK)
				return rc;
			add_addr(t, &ss);
		}
	} else {
		struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
		struct addrinfo *res = NULL;
		int gai = getaddrinfo(t->host, NULL, &hints, &res);
		if (gai != 0)
			return moat_err_set(err, MOAT_EUPSTREAM, "cannot resolve %s: %s", t->host,
					    gai_strerror(gai));
		/* Every answer is vetted, also those past EGRESS_MAX_ADDRS: one
		 * inward address is reason enough to distrust the name. */
		for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
			const unsigned char *b;
			size_t len = ai->ai_addr ? sa_bytes(ai->ai_addr, &b) : 0;
			struct sockaddr_storage ss;
			if (len == 0)
				continue;
			sa_set(&ss, len == 4 ? AF_INET : AF_INET6, b, t->port);
			rc = vet_addr(p, t, (const struct sockaddr *)&ss, err);
			if (rc != MOAT_OK)
				break;
			add_addr(t, &ss);
		}
		freeaddrinfo(res);
		if (rc != MOAT_OK)
			return rc;
	}
	if (t->naddr == 0)
		return moat_err_set(err, MOAT_EUPSTREAM, "cannot resolve %s: no IPv4 or IPv6 address",
				    t->host);
	return MOAT_OK;
}

/* t->resolve = "host:port:a1,a2" ([v6] bracketed). Empty for an IPv6
 * literal host: curl 7.88 cannot parse such an entry and connects to the
 * literal without resolving anyway. */
static enum moat_rc build_resolve(struct egress_target *t, int family, struct moat_err *err)
{
	size_t o;
	int w;

	t->resolve[0] = '\0';
	if (t->host_is_ip && family == AF_INET6)
		return MOAT_OK;
	w = snprintf(t->resolve, sizeof t->resolve, "%s:%u:", t->host, (unsigned)t->port);
	if (w < 0 || (size_t)w >= sizeof t->resolve)
		goto toolong;
	o = (size_t)w;
	for (size_t i = 0; i < t->naddr; i++) {
		char text[INET6_ADDRSTRLEN];
		int v6 = t->addr[i].ss_family == AF_INET6;
		sa_text((const struct sockaddr *)&t->addr[i], text, sizeof text);
		w = snprintf(t->resolve + o, sizeof t->resolve - o, "%s%s%s%s", i ? "," : "",
			     v6 ? "[" : "", text, v6 ? "]" : "");
		if (w < 0 || (size_t)w >= sizeof t->resolve - o)
			goto toolong;
		o += (size_t)w;
	}
	return MOAT_OK;
toolong:
	t->resolve[0] = '\0';
	return moat_err_set(err, MOAT_EINTERNAL, "the pinned address list does not fit");
}

/* Rebuild the URL with the normalised host into t->url (malloc'd). */
static enum moat_rc rebuild_url(CURLU *u, struct egress_target *t, int family,
				struct moat_err *err)
{
	char host[EGRESS_HOST_MAX + 2];
	char *s = NULL;
	CURLUcode uc;

	if (t->host_is_ip && family == AF_INET6)
		snprintf(host, sizeof host, "[%s]", t->host);
	else
		snprintf(host, sizeof host, "%s", t->host);
	uc = curl_url_set(u, CURLUPART_HOST, host, 0);
	if (uc == CURLUE_OK)
		uc = curl_url_get(u, CURLUPART_URL, &s, 0);
	if (uc != CURLUE_OK)
		return url_error(err, uc);
	if (!egress_text_safe(s, strlen(s))) {
		curl_free(s);
		return moat_err_rule(err, MOAT_EINVAL, "egress.control_char",
				     "refused: the URL holds a control character");
	}
	t->url = strdup(s);
	curl_free(s);
	if (!t->url)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory copying a URL");
	return MOAT_OK;
}

/* True when u holds part, even an empty one ("http://@host/"). */
static bool has_part(CURLU *u, CURLUPart part)
{
	char *s = NULL;
	CURLUcode uc = curl_url_get(u, part, &s, 0);

	curl_free(s);
	return uc == CURLUE_OK || uc == CURLUE_OUT_OF_MEMORY;
}

/*
 * The target is zeroed first: pass a fresh or freed one. On failure it
 * holds whatever was filled and must still be released with
 * egress_target_free.
 */
enum moat_rc egress_vet_url(const struct egress_policy *p, const char *url,
			    struct egress_target *t, struct moat_err *err)
{
	CURLU *u = NULL;
	CURLUcode uc;
	char scheme[SCHEME_SHOW_MAX + 1];
	char *s = NULL;
	unsigned char bin[16];
	int family = AF_UNSPEC;
	enum moat_rc rc = MOAT_OK;
	size_t len;
	long port;

	if (!t)
		return moat_err_set(err, MOAT_EINTERNAL, "egress_vet_url: no target");
	memset(t, 0, sizeof *t);
	if (!p)
		return moat_err_set(err, MOAT_EINTERNAL, "egress_vet_url: no policy");
	if (!url)
		return moat_err_rule(err, MOAT_EINVAL, "egress.bad_url", "refused: no URL");
	len = strlen(url);
	if (len == 0)
		return moat_err_rule(err, MOAT_EINVAL, "egress.bad_url",
				     "refused: the URL is empty");
	if (len > EGRESS_URL_MAX)
		return moat_err_rule(err, MOAT_ELIMIT, "limits.url_bytes",
				     "refused: the URL is longer than %d bytes", EGRESS_URL_MAX);
	if (!egress_text_safe(url, len))
		return moat_err_rule(err, MOAT_EINVAL, "egress.control_char",
				     "refused: the URL holds a control character (CR, LF, tab or "
				     "another byte below 0x20 or 0x7F)");
	if (!scheme_of(url, scheme, sizeof scheme))
		return moat_err_rule(err, MOAT_EINVAL, "egress.scheme",
				     "refused: the URL has no scheme; only http:// and https:// "
				     "URLs are allowed");
	/* A longer scheme was cut and cannot compare equal here. */
	if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)
		return refuse_scheme(err, scheme);

	u = curl_url();
	if (!u)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory parsing a URL");
	/* No CURLU_DEFAULT_SCHEME / GUESS_SCHEME (a URL needs its scheme), no
	 * NON_SUPPORT_SCHEME (unknown schemes fail), no ALLOW_SPACE. */
	uc = curl_url_set(u, CURLUPART_URL, url, 0);
	if (uc != CURLUE_OK) {
		rc = url_error(err, uc);
		goto out;
	}
	uc = curl_url_get(u, CURLUPART_SCHEME, &s, 0);
	if (uc != CURLUE_OK) {
		rc = url_error(err, uc);
		goto out;
	}
	if (strcmp(s, "http") != 0 && strcmp(s, "https") != 0) {
		rc = refuse_scheme(err, s);
		goto out;
	}
	snprintf(t->scheme, sizeof t->scheme, "%s", s);
	curl_free(s);
	s = NULL;
	if (has_part(u, CURLUPART_USER) || has_part(u, CURLUPART_PASSWORD) ||
	    has_part(u, CURLUPART_OPTIONS)) {
		rc = moat_err_rule(err, MOAT_EDENIED, "egress.userinfo",
				   "refused: URLs with user info (user@host) are not allowed");
		goto out;
	}
	if (has_part(u, CURLUPART_ZONEID)) {
		rc = moat_err_rule(err, MOAT_EDENIED, "egress.zone_id",
				   "refused: IPv6 zone ids (%%25...) are not allowed in URLs");
		goto out;
	}
	if (strcmp(t->scheme, "http") == 0 && !p->allow_http) {
		rc = moat_err_rule(err, MOAT_EDENIED, "egress.plain_http",
				   "refused: plain http is not allowed for this destination; use https");
		goto out;
	}
	uc = curl_url_get(u, CURLUPART_HOST, &s, 0);
	if (uc != CURLUE_OK) {
		rc = url_error(err, uc);
		goto out;
	}
	rc = normalise_host(s, t, &family, bin, err);
	curl_free(s);
	s = NULL;
	if (rc != MOAT_OK)
		goto out;
	/* Host rules before any lookup: a denied name is never even resolved. */
	if (p->host_ok) {
		const char *why = "not allowed", *rule = "egress.denied_host";
		if (!p->host_ok(p->host_ok_data, t->host, &why, &rule)) {
			rc = moat_err_rule(err, MOAT_EDENIED, rule, "refused: the host %s is %s",
					   t->host, why);
			goto out;
		}
	}

	uc = curl_url_get(u, CURLUPART_PORT, &s, CURLU_DEFAULT_PORT);
	if (uc != CURLUE_OK) {
		rc = url_error(err, uc == CURLUE_NO_PORT ? CURLUE_BAD_PORT_NUMBER : uc);
		goto out;
	}
	{
		char *end = NULL;
		port = strtol(s, &end, 10);
		if (!end || *end != '\0' || end == s || port < 1 || port > 65535) {
			rc = moat_err_rule(err, MOAT_EINVAL, "egress.port",
					   "refused: the URL's port is not a number from 1 to 65535");
			goto out;
		}
	}
	curl_free(s);
	s = NULL;
	t->port = (uint16_t)port;
	if (p->nports > 0) {
		bool ok = false;
		for (size_t i = 0; i < p->nports && p->ports; i++)
			ok = ok || p->ports[i] == t->port;
		if (!ok) {
			rc = moat_err_rule(err, MOAT_EDENIED, "egress.port",
					   "refused: port %u is not one of the ports allowed for this "
					   "destination", (unsigned)t->port);
			goto out;
		}
	}

	if (t->host_is_ip) {
		sa_set(&t->addr[0], family, bin, t->port);
		t->naddr = 1;
		rc = vet_addr(p, t, (const struct sockaddr *)&t->addr[0], err);
	} else {
		rc = resolve_host(p, t, err);
	}
	if (rc != MOAT_OK)
		goto out;
	rc = build_resolve(t, family, err);
	if (rc != MOAT_OK)
		goto out;
	rc = rebuild_url(u, t, family, err);
out:
	if (rc != MOAT_OK) {
		t->naddr = 0;
		t->resolve[0] = '\0';
	}
	curl_free(s);
	curl_url_cleanup(u);
	return rc;
}

void egress_target_free(struct egress_target *t)
{
	if (!t)
		return;
	free(t->url);
	t->url = NULL;
}
