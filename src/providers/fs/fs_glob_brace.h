/*
 * fs_glob_brace.h - brace expansion, internal to the glob matcher
 * (fs_glob.c, fs_glob_brace.c). Thread-safe: pure functions.
 */
#ifndef MOAT_PROVIDERS_FS_FS_GLOB_BRACE_H
#define MOAT_PROVIDERS_FS_FS_GLOB_BRACE_H

#include <stdbool.h>
#include <stddef.h>

#include "fs_glob.h"

/* Brace expansion recursion (one level per group expanded in sequence). */
#define GLOB_MAX_BRACE_STEPS 32

/* A list of strings, each owned by the list. */
struct fs_strlist {
	char **v;
	size_t n;
	size_t bytes;  /* total length of v's strings */
	bool too_many; /* FS_GLOB_MAX_EXPANSIONS or _EXPANDED_BYTES passed */
	bool too_deep; /* GLOB_MAX_BRACE_STEPS passed */
};

/* fs_strlist_free - free every string and the array; l is left empty. */
void fs_strlist_free(struct fs_strlist *l);

/*
 * fs_brace_expand - append the expansions of pat (borrowed) to out; depth
 * is 0 from outside. Stops at the bounds with out->too_many or
 * out->too_deep set (out then holds a partial list to free); a failed
 * allocation drops results silently (the caller sees fewer).
 */
void fs_brace_expand(const char *pat, struct fs_strlist *out, int depth);

#endif
