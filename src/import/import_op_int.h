/*
 * import_op_int.h - what import_op.c and import_params.c share while one
 * operation becomes one tool: the state being built and its helpers.
 * Private to src/import/. Not thread-safe per state (one per operation).
 */
#ifndef MOAT_IMPORT_IMPORT_OP_INT_H
#define MOAT_IMPORT_IMPORT_OP_INT_H

#include <jansson.h>
#include <stddef.h>

#include "import_op.h"

#define OP_WHY_MAX 400

struct opb {
	struct import_ctx *c;
	const struct import_op_in *in;
	char *where;    /* "GET /path", sanitised, for notes */
	json_t *taken;  /* argument names used */
	json_t *props;  /* input_schema.properties */
	json_t *req;    /* input_schema.required */
	json_t *query;  /* query template */
	json_t *headers; /* header template */
	json_t *pathargs; /* path parameter name -> argument name */
	char why[OP_WHY_MAX];
};

/* import_op_skip - record why the operation is skipped (b->why); MOAT_OK. */
enum moat_rc import_op_skip(struct opb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* import_op_short - s (may be NULL) as one sanitised line of at most 120
 * bytes for a note; malloc'd, NULL on ENOMEM. */
char *import_op_short(const char *s);

/* import_notes_back_to - drop the notes added since notes held n. */
void import_notes_back_to(json_t *notes, size_t n);

/*
 * import_op_arg - add an argument named after pname (unique in b) with
 * schema (stolen, also on error), desc (may be NULL) as its description
 * when it has none, required or not; *argout its name (malloc'd).
 */
enum moat_rc import_op_arg(struct opb *b, const char *pname, json_t *schema, const char *desc,
			   bool required, char **argout);

/* import_op_params - every parameter of the operation (see import_params.c). */
enum moat_rc import_op_params(struct opb *b, struct moat_err *err);

/* import_op_path - the tool's path template (*out malloc'd); a fixed
 * query part of the document's path goes to b->query. */
enum moat_rc import_op_path(struct opb *b, char **out);

#endif
