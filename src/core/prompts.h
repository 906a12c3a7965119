/*
 * prompts.h - the prompts moat offers (prompts/list, prompts/get,
 * completion of their arguments): what a family or the config declares.
 *
 * A declarer describes each prompt with a struct prompt_spec; prompts_add
 * checks the name and the arguments and keeps private copies, so the spec
 * may live on the caller's stack. Declaration happens at start-up on one
 * thread; afterwards the table is read-only except for hiding (a fixture
 * that changes the list), and may be used from any thread.
 */
#ifndef MOAT_CORE_PROMPTS_H
#define MOAT_CORE_PROMPTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "callctx.h"
#include "result.h"

/*
 * Builds one prompts/get result: *out = {"description"?, "messages":[...]}
 * (a new reference) from args, an object of string values already checked
 * against the declared arguments (every required one present, no unknown
 * one). Runs on a worker under ctx (deadline, cancellation, callctx_ask).
 */
typedef enum moat_rc (*prompt_get_fn)(struct call_ctx *ctx, void *data, const json_t *args,
				      json_t **out, struct moat_err *err);

/*
 * Completes argument arg: append to values (an array) up to max strings
 * starting with prefix; context holds the other arguments' values (an
 * object of strings, may be NULL). Bounded and quick (reader thread).
 */
typedef enum moat_rc (*prompt_complete_fn)(void *data, const char *arg, const char *prefix,
					   const json_t *context, json_t *values, size_t max,
					   struct moat_err *err);

struct prompt_spec {
	const char *name;        /* ^[A-Za-z0-9_.-]{1,64}$ */
	const char *title;       /* may be NULL */
	const char *description; /* may be NULL */
	/* [{"name", "description"?, "required"?}] as prompts/list shows them;
	 * borrowed and copied; NULL: no arguments. */
	const json_t *arguments;
	prompt_get_fn get;
	prompt_complete_fn complete; /* may be NULL */
	void *data;                  /* borrowed; the declarer frees it */
	/* The tool whose permission covers this prompt (static; NULL: every
	 * principal may use it): a prompt that embeds files is covered by
	 * "read_text_file". */
	const char *read_tool;
};

struct prompts; /* opaque */

/* prompts_new - an empty table. Caller owns it. NULL on ENOMEM. */
struct prompts *prompts_new(void);

/* prompts_free - free the table. Accepts NULL. */
void prompts_free(struct prompts *p);

/* prompts_add - validate and copy spec. MOAT_EINVAL naming the rule (bad or
 * duplicate name, malformed arguments) or MOAT_ENOMEM. Start-up only. */
enum moat_rc prompts_add(struct prompts *p, const struct prompt_spec *spec,
			 struct moat_err *err);

/* prompts_count - how many prompts are declared (hidden ones included). */
size_t prompts_count(const struct prompts *p);

/* prompts_set_hidden - hide or show a prompt; true when that changed the
 * list (the caller publishes HUB_PROMPTS_CHANGED). Thread-safe. */
bool prompts_set_hidden(struct prompts *p, const char *name, bool hidden);

#endif
