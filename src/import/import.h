/*
 * import.h - `moat import openapi`: an API's OpenAPI description (3.0,
 * 3.1, or Swagger 2.0; JSON or YAML) turned into an "http.apis.NAME"
 * config section for a person to review, then served by the http family
 * with everything it enforces.
 *
 * The import is a pure function of the document's bytes and the options:
 * the same input gives a byte-identical section (object members in a fixed
 * order, operations in document order, names made unique the same way
 * every run). Nothing is fetched: an external $ref is refused by name.
 * Every cost is capped (document size, YAML nodes and alias expansion,
 * $ref chains, schema depth and nodes per tool, text lengths), so a
 * hostile document ends in a clear error in bounded time and memory.
 *
 * Safe by default: only GET and HEAD operations unless allow_writes (then
 * each write tool gets "confirm": true); at most max_tools tools, beyond
 * which the import refuses with the count and the tags (unless grouped:
 * three tools, four with writes, in front of an "operations" list). Text
 * that reaches the model (titles, descriptions, schema descriptions) is
 * trimmed to a bound with control, zero-width and bidirectional-override
 * characters removed. Credentials become "${NAME_API_KEY}"-style
 * placeholders; no literal secret is ever written.
 *
 * Files: import.c (this interface: selection, assembly), openapi_doc.c
 * (loading, versions; Swagger 2.0 normalised in openapi_swagger2.c),
 * openapi_ref.c and openapi_schema.c ($refs, schema inlining under caps),
 * import_text.c (sanitised text),
 * import_names.c (tool and argument names), import_op.c (one operation to
 * one tool; parameters in import_params.c, the response in
 * import_resp.c), import_base.c (base_url), import_security.c (securitySchemes to headers/query),
 * import_grouped.c (the grouped form). The command line is
 * src/cli/cli_import.c; merging into an existing config import_merge.c.
 */
#ifndef MOAT_IMPORT_IMPORT_H
#define MOAT_IMPORT_IMPORT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "result.h"

#define IMPORT_DEFAULT_MAX_TOOLS 40

/* A selection pattern list: globs (fnmatch, no FNM_PATHNAME) matched
 * against an operation's operationId, its path, or (pattern "tag:NAME")
 * one of its tags. Strings borrowed. */
struct import_globs {
	const char *const *v;
	size_t n;
};

struct import_opts {
	const char *name;           /* --name: the API's name, ^[a-z][a-z0-9_]{0,31}$;
				       tool names start with it ("crm_get_contact") */
	const char *base_url;       /* --base-url, or NULL: from servers[0] */
	const char *const *server_vars; /* --server-var k=v (n of them) */
	size_t nserver_vars;
	struct import_globs include; /* --include: keep only these (empty: all) */
	struct import_globs exclude; /* --exclude: drop these (wins over include) */
	struct import_globs tags;    /* --tag NAME: keep only operations with one of these tags */
	bool allow_writes;           /* --allow-writes: POST, PUT, PATCH, DELETE too */
	bool grouped;                /* --grouped: NAME_operations, NAME_operation_schema, NAME_call */
	bool output_schemas;         /* --output-schemas: output_schema from the success response */
	size_t max_tools;            /* --max-tools (0: IMPORT_DEFAULT_MAX_TOOLS) */
	const char *const *allow_addresses; /* --allow-address ADDR|CIDR (n of them):
				       written as the API's "allow_addresses", for an
				       internal or loopback upstream; never guessed */
	size_t nallow_addresses;
};

/* One operation of the document, selected or not (what --list prints). */
struct import_op {
	char *method;       /* "GET", ... upper case */
	char *path;         /* the document's path template, "/contacts/{id}" */
	char *operation_id; /* sanitised for printing (control chars removed), or NULL */
	char *tag;          /* first tag, sanitised, or NULL */
	char *tool;         /* the tool (or grouped operation) name it gets */
	bool write;         /* not GET/HEAD */
	bool selected;      /* in the section */
	char *why;          /* not selected, or skipped: why ("write: needs --allow-writes",
			       "excluded by --exclude", "multipart upload not supported");
			       NULL when selected */
};

struct import_result {
	json_t *section;          /* the "http.apis.NAME" value (owned); NULL on refusal */
	struct import_op *ops;    /* every operation, document order (owned) */
	size_t nops;
	size_t ntools;            /* tools (or grouped operations) in the section */
	char **env;               /* environment variables the section reads, sorted, NULL-terminated */
	char **notes;             /* what a reviewer should know (cut schemas, skipped
				     operations, placeholders to set), NULL-terminated;
				     also written into the section's "$comment" */
	char *title;              /* info.title, sanitised, or NULL */
	char *version;            /* "3.0.3", "3.1.0", "2.0" */
};

/*
 * import_openapi - import the document buf[0..len) (JSON or YAML, at most
 * 64 MiB) under opts. On success fills *out (the caller frees it with
 * import_result_free) and returns MOAT_OK. A refusal (not OpenAPI, an
 * unsupported version, an external $ref, a cap reached, more than
 * max_tools tools, no operation selected) returns an error whose message
 * says what and how to fix it, with a rule id ("import.external_ref",
 * "import.too_many_tools", ...; docs/import.md lists them); out->ops is
 * still filled when the operations could be read, so --list works on a
 * document that would be refused. Thread-safe (no shared state).
 */
enum moat_rc import_openapi(const char *buf, size_t len, const struct import_opts *opts,
			    struct import_result *out, struct moat_err *err);

/* import_result_free - free what *r owns and zero it. Accepts NULL. */
void import_result_free(struct import_result *r);

/*
 * import_section_text - the section as text: 2-space indented JSON,
 * members in the section's order, ending in a newline; deterministic.
 * Returns a malloc'd string (the caller frees) or NULL on ENOMEM.
 */
char *import_section_text(const json_t *section);

#endif
