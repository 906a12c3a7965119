/*
 * fs_util.h - helpers the fs tools share: reading a whole file within a
 * bound, UTF-8 validation, base64, MIME sniffing with libmagic, file:// URIs.
 * Thread-safe.
 */
#ifndef MOAT_PROVIDERS_FS_FS_UTIL_H
#define MOAT_PROVIDERS_FS_FS_UTIL_H

#include <stdbool.h>
#include <stddef.h>

#include "fs.h"

/*
 * fs_read_all - read the whole of fd (a regular file of size hint bytes)
 * into a new NUL-terminated buffer, refusing more than max bytes (the
 * file may grow while read). Caller frees *buf. Polls ctx between chunks.
 */
enum moat_rc fs_read_all(int fd, size_t max, struct call_ctx *ctx, char **buf, size_t *len,
			 struct moat_err *err);

/* fs_utf8_valid - true when buf[0..len) is valid UTF-8 without NUL bytes. */
bool fs_utf8_valid(const char *buf, size_t len);


/* fs_mime - the MIME type libmagic sees in buf (under fs->magic_lock),
 * written into out (size n); "application/octet-stream" when unknown. */
void fs_mime(struct fs *fs, const void *buf, size_t len, char *out, size_t n);

/* fs_file_uri - the file:// URI of an absolute path into out (size n),
 * percent-encoding what a URL path may not hold, as Node's pathToFileURL
 * does. MOAT_EINVAL when it does not fit. */
enum moat_rc fs_file_uri(const char *abs, char *out, size_t n, struct moat_err *err);

#endif
