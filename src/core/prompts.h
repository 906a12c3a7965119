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
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "callctx.h"
#include "result.h"
#include "version.h"

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
	/* The tool whose permission covers completing argument arg (static
	 * storage; NULL: whoever sees the prompt): a principal whose policy
	 * does not allow it gets no values, so completion never lists what
	 * the principal's tools could not. May be NULL. */
	const char *(*arg_tool)(void *data, const char *arg);
};

/* One declared prompt: private copies of the spec's strings and
 * arguments. Immutable after prompts_add but for hidden. */
struct prompt {
	char *name;
	char *title;       /* NULL when none */
	char *description; /* NULL when none */
	json_t *arguments; /* the listing's array (owned) or NULL */
	prompt_get_fn get;
	prompt_complete_fn complete;
	void *data;
	const char *read_tool; /* static or NULL */
	const char *(*arg_tool)(void *data, const char *arg); /* may be NULL */
	_Atomic bool hidden;
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

/* prompts_at - the i-th prompt in declaration order (hidden ones
 * included), or NULL past the end. Borrowed from p. Thread-safe. */
const struct prompt *prompts_at(const struct prompts *p, size_t i);

/* prompts_find - the prompt called name unless it is hidden, or NULL.
 * Borrowed from p. Thread-safe. */
const struct prompt *prompts_find(const struct prompts *p, const char *name);

/* prompts_json - the prompts/list entry of pr as revision features f
 * allow (title from 2025-06-18). New reference; NULL on ENOMEM. */
json_t *prompts_json(const struct prompt *pr, const struct mcp_features *f);

/* A predicate over prompts (prompts_page); ctx is the caller's. */
typedef bool (*prompts_keep_fn)(const struct prompt *pr, const void *ctx);

/*
 * prompts_page - one prompts/list result {"prompts":[...], "nextCursor"?}:
 * the prompts, in declaration order, from the position cursor encodes
 * (NULL: the start) that are not hidden and that keep accepts (keep NULL:
 * all), at most page_size of them (0: all). Cursors are positions in the
 * whole table, so pages stay stable; one moat did not issue fails with
 * MOAT_EINVAL. *out is a new reference. Thread-safe.
 */
enum moat_rc prompts_page(const struct prompts *p, const char *cursor, size_t page_size,
			  const struct mcp_features *f, prompts_keep_fn keep, const void *ctx,
			  json_t **out, struct moat_err *err);

/*
 * prompts_check_args - whether args (a prompts/get's "arguments", may be
 * NULL) suit pr: an object whose values are strings, every required
 * argument present, none undeclared. MOAT_EINVAL with err naming the
 * argument and the rule (prompts.arguments_not_object,
 * prompts.argument_not_string, prompts.missing_argument,
 * prompts.unknown_argument) otherwise. Pure, thread-safe.
 */
enum moat_rc prompts_check_args(const struct prompt *pr, const json_t *args,
				struct moat_err *err);

/* prompts_has_argument - true when pr declares an argument called name. */
bool prompts_has_argument(const struct prompt *pr, const char *name);

#endif
