/*
 * fs_diff.h - line-based unified diffs for edit_file.
 *
 * The output is byte-for-byte what the reference filesystem server prints:
 * it calls the `diff` npm package's createTwoFilesPatch(name, name, a, b,
 * "original", "modified"), so fs_diff_unified() tokenizes lines the same
 * way, runs the same Myers variant with the same tie-breaking, and formats
 * the same "Index:" / "===" / "---" / "+++" header, "@@ -a,b +c,d @@" hunks
 * and "\ No newline at end of file" markers. Work and memory are bounded:
 * past fs_diff_opts.max_work the exact search gives way to a coarse (still
 * correct, not minimal) diff; past max_lines or max_bytes the call fails
 * with MOAT_ELIMIT. Pure and thread-safe (no global state).
 */
#ifndef MOAT_PROVIDERS_FS_FS_DIFF_H
#define MOAT_PROVIDERS_FS_FS_DIFF_H

#include <stdbool.h>
#include <stddef.h>

#include "result.h"

/* Polled during long work; a non-OK return (with err filled) stops the diff. */
typedef enum moat_rc (*fs_diff_check_fn)(void *arg, struct moat_err *err);

struct fs_diff_opts {
	unsigned context;       /* lines of context around changes (the reference: 4) */
	size_t max_bytes;       /* longest diff text accepted; 0 = FS_DIFF_DEFAULT_MAX_BYTES */
	size_t max_lines;       /* most lines of a + b; 0 = FS_DIFF_DEFAULT_MAX_LINES */
	size_t max_work;        /* exact-search steps (nodes: a 16th); 0 = the default */
	fs_diff_check_fn check; /* may be NULL */
	void *check_arg;
};

#define FS_DIFF_REFERENCE_CONTEXT 4u
#define FS_DIFF_DEFAULT_MAX_BYTES ((size_t)16 << 20)
#define FS_DIFF_DEFAULT_MAX_LINES ((size_t)2 << 20)
#define FS_DIFF_DEFAULT_MAX_WORK ((size_t)1 << 24)

/*
 * fs_diff_unified - the unified diff of a (alen bytes, "original") against
 * b (blen bytes, "modified"), headed with name. Inputs may hold any bytes;
 * lines end at '\n'. On MOAT_OK *out is a NUL-terminated string of *outlen
 * bytes owned by the caller (free()); *coarse (may be NULL) says whether the
 * work bound forced the non-minimal fallback. On failure *out is NULL and
 * err says why: MOAT_ELIMIT (too many lines, diff too long), MOAT_ENOMEM,
 * or what opts->check returned.
 */
enum moat_rc fs_diff_unified(const char *name, const char *a, size_t alen, const char *b,
			     size_t blen, const struct fs_diff_opts *opts, char **out,
			     size_t *outlen, bool *coarse, struct moat_err *err);

/*
 * fs_diff_fence - wrap diff (len bytes) the way the reference does:
 * "```diff\n" + diff + "```\n\n", with one more backtick than the longest
 * run of backticks inside (at least three). *out is caller-owned (free()),
 * NUL-terminated, *outlen bytes. MOAT_ENOMEM on allocation failure.
 */
enum moat_rc fs_diff_fence(const char *diff, size_t len, char **out, size_t *outlen,
			   struct moat_err *err);

#endif
