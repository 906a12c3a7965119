/*
 * fs_glob.h - the minimatch-compatible glob matcher search_files,
 * grep_files' include and directory_tree's excludePatterns share
 * (fs_glob.c), with every limit that keeps one pattern's cost bounded.
 *
 * A compiled pattern is immutable: several threads may match with it at
 * once. Matching never recurses or works without bound: a pattern longer
 * than FS_GLOB_MAX_LEN, nested deeper than FS_GLOB_MAX_NESTING or expanding
 * to too much is refused when compiled; a match counts every step (loop
 * turns and scanned bytes), polls the call's deadline and cancellation, and
 * fails - never answers - once FS_GLOB_MAX_STEPS are spent.
 */
#ifndef MOAT_PROVIDERS_FS_FS_GLOB_H
#define MOAT_PROVIDERS_FS_FS_GLOB_H

#include <stdbool.h>
#include <stddef.h>

#include "callctx.h"
#include "result.h"

/* Longest pattern accepted, in bytes (limits.glob_length). */
#define FS_GLOB_MAX_LEN 4096
/* Deepest nesting of extglob parentheses or of braces (limits.glob_depth). */
#define FS_GLOB_MAX_NESTING 16
/* Most patterns brace expansion may give, and their total size
 * (limits.glob_expansions). */
#define FS_GLOB_MAX_EXPANSIONS 1024
#define FS_GLOB_MAX_EXPANDED_BYTES ((size_t)256 * 1024)
/* Most path segments in one expansion (limits.glob_segments). */
#define FS_GLOB_MAX_SEGS 256
/* Work one match may do: loop turns plus bytes scanned (limits.glob_steps). */
#define FS_GLOB_MAX_STEPS ((size_t)1 << 20)
/* Deepest recursion of the segment matcher (limits.glob_depth): one level
 * per '*' run or extglob entered, per '+(' repetition. Keeps the stack a
 * match uses to FS_GLOB_MAX_RECURSION small frames (well under 1 MiB even
 * with the sanitizers), whatever the pattern; fuzz_glob runs it under a
 * 2 MiB stack limit. */
#define FS_GLOB_MAX_RECURSION 512

struct fs_glob;

/*
 * fs_glob_compile - compile pattern (a NUL-terminated string, borrowed).
 * *out is owned by the caller (fs_glob_free). Fails with MOAT_ELIMIT and a
 * rule id (limits.glob_length, limits.glob_depth, limits.glob_expansions,
 * limits.glob_segments) naming the limit, or MOAT_ENOMEM. Thread-safe.
 */
enum moat_rc fs_glob_compile(const char *pattern, struct fs_glob **out, struct moat_err *err);

/*
 * fs_glob_match - does path (relative, '/'-separated) match g? On MOAT_OK
 * *hit holds the answer. Fails with MOAT_ELIMIT (limits.glob_steps or
 * limits.glob_depth) when the match would cost more than the bounds, or
 * with what callctx_check(ctx) returns (ctx may be NULL: no deadline);
 * *hit is then false and must not be used - an unfinished match is never
 * an answer, negated or not. Thread-safe for a shared g.
 */
enum moat_rc fs_glob_match(const struct fs_glob *g, const char *path, struct call_ctx *ctx,
			   bool *hit, struct moat_err *err);

/* fs_glob_free - release g. NULL ok. */
void fs_glob_free(struct fs_glob *g);

/* Most patterns one list argument (excludePatterns) may hold
 * (limits.glob_patterns). */
#define FS_GLOB_MAX_PATTERNS 64

/* A list of compiled patterns, owned by one call. Zero-initialise. */
struct fs_globs {
	struct fs_glob **v;
	size_t n;
};

/*
 * fs_globs_add - compile pattern as entry idx of the argument named what
 * ("excludePatterns") and append it. Errors name the entry
 * ("excludePatterns/2: longer than ...") and keep fs_glob_compile's rule;
 * an idx of FS_GLOB_MAX_PATTERNS or more is refused (limits.glob_patterns).
 */
enum moat_rc fs_globs_add(struct fs_globs *gs, const char *pattern, const char *what, size_t idx,
			  struct moat_err *err);

/* fs_globs_any - does any pattern of gs match path? As fs_glob_match. */
enum moat_rc fs_globs_any(const struct fs_globs *gs, const char *path, struct call_ctx *ctx,
			  bool *hit, struct moat_err *err);

/* fs_globs_free - release every pattern; gs is left empty. */
void fs_globs_free(struct fs_globs *gs);

#endif
