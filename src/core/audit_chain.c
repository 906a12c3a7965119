/*
 * audit_chain.c - hashing, last-line reading, trail listing and chain
 * verification for the audit trail (see audit_chain.h).
 *
 * SHA-256 is Nettle's (the library GnuTLS computes its hashes with):
 * linking it costs a start-up about 0.3 ms, where OpenSSL's libcrypto cost
 * 3.5 ms of relocations on every `moat` start, audited or not.
 */
#include "audit_chain.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char audit_zero_hash[AUDIT_HEX_LEN + 1] =
	"0000000000000000000000000000000000000000000000000000000000000000";

int audit_hash_line(const char *line, size_t len, char out[AUDIT_HEX_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[SHA256_DIGEST_SIZE];
	struct sha256_ctx ctx;

	sha256_init(&ctx);
	sha256_update(&ctx, len, (const uint8_t *)line);
	sha256_digest(&ctx, sizeof(md), md);
	for (unsigned i = 0; i < sizeof(md); i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[AUDIT_HEX_LEN] = '\0';
	return 0;
}

/* Hash the last line within the last want bytes of fd (size bytes long).
 * 1 when it was found, 0 when the window holds no line start (grow it),
 * -1 on error. */
static int tail_window(int fd, off_t size, size_t want, char out[AUDIT_HEX_LEN + 1],
		       bool *ends_nl)
{
	char *buf = malloc(want);
	size_t end, start;
	ssize_t got;
	int ret = -1;

	if (!buf)
		return -1;
	got = pread(fd, buf, want, size - (off_t)want);
	if (got != (ssize_t)want) {
		if (got >= 0)
			errno = EIO;
		goto out;
	}
	end = want;
	*ends_nl = buf[end - 1] == '\n';
	if (*ends_nl)
		end--;
	start = end;
	while (start > 0 && buf[start - 1] != '\n')
		start--;
	if (start == 0 && want < (size_t)size) {
		ret = 0; /* the line may begin before the window */
		goto out;
	}
	audit_hash_line(buf + start, end - start, out);
	ret = 1;
out:
	free(buf);
	return ret;
}

int audit_tail_hash_fd(int fd, char out[AUDIT_HEX_LEN + 1], bool *found, bool *ends_nl)
{
	/* One byte more than the longest line, plus the newline before it. */
	const size_t bound = AUDIT_LINE_MAX + 2;
	struct stat st;
	size_t want;
	int r;

	*found = false;
	*ends_nl = true;
	if (fstat(fd, &st) != 0)
		return -1;
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		return -1;
	}
	if (st.st_size == 0)
		return 0;
	/* A record is a few hundred bytes: read 8 KiB, more only if needed. */
	for (want = 8192;; want = bound) {
		if (want > (size_t)st.st_size)
			want = (size_t)st.st_size;
		r = tail_window(fd, st.st_size, want, out, ends_nl);
		if (r != 0 || want == bound || want == (size_t)st.st_size)
			break;
	}
	if (r == 0)
		errno = EFBIG; /* the last line is longer than any record */
	if (r <= 0)
		return -1;
	*found = true;
	return 0;
}

int audit_tail_hash(int dirfd, const char *name, char out[AUDIT_HEX_LEN + 1], bool *found,
		    bool *ends_nl)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), ret, e;

	*found = false;
	*ends_nl = true;
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	ret = audit_tail_hash_fd(fd, out, found, ends_nl);
	e = errno;
	close(fd);
	errno = e;
	return ret;
}

/* ---- the files of a trail ----------------------------------------------- */

bool audit_dir_of(const char *path, char *dir, size_t size)
{
	const char *slash = strrchr(path, '/');
	size_t n = slash ? (size_t)(slash - path) : 0;

	if (!slash || size < 2 || n >= size)
		return false;
	if (n == 0)
		n = 1; /* the root directory keeps its '/' */
	memcpy(dir, path, n);
	dir[n] = '\0';
	return true;
}

bool audit_dir_own(const char *path)
{
	char dir[4096];
	const char *slash = strrchr(path, '/'), *base;
	size_t blen;
	struct dirent *de;
	bool own = true;
	DIR *d;

	if (!slash || slash == path || !audit_dir_of(path, dir, sizeof(dir)))
		return false; /* never the root directory */
	base = slash + 1;
	blen = strlen(base);
	if (!(d = opendir(dir)))
		return errno == ENOENT;
	while (own && (de = readdir(d)) != NULL) {
		const char *n = de->d_name;
		if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0 || strcmp(n, base) == 0)
			continue;
		own = strncmp(n, base, blen) == 0 && n[blen] == '.' && n[blen + 1] != '\0' &&
		      strspn(n + blen + 1, "0123456789") == strlen(n + blen + 1);
	}
	closedir(d);
	return own;
}

void audit_files_free(struct audit_files *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n; i++)
		free(f->paths[i]);
	free(f->paths);
	memset(f, 0, sizeof(*f));
}

enum moat_rc audit_files_list(const char *path, struct audit_files *out, struct moat_err *err)
{
	char name[4096];
	unsigned top = 0;
	struct stat st;

	memset(out, 0, sizeof(*out));
	/* Rotation keeps path.1 .. path.keep without gaps; find the highest. */
	for (unsigned i = 1; i <= AUDIT_KEEP_MAX; i++) {
		if ((size_t)snprintf(name, sizeof(name), "%s.%u", path, i) >= sizeof(name))
			return moat_err_set(err, MOAT_EINVAL, "audit: path too long: %s", path);
		if (stat(name, &st) != 0)
			break;
		top = i;
	}
	out->paths = calloc((size_t)top + 1, sizeof(*out->paths));
	if (!out->paths)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	for (unsigned i = top; i >= 1; i--) {
		snprintf(name, sizeof(name), "%s.%u", path, i);
		if (!(out->paths[out->n++] = strdup(name)))
			goto oom;
	}
	if (!(out->paths[out->n++] = strdup(path)))
		goto oom;
	return MOAT_OK;
oom:
	audit_files_free(out);
	return moat_err_set(err, MOAT_ENOMEM, "out of memory");
}

/* ---- verification -------------------------------------------------------- */

/* Check one line against the hash of the line before (expect, or NULL for
 * the first line of all). Fills v->why and returns false on a break. */
static bool verify_line(const char *line, size_t len, const char *expect,
			struct audit_verdict *v)
{
	json_error_t jerr;
	json_t *rec = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	json_t *prev = json_object_get(rec, "prev");
	bool ok = false;

	if (!json_is_object(rec)) {
		snprintf(v->why, sizeof(v->why), "not a JSON record (%s)",
			 rec ? "not an object" : jerr.text);
	} else if (!json_is_string(prev) || json_string_length(prev) != AUDIT_HEX_LEN) {
		snprintf(v->why, sizeof(v->why), "no \"prev\" hash");
	} else if (!expect) {
		v->from_start = strcmp(json_string_value(prev), audit_zero_hash) == 0;
		ok = true;
	} else if (strcmp(json_string_value(prev), expect) != 0) {
		v->why[0] = '\0'; /* audit_verify says which line it should match */
	} else {
		ok = true;
	}
	json_decref(rec);
	return ok;
}

enum moat_rc audit_verify(const char *const *files, size_t n, struct audit_verdict *v,
			  struct moat_err *err)
{
	char hash[AUDIT_HEX_LEN + 1];
	const char *prev_file = "the file before";
	bool have = false;
	enum moat_rc rc = MOAT_OK;
	char *line = NULL;
	size_t cap = 0;

	memset(v, 0, sizeof(*v));
	v->intact = true;
	for (size_t f = 0; f < n && v->intact; f++) {
		FILE *in = fopen(files[f], "re");
		size_t lineno = 0;
		ssize_t len;

		if (!in) {
			rc = moat_err_set(err, MOAT_EIO, "%s: %s", files[f], strerror(errno));
			goto out;
		}
		while ((len = getline(&line, &cap, in)) >= 0) {
			lineno++;
			if (len > 0 && line[len - 1] == '\n')
				len--;
			if ((size_t)len > AUDIT_LINE_MAX) {
				snprintf(v->why, sizeof(v->why), "line longer than %u bytes",
					 AUDIT_LINE_MAX);
			} else if (verify_line(line, (size_t)len, have ? hash : NULL, v)) {
				audit_hash_line(line, (size_t)len, hash);
				have = true;
				v->lines++;
				continue;
			}
			v->intact = false;
			v->bad_file = f;
			v->bad_line = lineno;
			if (v->why[0])
				break;
			if (lineno > 1)
				snprintf(v->why, sizeof(v->why),
					 "prev does not match line %zu: line %zu was edited, or lines "
					 "were removed or reordered here", lineno - 1, lineno - 1);
			else
				snprintf(v->why, sizeof(v->why),
					 "prev does not match the last line of %.150s: that line was "
					 "edited, or lines were removed or reordered here", prev_file);
			break;
		}
		if (ferror(in) && v->intact)
			rc = moat_err_set(err, MOAT_EIO, "%s: read error", files[f]);
		if (lineno > 0)
			prev_file = files[f];
		fclose(in);
		if (rc)
			goto out;
	}
out:
	free(line);
	return rc;
}
