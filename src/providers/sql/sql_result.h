/*
 * sql_result.h - a query result as it is built: the columns, the rows the
 * caps let through, and why it stopped; and its readable text table.
 *
 * The caps are applied while the backend steps: sql_result_row() refuses
 * a row once max_rows rows are in or when the row would take the JSON
 * past max_bytes, and says so, so the backend stops stepping at once.
 * Pure (no I/O); one result is used by one thread.
 */
#ifndef MOAT_PROVIDERS_SQL_SQL_RESULT_H
#define MOAT_PROVIDERS_SQL_SQL_RESULT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "result.h"

struct sql_result {
	json_t *columns;      /* [{name, type}]; owned */
	json_t *rows;         /* [[...]]; owned */
	size_t nrows;
	size_t bytes;         /* compact JSON size of rows so far */
	size_t max_rows;
	size_t max_bytes;
	bool truncated;
	const char *why;      /* static: which cap cut the result, or NULL */
	int64_t affected;     /* write_query: rows changed; -1 = not a write */
};

/* sql_result_init - an empty result with these caps (0 = none). */
enum moat_rc sql_result_init(struct sql_result *r, size_t max_rows, size_t max_bytes,
			     struct moat_err *err);

/* sql_result_column - append a column; type may be NULL (JSON null). */
enum moat_rc sql_result_column(struct sql_result *r, const char *name, const char *type,
			       struct moat_err *err);

/*
 * sql_result_row - offer a row (an array; stolen). Returns MOAT_OK with
 * *more true when it was kept and another may follow; *more false when a
 * cap was reached (the row was dropped if it did not fit, truncated and
 * why are set, and the caller stops stepping). MOAT_ENOMEM on failure.
 */
enum moat_rc sql_result_row(struct sql_result *r, json_t *row, bool *more, struct moat_err *err);

/* sql_result_more - the caller found one more row after max_rows: mark
 * the result truncated by the row cap. */
void sql_result_more(struct sql_result *r);

/* sql_result_json - {columns, rows, truncated, row_count[, note]} (new
 * reference; the result keeps its own). NULL on ENOMEM. */
json_t *sql_result_json(const struct sql_result *r);

/*
 * sql_result_table - the readable text table: a header, a rule, one line
 * per row (NULL as NULL, cells cut at 80 characters, newlines shown as
 * spaces), then "(N rows)" and the truncation note. At most max_bytes of
 * table before a "... more rows" line. New string; caller frees; NULL on
 * ENOMEM.
 */
char *sql_result_table(const struct sql_result *r, size_t max_bytes);

/* sql_result_free - release what r owns. Accepts NULL. */
void sql_result_free(struct sql_result *r);

#endif
