/*
 * audit_chain.h - the audit trail's hash chain, shared by the writer
 * (audit.c) and the `moat audit` command: hashing a line, reading the last
 * line of a file (bounded), listing a trail's rotated files, and verifying
 * that every line's "prev" is the SHA-256 of the line before it.
 *
 * A line's hash is the SHA-256 of its bytes without the newline, written as
 * 64 lowercase hex digits. The first line of a new trail has a prev of 64
 * zeros. SHA-256 comes from Nettle (GnuTLS's hash library); nothing here
 * is hand-written cryptography. Every function is thread-safe.
 */
#ifndef MOAT_CORE_AUDIT_CHAIN_H
#define MOAT_CORE_AUDIT_CHAIN_H

#include <stdbool.h>
#include <stddef.h>

#include "result.h"

#define AUDIT_HEX_LEN 64
/* The longest line the readers accept (the writer never writes one longer). */
#define AUDIT_LINE_MAX (256u * 1024u)
/* Rotated files looked for beside a trail (path.1 .. path.AUDIT_KEEP_MAX). */
#define AUDIT_KEEP_MAX 1000u

/* The prev of a trail's first line: 64 '0' and a NUL. */
extern const char audit_zero_hash[AUDIT_HEX_LEN + 1];

/* audit_hash_line - hex SHA-256 of line[0..len) into out (65 bytes, NUL
 * terminated). Returns 0. */
int audit_hash_line(const char *line, size_t len, char out[AUDIT_HEX_LEN + 1]);

/*
 * audit_tail_hash - the hash of the last line of the file name in dirfd
 * (dirfd may be AT_FDCWD), reading at most AUDIT_LINE_MAX bytes from its
 * end. *found is false when the file is missing or empty (out untouched);
 * *ends_nl says whether the file ends with a newline (a crash mid-write
 * leaves a partial last line, whose bytes are hashed as they are). Returns
 * 0, or -1 with errno on a read error or a last line longer than the bound.
 */
int audit_tail_hash(int dirfd, const char *name, char out[AUDIT_HEX_LEN + 1], bool *found,
		    bool *ends_nl);

/* audit_tail_hash_fd - the same through an fd open for reading (pread;
 * the file offset is not moved). */
int audit_tail_hash_fd(int fd, char out[AUDIT_HEX_LEN + 1], bool *found, bool *ends_nl);

/*
 * audit_dir_of - write the directory holding the file path into dir
 * (size bytes): "/" for a file in the root. False when path holds no '/'
 * or the directory does not fit. Pure; thread-safe.
 */
bool audit_dir_of(const char *path, char *dir, size_t size);

/*
 * audit_dir_own - true when the directory of path holds nothing but the
 * trail (path's name and its rotated path.N), or does not exist yet.
 * Only then may the sandbox grant it what rotation needs: Landlock rights
 * on a directory cover every file beneath it, and rights to create,
 * write and remove in, say, the home directory would let a compromised
 * moat rewrite ~/.bashrc. Reads the directory: call it before the sandbox.
 */
bool audit_dir_own(const char *path);

/* A trail: its files, oldest first (path.N ... path.1, path). */
struct audit_files {
	char **paths; /* owned */
	size_t n;
};

/* audit_files_list - the rotated files of path that exist, oldest first,
 * then path itself (listed even when missing). Free with audit_files_free. */
enum moat_rc audit_files_list(const char *path, struct audit_files *out, struct moat_err *err);

/* audit_files_free - release what out owns; NULL ok. */
void audit_files_free(struct audit_files *f);

/* What audit_verify found. */
struct audit_verdict {
	bool intact;            /* every line chains to the one before */
	bool from_start;        /* the first line has the zero prev */
	size_t lines;           /* lines checked */
	size_t bad_file;        /* index into the files of the first break */
	size_t bad_line;        /* 1-based line in that file */
	char why[256];          /* what is wrong there */
};

/*
 * audit_verify - check the chain across files (chronological order, each
 * continuing the one before). The first line's prev is taken as given (an
 * older file may have been rotated away); every later line must carry the
 * hash of the line before it. Stops at the first break. Returns MOAT_OK
 * when the files could be read (look at v->intact), MOAT_EIO otherwise
 * (err names the file).
 */
enum moat_rc audit_verify(const char *const *files, size_t n, struct audit_verdict *v,
			  struct moat_err *err);

#endif
