/*
 * testing_conf_resources.c - the test:// resources of the official MCP
 * conformance suite (test build only, {"testing": {"conformance": true}}),
 * as the reference fixture serves them: test://static-text,
 * test://static-binary (a PNG), test://watched-resource, the template
 * test://template/{id}/data, and the resources the content tools embed
 * (test://embedded-resource, test://mixed-content-resource).
 *
 * test://watched-resource can be subscribed to: its watch counts the
 * watchers, and a thread started with the family reports a change of it
 * (HUB_RESOURCE_UPDATED) every CONF_WATCH_PERIOD_MS while anyone watches,
 * as the reference's "auto-updates every 3 seconds" resource would. The
 * thread is made by the first watch (never at start-up: the sandbox is
 * applied while the process has one thread) and sleeps while nobody
 * watches.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "hub.h"
#include "testing.h"

#define CONF_WATCHED "test://watched-resource"
#define CONF_TEMPLATE "test://template/{id}/data"
#define CONF_TEMPLATE_PREFIX "test://template/"
#define CONF_TEMPLATE_SUFFIX "/data"
#define CONF_WATCH_PERIOD_MS 3000

/* The watcher thread and what it reads. */
static struct {
	struct registry *reg;
	pthread_t thread;
	bool started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
	unsigned watchers;
} conf_watch = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

/* A fixed resource: listed (when name is set) and readable. */
struct conf_res {
	const char *uri, *name, *title, *description, *mime, *text, *blob;
};

static const struct conf_res conf_res[] = {
	{"test://static-text", "static-text", "Static Text Resource",
	 "A static text resource for testing", "text/plain",
	 "This is the content of the static text resource.", NULL},
	{"test://static-binary", "static-binary", "Static Binary Resource",
	 "A static binary resource (image) for testing", "image/png", NULL, testing_png_b64},
	{CONF_WATCHED, "watched-resource", "Watched Resource",
	 "A resource that auto-updates every 3 seconds", "text/plain", "Watched resource content",
	 NULL},
	{"test://embedded-resource", NULL, NULL, NULL, "text/plain",
	 "This is an embedded resource content.", NULL},
	{"test://mixed-content-resource", NULL, NULL, NULL, "application/json",
	 "{\"test\":\"data\",\"value\":123}", NULL},
};

#define CONF_NRES (sizeof(conf_res) / sizeof(conf_res[0]))

static enum moat_rc res_list(void *data, struct call_ctx *ctx, const char *cursor,
			     size_t page_size, json_t **out, struct moat_err *err)
{
	json_t *arr;

	if (cursor)
		return moat_err_set(err, MOAT_EINVAL, "invalid params: unknown or stale cursor");
	arr = json_array();
	for (size_t i = 0; arr && i < CONF_NRES; i++) {
		const struct conf_res *r = &conf_res[i];
		if (r->name)
			json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s, s:s}", "uri",
							     r->uri, "name", r->name, "title",
							     r->title, "description",
							     r->description, "mimeType", r->mime));
	}
	*out = arr ? json_pack("{s:o}", "resources", arr) : NULL;
	return *out ? MOAT_OK : moat_err_set(err, MOAT_ENOMEM, "out of memory");
}

/* conf_template_id - the {id} of a test://template/{id}/data URI into id
 * (1 to 64 of [A-Za-z0-9_.-]); false when uri is no such URI. */
static bool conf_template_id(const char *uri, char *id, size_t idsz)
{
	size_t pl = strlen(CONF_TEMPLATE_PREFIX), sl = strlen(CONF_TEMPLATE_SUFFIX), n;

	if (strncmp(uri, CONF_TEMPLATE_PREFIX, pl) != 0)
		return false;
	n = strlen(uri + pl);
	if (n <= sl || strcmp(uri + pl + n - sl, CONF_TEMPLATE_SUFFIX) != 0)
		return false;
	n -= sl;
	if (n >= idsz || n > 64 || strspn(uri + pl,
					  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
					  "0123456789_.-") < n)
		return false;
	memcpy(id, uri + pl, n);
	id[n] = '\0';
	return true;
}

static enum moat_rc res_read(void *data, struct call_ctx *ctx, const char *uri, json_t **out,
			     struct moat_err *err)
{
	char id[65], text[192];

	for (size_t i = 0; i < CONF_NRES; i++) {
		const struct conf_res *r = &conf_res[i];
		if (strcmp(uri, r->uri) != 0)
			continue;
		*out = json_pack("{s:[{s:s, s:s, s:s}]}", "contents", "uri", r->uri, "mimeType",
				 r->mime, r->text ? "text" : "blob", r->text ? r->text : r->blob);
		return *out ? MOAT_OK : moat_err_set(err, MOAT_ENOMEM, "out of memory");
	}
	if (conf_template_id(uri, id, sizeof(id))) {
		int n = snprintf(text, sizeof(text),
				 "{\"id\":\"%s\",\"templateTest\":true,\"data\":\"Data for ID: %s\"}",
				 id, id);
		if (n < 0 || (size_t)n >= sizeof(text))
			return moat_err_set(err, MOAT_EINTERNAL, "template text cut");
		*out = json_pack("{s:[{s:s, s:s, s:s}]}", "contents", "uri", uri, "mimeType",
				 "application/json", "text", text);
		return *out ? MOAT_OK : moat_err_set(err, MOAT_ENOMEM, "out of memory");
	}
	return moat_err_set(err, MOAT_ENOTFOUND, "resource not found: no test resource has that URI");
}

static json_t *res_templates(void *data)
{
	return json_pack("[{s:s, s:s, s:s, s:s, s:s}]", "uriTemplate", CONF_TEMPLATE, "name",
			 "template", "title", "Resource Template", "description",
			 "A resource template with parameter substitution", "mimeType",
			 "application/json");
}

static enum moat_rc res_complete(void *data, const char *uri_template, const char *var,
				 const char *prefix, const json_t *context, json_t *values,
				 size_t max, struct moat_err *err)
{
	static const char *const ids[] = {"123", "124", "456"};

	if (strcmp(uri_template, CONF_TEMPLATE) != 0 || strcmp(var, "id") != 0)
		return MOAT_OK;
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]) && json_array_size(values) < max; i++)
		if (strncmp(ids[i], prefix, strlen(prefix)) == 0)
			json_array_append_new(values, json_string(ids[i]));
	return MOAT_OK;
}

static void *conf_watch_main(void *arg);

static enum moat_rc res_watch(void *data, const char *uri, bool on, struct moat_err *err)
{
	if (strcmp(uri, CONF_WATCHED) != 0)
		return moat_err_rule(err, MOAT_ENOTFOUND, "resources.not_subscribable",
				     "only test://watched-resource changes");
	pthread_mutex_lock(&conf_watch.mu);
	if (on && !conf_watch.started) {
		if (pthread_create(&conf_watch.thread, NULL, conf_watch_main, NULL) != 0) {
			pthread_mutex_unlock(&conf_watch.mu);
			return moat_err_set(err, MOAT_EIO, "testing: cannot start the watch thread");
		}
		conf_watch.started = true;
	}
	if (on)
		conf_watch.watchers++;
	else if (conf_watch.watchers)
		conf_watch.watchers--;
	pthread_cond_signal(&conf_watch.cv);
	pthread_mutex_unlock(&conf_watch.mu);
	return MOAT_OK;
}

/* conf_watch_main - while anyone watches, publish a change of the watched
 * resource every period; sleep on the condition variable otherwise. */
static void *conf_watch_main(void *arg)
{
	struct timespec until;

	(void)arg;
	pthread_mutex_lock(&conf_watch.mu);
	while (!conf_watch.stop) {
		if (!conf_watch.watchers) {
			pthread_cond_wait(&conf_watch.cv, &conf_watch.mu);
			continue;
		}
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += CONF_WATCH_PERIOD_MS / 1000;
		if (pthread_cond_timedwait(&conf_watch.cv, &conf_watch.mu, &until) == 0 ||
		    conf_watch.stop || !conf_watch.watchers)
			continue;
		pthread_mutex_unlock(&conf_watch.mu);
		hub_publish(registry_hub(conf_watch.reg), HUB_RESOURCE_UPDATED, CONF_WATCHED);
		pthread_mutex_lock(&conf_watch.mu);
	}
	pthread_mutex_unlock(&conf_watch.mu);
	return NULL;
}

enum moat_rc testing_conf_resources_init(struct registry *reg, struct moat_err *err)
{
	struct resource_ops ops = {
		.scheme = "test",
		.read_tool = "test_simple_text",
		.list = res_list,
		.read = res_read,
		.templates = res_templates,
		.complete = res_complete,
		.watch = res_watch,
	};
	enum moat_rc rc = registry_add_resources(reg, &ops, err);

	if (rc)
		return rc;
	conf_watch.reg = reg;
	return MOAT_OK;
}

void testing_conf_resources_fini(void)
{
	pthread_mutex_lock(&conf_watch.mu);
	if (!conf_watch.started) {
		pthread_mutex_unlock(&conf_watch.mu);
		return;
	}
	conf_watch.stop = true;
	pthread_cond_signal(&conf_watch.cv);
	pthread_mutex_unlock(&conf_watch.mu);
	pthread_join(conf_watch.thread, NULL);
	conf_watch.started = false;
}
