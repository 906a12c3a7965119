/*
 * registry.c - tool registration, lookup and paginated listing.
 */
#include "registry.h"

#include "hub.h"
#include "prompts.h"
#include "resource_mux.h"
#include "store.h"
#include "text.h"

#include <fcntl.h>
#include <stdatomic.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct registry {
	struct tool **tools;
	size_t count;
	size_t cap;
	struct resource_mux resources;
	roots_hook_fn roots_hook;
	void *roots_data;
	struct registry_grant *grants;
	size_t ngrants;
	uint16_t *ports; /* TCP connect grants */
	size_t nports;
	uint16_t bind_ports[4]; /* TCP bind grants (the HTTP listener) */
	size_t nbind_ports;
	uint32_t default_per_minute;
	const char *family; /* static; stamped on tools added from now on */
	struct hub *hub;
	struct prompts *prompts;
	struct {
		const char *name;
		completer_fn fn;
		void *data;
	} completers[REGISTRY_MAX_COMPLETERS];
	size_t ncompleters;
};

/* hub_watch_fn: a URI's watch goes to the family serving its scheme. */
static enum moat_rc hub_watch(void *ctx, const char *uri, bool on, struct moat_err *err)
{
	struct registry *r = ctx;

	return resource_mux_watch(&r->resources, uri, on, err);
}

struct registry *registry_new(uint32_t tool_calls_per_minute)
{
	struct registry *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->default_per_minute = tool_calls_per_minute;
	r->hub = hub_new(hub_watch, r);
	r->prompts = prompts_new();
	if (!r->hub || !r->prompts) {
		hub_free(r->hub);
		prompts_free(r->prompts);
		free(r);
		return NULL;
	}
	return r;
}

struct hub *registry_hub(const struct registry *r)
{
	return r->hub;
}

struct prompts *registry_prompts(const struct registry *r)
{
	return r->prompts;
}

enum moat_rc registry_add_completer(struct registry *r, const char *name, completer_fn fn,
				    void *data, struct moat_err *err)
{
	if (r->ncompleters == REGISTRY_MAX_COMPLETERS)
		return moat_err_set(err, MOAT_EINTERNAL, "too many completers (at most %d)",
				    REGISTRY_MAX_COMPLETERS);
	r->completers[r->ncompleters].name = name;
	r->completers[r->ncompleters].fn = fn;
	r->completers[r->ncompleters].data = data;
	r->ncompleters++;
	return MOAT_OK;
}

bool registry_completer(const struct registry *r, const char *name, completer_fn *fn,
			void **data)
{
	for (size_t i = 0; i < r->ncompleters; i++) {
		if (strcmp(r->completers[i].name, name) == 0) {
			*fn = r->completers[i].fn;
			*data = r->completers[i].data;
			return true;
		}
	}
	return false;
}

enum moat_rc registry_set_confirm(struct registry *r, const char *name, struct moat_err *err)
{
	bool found = false;

	for (size_t i = 0; i < r->count; i++) {
		struct tool *t = r->tools[i];
		if (strcmp(t->name, name) != 0 && !(t->family && strcmp(t->family, name) == 0))
			continue;
		if (t->annotations.read_only == HINT_TRUE)
			continue;
		t->confirm = true;
		found = true;
	}
	if (!found)
		return moat_err_rule(err, MOAT_ENOTFOUND, "config.confirm",
				     "confirm: '%.64s' is neither a tool that writes nor a family "
				     "with one",
				     name);
	return MOAT_OK;
}

bool registry_set_hidden(struct registry *r, const char *name, bool hidden)
{
	struct tool *t = registry_find(r, name);

	if (!t)
		return false;
	if (atomic_exchange(&t->hidden, hidden) != hidden)
		hub_publish(r->hub, HUB_TOOLS_CHANGED, NULL);
	return true;
}

static void tool_free(struct tool *t)
{
	if (!t)
		return;
	free(t->name);
	free(t->title);
	free(t->description);
	json_decref(t->input_schema);
	json_decref(t->output_schema);
	schema_free(t->input);
	schema_free(t->output);
	bucket_destroy(&t->bucket);
	free(t);
}

void registry_free(struct registry *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->count; i++)
		tool_free(r->tools[i]);
	free(r->tools);
	for (size_t i = 0; i < r->ngrants; i++) {
		free(r->grants[i].path);
		close(r->grants[i].fd);
	}
	free(r->grants);
	free(r->ports);
	hub_free(r->hub);
	prompts_free(r->prompts);
	free(r);
}

static bool name_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '.'))
			return false;
	}
	return true;
}

static enum moat_rc compile_object_schema(const json_t *doc, const char *what, const char *tool,
					  struct schema **out, struct moat_err *err)
{
	const json_t *type = json_object_get(doc, "type");

	if (!json_is_object(doc) || !json_is_string(type) ||
	    strcmp(json_string_value(type), "object") != 0)
		return moat_err_set(err, MOAT_EINVAL, "tool '%s': %s must be a schema of type object",
				    tool, what);
	*out = schema_compile(doc, err);
	if (!*out) {
		char inner[MOAT_ERR_MSG_MAX];
		snprintf(inner, sizeof(inner), "%s", err ? err->msg : "");
		return moat_err_set(err, MOAT_EINVAL, "tool '%s': %s: %s", tool, what, inner);
	}
	return MOAT_OK;
}

void registry_set_family(struct registry *r, const char *name)
{
	r->family = name;
}

enum moat_rc registry_add(struct registry *r, const struct tool_spec *spec, struct moat_err *err)
{
	struct tool *t = NULL;
	enum moat_rc rc;

	if (!name_ok(spec->name))
		return moat_err_set(err, MOAT_EINVAL,
				    "tool name must match ^[A-Za-z0-9_.-]{1,64}$");
	if (registry_find(r, spec->name))
		return moat_err_set(err, MOAT_EINVAL, "tool '%s' is registered twice", spec->name);
	if (!spec->handler || !spec->description)
		return moat_err_set(err, MOAT_EINVAL, "tool '%s': handler and description are required",
				    spec->name);
	t = calloc(1, sizeof(*t));
	if (!t)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	bucket_init(&t->bucket, spec->calls_per_minute ? spec->calls_per_minute
						       : r->default_per_minute);
	bucket_set_key(&t->bucket, "tool:%s", spec->name);
	rc = compile_object_schema(spec->input_schema, "inputSchema", spec->name, &t->input, err);
	if (rc)
		goto out;
	if (spec->output_schema) {
		rc = compile_object_schema(spec->output_schema, "outputSchema", spec->name,
					   &t->output, err);
		if (rc)
			goto out;
		t->output_schema = json_deep_copy(spec->output_schema);
	}
	t->input_schema = json_deep_copy(spec->input_schema);
	t->name = strdup(spec->name);
	t->title = spec->title ? strdup(spec->title) : NULL;
	t->description = strdup(spec->description);
	t->annotations = spec->annotations;
	t->inline_ok = spec->inline_ok;
	t->quick = spec->quick;
	t->output_streamed = spec->output_streamed;
	t->fast = spec->fast;
	t->precheck = spec->precheck;
	t->handler = spec->handler;
	t->data = spec->data;
	t->nul_ok = spec->nul_ok;
	t->family = r->family;
	if (!t->input_schema || (spec->output_schema && !t->output_schema) || !t->name ||
	    (spec->title && !t->title) || !t->description) {
		rc = moat_err_set(err, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	if (r->count == r->cap) {
		size_t ncap = r->cap ? r->cap * 2 : 16;
		struct tool **nt = realloc(r->tools, ncap * sizeof(*nt));
		if (!nt) {
			rc = moat_err_set(err, MOAT_ENOMEM, "out of memory");
			goto out;
		}
		r->tools = nt;
		r->cap = ncap;
	}
	r->tools[r->count++] = t;
	t = NULL;
	rc = MOAT_OK;
out:
	tool_free(t);
	return rc;
}

enum moat_rc registry_add_texts(struct registry *r, struct tool_spec spec, const char *in,
				const char *out, struct moat_err *err)
{
	json_error_t jerr = {0};
	json_t *ins = json_loads(in, 0, &jerr);
	json_t *outs = ins && out ? json_loads(out, 0, &jerr) : NULL;
	enum moat_rc rc;

	spec.input_schema = ins;
	spec.output_schema = outs;
	if (!ins || (out && !outs))
		rc = moat_err_set(err, MOAT_EINTERNAL, "bad schema for %s: %s", spec.name, jerr.text);
	else
		rc = registry_add(r, &spec, err);
	json_decref(ins);
	json_decref(outs);
	return rc;
}

enum moat_rc registry_add_resources(struct registry *r, const struct resource_ops *ops,
				    struct moat_err *err)
{
	return resource_mux_add(&r->resources, ops, err);
}

bool registry_resources_allowed(const struct registry *r, const char *uri,
				bool (*allows)(const void *ctx, const char *tool), const void *ctx)
{
	const struct resource_mux *m = &r->resources;

	for (size_t i = 0; i < m->n; i++) {
		const struct resource_ops *p = &m->part[i];
		size_t n = strlen(p->scheme);
		if (uri && !(strncmp(uri, p->scheme, n) == 0 && uri[n] == ':'))
			continue;
		if (!p->read_tool || !allows(ctx, p->read_tool))
			return false;
		if (uri)
			return true;
	}
	return !uri; /* a URI no family serves: refused as not allowed */
}

const struct resource_ops *registry_resources(const struct registry *r)
{
	return resource_mux_ops(&r->resources);
}

void registry_set_roots_hook(struct registry *r, roots_hook_fn fn, void *data)
{
	r->roots_hook = fn;
	r->roots_data = data;
}

roots_hook_fn registry_roots_hook(const struct registry *r, void **data)
{
	*data = r->roots_data;
	return r->roots_hook;
}

enum moat_rc registry_grant(struct registry *r, const char *path, int fd, bool write,
			    struct moat_err *err)
{
	struct registry_grant *ng = realloc(r->grants, (r->ngrants + 1) * sizeof(*ng));
	struct registry_grant g = {.path = strdup(path), .fd = fcntl(fd, F_DUPFD_CLOEXEC, 3),
				   .write = write};

	if (ng)
		r->grants = ng;
	if (!ng || !g.path || g.fd < 0) {
		free(g.path);
		if (g.fd >= 0)
			close(g.fd);
		return moat_err_set(err, MOAT_ENOMEM, "cannot record a sandbox grant");
	}
	r->grants[r->ngrants++] = g;
	return MOAT_OK;
}

enum moat_rc registry_grant_port(struct registry *r, uint16_t port, struct moat_err *err)
{
	uint16_t *np;

	for (size_t i = 0; i < r->nports; i++)
		if (r->ports[i] == port)
			return MOAT_OK;
	np = realloc(r->ports, (r->nports + 1) * sizeof(*np));
	if (!np)
		return moat_err_set(err, MOAT_ENOMEM, "cannot record a sandbox grant");
	r->ports = np;
	r->ports[r->nports++] = port;
	return MOAT_OK;
}

size_t registry_port_count(const struct registry *r)
{
	return r->nports;
}

uint16_t registry_port_at(const struct registry *r, size_t i)
{
	return i < r->nports ? r->ports[i] : 0;
}

size_t registry_grant_count(const struct registry *r)
{
	return r->ngrants;
}

const struct registry_grant *registry_grant_at(const struct registry *r, size_t i)
{
	return i < r->ngrants ? &r->grants[i] : NULL;
}

struct tool *registry_find(const struct registry *r, const char *name)
{
	for (size_t i = 0; i < r->count; i++)
		if (strcmp(r->tools[i]->name, name) == 0)
			return r->tools[i];
	return NULL;
}

size_t registry_count(const struct registry *r)
{
	return r->count;
}

struct tool *registry_at(const struct registry *r, size_t i)
{
	return i < r->count ? r->tools[i] : NULL;
}

static void put_hint(json_t *o, const char *key, enum hint h)
{
	if (h != HINT_UNSET)
		json_object_set_new(o, key, json_boolean(h == HINT_TRUE));
}

json_t *registry_tool_json(const struct tool *t, const struct mcp_features *f)
{
	json_t *o = json_pack("{s:s, s:s, s:O}", "name", t->name, "description", t->description,
			      "inputSchema", t->input_schema);

	if (!o)
		return NULL;
	if (f->titles && t->title)
		json_object_set_new(o, "title", json_string(t->title));
	if (f->tool_annotations) {
		json_t *a = json_object();
		if (t->title && !f->titles)
			json_object_set_new(a, "title", json_string(t->title));
		put_hint(a, "readOnlyHint", t->annotations.read_only);
		put_hint(a, "destructiveHint", t->annotations.destructive);
		put_hint(a, "idempotentHint", t->annotations.idempotent);
		put_hint(a, "openWorldHint", t->annotations.open_world);
		if (json_object_size(a) > 0)
			json_object_set_new(o, "annotations", a);
		else
			json_decref(a);
	}
	if (f->structured && t->output_schema)
		json_object_set(o, "outputSchema", t->output_schema);
	return o;
}

/* Cursors are "moat:<offset>" so a client cannot tell them from any other
 * opaque string, and a forged or stale one is refused rather than guessed. */
static bool cursor_decode(const char *cursor, size_t count, size_t *offset)
{
	return text_offset_cursor(cursor, "moat:", count, offset);
}

enum moat_rc registry_page(const struct registry *r, const char *cursor, size_t page_size,
			   const struct mcp_features *f, json_t **out, struct moat_err *err)
{
	return registry_page_where(r, cursor, page_size, f, NULL, NULL, out, err);
}

enum moat_rc registry_page_where(const struct registry *r, const char *cursor, size_t page_size,
				 const struct mcp_features *f, registry_keep_fn keep,
				 const void *ctx, json_t **out, struct moat_err *err)
{
	size_t start = 0, i, taken = 0;
	json_t *tools, *res;

	*out = NULL;
	if (cursor && !cursor_decode(cursor, r->count, &start))
		return moat_err_set(err, MOAT_EINVAL, "invalid params: unknown or stale cursor");
	if (page_size == 0)
		page_size = r->count ? r->count : 1;
	tools = json_array();
	res = json_object();
	if (!tools || !res)
		goto nomem;
	for (i = start; i < r->count && taken < page_size; i++) {
		if (keep && !keep(r->tools[i], ctx))
			continue;
		json_t *e = registry_tool_json(r->tools[i], f);
		if (!e || json_array_append_new(tools, e) != 0)
			goto nomem;
		taken++;
	}
	/* Skip what this caller may not see, so no page ends with a cursor
	 * to an empty one. */
	while (keep && i < r->count && !keep(r->tools[i], ctx))
		i++;
	json_object_set_new(res, "tools", tools);
	tools = NULL;
	if (i < r->count) {
		char next[32];
		snprintf(next, sizeof(next), "moat:%zu", i);
		json_object_set_new(res, "nextCursor", json_string(next));
	}
	*out = res;
	return MOAT_OK;
nomem:
	json_decref(tools);
	json_decref(res);
	return moat_err_set(err, MOAT_ENOMEM, "out of memory");
}

enum moat_rc registry_grant_bind_port(struct registry *r, uint16_t port, struct moat_err *err)
{
	for (size_t i = 0; i < r->nbind_ports; i++)
		if (r->bind_ports[i] == port)
			return MOAT_OK;
	if (r->nbind_ports == sizeof(r->bind_ports) / sizeof(r->bind_ports[0]))
		return moat_err_set(err, MOAT_ELIMIT, "sandbox: more than 4 TCP ports to listen on");
	r->bind_ports[r->nbind_ports++] = port;
	return MOAT_OK;
}

size_t registry_bind_port_count(const struct registry *r)
{
	return r->nbind_ports;
}

uint16_t registry_bind_port_at(const struct registry *r, size_t i)
{
	return i < r->nbind_ports ? r->bind_ports[i] : 0;
}

/* What the C library's resolver reads after the sandbox is on. */
static const char *const resolver_files[] = {
	"/etc/hosts", "/etc/resolv.conf", "/etc/nsswitch.conf", "/etc/gai.conf", "/etc/host.conf",
};

enum moat_rc registry_grant_resolver(struct registry *r, struct moat_err *err)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
	enum moat_rc rc;

	/* Loads the resolver's configuration and NSS modules now. */
	if (getaddrinfo("localhost", NULL, &hints, &res) == 0)
		freeaddrinfo(res);
	for (size_t i = 0; i < sizeof(resolver_files) / sizeof(resolver_files[0]); i++) {
		int fd = open(resolver_files[i], O_PATH | O_CLOEXEC);
		if (fd < 0)
			continue;
		rc = registry_grant(r, resolver_files[i], fd, false, err);
		close(fd);
		if (rc)
			return rc;
	}
	return registry_grant_port(r, 53, err);
}
