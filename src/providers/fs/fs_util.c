/*
 * fs_util.c - bounded whole-file reads, UTF-8 validation, base64, MIME sniffing.
 */
#include "fs_util.h"

#include <errno.h>
#include <magic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum moat_rc fs_read_all(int fd, size_t max, struct call_ctx *ctx, char **buf, size_t *len,
			 struct moat_err *err)
{
	size_t cap = 64 * 1024, n = 0;
	char *b = malloc(cap + 1);
	enum moat_rc rc = MOAT_OK;

	*buf = NULL;
	*len = 0;
	if (!b)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	for (;;) {
		if (ctx && (rc = callctx_check(ctx, err)))
			goto out;
		if (n == cap) {
			if (cap > max) {
				rc = moat_err_set(err, MOAT_ELIMIT,
						  "file is larger than fs.max_file_size (%zu bytes)", max);
				goto out;
			}
			size_t ncap = cap * 2;
			char *nb = realloc(b, ncap + 1);
			if (!nb) {
				rc = moat_err_set(err, MOAT_ENOMEM, "out of memory");
				goto out;
			}
			b = nb;
			cap = ncap;
		}
		ssize_t r = read(fd, b + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = moat_err_set(err, MOAT_EIO, "read failed: %s", strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > max) {
			rc = moat_err_set(err, MOAT_ELIMIT,
					  "file is larger than fs.max_file_size (%zu bytes)", max);
			goto out;
		}
	}
	b[n] = '\0';
	*buf = b;
	*len = n;
	b = NULL;
out:
	free(b);
	return rc;
}

/* Length of the valid UTF-8 sequence at p (n bytes left), or 0. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
	unsigned c = p[0];
	size_t need;
	unsigned min;

	if (c >= 0x01 && c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF) {
		need = 2;
		min = 0x80;
	} else if (c >= 0xE0 && c <= 0xEF) {
		need = 3;
		min = 0x800;
	} else if (c >= 0xF0 && c <= 0xF4) {
		need = 4;
		min = 0x10000;
	} else {
		return 0; /* NUL, continuation byte, or invalid lead */
	}
	if (n < need)
		return 0;
	unsigned cp = c & (need == 2 ? 0x1F : need == 3 ? 0x0F : 0x07);
	for (size_t i = 1; i < need; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3F);
	}
	if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return need;
}

bool fs_utf8_valid(const char *buf, size_t len)
{
	const unsigned char *p = (const unsigned char *)buf;

	for (size_t i = 0; i < len;) {
		uint64_t w;
		/* Eight ASCII bytes at a time, the common case. */
		if (len - i >= 8 && (memcpy(&w, p + i, 8), (w & UINT64_C(0x8080808080808080)) == 0)) {
			i += 8;
			continue;
		}
		size_t l = utf8_seq(p + i, len - i);
		if (l == 0)
			return false;
		i += l;
	}
	return true;
}

void fs_mime(struct fs *fs, const void *buf, size_t len, char *out, size_t n)
{
	const char *m;

	pthread_mutex_lock(&fs->magic_lock);
	m = magic_buffer(fs->magic, buf, len);
	snprintf(out, n, "%s", m ? m : "application/octet-stream");
	pthread_mutex_unlock(&fs->magic_lock);
}

enum moat_rc fs_file_uri(const char *abs, char *out, size_t n, struct moat_err *err)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o;

	if (n < 8)
		return moat_err_set(err, MOAT_EINTERNAL, "uri buffer too small");
	memcpy(out, "file://", 7);
	o = 7;
	for (const unsigned char *p = (const unsigned char *)abs; *p; p++) {
		bool keep = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			    (*p >= '0' && *p <= '9') || strchr("/-._!$&'()*+,;=:@", *p);
		if (o + (keep ? 1 : 3) >= n)
			return moat_err_set(err, MOAT_EINVAL, "path is too long for a file URI");
		if (keep) {
			out[o++] = (char)*p;
		} else {
			out[o++] = '%';
			out[o++] = hex[*p >> 4];
			out[o++] = hex[*p & 15];
		}
	}
	out[o] = '\0';
	return MOAT_OK;
}
