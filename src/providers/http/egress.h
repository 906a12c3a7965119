/*
 * egress.h - the egress guard shared by fetch and the declared API tools
 * (DESIGN.md §5.4): which URLs and addresses moat may connect to.
 *
 * A URL is parsed (libcurl's URL API), refused unless it is http or https
 * with a host and no user info, and refused if any part holds CR, LF, NUL
 * or other control bytes. The host is put in its canonical form
 * (hostname.h: lower case, one trailing dot dropped, an IPv4 address in
 * any spelling as a dotted quad, IPv6 without brackets) before anything
 * else looks at it; the normalised URL carries that form. The host is
 * resolved once; every address must be public (not loopback, private,
 * link-local, CGNAT, multicast, reserved, unspecified, documentation,
 * benchmark, IPv4-mapped/compatible IPv6 of those, NAT64 or 6to4 of those,
 * Teredo, ULA, site-local...) unless the policy allows that exact address
 * or a range holding it. The vetted addresses are then pinned for the
 * connection (egress_target.resolve for CURLOPT_RESOLVE) and checked again
 * when the socket is opened (egress_sockaddr_allowed from
 * CURLOPT_OPENSOCKETFUNCTION), so a second DNS answer cannot redirect it.
 *
 * Pure functions except egress_vet_url (which resolves) and the resolver
 * hook (tests only). Thread-safe: policies are read-only once built.
 */
#ifndef MOAT_PROVIDERS_HTTP_EGRESS_H
#define MOAT_PROVIDERS_HTTP_EGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "hostname.h"
#include "result.h"

/* An address or a CIDR range the config allows although it is not public. */
struct egress_net {
	int family;                /* AF_INET or AF_INET6 */
	unsigned char addr[16];    /* network byte order; 4 bytes used for AF_INET */
	unsigned prefix;           /* 0..32 or 0..128 */
};

/* What one fetch section or one API allows. Arrays are borrowed. */
struct egress_policy {
	const struct egress_net *allow; /* non-public addresses allowed */
	size_t nallow;
	bool allow_http;                /* plain http (else https only) */
	const uint16_t *ports;          /* allowed ports; NULL/0 = any */
	size_t nports;
	/* Called with the canonical host (hostname.h) once it is read, before
	 * any DNS lookup: false refuses it with *why and *rule (static)
	 * naming the rule and its id (fetch's allow_hosts / deny_hosts). NULL:
	 * every host. */
	bool (*host_ok)(const void *data, const char *host, const char **why, const char **rule);
	const void *host_ok_data;
};

#define EGRESS_MAX_ADDRS 16
#define EGRESS_HOST_MAX HOSTNAME_MAX

/* A vetted URL: what to connect to and how to pin it. */
struct egress_target {
	char scheme[8];                /* "http" or "https" */
	char host[EGRESS_HOST_MAX];    /* canonical host (hostname.h); also set
	                                  when vetting failed after the host was
	                                  read, for the audit trail */
	bool host_is_ip;
	uint16_t port;                 /* explicit or the scheme's default */
	char *url;                     /* normalised URL; owned, egress_target_free */
	struct sockaddr_storage addr[EGRESS_MAX_ADDRS]; /* every vetted address */
	size_t naddr;
	/* "host:port:a1,a2" for CURLOPT_RESOLVE, IPv6 addresses in brackets;
	 * empty for an IPv6 literal host (curl 7.88 cannot parse such an entry
	 * and fails the transfer; it connects to the literal without resolving,
	 * so there is nothing to pin: skip CURLOPT_RESOLVE then). */
	char resolve[EGRESS_HOST_MAX + 16 + EGRESS_MAX_ADDRS * 48];
};

/*
 * egress_parse_net - parse "127.0.0.1", "10.0.0.0/8", "::1", "fd00::/8"
 * (no other IPv4 spellings here: config is written by a person) into out.
 * Returns MOAT_EINVAL with a message naming the value's problem; a range
 * with bits set after its prefix ("10.1.2.3/8") is refused, not masked.
 */
enum moat_rc egress_parse_net(const char *s, struct egress_net *out, struct moat_err *err);

/*
 * egress_addr_class - NULL when sa (AF_INET or AF_INET6) is a public
 * unicast address, else a static name for why not: "loopback", "private",
 * "link-local", "CGNAT", "multicast", "reserved", "unspecified",
 * "broadcast", "documentation", "benchmarking", "unique-local",
 * "site-local", "IPv4-mapped loopback" (the embedded address's class,
 * prefixed), "NAT64 ...", "6to4 ...", "Teredo", "discard"...
 */
const char *egress_addr_class(const struct sockaddr *sa);

/*
 * egress_sockaddr_allowed - true when sa is public or inside one of the
 * policy's allowed nets; else false with *why set (static string).
 */
bool egress_sockaddr_allowed(const struct egress_policy *p, const struct sockaddr *sa,
			     const char **why);

/*
 * egress_vet_url - parse and check url against p, resolve its host once
 * and vet every address (all must pass), fill t (the caller frees it with
 * egress_target_free, also after a failure; t is zeroed first, so pass a
 * fresh or freed one). Errors name the rule broken
 * ("refused: the host 127.0.0.1 is a loopback address; ...") and record its
 * id (egress.scheme, egress.plain_http, egress.userinfo, egress.zone_id,
 * egress.bad_url, egress.bad_host, egress.control_char, egress.port,
 * egress.private_address, limits.url_bytes, and the policy's host_ok
 * rules), and never carry user info or
 * query strings from the URL.
 */
enum moat_rc egress_vet_url(const struct egress_policy *p, const char *url,
			    struct egress_target *t, struct moat_err *err);

/* egress_target_free - release t's URL. Accepts a zeroed target. */
void egress_target_free(struct egress_target *t);

/*
 * egress_target_has - true when sa is one of t's vetted addresses (same
 * family and address; the port is not compared). For the socket-open
 * check.
 */
bool egress_target_has(const struct egress_target *t, const struct sockaddr *sa);

/*
 * egress_text_safe - true when s[0..n) holds no byte below 0x20 and no
 * 0x7F: what every header value and URL part built from arguments must
 * satisfy (CR, LF and NUL are the ones that matter).
 */
bool egress_text_safe(const char *s, size_t n);

/* Tests only: replace getaddrinfo() for egress_vet_url (NULL restores it).
 * fn fills up to max addresses for host and returns how many, or -1 with
 * *why set. Not thread-safe; set it before any call. */
typedef int (*egress_resolver_fn)(const char *host, struct sockaddr_storage *out, size_t max,
				  const char **why);
void egress_set_resolver(egress_resolver_fn fn);

#endif
