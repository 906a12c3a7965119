/*
 * server_rig.c - the transport-less server of the unit tests (server_rig.h).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "jsonrpc.h"
#include "server_rig.h"

static void capture(void *ctx, void *route, const char *buf, size_t len, bool final)
{
	struct rig *r = ctx;

	pthread_mutex_lock(&r->lock);
	assert_true(r->n < RIG_MAX_SENT);
	r->log[r->n].route = route;
	r->log[r->n].final = final;
	r->log[r->n].msg = len ? json_loadb(buf, len, JSON_DECODE_ANY, NULL) : NULL;
	if (len)
		assert_non_null(r->log[r->n].msg);
	r->n++;
	pthread_mutex_unlock(&r->lock);
}

static enum moat_rc say_hi(struct call_ctx *ctx, void *data, json_t *args,
			   struct tool_result *out, struct moat_err *err)
{
	callctx_progress(ctx, 1, 2, "half way");
	return tool_result_text(out, "hi");
}

static void add(struct registry *reg, const char *name)
{
	struct moat_err err = {0};
	json_t *in = json_pack("{s:s}", "type", "object");
	struct tool_spec spec = {.name = name, .description = "t", .input_schema = in,
				 .annotations = {.read_only = HINT_TRUE}, .inline_ok = true,
				 .handler = say_hi};

	assert_int_equal(registry_add(reg, &spec, &err), MOAT_OK);
	json_decref(in);
}

struct rig *rig_new(void)
{
	struct rig *r = calloc(1, sizeof(*r));
	struct server_opts o = {.name = "moat", .version = "1", .no_log_forward = true,
				.no_client_roots = true};

	limits_defaults(&o.limits);
	pthread_mutex_init(&r->lock, NULL);
	r->reg = registry_new(0);
	add(r->reg, "read_thing");
	add(r->reg, "git_thing");
	add(r->reg, "write_thing");
	r->srv = server_new(&o, r->reg, capture, r);
	assert_non_null(r->srv);
	return r;
}

void rig_free(struct rig *r)
{
	assert_true(server_shutdown(r->srv, 0, 2000));
	server_free(r->srv);
	registry_free(r->reg);
	for (size_t i = 0; i < r->n; i++)
		json_decref(r->log[i].msg);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

void rig_send(struct rig *r, const struct principal *who, void *route, const char *text,
	      const struct req_headers *hdr)
{
	struct server_origin o = {.who = who, .route = route, .hdr = hdr};

	server_handle_from(r->srv, text, strlen(text), &o);
}

size_t rig_on_route(struct rig *r, void *route, struct sent *out, size_t max)
{
	size_t k = 0;

	for (size_t i = 0; i < r->n && k < max; i++)
		if (r->log[i].route == route)
			out[k++] = r->log[i];
	return k;
}

void rig_init(struct rig *r, const char *version)
{
	char line[256];
	struct sent got[4];

	snprintf(line, sizeof(line),
		 "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{"
		 "\"protocolVersion\":\"%s\",\"capabilities\":{},\"clientInfo\":{\"name\":\"t\","
		 "\"version\":\"1\"}}}",
		 version);
	rig_send(r, NULL, (void *)0x1, line, NULL);
	assert_int_equal(rig_on_route(r, (void *)0x1, got, 4), 1);
	assert_true(got[0].final);
	assert_non_null(json_object_get(got[0].msg, "result"));
}

