/*
 * sql_result.h - a query result written as it arrives, in one pass: the
 * backend offers each row cell by cell, and every cell goes at once into
 * the JSON rows (written with jsonw into the buffer that becomes the
 * structuredContent) and into the line of the readable text table. No
 * jansson value is built per row or per cell (issue 17).
 *
 * The caps are applied while the backend steps: max_rows rows at most;
 * max_bytes on the compact JSON size of the rows (each row counted with a
 * comma), a row that would cross it dropped whole (the JSON and the table
 * line rewound to where the row began), and the caller told to stop. The
 * table stops adding lines once it is past its own cap, and ends with
 * "... N more rows in structuredContent", "(N rows[, truncated])" and the
 * note. The document is byte-identical to what the old tree builder gave
 * (tests/unit/test_sql_result.c compares them): {"columns":[{"name",
 * "type"}...],"rows":[...],"truncated","row_count"[,"note"],"database"
 * [,"affected_rows"]}.
 *
 * Order of calls: sql_result_init, sql_result_column for each column (a
 * type may still be set with sql_result_column_type until the first row
 * begins), then per row sql_result_row_begin, one sql_result_cell_* per
 * column, sql_result_row_end; then sql_result_document and
 * sql_result_table (or sql_result_rows for moat's own catalog queries).
 * Pure (no I/O); one result is used by one thread.
 */
#ifndef MOAT_PROVIDERS_SQL_SQL_RESULT_H
#define MOAT_PROVIDERS_SQL_SQL_RESULT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jsonw.h"
#include "result.h"
#include "wire.h"

struct sql_column {
	char *name; /* owned, valid UTF-8 */
	char *type; /* owned, valid UTF-8, or NULL (JSON null) */
};

/* A growable text buffer for the table; on ENOMEM it stops growing and
 * says so at the end. */
struct sql_tbuf {
	char *s;
	size_t len, cap;
	bool oom;
};

struct sql_result {
	struct sql_column *cols; /* owned */
	size_t ncols, cols_cap;
	struct wire_buf buf;     /* the document as far as it is written */
	struct jsonw w;
	bool started;            /* {"columns":[...],"rows":[ written */
	bool rows_closed;        /* the rows array's ] written */
	size_t rows_off, rows_end; /* where the rows array is in buf */
	struct sql_tbuf text;    /* the table so far */
	bool header;             /* the table's header written */
	/* the row being offered */
	struct jsonw_mark mark;
	size_t text_mark, row_len0, cell;
	bool in_row, row_text;
	bool oom;
	size_t nrows;
	size_t shown;            /* rows with a line in the table */
	size_t bytes;            /* compact JSON size of rows so far, a comma each */
	size_t max_rows;
	size_t max_bytes;
	size_t table_max;
	bool truncated;
	const char *why;         /* static: which cap cut the result, or NULL */
	int64_t affected;        /* write_query: rows changed; -1 = not a write */
};

/* sql_result_init - an empty result with these caps (0 = none): rows,
 * bytes of JSON rows, bytes of text table before its "... more rows". */
enum moat_rc sql_result_init(struct sql_result *r, size_t max_rows, size_t max_bytes,
			     size_t table_max, struct moat_err *err);

/* sql_result_column - append a column; name NULL is ""; type may be NULL
 * (JSON null). MOAT_ENOMEM (as the tree builder said) when either is not
 * valid UTF-8 or memory runs out. Only before the first row. */
enum moat_rc sql_result_column(struct sql_result *r, const char *name, const char *type,
			       struct moat_err *err);

/* sql_result_column_type - column i's type (a static name) where it is
 * still NULL; before the first row only, else ignored. */
void sql_result_column_type(struct sql_result *r, size_t i, const char *type);

/* sql_result_column_typed - column i has a type. */
bool sql_result_column_typed(const struct sql_result *r, size_t i);

/* sql_result_row_begin - a row starts; one cell per column follows. */
enum moat_rc sql_result_row_begin(struct sql_result *r, struct moat_err *err);

/* The cells, in column order. _text takes n bytes (NUL bytes allowed;
 * bytes that are not valid UTF-8 become U+FFFD, as the tree builder's
 * repair did); _json a jansson value (borrowed: PostgreSQL json). Each
 * returns false when memory ran out (sql_result_row_end then says so). */
bool sql_result_cell_null(struct sql_result *r);
bool sql_result_cell_i64(struct sql_result *r, int64_t v);
bool sql_result_cell_double(struct sql_result *r, double v);
bool sql_result_cell_bool(struct sql_result *r, bool v);
bool sql_result_cell_text(struct sql_result *r, const char *s, size_t n);
bool sql_result_cell_json(struct sql_result *r, const json_t *v);

/*
 * sql_result_row_end - the row is complete. MOAT_OK with *more true when
 * it was kept and another may follow; *more false when a cap was reached
 * (the row was dropped if it did not fit, truncated and why are set, and
 * the caller stops stepping). MOAT_ENOMEM on failure.
 */
enum moat_rc sql_result_row_end(struct sql_result *r, bool *more, struct moat_err *err);

/* sql_result_more - the caller found one more row after max_rows: mark
 * the result truncated by the row cap. */
void sql_result_more(struct sql_result *r);

/*
 * sql_result_document - the structuredContent: {columns, rows, truncated,
 * row_count[, note], database[, affected_rows when with_affected]} as
 * malloc'd JSON text (*len bytes, NUL after); the result's buffer is
 * taken. NULL on ENOMEM. Once per result.
 */
char *sql_result_document(struct sql_result *r, const char *database, bool with_affected,
			  size_t *len);

/*
 * sql_result_table - the readable text table: a header, a rule, one line
 * per row (NULL as NULL, cells cut at 80 bytes, controls shown as spaces,
 * '|' as '/'), then "... N more rows", "(N rows)" and the truncation note.
 * New string, caller frees (the result's text is taken); NULL on ENOMEM.
 * Once per result.
 */
char *sql_result_table(struct sql_result *r);

/* sql_result_rows - the rows as a jansson array (new reference; for
 * moat's own small catalog queries). NULL on ENOMEM. */
json_t *sql_result_rows(struct sql_result *r);

/* sql_result_column_name - column i's name, or NULL past the end. */
const char *sql_result_column_name(const struct sql_result *r, size_t i);

/* sql_result_free - release what r owns. Accepts NULL. */
void sql_result_free(struct sql_result *r);

#endif
