/*
 * hostname.h - the one canonical form of a host, for every comparison the
 * http family makes: the egress guard's vetting of each hop, fetch's
 * allow_hosts and deny_hosts, a declared API's own host (its credentials go
 * nowhere else) and the hosts recorded in the audit trail.
 *
 * Canonical form:
 *  - ASCII only: a name holding a byte >= 0x80 is refused (write an
 *    internationalised name in punycode, "xn--..."; moat does no IDNA
 *    mapping of its own, so two spellings of one IDN can never compare
 *    unequal); upper-case letters are lowered (also in "XN--...");
 *  - a name may hold letters, digits, '-', '_' and '.'; one trailing dot
 *    is dropped ("localhost." is localhost), a second one ("localhost..")
 *    or any other empty label is refused, as is a label longer than 63
 *    bytes or a name longer than 253;
 *  - an IPv4 address in any spelling inet_aton() takes (2130706433,
 *    0x7f000001, 0177.0.0.1, 127.1, 0x7f.1, with or without one trailing
 *    dot) becomes a dotted quad; a name whose last label is a number but
 *    that is not a valid IPv4 address (1.2.3.4.5, 0x1g) is refused, as
 *    WHATWG URL parsers do;
 *  - an IPv6 address ("[::1]" or, from the config, "::1") becomes
 *    inet_ntop's text without brackets ("::1", "::ffff:127.0.0.1"); a zone
 *    id ("%25eth0", "%eth0") is refused.
 * Percent-decoding is the URL parser's business (libcurl refuses '%' in a
 * host outright); a '%' that reaches here is refused like any other byte
 * outside the set above.
 *
 * Errors carry the rule id "egress.bad_host" (or "egress.zone_id") and show
 * the host only when it is printable ASCII (cut at 64 bytes).
 *
 * Pure functions; thread-safe.
 */
#ifndef MOAT_PROVIDERS_HTTP_HOSTNAME_H
#define MOAT_PROVIDERS_HTTP_HOSTNAME_H

#include <stdbool.h>
#include <stddef.h>

#include "result.h"

#define HOSTNAME_MAX 256 /* bytes of a canonical host, with its NUL */

enum hostname_kind { HOSTNAME_NAME, HOSTNAME_IPV4, HOSTNAME_IPV6 };

/* A host in canonical form. */
struct hostname {
	enum hostname_kind kind;
	char text[HOSTNAME_MAX]; /* the canonical text (see above) */
	unsigned char bin[16];   /* the address, network order: 4 bytes for
				    IPv4, 16 for IPv6; zero for a name */
};

/* A host pattern of fetch's allow_hosts / deny_hosts: "example.com" (that
 * host only), "*.example.com" (every name below it, not the name itself),
 * or an IP address in any spelling above. */
struct hostname_pattern {
	bool wildcard;
	struct hostname host; /* for a wildcard: the part after "*." (a name) */
};

/*
 * hostname_canon - s[0..n) (a host as a URL's parser returns it, or as a
 * person wrote it in the config; NUL and every other control byte are
 * refused) into *out. Returns MOAT_OK, or MOAT_EINVAL (MOAT_EDENIED for a
 * zone id) with err naming the rule. *out is zeroed on failure.
 */
enum moat_rc hostname_canon(const char *s, size_t n, struct hostname *out, struct moat_err *err);

/* hostname_pattern_parse - s (NUL-terminated) into *out; a wildcard's rest
 * must be a name, not an address. Errors as hostname_canon's. */
enum moat_rc hostname_pattern_parse(const char *s, struct hostname_pattern *out,
				    struct moat_err *err);

/* hostname_pattern_match - does the canonical host text (hostname.text)
 * match p? Label boundaries count: "*.example.com" matches
 * "a.example.com", not "badexample.com" nor "example.com". */
bool hostname_pattern_match(const struct hostname_pattern *p, const char *canon);

#endif
