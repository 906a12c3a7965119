/*
 * test_server_limits.c - tools/call takes its buckets through limits_take
 * (store.h): one take for the principal's, the global and the tool's
 * bucket, named "principal:NAME", "global" and "tool:NAME" in the store;
 * the refusal of each keeps its message; a store that does not answer
 * refuses a call that may write under "auto" and every call under
 * "refuse", with a message naming cluster.on_store_failure.
 *
 * The store is a small double of struct store_ops (test_store.c has the
 * fuller one): named buckets, a switch to make it answer STORE_DOWN.
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

#include "principal.h"
#include "registry.h"
#include "server.h"
#include "server_rig.h"
#include "store.h"

static struct {
	bool down;
	unsigned takes;
	char keys[8][112]; /* of the last take */
	size_t n;
	char empty[112];   /* the bucket that has no token ("": none) */
} d;

static enum store_rc dbl_take(void *ctx, const struct store_bucket *b, size_t n, size_t *which,
			      uint64_t *wait_ms)
{
	(void)ctx;
	d.takes++;
	d.n = n;
	for (size_t i = 0; i < n && i < 8; i++)
		snprintf(d.keys[i], sizeof(d.keys[i]), "%s", b[i].key);
	if (d.down)
		return STORE_DOWN;
	for (size_t i = 0; i < n; i++)
		if (strcmp(b[i].key, d.empty) == 0) {
			*which = i;
			*wait_ms = 500;
			return STORE_EMPTY;
		}
	return STORE_OK;
}

static const struct store_ops dbl_ops = {.take = dbl_take};

/* Call tool name as who; the text of the result, and whether it is an
 * error, into text (size n) and *is_error. */
static void call(struct rig *r, const struct principal *who, const char *name, char *text,
		 size_t n, bool *is_error)
{
	static uintptr_t route = 0x100;
	struct sent got[4];
	char msg[256];
	json_t *res;
	size_t k;

	snprintf(msg, sizeof(msg),
		 "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":"
		 "\"%s\"}}",
		 name);
	route++;
	rig_send(r, who, (void *)route, msg, NULL);
	k = rig_on_route(r, (void *)route, got, 4);
	assert_true(k >= 1);
	res = json_object_get(got[k - 1].msg, "result");
	assert_non_null(res);
	*is_error = json_is_true(json_object_get(res, "isError"));
	snprintf(text, n, "%s",
		 json_string_value(json_object_get(json_array_get(json_object_get(res, "content"),
								  0),
						   "text")));
}

static void test_one_take_keys_and_messages(void **state)
{
	struct rig *r = rig_new();
	struct token_bucket b;
	struct principal alice = {.name = "alice", .bucket = &b};
	char text[512];
	bool err;

	(void)state;
	bucket_init(&b, 100);
	bucket_set_key(&b, "principal:%s", alice.name);
	/* The registry names each tool's bucket; the rig's are unlimited
	 * (never sent to the store): give them a limit, as
	 * limits.tool_calls_per_minute would. */
	for (size_t i = 0; i < 2; i++) {
		struct tool *t = registry_find(r->reg, i ? "git_thing" : "read_thing");
		char key[112];
		assert_non_null(t);
		snprintf(key, sizeof(key), "tool:%s", t->name);
		assert_string_equal(t->bucket.key, key);
		bucket_destroy(&t->bucket);
		bucket_init(&t->bucket, 600);
		bucket_set_key(&t->bucket, "%s", key);
	}
	rig_init(r, "2025-11-25");
	memset(&d, 0, sizeof(d));
	store_install(&dbl_ops, NULL, STORE_FALLBACK_AUTO);

	call(r, &alice, "read_thing", text, sizeof(text), &err);
	assert_false(err);
	assert_string_equal(text, "hi");
	assert_int_equal(d.takes, 1);
	assert_int_equal(d.n, 3);
	assert_string_equal(d.keys[0], "principal:alice");
	assert_string_equal(d.keys[1], "global");
	assert_string_equal(d.keys[2], "tool:read_thing");

	/* Each bucket's refusal says what it always said. */
	snprintf(d.empty, sizeof(d.empty), "principal:alice");
	call(r, &alice, "read_thing", text, sizeof(text), &err);
	assert_true(err);
	assert_string_equal(text,
			    "rate limit: this principal's calls_per_minute is reached; retry later");
	snprintf(d.empty, sizeof(d.empty), "global");
	call(r, &alice, "read_thing", text, sizeof(text), &err);
	assert_true(err);
	assert_string_equal(text, "rate limit: limits.calls_per_minute (1200) reached; retry later");
	snprintf(d.empty, sizeof(d.empty), "tool:read_thing");
	call(r, &alice, "read_thing", text, sizeof(text), &err);
	assert_true(err);
	assert_string_equal(text, "rate limit: limits.tools.read_thing.calls_per_minute (default "
				  "limits.tool_calls_per_minute) reached; retry later");
	/* Local callers have no bucket of their own: two keys. */
	d.empty[0] = '\0';
	call(r, NULL, "git_thing", text, sizeof(text), &err);
	assert_false(err);
	assert_int_equal(d.n, 2);
	assert_string_equal(d.keys[1], "tool:git_thing");

	store_install(NULL, NULL, STORE_FALLBACK_AUTO);
	rig_free(r);
	bucket_destroy(&b);
}

static void test_store_down(void **state)
{
	struct rig *r = rig_new();
	struct tool *w = registry_find(r->reg, "write_thing");
	char text[512];
	bool err;

	(void)state;
	assert_non_null(w);
	w->annotations.read_only = HINT_FALSE; /* it may write */
	rig_init(r, "2025-11-25");
	memset(&d, 0, sizeof(d));
	d.down = true;

	/* auto: a read-only tool falls back to this replica's share; one
	 * that may write is refused. */
	store_install(&dbl_ops, NULL, STORE_FALLBACK_AUTO);
	call(r, NULL, "read_thing", text, sizeof(text), &err);
	assert_false(err);
	call(r, NULL, "write_thing", text, sizeof(text), &err);
	assert_true(err);
	assert_non_null(strstr(text, "shared limit store does not answer"));
	assert_non_null(strstr(text, "cluster.on_store_failure is \"auto\""));
	assert_non_null(strstr(text, "retry later"));

	/* refuse: every call. */
	store_install(&dbl_ops, NULL, STORE_FALLBACK_REFUSE);
	call(r, NULL, "read_thing", text, sizeof(text), &err);
	assert_true(err);
	assert_non_null(strstr(text, "cluster.on_store_failure is \"refuse\""));

	/* local: every call, from this replica's share. */
	store_install(&dbl_ops, NULL, STORE_FALLBACK_LOCAL);
	call(r, NULL, "write_thing", text, sizeof(text), &err);
	assert_false(err);
	assert_string_equal(text, "hi");

	store_install(NULL, NULL, STORE_FALLBACK_AUTO);
	rig_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_take_keys_and_messages),
		cmocka_unit_test(test_store_down),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
