/*
 * excerpt.c - secret-safe excerpts of upstream text (see excerpt.h): scrub
 * first, cut second, then mask what the cut left of a secret.
 */
#include "excerpt.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

/* Mask a suffix of buf (length len) that is a prefix of a secret. Returns
 * the new length. */
static size_t mask_tail(const struct moat_config *cfg, char *buf, size_t len)
{
	static const char mask[] = "****";

	for (size_t i = 0; cfg && i < cfg->nsecrets; i++) {
		const char *sec = cfg->secrets[i];
		size_t sl = sec ? strlen(sec) : 0;
		/* A whole copy is config_scrub's; the longest partial one first. */
		size_t k = sl > 0 ? sl - 1 : 0;
		if (k > len)
			k = len;
		for (; k >= EXCERPT_MIN_PREFIX; k--) {
			if (memcmp(buf + len - k, sec, k) == 0) {
				/* k >= 4 = strlen(mask): the text only shrinks. */
				memcpy(buf + len - k, mask, sizeof mask);
				len = len - k + (sizeof mask - 1);
				break;
			}
		}
	}
	return len;
}

void excerpt_mask(const struct moat_config *cfg, char *buf)
{
	static const char mask[] = "****";

	for (size_t i = 0; cfg && buf && i < cfg->nsecrets; i++) {
		const char *sec = cfg->secrets[i];
		size_t sl = sec ? strlen(sec) : 0;
		char *hit;
		if (sl < sizeof mask - 1)
			continue; /* config secrets are >= 4 bytes: never here */
		while ((hit = strstr(buf, sec)) != NULL) {
			memcpy(hit, mask, sizeof mask - 1);
			memmove(hit + sizeof mask - 1, hit + sl, strlen(hit + sl) + 1);
		}
	}
}

void excerpt_scrub(const struct moat_config *cfg, char *buf, size_t size)
{
	if (!cfg || !buf || size == 0)
		return;
	excerpt_mask(cfg, buf);
	mask_tail(cfg, buf, strlen(buf));
}

/* Longest secret of cfg, in bytes. */
static size_t longest_secret(const struct moat_config *cfg)
{
	size_t m = 0;

	for (size_t i = 0; cfg && i < cfg->nsecrets; i++) {
		size_t sl = cfg->secrets[i] ? strlen(cfg->secrets[i]) : 0;
		if (sl > m)
			m = sl;
	}
	return m;
}

char *excerpt_make(const struct moat_config *cfg, const char *text, size_t n, size_t max,
		   bool *cut)
{
	/* Every copy of a secret that starts within the first max bytes ends
	 * within this window: scrubbing it is scrubbing everything shown. */
	size_t sec = longest_secret(cfg);
	size_t window = n;
	size_t len = 0;
	char *ex;

	if (cut)
		*cut = false;
	if (max < SIZE_MAX - sec && window > max + sec)
		window = max + sec;
	ex = text_utf8_repair(text ? text : "", text ? window : 0, true, &len);
	if (!ex)
		return NULL;
	excerpt_mask(cfg, ex);
	len = strlen(ex);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)ex[i] < 0x20 || (unsigned char)ex[i] == 0x7F)
			ex[i] = ' ';
	/* Again: a secret holding a control byte was masked above, and no
	 * space made here may complete one. */
	excerpt_mask(cfg, ex);
	len = strlen(ex);
	if (len > max) {
		size_t c = max;
		while (c > 0 && ((unsigned char)ex[c] & 0xC0) == 0x80)
			c--;
		explicit_bzero(ex + c, len - c);
		len = c;
		if (cut)
			*cut = true;
	}
	if (window < n && cut)
		*cut = true;
	len = mask_tail(cfg, ex, len);
	ex[len] = '\0';
	return ex;
}
