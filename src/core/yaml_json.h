/*
 * yaml_json.h - YAML text to JSON values (jansson), for the files people
 * write in YAML that moat reads as data: the deploy/ manifests' checker
 * today, OpenAPI documents next.
 *
 * Only the JSON-compatible part of YAML is taken: mappings with scalar
 * keys (each key once), sequences and scalars. Plain scalars resolve as
 * YAML 1.2's core schema says (null, true/false, integers in decimal, 0o
 * octal and 0x hex, floats; everything else a string: "yes" and "on" are
 * strings, as in YAML 1.2); quoted and block scalars are strings; the
 * core schema's explicit tags (!!str, !!int, !!float, !!bool, !!null) are
 * honoured, any other tag is refused. By default aliases are refused (no
 * "billion laughs": one node is never counted twice); an anchor without an
 * alias is harmless and ignored. With expand_aliases (the OpenAPI
 * importer: real specs use anchors), an alias becomes a deep copy of its
 * anchor's node, and every node of every copy counts against max_nodes
 * and max_depth, charged before the copy is made: a billion-laughs
 * document fails at the budget ("aliases expand to more than N nodes") in
 * time and memory proportional to the budget, never to the expansion.
 * Merge keys ("<<: *base", "<<: [*a, *b]", YAML 1.1's merge type) are
 * honoured only with expand_aliases: the named mappings' keys are added
 * where the mapping does not set them itself (the mapping's own keys win,
 * then earlier merged mappings over later ones); without it "<<" stays an
 * ordinary key. A quoted '<<' is always an ordinary key. Depth, node count
 * and input size are capped. Every document of a stream is returned, in
 * order.
 */
#ifndef MOAT_CORE_YAML_JSON_H
#define MOAT_CORE_YAML_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* Caps; a zero field takes its default. */
struct yaml_json_limits {
	size_t max_bytes; /* input size (default 16 MiB) */
	size_t max_depth; /* nested mappings and sequences (default 64) */
	size_t max_nodes; /* scalars, mappings and sequences, all documents (default 1,000,000) */
	bool expand_aliases; /* aliases and "<<" merge keys expanded under max_nodes (default: refused) */
};

#define YAML_JSON_ERR_MAX 256

/*
 * yaml_to_json - parse buf[0..len) (UTF-8, UTF-16 with a BOM) into a new
 * JSON array holding one value per document (an empty stream: an empty
 * array). lim may be NULL (the defaults). On failure returns NULL with
 * err (at least YAML_JSON_ERR_MAX bytes, may be NULL) saying what and
 * where ("line 3, column 5: aliases are not supported"). The caller owns
 * the result (json_decref). Thread-safe (no shared state).
 */
json_t *yaml_to_json(const char *buf, size_t len, const struct yaml_json_limits *lim, char *err);

#endif
