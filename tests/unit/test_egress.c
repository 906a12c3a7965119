/*
 * test_egress.c - unit tests for src/providers/http/egress.c: the address
 * classes (every IPv4 and IPv6 range on and just outside its edges), the
 * IPv4 spellings URL parsers accept, IPv6 literals with embedded IPv4,
 * scheme, user info, control byte, http and port rules, allowed nets, the
 * resolver pin string, and the helpers. No real DNS: a fake resolver is
 * installed with egress_set_resolver for every test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "http/egress.h"
#include "http/hostname.h"

/* ---- the fake resolver -------------------------------------------------- */

static const char *fake_answers[EGRESS_MAX_ADDRS + 1];
static int fake_calls;
static char fake_last_host[EGRESS_HOST_MAX];

static void fill_sa(struct sockaddr_storage *ss, const char *text)
{
	memset(ss, 0, sizeof *ss);
	if (strchr(text, ':')) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)(void *)ss;
		in6->sin6_family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, text, &in6->sin6_addr), 1);
	} else {
		struct sockaddr_in *in = (struct sockaddr_in *)(void *)ss;
		in->sin_family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, text, &in->sin_addr), 1);
	}
}

/* Answers every name with fake_answers; none means NXDOMAIN. */
static int fake_resolver(const char *host, struct sockaddr_storage *out, size_t max,
			 const char **why)
{
	size_t n = 0;

	fake_calls++;
	snprintf(fake_last_host, sizeof fake_last_host, "%s", host);
	while (fake_answers[n] && n < max) {
		fill_sa(&out[n], fake_answers[n]);
		n++;
	}
	if (n == 0) {
		*why = "no such name (test)";
		return -1;
	}
	return (int)n;
}

/* Set the fake answers: a NULL-terminated list of address texts. */
static void answers(const char *first, ...)
{
	va_list ap;
	size_t n = 0;
	const char *a = first;

	va_start(ap, first);
	while (a && n < EGRESS_MAX_ADDRS) {
		fake_answers[n++] = a;
		a = va_arg(ap, const char *);
	}
	va_end(ap);
	fake_answers[n] = NULL;
}

static int setup(void **state)
{
	(void)state;
	egress_set_resolver(fake_resolver);
	fake_answers[0] = NULL;
	fake_calls = 0;
	fake_last_host[0] = '\0';
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	egress_set_resolver(NULL);
	return 0;
}

/* ---- helpers ------------------------------------------------------------ */

static const struct egress_policy open_policy = {.allow_http = true};
static const struct egress_policy https_policy = {.allow_http = false};

/* Vet url against p expecting success; t is filled (caller frees). */
static void vet_ok(const struct egress_policy *p, const char *url, struct egress_target *t)
{
	struct moat_err err = {0};
	enum moat_rc rc = egress_vet_url(p, url, t, &err);

	if (rc != MOAT_OK)
		fail_msg("vetting %s failed: %s", url, err.msg);
	assert_non_null(t->url);
	assert_true(t->naddr >= 1);
}

/* Vet url against p expecting want and a message holding each of the
 * NULL-terminated substrings. */
static void vet_fails(const struct egress_policy *p, const char *url, enum moat_rc want, ...)
{
	struct egress_target t;
	struct moat_err err = {0};
	enum moat_rc rc = egress_vet_url(p, url, &t, &err);
	va_list ap;
	const char *sub;

	if (rc != want)
		fail_msg("vetting '%s': rc %d, want %d (%s)", url, rc, want, err.msg);
	assert_int_equal(err.rc, want);
	assert_null(t.url);
	assert_int_equal(t.naddr, 0);
	va_start(ap, want);
	while ((sub = va_arg(ap, const char *)) != NULL) {
		if (!strstr(err.msg, sub)) {
			va_end(ap);
			fail_msg("vetting '%s': message '%s' lacks '%s'", url, err.msg, sub);
		}
	}
	va_end(ap);
	egress_target_free(&t);
}

static const char *class_of(const char *text)
{
	struct sockaddr_storage ss;

	fill_sa(&ss, text);
	return egress_addr_class((const struct sockaddr *)&ss);
}

struct class_case {
	const char *addr;
	const char *cls; /* NULL: public */
};

static void check_classes(const struct class_case *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *got = class_of(c[i].addr);
		if (!c[i].cls && got)
			fail_msg("%s: want public, got %s", c[i].addr, got);
		if (c[i].cls && (!got || strcmp(got, c[i].cls) != 0))
			fail_msg("%s: want %s, got %s", c[i].addr, c[i].cls, got ? got : "public");
	}
}

static struct egress_net net(const char *s)
{
	struct egress_net n;
	struct moat_err err = {0};

	if (egress_parse_net(s, &n, &err) != MOAT_OK)
		fail_msg("parse_net %s: %s", s, err.msg);
	return n;
}

/* ---- address classes ---------------------------------------------------- */

static void test_v4_classes(void **state)
{
	static const struct class_case cases[] = {
		{"0.0.0.0", "unspecified"},
		{"0.255.255.255", "unspecified"},
		{"1.0.0.0", NULL},
		{"1.1.1.1", NULL},
		{"8.8.8.8", NULL},
		{"9.255.255.255", NULL},
		{"10.0.0.0", "private"},
		{"10.255.255.255", "private"},
		{"11.0.0.0", NULL},
		{"100.63.255.255", NULL},
		{"100.64.0.0", "CGNAT"},
		{"100.127.255.255", "CGNAT"},
		{"100.128.0.0", NULL},
		{"126.255.255.255", NULL},
		{"127.0.0.0", "loopback"},
		{"127.0.0.1", "loopback"},
		{"127.255.255.255", "loopback"},
		{"128.0.0.0", NULL},
		{"169.253.255.255", NULL},
		{"169.254.0.0", "link-local"},
		{"169.254.169.254", "link-local"},
		{"169.254.255.255", "link-local"},
		{"169.255.0.0", NULL},
		{"172.15.255.255", NULL},
		{"172.16.0.0", "private"},
		{"172.31.255.255", "private"},
		{"172.32.0.0", NULL},
		{"191.255.255.255", NULL},
		{"192.0.0.0", "reserved"},
		{"192.0.0.255", "reserved"},
		{"192.0.1.0", NULL},
		{"192.0.1.255", NULL},
		{"192.0.2.0", "documentation"},
		{"192.0.2.255", "documentation"},
		{"192.0.3.0", NULL},
		{"192.88.98.255", NULL},
		{"192.88.99.0", "reserved"},
		{"192.88.99.255", "reserved"},
		{"192.88.100.0", NULL},
		{"192.167.255.255", NULL},
		{"192.168.0.0", "private"},
		{"192.168.255.255", "private"},
		{"192.169.0.0", NULL},
		{"198.17.255.255", NULL},
		{"198.18.0.0", "benchmarking"},
		{"198.19.255.255", "benchmarking"},
		{"198.20.0.0", NULL},
		{"198.51.99.255", NULL},
		{"198.51.100.0", "documentation"},
		{"198.51.100.255", "documentation"},
		{"198.51.101.0", NULL},
		{"203.0.112.255", NULL},
		{"203.0.113.0", "documentation"},
		{"203.0.113.255", "documentation"},
		{"203.0.114.0", NULL},
		{"223.255.255.255", NULL},
		{"224.0.0.0", "multicast"},
		{"239.255.255.255", "multicast"},
		{"240.0.0.0", "reserved"},
		{"255.255.255.254", "reserved"},
		{"255.255.255.255", "broadcast"},
	};
	(void)state;
	check_classes(cases, sizeof cases / sizeof cases[0]);
}

static void test_v6_classes(void **state)
{
	static const struct class_case cases[] = {
		{"::", "unspecified"},
		{"::1", "loopback"},
		{"::2", "IPv4-compatible unspecified"},
		{"::7f00:1", "IPv4-compatible loopback"},
		{"::808:808", "IPv4-compatible"},
		{"::ffff:127.0.0.1", "IPv4-mapped loopback"},
		{"::ffff:7f00:1", "IPv4-mapped loopback"},
		{"::ffff:10.0.0.1", "IPv4-mapped private"},
		{"::ffff:169.254.169.254", "IPv4-mapped link-local"},
		{"::ffff:0.0.0.0", "IPv4-mapped unspecified"},
		{"::ffff:8.8.8.8", "IPv4-mapped"},
		{"::fffe:7f00:1", "reserved"},
		{"::1:0:0:0", "reserved"},
		{"64:ff9b::7f00:1", "NAT64 loopback"},
		{"64:ff9b::a00:1", "NAT64 private"},
		{"64:ff9b::a9fe:a9fe", "NAT64 link-local"},
		{"64:ff9b::808:808", NULL},
		{"64:ff9b::1:0:0", "reserved"},
		{"64:ff9a:ffff:ffff:ffff:ffff:ffff:ffff", "reserved"},
		{"64:ff9b:1::", "local-use NAT64"},
		{"64:ff9b:1:ffff:ffff:ffff:ffff:ffff", "local-use NAT64"},
		{"64:ff9b:2::", "reserved"},
		{"100::", "discard"},
		{"100::ffff:ffff:ffff:ffff", "discard"},
		{"100:0:0:1::", "reserved"},
		{"1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "reserved"},
		{"2000::", NULL},
		{"2001::", "Teredo"},
		{"2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo"},
		{"2001:0:ffff:ffff:ffff:ffff:ffff:ffff", "Teredo"},
		{"2001:1::", NULL},
		{"2001:2::", "benchmarking"},
		{"2001:2:0:ffff:ffff:ffff:ffff:ffff", "benchmarking"},
		{"2001:2:1::", NULL},
		{"2001:3::", NULL},
		{"2001:f:ffff:ffff:ffff:ffff:ffff:ffff", NULL},
		{"2001:10::", "reserved"},
		{"2001:1f:ffff:ffff:ffff:ffff:ffff:ffff", "reserved"},
		{"2001:20::", "reserved"},
		{"2001:2f:ffff:ffff:ffff:ffff:ffff:ffff", "reserved"},
		{"2001:30::", NULL},
		{"2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", NULL},
		{"2001:db8::", "documentation"},
		{"2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", "documentation"},
		{"2001:db9::", NULL},
		{"2001:4860:4860::8888", NULL},
		{"2001:ffff:ffff:ffff:ffff:ffff:ffff:ffff", NULL},
		{"2002::", "6to4 unspecified"},
		{"2002:7f00:1::", "6to4 loopback"},
		{"2002:a00:1::1", "6to4 private"},
		{"2002:c0a8:101::", "6to4 private"},
		{"2002:a9fe:a9fe::", "6to4 link-local"},
		{"2002:808:808::1", NULL},
		{"2003::", NULL},
		{"2606:4700:4700::1111", NULL},
		{"3ffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff", NULL},
		{"3fff::", "documentation"},
		{"3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff", "documentation"},
		{"3fff:1000::", NULL},
		{"3fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", NULL},
		{"4000::", "reserved"},
		{"fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "reserved"},
		{"fc00::", "unique-local"},
		{"fd12:3456::1", "unique-local"},
		{"fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "unique-local"},
		{"fe00::", "reserved"},
		{"fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "reserved"},
		{"fe80::", "link-local"},
		{"fe80::1", "link-local"},
		{"febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "link-local"},
		{"fec0::", "site-local"},
		{"feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "site-local"},
		{"ff00::", "multicast"},
		{"ff02::1", "multicast"},
		{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "multicast"},
	};
	(void)state;
	check_classes(cases, sizeof cases / sizeof cases[0]);
}

static void test_addr_class_other_family(void **state)
{
	struct sockaddr_storage ss = {.ss_family = AF_UNIX};
	const char *why = NULL;

	(void)state;
	assert_non_null(egress_addr_class((const struct sockaddr *)&ss));
	assert_non_null(egress_addr_class(NULL));
	assert_false(egress_sockaddr_allowed(&open_policy, (const struct sockaddr *)&ss, &why));
	assert_non_null(why);
	assert_false(egress_sockaddr_allowed(&open_policy, NULL, &why));
}

static void test_sockaddr_allowed(void **state)
{
	struct egress_net nets[] = {net("127.0.0.1"), net("fd00::/8")};
	struct egress_policy p = {.allow = nets, .nallow = 2};
	struct sockaddr_storage ss;
	const char *why = "unset";

	(void)state;
	fill_sa(&ss, "8.8.8.8");
	assert_true(egress_sockaddr_allowed(&p, (const struct sockaddr *)&ss, &why));
	assert_null(why);
	assert_true(egress_sockaddr_allowed(NULL, (const struct sockaddr *)&ss, NULL));
	fill_sa(&ss, "127.0.0.1");
	assert_true(egress_sockaddr_allowed(&p, (const struct sockaddr *)&ss, &why));
	assert_false(egress_sockaddr_allowed(NULL, (const struct sockaddr *)&ss, &why));
	assert_string_equal(why, "loopback");
	fill_sa(&ss, "127.0.0.2");
	assert_false(egress_sockaddr_allowed(&p, (const struct sockaddr *)&ss, &why));
	assert_string_equal(why, "loopback");
	fill_sa(&ss, "fdab::1");
	assert_true(egress_sockaddr_allowed(&p, (const struct sockaddr *)&ss, &why));
	fill_sa(&ss, "fcab::1");
	assert_false(egress_sockaddr_allowed(&p, (const struct sockaddr *)&ss, &why));
	assert_string_equal(why, "unique-local");
	/* An allowed IPv4 address does not allow its IPv4-mapped form. */
	fill_sa(&ss, "::ffff:127.0.0.1");
	assert_false(egress_sockaddr_allowed(&p, (const struct sockaddr *)&ss, &why));
	assert_string_equal(why, "IPv4-mapped loopback");
}

/* ---- IPv4 spellings and literals ---------------------------------------- */

static void test_ipv4_spellings(void **state)
{
	static const char *const urls[] = {
		"http://127.0.0.1/",   "http://2130706433/", "http://0x7f000001/",
		"http://0177.0.0.1/",  "http://127.1/",      "http://0x7f.1/",
		"http://127.0.0.1./",  "http://0X7F000001/", "http://%31%32%37.0.0.1/",
		"http://127.0.1/",     "http://0177.1/",
	};
	struct egress_net nets[] = {net("127.0.0.0/8")};
	struct egress_policy allow = {.allow = nets, .nallow = 1, .allow_http = true};

	(void)state;
	for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
		struct egress_target t;
		vet_fails(&open_policy, urls[i], MOAT_EDENIED, "the host 127.0.0.1 is a loopback address",
			  "allow_addresses", NULL);
		vet_ok(&allow, urls[i], &t);
		assert_string_equal(t.host, "127.0.0.1");
		assert_true(t.host_is_ip);
		assert_string_equal(t.url, "http://127.0.0.1/");
		assert_string_equal(t.resolve, "127.0.0.1:80:127.0.0.1");
		assert_int_equal(t.naddr, 1);
		egress_target_free(&t);
	}
	assert_int_equal(fake_calls, 0);
}

static void test_ipv4_special_hosts(void **state)
{
	(void)state;
	vet_fails(&open_policy, "http://0.0.0.0/", MOAT_EDENIED, "0.0.0.0 is an unspecified address",
		  NULL);
	vet_fails(&open_policy, "http://0/", MOAT_EDENIED, "0.0.0.0 is an unspecified address", NULL);
	vet_fails(&open_policy, "http://169.254.169.254/latest/meta-data/", MOAT_EDENIED,
		  "169.254.169.254 is a link-local address", NULL);
	vet_fails(&open_policy, "http://10.1.2.3:8080/", MOAT_EDENIED, "a private address", NULL);
	vet_fails(&open_policy, "http://100.64.0.1/", MOAT_EDENIED, "a CGNAT address", NULL);
	vet_fails(&open_policy, "http://255.255.255.255/", MOAT_EDENIED, "a broadcast address", NULL);
	vet_fails(&open_policy, "http://224.0.0.1/", MOAT_EDENIED, "a multicast address", NULL);
	vet_fails(&open_policy, "http://198.18.0.1/", MOAT_EDENIED, "a benchmarking address", NULL);
	vet_fails(&open_policy, "http://192.0.2.1/", MOAT_EDENIED, "a documentation address", NULL);
	vet_fails(&open_policy, "http://240.0.0.1/", MOAT_EDENIED, "a reserved address", NULL);
}

static void test_ipv4_public_literal(void **state)
{
	struct egress_target t;

	(void)state;
	vet_ok(&open_policy, "http://8.8.8.8:8080/a/../b?x=1#frag", &t);
	assert_string_equal(t.host, "8.8.8.8");
	assert_int_equal(t.port, 8080);
	assert_string_equal(t.resolve, "8.8.8.8:8080:8.8.8.8");
	assert_string_equal(t.url, "http://8.8.8.8:8080/b?x=1#frag");
	assert_int_equal(t.addr[0].ss_family, AF_INET);
	assert_int_equal(ntohs(((struct sockaddr_in *)(void *)&t.addr[0])->sin_port), 8080);
	egress_target_free(&t);
	vet_ok(&open_policy, "http://134744072/", &t); /* 8.8.8.8 */
	assert_string_equal(t.host, "8.8.8.8");
	assert_string_equal(t.url, "http://8.8.8.8/");
	egress_target_free(&t);
	assert_int_equal(fake_calls, 0);
}

static void test_ends_in_number(void **state)
{
	(void)state;
	vet_fails(&open_policy, "http://4294967296/", MOAT_EINVAL, "not a valid IPv4", NULL);
	vet_fails(&open_policy, "http://1.2.3.4.5/", MOAT_EINVAL, "not a valid IPv4", NULL);
	vet_fails(&open_policy, "http://08/", MOAT_EINVAL, "not a valid IPv4", NULL);
	vet_fails(&open_policy, "http://example.0x12/", MOAT_EINVAL, "not a valid IPv4", NULL);
	vet_fails(&open_policy, "http://1.2.3.09/", MOAT_EINVAL, "not a valid IPv4", NULL);
	vet_fails(&open_policy, "http://1.2.3.4.5./", MOAT_EINVAL, "not a valid IPv4", NULL);
	assert_int_equal(fake_calls, 0);
}

/* ---- IPv6 literals ------------------------------------------------------ */

static void test_ipv6_literals(void **state)
{
	(void)state;
	vet_fails(&open_policy, "http://[::1]/", MOAT_EDENIED, "the host ::1 is a loopback address",
		  NULL);
	vet_fails(&open_policy, "http://[0:0:0:0:0:0:0:1]:8080/", MOAT_EDENIED,
		  "the host ::1 is a loopback address", NULL);
	vet_fails(&open_policy, "http://[::]/", MOAT_EDENIED, "an unspecified address", NULL);
	vet_fails(&open_policy, "http://[::ffff:127.0.0.1]/", MOAT_EDENIED,
		  "::ffff:127.0.0.1 is an IPv4-mapped loopback address", NULL);
	vet_fails(&open_policy, "http://[::ffff:7f00:1]/", MOAT_EDENIED,
		  "an IPv4-mapped loopback address", NULL);
	vet_fails(&open_policy, "http://[::FFFF:169.254.169.254]/", MOAT_EDENIED,
		  "an IPv4-mapped link-local address", NULL);
	vet_fails(&open_policy, "http://[::ffff:8.8.8.8]/", MOAT_EDENIED, "an IPv4-mapped address",
		  NULL);
	vet_fails(&open_policy, "http://[::127.0.0.1]/", MOAT_EDENIED,
		  "an IPv4-compatible loopback address", NULL);
	vet_fails(&open_policy, "http://[64:ff9b::7f00:1]/", MOAT_EDENIED,
		  "a NAT64 loopback address", NULL);
	vet_fails(&open_policy, "http://[64:ff9b:1::1]/", MOAT_EDENIED,
		  "a local-use NAT64 address", NULL);
	vet_fails(&open_policy, "http://[2002:7f00:1::]/", MOAT_EDENIED, "a 6to4 loopback address",
		  NULL);
	vet_fails(&open_policy, "http://[2001::1]/", MOAT_EDENIED, "a Teredo address", NULL);
	vet_fails(&open_policy, "http://[fe80::1]/", MOAT_EDENIED, "a link-local address", NULL);
	vet_fails(&open_policy, "http://[fec0::1]/", MOAT_EDENIED, "a site-local address", NULL);
	vet_fails(&open_policy, "http://[fd00::1]/", MOAT_EDENIED, "a unique-local address", NULL);
	vet_fails(&open_policy, "http://[ff02::1]/", MOAT_EDENIED, "a multicast address", NULL);
	vet_fails(&open_policy, "http://[100::1]/", MOAT_EDENIED, "a discard address", NULL);
	vet_fails(&open_policy, "http://[2001:db8::1]/", MOAT_EDENIED, "a documentation address",
		  NULL);
	vet_fails(&open_policy, "http://[fe80::1%25eth0]/", MOAT_EDENIED, "zone id", NULL);
	vet_fails(&open_policy, "http://[2606:4700::1%25eth0]/", MOAT_EDENIED, "zone id", NULL);
	assert_int_equal(fake_calls, 0);
}

static void test_ipv6_public_literal(void **state)
{
	struct egress_target t;

	(void)state;
	vet_ok(&open_policy, "https://[2001:4860:4860:0:0:0:0:8888]/dns", &t);
	assert_string_equal(t.host, "2001:4860:4860::8888");
	assert_true(t.host_is_ip);
	assert_int_equal(t.port, 443);
	assert_string_equal(t.url, "https://[2001:4860:4860::8888]/dns");
	/* curl 7.88 cannot parse a CURLOPT_RESOLVE entry for an IPv6 literal. */
	assert_string_equal(t.resolve, "");
	assert_int_equal(t.addr[0].ss_family, AF_INET6);
	egress_target_free(&t);

	/* NAT64 and 6to4 of a public address are public. */
	vet_ok(&open_policy, "http://[64:ff9b::8.8.8.8]/", &t);
	assert_string_equal(t.host, "64:ff9b::808:808");
	assert_string_equal(t.url, "http://[64:ff9b::808:808]/");
	egress_target_free(&t);
	vet_ok(&open_policy, "http://[2002:808:808::1]/", &t);
	egress_target_free(&t);
	assert_int_equal(fake_calls, 0);
}

/* ---- schemes, user info, control bytes, syntax --------------------------- */

static void test_schemes(void **state)
{
	struct egress_target t;

	(void)state;
	vet_fails(&open_policy, "file:///etc/passwd", MOAT_EDENIED, "scheme 'file' is not allowed",
		  "only http:// and https://", NULL);
	vet_fails(&open_policy, "gopher://example.com:70/_x", MOAT_EDENIED, "scheme 'gopher'", NULL);
	vet_fails(&open_policy, "ftp://example.com/", MOAT_EDENIED, "scheme 'ftp'", NULL);
	vet_fails(&open_policy, "FTP://example.com/", MOAT_EDENIED, "scheme 'ftp'", NULL);
	vet_fails(&open_policy, "data:text/plain,hi", MOAT_EDENIED, "scheme 'data'", NULL);
	vet_fails(&open_policy, "javascript:alert(1)", MOAT_EDENIED, "scheme 'javascript'", NULL);
	vet_fails(&open_policy, "dict://example.com:11211/", MOAT_EDENIED, "scheme 'dict'", NULL);
	vet_fails(&open_policy, "ldap://example.com/", MOAT_EDENIED, "scheme 'ldap'", NULL);
	vet_fails(&open_policy, "httpx://example.com/", MOAT_EDENIED, "scheme 'httpx'", NULL);
	vet_fails(&open_policy, "verylongschemenamethatgoesonandon://x/", MOAT_EDENIED,
		  "is not allowed", NULL);
	vet_fails(&open_policy, "example.com/path", MOAT_EINVAL, "no scheme", NULL);
	vet_fails(&open_policy, "//example.com/", MOAT_EINVAL, "no scheme", NULL);
	vet_fails(&open_policy, " http://example.com/", MOAT_EINVAL, "no scheme", NULL);
	vet_fails(&open_policy, "", MOAT_EINVAL, "empty", NULL);
	vet_fails(&open_policy, NULL, MOAT_EINVAL, "no URL", NULL);

	answers("93.184.216.34", NULL);
	vet_ok(&open_policy, "HTTP://Example.COM", &t);
	assert_string_equal(t.scheme, "http");
	assert_string_equal(t.host, "example.com");
	assert_string_equal(t.url, "http://example.com/");
	assert_string_equal(fake_last_host, "example.com");
	egress_target_free(&t);
}

static void test_user_info(void **state)
{
	static const char *const urls[] = {
		"http://allowed@127.0.0.1/",  "http://a:b@example.com/", "http://@example.com/",
		"http://:@example.com/",      "http://user%40x@example.com/",
		"https://example.com\\@127.0.0.1/", "http://example.com;opt@x.example/",
	};

	(void)state;
	answers("93.184.216.34", NULL);
	for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
		struct egress_target t;
		struct moat_err err = {0};
		assert_int_equal(egress_vet_url(&open_policy, urls[i], &t, &err), MOAT_EDENIED);
		assert_string_equal(err.msg,
				    "refused: URLs with user info (user@host) are not allowed");
		egress_target_free(&t);
	}
	assert_int_equal(fake_calls, 0);
}

static void test_control_bytes(void **state)
{
	static const char *const urls[] = {
		"http://example.com/\r\nHost: evil",
		"http://example.com/a\nb",
		"http://exa\rmple.com/",
		"http://example.com/\tx",
		"\thttp://example.com/",
		"http://example.com/\x7f",
		"http://example.com/\x01",
		"http://example.com:80\n/",
		"http://example.com/?q=\x1b[31m",
	};

	(void)state;
	answers("93.184.216.34", NULL);
	for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++)
		vet_fails(&open_policy, urls[i], MOAT_EINVAL, "control character", NULL);
	/* Encoded control bytes in the host are refused by the parser or the
	 * host rule; in the path or query they stay encoded and harmless. */
	vet_fails(&open_policy, "http://exa%0d%0ample.com/", MOAT_EINVAL, NULL);
	vet_fails(&open_policy, "http://example.com%00.evil.com/", MOAT_EINVAL, NULL);
	vet_fails(&open_policy, "http://example.com%09/", MOAT_EINVAL, NULL);
	assert_int_equal(fake_calls, 0);

	struct egress_target t;
	vet_ok(&open_policy, "https://example.com/a%0d%0aB?x=%00", &t);
	assert_string_equal(t.url, "https://example.com/a%0d%0aB?x=%00");
	egress_target_free(&t);
}

static void test_malformed(void **state)
{
	(void)state;
	answers("93.184.216.34", NULL);
	vet_fails(&open_policy, "http://", MOAT_EINVAL, NULL);
	vet_fails(&open_policy, "http:", MOAT_EINVAL, NULL);
	vet_fails(&open_policy, "http://[::1/", MOAT_EINVAL, NULL);
	vet_fails(&open_policy, "http://[v1.x]/", MOAT_EINVAL, NULL);
	vet_fails(&open_policy, "http://[::1]x/", MOAT_EINVAL, NULL);
	vet_fails(&open_policy, "http://exa mple.com/", MOAT_EINVAL, NULL);
	vet_fails(&open_policy, "http://example.com/a b", MOAT_EINVAL, NULL);
	vet_fails(&open_policy, "http://.example.com/", MOAT_EINVAL, "empty label", NULL);
	vet_fails(&open_policy, "http://a..example.com/", MOAT_EINVAL, "empty label", NULL);
	vet_fails(&open_policy, "http://ex!ample.com/", MOAT_EINVAL, NULL);
	vet_fails(&open_policy, "http://b%C3%BCcher.de/", MOAT_EINVAL, "punycode", NULL);
	vet_fails(&open_policy, "http://example.com:99999/", MOAT_EINVAL, "port", NULL);
	vet_fails(&open_policy, "http://example.com:0/", MOAT_EINVAL, "port", NULL);
	vet_fails(&open_policy, "http://example.com:-1/", MOAT_EINVAL, NULL);

	char host[EGRESS_HOST_MAX + 40];
	memset(host, 'a', sizeof host);
	memcpy(host, "http://", 7);
	memcpy(host + sizeof host - 2, "/", 2);
	vet_fails(&open_policy, host, MOAT_EINVAL, NULL);

	size_t big = 9000;
	char *url = malloc(big + 1);
	assert_non_null(url);
	memset(url, 'a', big);
	memcpy(url, "http://example.com/", 19);
	url[big] = '\0';
	vet_fails(&open_policy, url, MOAT_ELIMIT, "longer than", NULL);
	free(url);
	assert_int_equal(fake_calls, 0);
}

/* ---- policy: http, ports, allowed nets ---------------------------------- */

static void test_http_policy(void **state)
{
	struct egress_target t;

	(void)state;
	answers("93.184.216.34", NULL);
	vet_fails(&https_policy, "http://example.com/", MOAT_EDENIED,
		  "refused: plain http is not allowed for this destination; use https", NULL);
	vet_fails(&https_policy, "HTTP://example.com:443/", MOAT_EDENIED, "plain http", NULL);
	vet_ok(&https_policy, "https://example.com/", &t);
	assert_string_equal(t.scheme, "https");
	assert_int_equal(t.port, 443);
	egress_target_free(&t);
	vet_ok(&open_policy, "http://example.com/", &t);
	assert_string_equal(t.scheme, "http");
	assert_int_equal(t.port, 80);
	egress_target_free(&t);
}

static void test_ports(void **state)
{
	static const uint16_t ports[] = {443, 8443};
	struct egress_policy p = {.ports = ports, .nports = 2};
	struct egress_target t;

	(void)state;
	answers("93.184.216.34", NULL);
	vet_ok(&p, "https://example.com/", &t);
	assert_int_equal(t.port, 443);
	egress_target_free(&t);
	vet_ok(&p, "https://example.com:8443/", &t);
	assert_int_equal(t.port, 8443);
	assert_string_equal(t.resolve, "example.com:8443:93.184.216.34");
	assert_string_equal(t.url, "https://example.com:8443/");
	egress_target_free(&t);
	vet_fails(&p, "https://example.com:8080/", MOAT_EDENIED, "port 8080 is not one of the ports",
		  NULL);
	vet_fails(&p, "https://example.com:22/", MOAT_EDENIED, "port 22", NULL);
	/* An explicit default port is the default port. */
	vet_ok(&p, "https://example.com:443/", &t);
	assert_int_equal(t.port, 443);
	egress_target_free(&t);
	/* No list: any port. */
	vet_ok(&open_policy, "https://example.com:1/", &t);
	assert_int_equal(t.port, 1);
	egress_target_free(&t);
	vet_ok(&open_policy, "https://example.com:65535/", &t);
	assert_int_equal(t.port, 65535);
	egress_target_free(&t);
}

static void test_allowed_nets(void **state)
{
	struct egress_net v4exact[] = {net("127.0.0.1")};
	struct egress_net v4cidr[] = {net("10.0.0.0/8"), net("127.0.0.0/8")};
	struct egress_net v6exact[] = {net("::1")};
	struct egress_net v6cidr[] = {net("fd00::/8")};
	struct egress_policy p1 = {.allow = v4exact, .nallow = 1, .allow_http = true};
	struct egress_policy p2 = {.allow = v4cidr, .nallow = 2, .allow_http = true};
	struct egress_policy p3 = {.allow = v6exact, .nallow = 1, .allow_http = true};
	struct egress_policy p4 = {.allow = v6cidr, .nallow = 1, .allow_http = true};
	struct egress_target t;

	(void)state;
	vet_ok(&p1, "http://127.0.0.1:8080/", &t);
	egress_target_free(&t);
	vet_ok(&p1, "http://2130706433:8080/", &t);
	assert_string_equal(t.url, "http://127.0.0.1:8080/");
	egress_target_free(&t);
	vet_fails(&p1, "http://127.0.0.2/", MOAT_EDENIED, "loopback", NULL);
	vet_fails(&p1, "http://[::1]/", MOAT_EDENIED, "loopback", NULL);
	vet_fails(&p1, "http://[::ffff:127.0.0.1]/", MOAT_EDENIED, "IPv4-mapped loopback", NULL);

	vet_ok(&p2, "http://10.20.30.40/", &t);
	egress_target_free(&t);
	vet_ok(&p2, "http://127.255.255.255/", &t);
	egress_target_free(&t);
	vet_fails(&p2, "http://192.168.1.1/", MOAT_EDENIED, "private", NULL);

	vet_ok(&p3, "http://[::1]:8080/", &t);
	assert_string_equal(t.url, "http://[::1]:8080/");
	egress_target_free(&t);
	vet_fails(&p3, "http://127.0.0.1/", MOAT_EDENIED, "loopback", NULL);

	vet_ok(&p4, "http://[fd12::5]/", &t);
	egress_target_free(&t);
	vet_fails(&p4, "http://[fc00::5]/", MOAT_EDENIED, "unique-local", NULL);

	/* A name that resolves into an allowed net. */
	answers("127.0.0.1", "::1", NULL);
	vet_fails(&p2, "http://localhost:8080/", MOAT_EDENIED, "localhost resolves to ::1", NULL);
	answers("127.0.0.1", NULL);
	vet_ok(&p2, "http://LocalHost:8080/", &t);
	assert_string_equal(t.resolve, "localhost:8080:127.0.0.1");
	assert_string_equal(t.url, "http://localhost:8080/");
	egress_target_free(&t);
}

/* ---- resolution --------------------------------------------------------- */

static void test_resolver_public_and_private(void **state)
{
	(void)state;
	answers("93.184.216.34", "10.0.0.1", NULL);
	vet_fails(&open_policy, "https://rebind.example/", MOAT_EDENIED,
		  "refused: rebind.example resolves to 10.0.0.1, a private address; moat connects "
		  "only to public addresses unless the config allows this one (allow_addresses)",
		  NULL);
	answers("10.0.0.1", "93.184.216.34", NULL);
	vet_fails(&open_policy, "https://rebind.example/", MOAT_EDENIED, "10.0.0.1, a private", NULL);
	answers("2606:2800:220:1::1", "::1", NULL);
	vet_fails(&open_policy, "https://rebind.example/", MOAT_EDENIED,
		  "resolves to ::1, a loopback address", NULL);
	answers("93.184.216.34", "::ffff:169.254.169.254", NULL);
	vet_fails(&open_policy, "https://rebind.example/", MOAT_EDENIED,
		  "resolves to ::ffff:169.254.169.254, an IPv4-mapped link-local address", NULL);
	answers("169.254.169.254", NULL);
	vet_fails(&open_policy, "https://metadata.google.internal/", MOAT_EDENIED,
		  "metadata.google.internal resolves to 169.254.169.254, a link-local address", NULL);
	answers("0.0.0.0", NULL);
	vet_fails(&open_policy, "https://zero.example/", MOAT_EDENIED, "an unspecified address",
		  NULL);
}

static void test_resolve_string(void **state)
{
	struct egress_target t;
	struct sockaddr_in6 *in6;

	(void)state;
	answers("93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "93.184.216.34",
		"93.184.216.35", NULL);
	vet_ok(&open_policy, "https://WWW.Example.com/Path?q=1", &t);
	assert_string_equal(t.host, "www.example.com");
	assert_false(t.host_is_ip);
	assert_string_equal(fake_last_host, "www.example.com");
	assert_int_equal(t.naddr, 3); /* the duplicate is dropped */
	assert_string_equal(t.resolve, "www.example.com:443:93.184.216.34,"
				       "[2606:2800:220:1:248:1893:25c8:1946],93.184.216.35");
	assert_string_equal(t.url, "https://www.example.com/Path?q=1");
	in6 = (struct sockaddr_in6 *)(void *)&t.addr[1];
	assert_int_equal(in6->sin6_family, AF_INET6);
	assert_int_equal(ntohs(in6->sin6_port), 443);
	egress_target_free(&t);

	/* One trailing dot names the same host: it is dropped everywhere (the
	 * host, the URL curl is given and the pin), so they still match. */
	answers("93.184.216.34", NULL);
	vet_ok(&open_policy, "http://Example.COM.:8080/", &t);
	assert_string_equal(t.host, "example.com");
	assert_string_equal(fake_last_host, "example.com");
	assert_string_equal(t.url, "http://example.com:8080/");
	assert_string_equal(t.resolve, "example.com:8080:93.184.216.34");
	egress_target_free(&t);

	/* Underscores and digits in names are fine. */
	vet_ok(&open_policy, "https://_dmarc.a-1.example/", &t);
	assert_string_equal(t.resolve, "_dmarc.a-1.example:443:93.184.216.34");
	egress_target_free(&t);
}

static void test_resolver_full(void **state)
{
	static const char *const many[] = {
		"1.0.0.1",  "1.0.0.2",  "1.0.0.3",  "1.0.0.4",  "1.0.0.5",  "1.0.0.6",
		"1.0.0.7",  "1.0.0.8",  "1.0.0.9",  "1.0.0.10", "1.0.0.11", "1.0.0.12",
		"1.0.0.13", "1.0.0.14", "1.0.0.15", "1.0.0.16",
	};
	struct egress_target t;

	(void)state;
	for (size_t i = 0; i < EGRESS_MAX_ADDRS; i++)
		fake_answers[i] = many[i];
	fake_answers[EGRESS_MAX_ADDRS] = NULL;
	vet_ok(&open_policy, "https://many.example/", &t);
	assert_int_equal(t.naddr, EGRESS_MAX_ADDRS);
	assert_non_null(strstr(t.resolve, ",1.0.0.16"));
	egress_target_free(&t);
}

static void test_resolver_failure(void **state)
{
	(void)state;
	answers(NULL);
	vet_fails(&open_policy, "https://nx.example/", MOAT_EUPSTREAM,
		  "cannot resolve nx.example: no such name (test)", NULL);
}

static void test_messages_hide_url_parts(void **state)
{
	static const char *const urls[] = {
		"https://alice:SECRET@example.com/?token=SECRET",
		"http://127.0.0.1/p?token=SECRET",
		"https://nx.example/SECRET?token=SECRET",
		"https://example.com:8080/?token=SECRET",
		"http://example.com/?token=SECRET",
		"ftp://example.com/?token=SECRET",
	};
	static const uint16_t ports[] = {443};
	struct egress_policy p = {.ports = ports, .nports = 1};

	(void)state;
	answers(NULL);
	for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
		struct egress_target t;
		struct moat_err err = {0};
		assert_int_not_equal(egress_vet_url(&p, urls[i], &t, &err), MOAT_OK);
		assert_null(strstr(err.msg, "SECRET"));
		assert_null(strstr(err.msg, "token"));
		assert_null(strstr(err.msg, "alice"));
		assert_true(egress_text_safe(err.msg, strlen(err.msg)));
		egress_target_free(&t);
	}
}

/* ---- helpers ------------------------------------------------------------ */

static void test_target_has(void **state)
{
	struct egress_target t;
	struct sockaddr_storage ss;

	(void)state;
	answers("93.184.216.34", "2606:2800:220:1::1", NULL);
	vet_ok(&open_policy, "https://example.com/", &t);
	fill_sa(&ss, "93.184.216.34"); /* port 0: not compared */
	assert_true(egress_target_has(&t, (const struct sockaddr *)&ss));
	fill_sa(&ss, "2606:2800:220:1::1");
	((struct sockaddr_in6 *)(void *)&ss)->sin6_port = htons(9);
	assert_true(egress_target_has(&t, (const struct sockaddr *)&ss));
	fill_sa(&ss, "93.184.216.35");
	assert_false(egress_target_has(&t, (const struct sockaddr *)&ss));
	fill_sa(&ss, "::ffff:93.184.216.34");
	assert_false(egress_target_has(&t, (const struct sockaddr *)&ss));
	fill_sa(&ss, "2606:2800:220:1::2");
	assert_false(egress_target_has(&t, (const struct sockaddr *)&ss));
	assert_false(egress_target_has(&t, NULL));
	assert_false(egress_target_has(NULL, (const struct sockaddr *)&ss));
	egress_target_free(&t);

	struct egress_target zero;
	memset(&zero, 0, sizeof zero);
	fill_sa(&ss, "0.0.0.0");
	assert_false(egress_target_has(&zero, (const struct sockaddr *)&ss));
	egress_target_free(&zero);
	egress_target_free(NULL);
}

static void test_text_safe(void **state)
{
	(void)state;
	assert_true(egress_text_safe("", 0));
	assert_true(egress_text_safe(NULL, 0));
	assert_false(egress_text_safe(NULL, 1));
	assert_true(egress_text_safe("Bearer abc-123 ~!", 17));
	assert_true(egress_text_safe("caf\xc3\xa9", 5)); /* UTF-8 is fine */
	assert_false(egress_text_safe("a\rb", 3));
	assert_false(egress_text_safe("a\nb", 3));
	assert_false(egress_text_safe("a\0b", 3));
	assert_false(egress_text_safe("a\tb", 3));
	assert_false(egress_text_safe("a\x7f", 2));
	assert_false(egress_text_safe("\x1f", 1));
	assert_true(egress_text_safe(" ", 1));
	assert_true(egress_text_safe("a\0b", 1)); /* only n bytes are looked at */
}

static void test_parse_net(void **state)
{
	struct egress_net n;
	struct moat_err err = {0};

	(void)state;
	n = net("127.0.0.1");
	assert_int_equal(n.family, AF_INET);
	assert_int_equal(n.prefix, 32);
	assert_memory_equal(n.addr, "\x7f\0\0\x01", 4);
	n = net("10.0.0.0/8");
	assert_int_equal(n.prefix, 8);
	n = net("0.0.0.0/0");
	assert_int_equal(n.prefix, 0);
	n = net("::1");
	assert_int_equal(n.family, AF_INET6);
	assert_int_equal(n.prefix, 128);
	assert_int_equal(n.addr[15], 1);
	n = net("fd00::/8");
	assert_int_equal(n.prefix, 8);
	assert_int_equal(n.addr[0], 0xfd);
	n = net("::ffff:127.0.0.1/128");
	assert_int_equal(n.family, AF_INET6);
	n = net("::/0");
	assert_int_equal(n.prefix, 0);
	assert_int_equal(egress_parse_net("192.168.1.0/24", &n, &err), MOAT_OK);
}

static void test_parse_net_errors(void **state)
{
	static const struct {
		const char *s;
		const char *msg;
	} bad[] = {
		{"", "not an IPv4 or IPv6"},
		{"/8", "not an IPv4 or IPv6"},
		{"example.com", "not a dotted-quad IPv4 or an IPv6"},
		{"127.1", "not a dotted-quad"},
		{"2130706433", "not a dotted-quad"},
		{"0x7f000001", "not a dotted-quad"},
		{"010.0.0.1", "not a dotted-quad"},
		{"256.0.0.1", "not a dotted-quad"},
		{"1.2.3.4 ", "not a dotted-quad"},
		{" 1.2.3.4", "not a dotted-quad"},
		{"fe80::1%eth0", "not a dotted-quad"},
		{"[::1]", "not a dotted-quad"},
		{"10.0.0.0/", "prefix length"},
		{"10.0.0.0/33", "from 0 to 32"},
		{"10.0.0.0/08", "prefix length"},
		{"10.0.0.0/-1", "prefix length"},
		{"10.0.0.0/+8", "prefix length"},
		{"10.0.0.0/8/9", "prefix length"},
		{"10.0.0.0/8 ", "prefix length"},
		{"10.0.0.0/1000", "prefix length"},
		{"::/129", "from 0 to 128"},
		{"10.0.0.1/8", "bits set after its /8 prefix"},
		{"fd00::1/8", "bits set after its /8 prefix"},
		{"127.0.0.1/0", "bits set"},
		{"10.0.0.0\n", "control character"},
	};
	struct egress_net n;

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct moat_err err = {0};
		if (egress_parse_net(bad[i].s, &n, &err) != MOAT_EINVAL)
			fail_msg("parse_net '%s' should fail", bad[i].s);
		if (!strstr(err.msg, bad[i].msg))
			fail_msg("parse_net '%s': message '%s' lacks '%s'", bad[i].s, err.msg,
				 bad[i].msg);
	}
	struct moat_err err = {0};
	assert_int_equal(egress_parse_net(NULL, &n, &err), MOAT_EINVAL);
}

/* ---- canonical hosts (hostname.h) ---------------------------------------- */

static void canon_is(const char *in, const char *want, enum hostname_kind kind)
{
	struct hostname h;
	struct moat_err err = {0};

	if (hostname_canon(in, strlen(in), &h, &err) != MOAT_OK)
		fail_msg("canon '%s' failed: %s", in, err.msg);
	if (strcmp(h.text, want) != 0 || h.kind != kind)
		fail_msg("canon '%s' = '%s' (kind %d), want '%s' (kind %d)", in, h.text, h.kind, want,
			 kind);
}

static void canon_fails(const char *in, size_t n, const char *rule)
{
	struct hostname h;
	struct moat_err err = {0};

	if (hostname_canon(in, n, &h, &err) == MOAT_OK)
		fail_msg("canon '%.*s' should fail, gave '%s'", (int)n, in, h.text);
	assert_non_null(err.rule);
	assert_string_equal(err.rule, rule);
	assert_string_equal(h.text, "");
	/* the message never shows a control byte or a non-ASCII one */
	for (const char *c = err.msg; *c; c++)
		assert_true((unsigned char)*c >= 0x20 && (unsigned char)*c < 0x7F);
}

static void test_host_canon(void **state)
{
	(void)state;
	canon_is("localhost", "localhost", HOSTNAME_NAME);
	canon_is("LOCALHOST", "localhost", HOSTNAME_NAME);
	canon_is("localhost.", "localhost", HOSTNAME_NAME);
	canon_is("LocalHost.", "localhost", HOSTNAME_NAME);
	canon_is("XN--BCHER-KVA.Example.", "xn--bcher-kva.example", HOSTNAME_NAME);
	canon_is("_dmarc.a-1.example", "_dmarc.a-1.example", HOSTNAME_NAME);
	canon_is("127.0.0.1", "127.0.0.1", HOSTNAME_IPV4);
	canon_is("127.0.0.1.", "127.0.0.1", HOSTNAME_IPV4);
	canon_is("2130706433", "127.0.0.1", HOSTNAME_IPV4);
	canon_is("0x7f000001", "127.0.0.1", HOSTNAME_IPV4);
	canon_is("0X7F000001.", "127.0.0.1", HOSTNAME_IPV4);
	canon_is("0x7f.1", "127.0.0.1", HOSTNAME_IPV4);
	canon_is("127.1", "127.0.0.1", HOSTNAME_IPV4);
	canon_is("0177.0.0.1", "127.0.0.1", HOSTNAME_IPV4);
	canon_is("[::1]", "::1", HOSTNAME_IPV6);
	canon_is("::1", "::1", HOSTNAME_IPV6);
	canon_is("[0:0:0:0:0:0:0:1]", "::1", HOSTNAME_IPV6);
	canon_is("[::FFFF:127.0.0.1]", "::ffff:127.0.0.1", HOSTNAME_IPV6);
	canon_is("[::ffff:7f00:1]", "::ffff:127.0.0.1", HOSTNAME_IPV6);

	canon_fails("localhost..", 11, "egress.bad_host");
	canon_fails(".localhost", 10, "egress.bad_host");
	canon_fails("a..b", 4, "egress.bad_host");
	canon_fails(".", 1, "egress.bad_host");
	canon_fails("", 0, "egress.bad_host");
	canon_fails("1.2.3.4.5", 9, "egress.bad_host");
	canon_fails("example.0x1f", 12, "egress.bad_host");
	canon_is("0x1g", "0x1g", HOSTNAME_NAME); /* not a number: a name */
	canon_fails("example.123", 11, "egress.bad_host");
	canon_fails("b\xC3\xBC" "cher.example", 13, "egress.bad_host");    /* bücher */
	canon_fails("B\xC3\x9C" "CHER.EXAMPLE", 13, "egress.bad_host");    /* BÜCHER */
	canon_fails("xn--bcher-kva\xE3\x80\x82" "example", 20, "egress.bad_host"); /* ideographic dot */
	canon_fails("local%68ost", 11, "egress.bad_host");
	canon_fails("user@localhost", 14, "egress.bad_host");
	canon_fails("local host", 10, "egress.bad_host");
	canon_fails("localhost\0.evil", 15, "egress.bad_host");
	canon_fails("localhost\r\n", 11, "egress.bad_host");
	canon_fails("[::1", 4, "egress.bad_host");
	canon_fails("[fe80::1%25eth0]", 16, "egress.zone_id");
	canon_fails("fe80::1%eth0", 12, "egress.zone_id");
	canon_fails("[:::]", 5, "egress.bad_host");

	char longlabel[80];
	memset(longlabel, 'a', 64);
	memcpy(longlabel + 64, ".example", 9);
	canon_fails(longlabel, strlen(longlabel), "egress.bad_host");
	char longname[300];
	memset(longname, 'a', sizeof longname);
	for (size_t i = 60; i < 255; i += 61)
		longname[i] = '.';
	canon_fails(longname, 255, "egress.bad_host");
	canon_fails(longname, sizeof longname, "egress.bad_host");
}

static void test_host_patterns(void **state)
{
	struct hostname_pattern p;
	struct moat_err err = {0};

	(void)state;
	assert_int_equal(hostname_pattern_parse("LocalHost.", &p, &err), MOAT_OK);
	assert_false(p.wildcard);
	assert_true(hostname_pattern_match(&p, "localhost"));
	assert_false(hostname_pattern_match(&p, "localhost.evil"));

	assert_int_equal(hostname_pattern_parse("*.Example.COM.", &p, &err), MOAT_OK);
	assert_true(p.wildcard);
	assert_true(hostname_pattern_match(&p, "a.example.com"));
	assert_true(hostname_pattern_match(&p, "a.b.example.com"));
	assert_false(hostname_pattern_match(&p, "example.com"));
	assert_false(hostname_pattern_match(&p, "badexample.com"));
	assert_false(hostname_pattern_match(&p, ".example.com"));

	assert_int_equal(hostname_pattern_parse("0x7f000001", &p, &err), MOAT_OK);
	assert_true(hostname_pattern_match(&p, "127.0.0.1"));
	assert_int_equal(hostname_pattern_parse("[::1]", &p, &err), MOAT_OK);
	assert_true(hostname_pattern_match(&p, "::1"));

	assert_int_equal(hostname_pattern_parse("*.127.0.0.1", &p, &err), MOAT_EINVAL);
	assert_int_equal(hostname_pattern_parse("*.", &p, &err), MOAT_EINVAL);
	assert_int_equal(hostname_pattern_parse("localhost..", &p, &err), MOAT_EINVAL);
	assert_int_equal(hostname_pattern_parse(NULL, &p, &err), MOAT_EINVAL);
}

/* Every spelling of one host vets to the one canonical host, which is what
 * deny_hosts, allow_hosts and an API's own host are compared with. */
static void test_host_spellings_vet_alike(void **state)
{
	static const char *const spellings[] = {
		"http://localhost:8080/",   "http://LOCALHOST:8080/",   "http://localhost.:8080/",
		"http://LocalHost.:8080/",  "http://lOcAlHoSt:8080/x?q", "HTTP://LOCALHOST.:8080",
	};
	static const struct egress_net lo = {.family = AF_INET, .addr = {127, 0, 0, 1},
					     .prefix = 32};
	const struct egress_policy p = {.allow = &lo, .nallow = 1, .allow_http = true};
	struct egress_target t;

	(void)state;
	answers("127.0.0.1", NULL);
	for (size_t i = 0; i < sizeof spellings / sizeof spellings[0]; i++) {
		vet_ok(&p, spellings[i], &t);
		if (strcmp(t.host, "localhost") != 0)
			fail_msg("%s vetted as host '%s'", spellings[i], t.host);
		assert_int_equal(t.port, 8080);
		assert_string_equal(t.resolve, "localhost:8080:127.0.0.1");
		egress_target_free(&t);
	}
	vet_fails(&p, "http://localhost..:8080/", MOAT_EINVAL, "empty label", NULL);
	static const char *const loopbacks[] = {
		"http://127.0.0.1.:8080/", "http://2130706433:8080/", "http://0x7f000001:8080/",
		"http://0x7f.1:8080/",     "http://127.1:8080/",      "http://0177.0.0.1.:8080/",
	};
	for (size_t i = 0; i < sizeof loopbacks / sizeof loopbacks[0]; i++) {
		vet_ok(&p, loopbacks[i], &t);
		assert_string_equal(t.host, "127.0.0.1");
		egress_target_free(&t);
	}
}

/* Refusals carry the stable rule id the audit trail records. */
static void test_rule_ids(void **state)
{
	static const struct {
		const char *url;
		const char *rule;
	} cases[] = {
		{"ftp://example.com/", "egress.scheme"},
		{"file:///etc/passwd", "egress.scheme"},
		{"example.com", "egress.scheme"},
		{"http://example.com/", "egress.plain_http"},
		{"https://u:p@example.com/", "egress.userinfo"},
		{"https://localhost@example.com/", "egress.userinfo"},
		{"https://[fe80::1%25eth0]/", "egress.zone_id"},
		{"https://127.0.0.1/", "egress.private_address"},
		{"https://localhost./", "egress.private_address"},
		{"https://0x7f000001/", "egress.private_address"},
		{"https://[::1]/", "egress.private_address"},
		{"https://localhost../", "egress.bad_host"},
		{"https://1.2.3.4.5/", "egress.bad_host"},
		{"https://example.com:0/", "egress.port"},
		{"https://exa\tmple.com/", "egress.control_char"},
	};

	(void)state;
	answers("127.0.0.1", NULL);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct egress_target t;
		struct moat_err err = {0};
		if (egress_vet_url(&https_policy, cases[i].url, &t, &err) == MOAT_OK)
			fail_msg("%s was not refused", cases[i].url);
		if (!err.rule || strcmp(err.rule, cases[i].rule) != 0)
			fail_msg("%s: rule %s, want %s (%s)", cases[i].url, err.rule ? err.rule : "(none)",
				 cases[i].rule, err.msg);
		egress_target_free(&t);
	}
	/* A refused host is still known, for the audit trail. */
	struct egress_target t;
	struct moat_err err = {0};
	assert_int_not_equal(egress_vet_url(&https_policy, "https://LocalHost./x?k=v", &t, &err),
			     MOAT_OK);
	assert_string_equal(t.host, "localhost");
	assert_null(strstr(err.msg, "k=v"));
	egress_target_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_v4_classes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_v6_classes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_addr_class_other_family, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sockaddr_allowed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipv4_spellings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipv4_special_hosts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipv4_public_literal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ends_in_number, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipv6_literals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipv6_public_literal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_schemes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_user_info, setup, teardown),
		cmocka_unit_test_setup_teardown(test_control_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_http_policy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ports, setup, teardown),
		cmocka_unit_test_setup_teardown(test_allowed_nets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resolver_public_and_private, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resolve_string, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resolver_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resolver_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_messages_hide_url_parts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_target_has, setup, teardown),
		cmocka_unit_test_setup_teardown(test_text_safe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parse_net, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parse_net_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_canon, setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_patterns, setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_spellings_vet_alike, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rule_ids, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
