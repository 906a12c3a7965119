/*
 * registry.h - the tool registry: what a provider registers and what the
 * server looks up, lists and calls.
 *
 * A provider describes each tool with a struct tool_spec. registry_add()
 * checks the name, compiles the input and output schemas once (they are
 * never re-walked per call) and keeps private copies of every string and
 * schema, so the spec may live on the provider's stack. Registration happens
 * at start-up on one thread; afterwards the registry is read-only and may be
 * used from any thread (per-tool rate buckets carry their own locks).
 */
#ifndef MOAT_CORE_REGISTRY_H
#define MOAT_CORE_REGISTRY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "callctx.h"
#include "limits_cfg.h"
#include "result.h"
#include "schema.h"
#include "version.h"

/* Hint values: unset (omitted from the listing), false, true. */
enum hint { HINT_UNSET = 0, HINT_FALSE, HINT_TRUE };

struct tool_annotations {
	enum hint read_only;
	enum hint destructive;
	enum hint idempotent;
	enum hint open_world;
};

/*
 * A tool handler. args has passed the input schema; data is the spec's data
 * pointer. On success fill out (content and, when the tool has an output
 * schema, structured) and return MOAT_OK. On failure return the rc and fill
 * err with a message that names the rule; the server turns it into an
 * isError result. Called on a worker thread (or, for inline_ok and quick
 * tools, on the thread that read the request); must be thread-safe, poll
 * callctx_check() in long loops and keep its output within
 * ctx->output_budget.
 */
typedef enum moat_rc (*tool_handler_fn)(struct call_ctx *ctx, void *data, json_t *args,
					struct tool_result *out, struct moat_err *err);

/*
 * An optional fast path, tried on the thread that read the request before
 * the call goes to a worker: it answers only what it can answer at once
 * without blocking (a response cache hit). Returns true when it handled
 * the call (*rc and out or err filled as a handler would), false to let
 * the handler run as usual (out untouched).
 */
typedef bool (*tool_fast_fn)(struct call_ctx *ctx, void *data, json_t *args,
			     struct tool_result *out, enum moat_rc *rc, struct moat_err *err);

/*
 * An optional check of the arguments beyond the input schema, run on the
 * worker before anything else the call does, and in particular before the
 * person is asked to confirm a tool marked "confirm": a call the handler
 * would refuse at once (an unknown operation, arguments that do not match
 * the schema of the operation they name) is refused without asking.
 * Returns MOAT_OK, or an error in err that ends the call as the handler's
 * would (an isError result naming the rule). Must not block; thread-safe.
 */
typedef enum moat_rc (*tool_precheck_fn)(void *data, const json_t *args, struct moat_err *err);

struct tool_spec {
	const char *name;          /* ^[A-Za-z0-9_.-]{1,64}$ */
	const char *title;         /* may be NULL */
	const char *description;
	const json_t *input_schema;  /* an object schema; borrowed */
	const json_t *output_schema; /* NULL or an object schema; borrowed */
	struct tool_annotations annotations;
	uint32_t calls_per_minute; /* 0 = the registry default */
	/* The handler never blocks (no I/O, no locks held for long, bounded
	 * CPU in microseconds): the server may run it on the reader thread
	 * instead of a worker. Leave false for anything that touches a file,
	 * a database, a repository or the network. */
	bool inline_ok;
	/* The handler usually ends within microseconds but may block on I/O
	 * (a small file read, a stat, one directory listing): the server may
	 * run it on the reader thread when the transport promises to hand the
	 * reading to another thread should the call take long (see
	 * server_opts.quick_begin). Leave false for walks, searches, queries
	 * and network calls, whose cost grows with their input. */
	bool quick;
	tool_fast_fn fast;         /* may be NULL */
	tool_precheck_fn precheck; /* may be NULL */
	tool_handler_fn handler;
	void *data;                /* borrowed; the provider frees it */
	/* Names of the properties (at any depth; an array's items count as
	 * the array's property) whose string values may hold NUL bytes, such
	 * as file content a write tool stores: a NULL-terminated static list,
	 * or NULL. Every other string argument holding a NUL byte is refused
	 * before the handler runs ("/path: contains a NUL byte"), so a
	 * handler reading json_string_value() never sees a cut string. */
	const char *const *nul_ok;
	/* The handler answers with tool_result.structured_json, written with
	 * jsonw in a shape its own code fixes to output_schema: the server
	 * does not parse or walk it again. A test build (-Dtest_provider)
	 * parses and validates every such answer anyway, so a divergence
	 * fails the tests; server_call.c. */
	bool output_streamed;
};

struct tool {
	char *name;
	char *title;
	char *description;
	json_t *input_schema;
	json_t *output_schema;
	struct schema *input;
	struct schema *output;
	struct tool_annotations annotations;
	bool inline_ok;
	bool quick;
	bool output_streamed;
	tool_fast_fn fast;
	tool_precheck_fn precheck;
	tool_handler_fn handler;
	void *data;
	const char *const *nul_ok; /* static, see tool_spec */
	const char *family;        /* static: the family that registered it */
	struct token_bucket bucket;
	/* Ask the person through the client before each call (config
	 * "confirm"; never for a read-only tool): registry_set_confirm. */
	bool confirm;
	/* Not listed and not callable while set (a fixture that changes the
	 * tool list): registry_set_hidden. */
	_Atomic bool hidden;
};

struct registry; /* opaque */

/*
 * Resources a provider serves (resources/list, resources/read,
 * resources/templates/list) under one URI scheme. Several families may
 * serve resources, each under its own scheme (resource_mux.h).
 * list and read run on a worker thread; templates on the reader thread.
 */
struct resource_ops {
	const char *scheme; /* lowercase URI scheme, e.g. "file"; static */
	/* One page: *out = {"resources":[...], "nextCursor"?}. A cursor the
	 * provider did not issue fails with MOAT_EINVAL. */
	enum moat_rc (*list)(void *data, struct call_ctx *ctx, const char *cursor,
			     size_t page_size, json_t **out, struct moat_err *err);
	/* *out = {"contents":[{uri, mimeType?, text | blob}]}. MOAT_ENOTFOUND
	 * for an unknown or unreadable URI, MOAT_EDENIED outside the roots. */
	enum moat_rc (*read)(void *data, struct call_ctx *ctx, const char *uri, json_t **out,
			     struct moat_err *err);
	/* A new array of resource templates. */
	json_t *(*templates)(void *data);
	void *data; /* borrowed; the provider frees it */
	/* The tool whose permission covers these resources (static; e.g.
	 * "read_text_file"): a principal whose policy does not allow it
	 * cannot read them (principal.h). */
	const char *read_tool;
	/* Completion of a template's variable (completion/complete with a
	 * ref/resource): append to values (an array) up to max strings that
	 * variable var of template uri_template may take, starting with
	 * prefix; context holds the other variables' values already chosen
	 * (an object of strings, may be NULL). NULL: no completion. Runs on
	 * the reader thread: bounded and quick. */
	enum moat_rc (*complete)(void *data, const char *uri_template, const char *var,
				 const char *prefix, const json_t *context, json_t *values,
				 size_t max, struct moat_err *err);
	/* Start (on) or stop watching uri for changes; on a change the
	 * family calls hub_publish(registry_hub(r), HUB_RESOURCE_UPDATED,
	 * uri). MOAT_ENOTFOUND for a URI it does not serve. NULL: resources
	 * of this scheme cannot be subscribed to. */
	enum moat_rc (*watch)(void *data, const char *uri, bool on, struct moat_err *err);
};

/*
 * registry_resources_allowed - whether a caller allowed tools by allows()
 * may use resources: for uri (a resources/read), the family serving its
 * scheme must be allowed; for uri NULL (listings), every family serving
 * resources must be. ctx is handed to allows. Thread-safe.
 */
bool registry_resources_allowed(const struct registry *r, const char *uri,
				bool (*allows)(const void *ctx, const char *tool), const void *ctx);

struct hub;
struct prompts;

/* registry_hub - the process's notification hub (hub.h), made by
 * registry_new; its watch requests go to the resource_ops serving the
 * URI's scheme. Borrowed from r. */
struct hub *registry_hub(const struct registry *r);

/* registry_prompts - the prompts every family declared (prompts.h), made
 * by registry_new. Borrowed from r. */
struct prompts *registry_prompts(const struct registry *r);

/*
 * A completer: appends to values (an array) up to max strings, each
 * starting with prefix, that a named kind of value may take
 * ("sql.databases", "sql.tables", "git.repositories", "fs.paths"); context
 * (an object of strings, may be NULL) holds other values already chosen
 * ("database" for tables). Bounded and quick: runs on the reader thread.
 */
typedef enum moat_rc (*completer_fn)(void *data, const char *prefix, const json_t *context,
				     json_t *values, size_t max, struct moat_err *err);

#define REGISTRY_MAX_COMPLETERS 16

/* registry_add_completer - offer values of kind name (static storage) to
 * prompt arguments that name it in the config. Start-up only. */
enum moat_rc registry_add_completer(struct registry *r, const char *name, completer_fn fn,
				    void *data, struct moat_err *err);

/* registry_completer - the completer of kind name; false when none. */
bool registry_completer(const struct registry *r, const char *name, completer_fn *fn,
			void **data);

/* registry_set_confirm - mark the tool called name, or every tool of the
 * family called name, to be confirmed by the person before each call
 * (read-only tools are never marked). MOAT_ENOTFOUND when name is
 * neither a tool nor a family with a tool that writes. Start-up only. */
enum moat_rc registry_set_confirm(struct registry *r, const char *name, struct moat_err *err);

/* registry_set_hidden - hide or show the tool called name and, when that
 * changed the list, publish HUB_TOOLS_CHANGED. False when there is no such
 * tool. Thread-safe. */
bool registry_set_hidden(struct registry *r, const char *name, bool hidden);

/* Receives the client's MCP roots (the result's "roots" array, borrowed),
 * or NULL when the client has none. Called on the reader thread. */
typedef void (*roots_hook_fn)(void *data, const json_t *roots);

/* registry_new - an empty registry whose tools get tool_calls_per_minute
 * unless their spec says otherwise. Caller owns it. NULL on ENOMEM. */
struct registry *registry_new(uint32_t tool_calls_per_minute);

/* registry_free - free every tool. Accepts NULL. */
void registry_free(struct registry *r);

/*
 * registry_add - validate and copy spec. Fails with MOAT_EINVAL naming the
 * rule (bad or duplicate name, schema that does not compile, input schema
 * whose type is not "object") or MOAT_ENOMEM.
 */
enum moat_rc registry_add(struct registry *r, const struct tool_spec *spec, struct moat_err *err);

/*
 * registry_add_texts - registry_add with the input schema, and the output
 * schema when out is not NULL, given as JSON text (a family's static
 * tables): spec's own schema members are ignored. MOAT_EINTERNAL naming the
 * tool when a text does not parse; otherwise as registry_add.
 */
enum moat_rc registry_add_texts(struct registry *r, struct tool_spec spec, const char *in,
				const char *out, struct moat_err *err);

/* registry_add_resources - serve resources under ops->scheme through ops
 * (copied). Fails with MOAT_EINVAL when the scheme is malformed or another
 * family already serves it. */
enum moat_rc registry_add_resources(struct registry *r, const struct resource_ops *ops,
				    struct moat_err *err);

/* registry_resources - the ops serving every registered family's
 * resources, or NULL when none does. Borrowed from r. */
const struct resource_ops *registry_resources(const struct registry *r);

/* registry_set_roots_hook - ask the server to fetch the client's roots
 * (roots/list) and hand them to fn. One hook; a later call replaces it. */
void registry_set_roots_hook(struct registry *r, roots_hook_fn fn, void *data);

/* registry_roots_hook - the hook and its data (fn NULL when none). */
roots_hook_fn registry_roots_hook(const struct registry *r, void **data);

/* A file-system grant a family needs once the sandbox is applied. */
struct registry_grant {
	char *path; /* canonical absolute path, for messages; owned */
	int fd;     /* O_PATH fd of that directory, opened by the family; owned */
	bool write; /* read-write, else read-only */
};

/*
 * registry_grant - record that the family needs path (copied) under the
 * sandbox, naming the directory by fd (duplicated; the caller keeps its
 * own) so the kernel rule covers exactly what the family opened, never a
 * second resolution of the same path. Start-up only.
 */
enum moat_rc registry_grant(struct registry *r, const char *path, int fd, bool write,
			    struct moat_err *err);

/* registry_grant_count / registry_grant_at - the recorded grants. */
size_t registry_grant_count(const struct registry *r);
const struct registry_grant *registry_grant_at(const struct registry *r, size_t i);

/*
 * registry_grant_port - record that the family connects to TCP port (the
 * sandbox allows connect to the recorded ports only; bind stays denied).
 * The same port twice is recorded once. Start-up only.
 */
enum moat_rc registry_grant_port(struct registry *r, uint16_t port, struct moat_err *err);

/* registry_port_count / registry_port_at - the recorded ports. */
size_t registry_port_count(const struct registry *r);
uint16_t registry_port_at(const struct registry *r, size_t i);

/*
 * registry_grant_bind_port - record that the HTTP listener listens on TCP
 * port (bound before the sandbox; the sandbox allows bind on the recorded
 * ports only, and no other). At most 4. Start-up only.
 */
enum moat_rc registry_grant_bind_port(struct registry *r, uint16_t port, struct moat_err *err);

/* registry_bind_port_count / registry_bind_port_at - those ports. */
size_t registry_bind_port_count(const struct registry *r);
uint16_t registry_bind_port_at(const struct registry *r, size_t i);

/*
 * registry_grant_resolver - let name resolution work under the sandbox:
 * load the resolver's configuration and modules now, grant reading the
 * files it rereads (/etc/hosts, resolv.conf, ...) and TCP port 53 for
 * answers too large for UDP. For a family or module that resolves host
 * names after start-up.
 */
enum moat_rc registry_grant_resolver(struct registry *r, struct moat_err *err);

/* registry_set_family - name (static storage) the family whose tools
 * registry_add registers from now on (the audit trail records it).
 * Start-up only. */
void registry_set_family(struct registry *r, const char *name);

/* registry_find - the tool called name, or NULL. Borrowed from r. */
struct tool *registry_find(const struct registry *r, const char *name);

/* registry_count / registry_at - iterate tools in registration order. */
size_t registry_count(const struct registry *r);
struct tool *registry_at(const struct registry *r, size_t i);

/* registry_tool_json - the tools/list entry for t as revision features
 * allow. New reference owned by the caller. */
json_t *registry_tool_json(const struct tool *t, const struct mcp_features *f);

/*
 * registry_page - one tools/list result: tools from the position encoded in
 * cursor (NULL = start), at most page_size of them, and a nextCursor when
 * more remain. A cursor that moat did not issue fails with MOAT_EINVAL.
 * New reference owned by the caller.
 */
enum moat_rc registry_page(const struct registry *r, const char *cursor, size_t page_size,
			   const struct mcp_features *f, json_t **out, struct moat_err *err);

/* A predicate over tools (registry_page_where); ctx is the caller's. */
typedef bool (*registry_keep_fn)(const struct tool *t, const void *ctx);

/* registry_page_where - registry_page over only the tools keep(t, ctx)
 * accepts (keep NULL: all): a page holds up to page_size of them, and the
 * cursor is a position in the whole list, so pages stay stable. */
enum moat_rc registry_page_where(const struct registry *r, const char *cursor, size_t page_size,
				 const struct mcp_features *f, registry_keep_fn keep,
				 const void *ctx, json_t **out, struct moat_err *err);

#endif
