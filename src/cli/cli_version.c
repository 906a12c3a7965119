/*
 * cli_version.c - `moat version`: what this moat is and what it can load.
 *
 * Prints the version (meson.build holds the one number), the git commit it
 * was built from (scripts/commit.sh through vcs_tag), and one line per tool
 * family whose code is present, with where that code lives and the
 * libraries it uses at their run-time versions. A family built as a module
 * (http, git; PostgreSQL for sql; authentication for HTTP) is loaded here
 * exactly as `moat serve` would load it, so a copied binary whose modules
 * stayed behind lists only what it can run, and says on stderr which
 * family is missing and which directories were searched. The exit status
 * is 0 either way: the report is the point.
 */
#include <hiredis/hiredis.h>
#include <jansson.h>
#include <microhttpd.h>
#include <nettle/version.h>
#include <seccomp.h>
#include <stdio.h>
#include <gnutls/gnutls.h>
#include <yaml.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "cli.h"
#include "moat_build.h"
#include "moat_commit.h"
#include "providers.h"

int cmd_version(int argc, char **argv)
{
	const struct scmp_version *sv = seccomp_version();
	char pcre[32] = "?", auth[1024];
	struct moat_err err = {0};

	(void)argc;
	(void)argv;
	pcre2_config(PCRE2_CONFIG_VERSION, pcre);
	printf("moat %s\ncommit %s\nfamilies:\n", MOAT_VERSION, MOAT_COMMIT);
	providers_versions(stdout, stderr);
	if (!modules_versions("moat_auth.so", "auth_module_versions", auth, sizeof(auth), &err)) {
		fprintf(stderr, "moat: HTTP authentication is not available: %s\n", err.msg);
		snprintf(auth, sizeof(auth), "not available");
	}
	printf("transports:\n  stdio    built in\n  http     built in (libmicrohttpd %s, GnuTLS %s)\n"
	       "  auth     %s\n",
	       MHD_get_version(), gnutls_check_version(NULL), auth);
	printf("core: jansson %s, PCRE2 %s, libyaml %s, Nettle %d.%d, libseccomp %u.%u.%u, "
	       "hiredis %d.%d.%d\n",
	       jansson_version_str(), pcre, yaml_get_version_string(), nettle_version_major(),
	       nettle_version_minor(), sv ? sv->major : 0, sv ? sv->minor : 0, sv ? sv->micro : 0,
	       HIREDIS_MAJOR, HIREDIS_MINOR, HIREDIS_PATCH);
	return EXIT_OK;
}
