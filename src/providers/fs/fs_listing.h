/*
 * fs_listing.h - pieces the listing and search tools share: a bounded
 * output buffer that stops at the call's output budget and carries cut
 * notes (fs_list.c), a directory reader that never follows symlinks
 * (fs_list.c); the glob matcher they share is fs_glob.h.
 * Each object belongs to one call; nothing here is shared across threads.
 */
#ifndef MOAT_PROVIDERS_FS_FS_LISTING_H
#define MOAT_PROVIDERS_FS_FS_LISTING_H

#include <stdbool.h>
#include <stddef.h>

#include "fs.h"
#include "fs_glob.h"

struct fs_out {
	char *buf;     /* NUL-terminated text; owned */
	size_t len;
	size_t cap;
	size_t cost;   /* wire bytes buf[0..counted) will take (escaped, sent twice) */
	size_t counted; /* the rest is counted only when the budget gets near */
	size_t budget; /* cost allowed before fs_out_add refuses */
	bool oom;
	char notes[1024]; /* cut notes, appended by fs_out_finish */
};
void fs_out_init(struct fs_out *o, size_t output_budget);
bool fs_out_add(struct fs_out *o, const char *s, size_t n);
bool fs_out_fits(struct fs_out *o, size_t n, size_t reserve);
void fs_out_note(struct fs_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
enum moat_rc fs_out_finish(struct fs_out *o, struct tool_result *out, struct moat_err *err);
void fs_out_free(struct fs_out *o);
size_t fs_utf8_clean(const char *s, size_t n, char *dst, size_t cap);
struct fs_dirent {
	char *name;
	unsigned char type; /* DT_*, resolved with fstatat(AT_SYMLINK_NOFOLLOW) */
};
struct fs_dirents {
	struct fs_dirent *v;
	size_t n;
	bool cut; /* more than cap entries */
};
enum moat_rc fs_dirents_read(int dirfd, size_t cap, struct fs_dirents *d, struct moat_err *err);
void fs_dirents_free(struct fs_dirents *d);
int fs_open_listable(const struct fs_target *t, struct moat_err *err);
bool fs_join(char *dst, size_t n, const char *a, const char *b);

#endif
