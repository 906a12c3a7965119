/*
 * testing.c - the test-only tool family, compiled in only with
 * -Dtest_provider=true and enabled by {"testing": {"enabled": true}}.
 *
 * Its tools exercise the core end to end before real families exist:
 * echo (plain content), add (structuredContent + outputSchema), slow
 * (deadline, cancellation, progress), fail (a handler error), big (the
 * output budget), bad_output (a result that breaks its own schema) and
 * raw_open (a plain open(2) of any path, skipping every fs check, so the
 * attack tests can show the kernel sandbox refusing what a buggy handler
 * would try) and syscall (testing_syscall.c: one system call the seccomp
 * filter must deny or allow, with harmless arguments). raw_open and syscall
 * are registered only when the config also declares "roots": they prove
 * the confinement around them, and the core's own tests keep their
 * seven-tool list. {"testing": {"conformance": true}} adds the fixtures of
 * the official MCP conformance suite (testing.h lists their files), for
 * scripts/conformance.sh.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "testing.h"

static enum moat_rc echo_tool(struct call_ctx *ctx, void *data, json_t *args,
			      struct tool_result *out, struct moat_err *err)
{
	return tool_result_text(out, json_string_value(json_object_get(args, "text")));
}

static enum moat_rc add_tool(struct call_ctx *ctx, void *data, json_t *args,
			     struct tool_result *out, struct moat_err *err)
{
	double a = json_number_value(json_object_get(args, "a"));
	double b = json_number_value(json_object_get(args, "b"));

	if (!isfinite(a + b))
		return moat_err_set(err, MOAT_EINVAL, "the sum is not a finite number");
	out->structured = json_pack("{s:f}", "sum", a + b);
	return out->structured ? MOAT_OK : MOAT_ENOMEM;
}

static enum moat_rc slow_tool(struct call_ctx *ctx, void *data, json_t *args,
			      struct tool_result *out, struct moat_err *err)
{
	json_int_t ms = json_integer_value(json_object_get(args, "ms"));
	json_t *st = json_object_get(args, "steps");
	json_int_t steps = st ? json_integer_value(st) : 10;
	struct timespec slice;
	char msg[64];
	enum moat_rc rc;

	for (json_int_t i = 0; i < steps; i++) {
		json_int_t left = ms / steps;
		while (left > 0) {
			if ((rc = callctx_check(ctx, err)))
				return rc;
			json_int_t nap = left < 5 ? left : 5;
			slice.tv_sec = 0;
			slice.tv_nsec = (long)nap * 1000000L;
			nanosleep(&slice, NULL);
			left -= nap;
		}
		snprintf(msg, sizeof(msg), "step %lld of %lld", (long long)(i + 1),
			 (long long)steps);
		callctx_progress(ctx, (double)(i + 1), (double)steps, msg);
	}
	if ((rc = callctx_check(ctx, err)))
		return rc;
	return tool_result_text(out, "done");
}

static enum moat_rc fail_tool(struct call_ctx *ctx, void *data, json_t *args,
			      struct tool_result *out, struct moat_err *err)
{
	return moat_err_set(err, MOAT_EUPSTREAM, "upstream failed: the test tool always fails");
}

static enum moat_rc big_tool(struct call_ctx *ctx, void *data, json_t *args,
			     struct tool_result *out, struct moat_err *err)
{
	size_t n = (size_t)json_integer_value(json_object_get(args, "bytes"));
	char *buf = malloc(n + 1);
	enum moat_rc rc;

	if (!buf)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	memset(buf, 'x', n);
	buf[n] = '\0';
	rc = tool_result_text(out, buf);
	free(buf);
	return rc;
}

static enum moat_rc bad_output_tool(struct call_ctx *ctx, void *data, json_t *args,
				    struct tool_result *out, struct moat_err *err)
{
	out->structured = json_pack("{s:s}", "sum", "not a number");
	return out->structured ? MOAT_OK : MOAT_ENOMEM;
}

/* raw_open - open(path, O_RDONLY) with no confinement of moat's own: only
 * the kernel sandbox stands between it and the file. The file is closed
 * at once; its content is never read. */
static enum moat_rc raw_open_tool(struct call_ctx *ctx, void *data, json_t *args,
				  struct tool_result *out, struct moat_err *err)
{
	const char *path = json_string_value(json_object_get(args, "path"));
	char msg[128];
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

	if (fd < 0) {
		snprintf(msg, sizeof(msg), "denied: %s", strerror(errno));
		return tool_result_text(out, msg);
	}
	close(fd);
	return tool_result_text(out, "opened");
}

static enum moat_rc testing_init(struct registry *reg, const json_t *section,
				 const struct moat_config *cfg, struct moat_err *err)
{
	static const char *const schemas[][3] = {
		/* name, input schema, output schema */
		{"echo",
		 "{\"type\":\"object\",\"properties\":{\"text\":{\"type\":\"string\",\"maxLength\":"
		 "10000}},\"required\":[\"text\"],\"additionalProperties\":false}",
		 NULL},
		{"add",
		 "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"number\"},\"b\":{\"type\":"
		 "\"number\"}},\"required\":[\"a\",\"b\"],\"additionalProperties\":false}",
		 "{\"type\":\"object\",\"properties\":{\"sum\":{\"type\":\"number\"}},\"required\":["
		 "\"sum\"]}"},
		{"slow",
		 "{\"type\":\"object\",\"properties\":{\"ms\":{\"type\":\"integer\",\"minimum\":0,"
		 "\"maximum\":600000},\"steps\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":"
		 "1000}},\"required\":[\"ms\"],\"additionalProperties\":false}",
		 NULL},
		{"stall",
		 "{\"type\":\"object\",\"properties\":{\"ms\":{\"type\":\"integer\",\"minimum\":0,"
		 "\"maximum\":600000},\"steps\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":"
		 "1000}},\"required\":[\"ms\"],\"additionalProperties\":false}",
		 NULL},
		{"fail", "{\"type\":\"object\",\"additionalProperties\":false}", NULL},
		{"big",
		 "{\"type\":\"object\",\"properties\":{\"bytes\":{\"type\":\"integer\",\"minimum\":0,"
		 "\"maximum\":67108864}},\"required\":[\"bytes\"],\"additionalProperties\":false}",
		 NULL},
		{"bad_output", "{\"type\":\"object\",\"additionalProperties\":false}",
		 "{\"type\":\"object\",\"properties\":{\"sum\":{\"type\":\"number\"}},\"required\":["
		 "\"sum\"]}"},
		{"raw_open",
		 "{\"type\":\"object\",\"properties\":{\"path\":{\"type\":\"string\",\"maxLength\":"
		 "4096}},\"required\":[\"path\"],\"additionalProperties\":false}",
		 NULL},
		{"syscall",
		 "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\",\"maxLength\":"
		 "32},\"path\":{\"type\":\"string\",\"maxLength\":4096}},\"required\":[\"name\"],"
		 "\"additionalProperties\":false}",
		 NULL},
	};
	static const tool_handler_fn handlers[] = {echo_tool, add_tool, slow_tool, slow_tool,
						   fail_tool, big_tool, bad_output_tool,
						   raw_open_tool, testing_syscall_tool};
	static const char *const titles[] = {"Echo", "Add two numbers", "Slow task",
					     "Slow task declared quick", "Always fails", "Large output", "Broken output",
					     "Open a path, unchecked", "Make a system call"};
	static const char *const descs[] = {
		"Returns the text it is given.",
		"Adds a and b; returns {sum} as structured content.",
		"Sleeps for ms milliseconds in steps, reporting progress; honours cancellation.",
		"As slow, but declared quick: it starts on the thread that reads input, which "
		"the transport hands to another thread after 2 ms.",
		"Always fails with a handler error.",
		"Returns a text block of the given size.",
		"Returns a result that violates its own output schema.",
		"Test only: open(2)s the path with no moat checks; answers opened or denied.",
		"Test only: makes the named system call (one the seccomp filter denies or must "
		"allow) with harmless arguments; answers its result and errno as JSON.",
	};
	json_t *en = json_object_get(section, "enabled");
	enum moat_rc rc = MOAT_OK;

	if (!json_is_true(en))
		return MOAT_OK;
	for (size_t i = 0; i < sizeof(schemas) / sizeof(schemas[0]); i++) {
		json_error_t jerr;
		if ((handlers[i] == raw_open_tool || handlers[i] == testing_syscall_tool) &&
		    !json_object_get(cfg->doc, "roots"))
			continue;
		json_t *in = json_loads(schemas[i][1], 0, &jerr);
		json_t *outs = schemas[i][2] ? json_loads(schemas[i][2], 0, &jerr) : NULL;
		struct tool_spec spec = {
			.name = schemas[i][0],
			.title = titles[i],
			.description = descs[i],
			.input_schema = in,
			.output_schema = outs,
			.annotations = {.read_only = HINT_TRUE, .destructive = HINT_FALSE,
					.idempotent = HINT_TRUE, .open_world = HINT_FALSE},
			.inline_ok = handlers[i] == echo_tool || handlers[i] == add_tool,
			.quick = strcmp(schemas[i][0], "stall") == 0,
			.handler = handlers[i],
		};
		rc = registry_add(reg, &spec, err);
		json_decref(in);
		json_decref(outs);
		if (rc)
			return rc;
	}
	if (json_is_true(json_object_get(section, "streamed")) &&
	    (rc = testing_streamed_init(reg, err)))
		return rc;
	if (!json_is_true(json_object_get(section, "conformance")))
		return MOAT_OK;
	if ((rc = testing_conf_tools_init(reg, err)) || (rc = testing_mrtr_init(reg, err)) ||
	    (rc = testing_conf_prompts_init(reg, err)))
		return rc;
	return testing_conf_resources_init(reg, err);
}

static void testing_fini(void)
{
	testing_conf_resources_fini();
}

const struct provider testing_provider = {
	.name = "testing",
	.config_key = "testing",
	.init = testing_init,
	.fini = testing_fini,
};
