/*
 * http.c - the http family: start-up of what its tools share (libcurl,
 * libxml2, libmagic, the CA bundle in memory, what name resolution needs
 * under the sandbox) and registration of fetch and the declared API tools
 * from the config's "http" section.
 */
#include "http.h"

#include <fcntl.h>
#include <libxml/parser.h>
#include <curl/curl.h>
#include <magic.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "moat_build.h"
#include "providers.h"

/* Where Debian keeps the system's CA bundle. */
#define CA_BUNDLE "/etc/ssl/certs/ca-certificates.crt"
#define CA_MAX ((size_t)16 << 20)

static struct http_family family;
static bool xml_started;
static bool curl_started;

void http_sniff_mime(const struct http_family *fam, const char *buf, size_t len, char *out,
		     size_t n)
{
	const char *m = NULL;

	pthread_mutex_lock(fam->magic_lock);
	if (fam->magic)
		m = magic_buffer(fam->magic, buf, len);
	snprintf(out, n, "%s", m ? m : "application/octet-stream");
	pthread_mutex_unlock(fam->magic_lock);
}

enum moat_rc http_policy_nets(const json_t *arr, struct egress_net **nets, size_t *n,
			      struct moat_err *err)
{
	size_t i;
	json_t *v;

	*nets = NULL;
	*n = 0;
	if (!arr || json_array_size(arr) == 0)
		return MOAT_OK;
	*nets = calloc(json_array_size(arr), sizeof(**nets));
	if (!*nets)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	json_array_foreach(arr, i, v) {
		enum moat_rc rc = egress_parse_net(json_string_value(v), &(*nets)[i], err);
		if (rc) {
			free(*nets);
			*nets = NULL;
			return rc;
		}
	}
	*n = json_array_size(arr);
	return MOAT_OK;
}

static void http_fini(void);

static enum moat_rc http_init(struct registry *reg, const json_t *section,
			      const struct moat_config *cfg, struct moat_err *err)
{
	enum moat_rc rc;
	pthread_mutex_t *lock;

	memset(&family, 0, sizeof(family));
	family.cfg = cfg;
	if ((rc = http_client_init(err)))
		return rc;
	curl_started = true;
	xmlInitParser();
	xml_started = true;
	lock = malloc(sizeof(*lock));
	family.user_agent = strdup("moat/" MOAT_VERSION " (+https://github.com/moat-mcp/moat)");
	if (!lock || !family.user_agent) {
		free(lock);
		rc = moat_err_set(err, MOAT_ENOMEM, "out of memory");
		goto fail;
	}
	pthread_mutex_init(lock, NULL);
	family.magic_lock = lock;
	family.magic = magic_open(MAGIC_MIME_TYPE | MAGIC_NO_CHECK_COMPRESS | MAGIC_ERROR);
	if (!family.magic || magic_load(family.magic, NULL) != 0)
		log_warn("http: libmagic could not load its database; binary responses will be "
			 "typed application/octet-stream");
	/* The sandbox leaves no way to read the bundle later. */
	if (http_read_file(CA_BUNDLE, CA_MAX, &family.ca_default, &family.ca_default_len, err))
		log_warn("http: no CA bundle at " CA_BUNDLE "; https needs ca_file");
	if ((rc = registry_grant_resolver(reg, err)) ||
	    (rc = fetch_register(reg, &family, json_object_get(section, "fetch"), err)) ||
	    (rc = api_register(reg, &family, json_object_get(section, "apis"), err)))
		goto fail;
	return MOAT_OK;
fail:
	http_fini();
	return rc;
}

static void http_fini(void)
{
	api_fini();
	fetch_fini();
	if (family.magic)
		magic_close(family.magic);
	if (family.magic_lock) {
		pthread_mutex_destroy(family.magic_lock);
		free(family.magic_lock);
	}
	free(family.ca_default);
	free(family.user_agent);
	memset(&family, 0, sizeof(family));
	if (xml_started)
		xmlCleanupParser();
	xml_started = false;
	if (curl_started)
		http_client_fini();
	curl_started = false;
}

/* moat check: where the family's tools may connect. */
static void http_describe(FILE *f)
{
	fprintf(f, "http (every request vetted: public addresses only unless allowed; "
		   "redirects re-vetted; TLS verified):\n");
	fetch_describe(f);
	api_describe(f);
}

/* The module's libraries and their versions, for `moat version`
 * (modules.c asks for this symbol by name). Static storage. */
const char *http_module_versions(void);
const char *http_module_versions(void)
{
	static char buf[160];
	const curl_version_info_data *cv = curl_version_info(CURLVERSION_NOW);
	int mv = magic_version();

	snprintf(buf, sizeof(buf), "libcurl %s with %s, libxml2 %s, libmagic %d.%02d",
		 cv && cv->version ? cv->version : "?", cv && cv->ssl_version ? cv->ssl_version : "no TLS",
		 LIBXML_DOTTED_VERSION, mv / 100, mv % 100);
	return buf;
}

const struct provider http_provider = {
	.name = "http",
	.config_key = "http",
	.init = http_init,
	.fini = http_fini,
	.describe = http_describe,
};
