/*
 * testing_conf_prompts.c - the prompts of the official MCP conformance
 * suite (test build only, {"testing": {"conformance": true}}), as the
 * reference fixture declares them: test_simple_prompt,
 * test_prompt_with_arguments (whose arguments complete, for
 * completion-complete), test_prompt_with_embedded_resource,
 * test_prompt_with_image, test_input_required_result_prompt (asks the
 * client through callctx_ask, so the 2026-07-28 era answers
 * input_required) and test_dynamic_prompt, which test_trigger_prompt_change
 * hides and shows to change the list.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hub.h"
#include "prompts.h"
#include "testing.h"

#define CONF_DYNAMIC_PROMPT "test_dynamic_prompt"

/* Whether test_dynamic_prompt is hidden now. */
static atomic_bool conf_prompt_hidden;

/* conf_messages - *out = {"messages": msgs} (msgs stolen). */
static enum moat_rc conf_messages(json_t *msgs, json_t **out, struct moat_err *err)
{
	*out = msgs ? json_pack("{s:o}", "messages", msgs) : NULL;
	return *out ? MOAT_OK : moat_err_set(err, MOAT_ENOMEM, "out of memory");
}

static enum moat_rc simple_get(struct call_ctx *ctx, void *data, const json_t *args,
			       json_t **out, struct moat_err *err)
{
	return conf_messages(json_pack("[{s:s, s:{s:s, s:s}}]", "role", "user", "content", "type",
				       "text", "text", "This is a simple prompt for testing."),
			     out, err);
}

static enum moat_rc args_get(struct call_ctx *ctx, void *data, const json_t *args, json_t **out,
			     struct moat_err *err)
{
	const char *a1 = json_string_value(json_object_get(args, "arg1"));
	const char *a2 = json_string_value(json_object_get(args, "arg2"));
	char *text;
	enum moat_rc rc;

	if (asprintf(&text, "Prompt with arguments: arg1='%s', arg2='%s'", a1 ? a1 : "",
		     a2 ? a2 : "") < 0)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	rc = conf_messages(json_pack("[{s:s, s:{s:s, s:s}}]", "role", "user", "content", "type",
				     "text", "text", text),
			   out, err);
	free(text);
	return rc;
}

/* Offers a few fixed values per argument, those starting with prefix. */
static enum moat_rc args_complete(void *data, const char *arg, const char *prefix,
				  const json_t *context, json_t *values, size_t max,
				  struct moat_err *err)
{
	static const char *const words[] = {"paris", "park", "parse", "value1", "value2"};

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]) && json_array_size(values) < max;
	     i++)
		if (strncmp(words[i], prefix, strlen(prefix)) == 0)
			json_array_append_new(values, json_string(words[i]));
	return MOAT_OK;
}

static enum moat_rc embedded_get(struct call_ctx *ctx, void *data, const json_t *args,
				 json_t **out, struct moat_err *err)
{
	const char *uri = json_string_value(json_object_get(args, "resourceUri"));

	return conf_messages(
		json_pack("[{s:s, s:{s:s, s:{s:s, s:s, s:s}}}, {s:s, s:{s:s, s:s}}]", "role", "user",
			  "content", "type", "resource", "resource", "uri", uri ? uri : "",
			  "mimeType", "text/plain", "text", "Embedded resource content for testing.",
			  "role", "user", "content", "type", "text", "text",
			  "Please process the embedded resource above."),
		out, err);
}

static enum moat_rc image_get(struct call_ctx *ctx, void *data, const json_t *args,
			      json_t **out, struct moat_err *err)
{
	return conf_messages(json_pack("[{s:s, s:{s:s, s:s, s:s}}, {s:s, s:{s:s, s:s}}]", "role",
				       "user", "content", "type", "image", "data", testing_png_b64,
				       "mimeType", "image/png", "role", "user", "content", "type",
				       "text", "text", "Please analyze the image above."),
			     out, err);
}

static enum moat_rc input_required_get(struct call_ctx *ctx, void *data, const json_t *args,
				       json_t **out, struct moat_err *err)
{
	const json_t *answer = NULL;
	json_t *schema = json_pack("{s:s, s:{s:{s:s}}, s:[s]}", "type", "object", "properties",
				   "context", "type", "string", "required", "context");
	const char *context;
	char *text;
	enum moat_rc rc;

	if (!schema)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	rc = callctx_ask(ctx, "user_context", "elicitation/create",
			 json_pack("{s:s, s:o}", "message", "What context should the prompt use?",
				   "requestedSchema", schema),
			 &answer, err);
	if (rc)
		return rc;
	context = json_string_value(
		json_object_get(json_object_get(answer, "content"), "context"));
	if (!context)
		return moat_err_set(err, MOAT_EINVAL,
				    "inputResponses.user_context: not an answer to the request");
	if (asprintf(&text, "Prompt with context: %s", context) < 0)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	rc = conf_messages(json_pack("[{s:s, s:{s:s, s:s}}]", "role", "user", "content", "type",
				     "text", "text", text),
			   out, err);
	free(text);
	return rc;
}

static enum moat_rc dynamic_get(struct call_ctx *ctx, void *data, const json_t *args,
				json_t **out, struct moat_err *err)
{
	return conf_messages(json_pack("[{s:s, s:{s:s, s:s}}]", "role", "user", "content", "type",
				       "text", "text", "The dynamic prompt is listed."),
			     out, err);
}

void testing_prompt_toggle(struct registry *reg)
{
	bool hide = !atomic_load(&conf_prompt_hidden);

	atomic_store(&conf_prompt_hidden, hide);
	if (prompts_set_hidden(registry_prompts(reg), CONF_DYNAMIC_PROMPT, hide))
		hub_publish(registry_hub(reg), HUB_PROMPTS_CHANGED, NULL);
}

enum moat_rc testing_conf_prompts_init(struct registry *reg, struct moat_err *err)
{
	struct conf_prompt {
		const char *name, *title, *description, *arguments;
		prompt_get_fn get;
		prompt_complete_fn complete;
	};
	static const struct conf_prompt defs[] = {
		{"test_simple_prompt", "Simple Test Prompt", "A simple prompt without arguments",
		 NULL, simple_get, NULL},
		{"test_prompt_with_arguments", "Prompt With Arguments",
		 "A prompt with required arguments",
		 "[{\"name\":\"arg1\",\"description\":\"First test argument\",\"required\":true},"
		 "{\"name\":\"arg2\",\"description\":\"Second test argument\",\"required\":true}]",
		 args_get, args_complete},
		{"test_prompt_with_embedded_resource", "Prompt With Embedded Resource",
		 "A prompt that includes an embedded resource",
		 "[{\"name\":\"resourceUri\",\"description\":\"URI of the resource to embed\","
		 "\"required\":true}]",
		 embedded_get, NULL},
		{"test_prompt_with_image", "Prompt With Image", "A prompt that includes image content",
		 NULL, image_get, NULL},
		{"test_input_required_result_prompt", NULL,
		 "MRTR: prompt that requires elicitation input", NULL, input_required_get, NULL},
		{CONF_DYNAMIC_PROMPT, NULL, "Listed or not as test_trigger_prompt_change toggles it",
		 NULL, dynamic_get, NULL},
	};
	struct prompts *p = registry_prompts(reg);
	enum moat_rc rc;

	for (size_t i = 0; i < sizeof(defs) / sizeof(defs[0]); i++) {
		json_t *a = defs[i].arguments ? json_loads(defs[i].arguments, 0, NULL) : NULL;
		struct prompt_spec spec = {
			.name = defs[i].name,
			.title = defs[i].title,
			.description = defs[i].description,
			.arguments = a,
			.get = defs[i].get,
			.complete = defs[i].complete,
		};
		if (defs[i].arguments && !a)
			return moat_err_set(err, MOAT_EINTERNAL, "bad arguments for %s", defs[i].name);
		rc = prompts_add(p, &spec, err);
		json_decref(a);
		if (rc)
			return rc;
	}
	return MOAT_OK;
}
