/*
 * rpc_meta_memo.c - parse a message whose params._meta this thread has
 * parsed before without parsing that _meta again.
 *
 * Under MCP 2026-07-28 every request carries the same params._meta (the
 * revision, the client's name and capabilities: a few hundred bytes, three
 * or four nested objects). Parsing it is most of what the era adds to a
 * call: each object jansson builds is a hashtable and several
 * allocations. A client sends the same bytes each time, so each thread
 * keeps the last _meta it parsed, keyed by its exact bytes. jansson has no
 * way to parse part of a document or to reuse a value, hence this file:
 * a bounded scan *locates* params._meta's bytes (it decides nothing about
 * what they mean); when they equal the memo's, jansson parses the message
 * with that value replaced by {} (the same strict flags, so every rule of
 * rpc_parse still applies to every other byte), and the memo's object is
 * put in its place. Anything unexpected (the scan cannot follow the
 * message, the value is not an object, the replaced document does not
 * hold an empty _meta where the scan found it) answers "no", and the
 * caller parses the whole message as it always did. A miss stores the
 * new _meta after its own strict parse, only when that equals what the
 * full parse of the message found.
 *
 * The memo's object is shared by every message that used it: it is never
 * modified (the server only reads a request's params), and jansson's
 * reference counts are atomic. Thread-safe (per-thread state; freed when
 * the thread ends).
 */
#include "rpc_meta_memo.h"

#include "jsonrpc.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define MEMO_MAX 1024 /* bytes of _meta remembered */
#define MEMO_FLAGS (JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL)

struct memo {
	size_t len;
	json_t *meta;
	char bytes[MEMO_MAX];
};

static pthread_key_t memo_key;
static pthread_once_t memo_once = PTHREAD_ONCE_INIT;
static bool memo_ok;

static void memo_free(void *p)
{
	struct memo *m = p;

	json_decref(m->meta);
	free(m);
}

static void memo_init(void)
{
	memo_ok = pthread_key_create(&memo_key, memo_free) == 0;
}

static struct memo *memo_get(bool create)
{
	struct memo *m;

	pthread_once(&memo_once, memo_init);
	if (!memo_ok)
		return NULL;
	m = pthread_getspecific(memo_key);
	if (!m && create && (m = calloc(1, sizeof(*m))) && pthread_setspecific(memo_key, m)) {
		free(m);
		m = NULL;
	}
	return m;
}

/* ---- the locating scan ------------------------------------------------ */

static size_t skip_ws(const char *b, size_t i, size_t n)
{
	while (i < n && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r'))
		i++;
	return i;
}

/* The end of the value starting at b[i], or 0. Not a validator: jansson
 * judges the bytes; this only has to find where a value ends. */
static size_t skip_value(const char *b, size_t i, size_t n)
{
	int depth = 0;

	if (i >= n)
		return 0;
	if (b[i] == '"')
		return rpc_skip_string(b, i, n);
	if (b[i] != '{' && b[i] != '[') {
		while (i < n && b[i] != ',' && b[i] != '}' && b[i] != ']')
			i++;
		return i;
	}
	for (; i < n; i++) {
		if (b[i] == '"') {
			size_t e = rpc_skip_string(b, i, n);
			if (!e)
				return 0;
			i = e - 1;
		} else if (b[i] == '{' || b[i] == '[') {
			depth++;
		} else if ((b[i] == '}' || b[i] == ']') && --depth == 0) {
			return i + 1;
		}
	}
	return 0;
}

/* Find member key (compared as raw bytes: an escaped key is not found) of
 * the object starting at b[i]: its value is b[*vs, *ve). With ve NULL only
 * where the value starts is wanted, and the value is not walked. */
static bool find_member(const char *b, size_t i, size_t n, const char *key, size_t *vs,
			size_t *ve)
{
	size_t kl = strlen(key);

	i = skip_ws(b, i, n);
	if (i >= n || b[i] != '{')
		return false;
	i++;
	for (;;) {
		size_t ks, ke, e;
		i = skip_ws(b, i, n);
		if (i >= n || b[i] != '"')
			return false;
		ks = i + 1;
		if (!(ke = rpc_skip_string(b, i, n)))
			return false;
		i = skip_ws(b, ke, n);
		if (i >= n || b[i] != ':')
			return false;
		i = skip_ws(b, i + 1, n);
		if (ke - 1 - ks == kl && memcmp(b + ks, key, kl) == 0 && !ve) {
			*vs = i;
			return true;
		}
		if (!(e = skip_value(b, i, n)))
			return false;
		if (ke - 1 - ks == kl && memcmp(b + ks, key, kl) == 0) {
			*vs = i;
			*ve = e;
			return true;
		}
		i = skip_ws(b, e, n);
		if (i >= n || b[i] != ',')
			return false;
		i++;
	}
}

/* ---- parse and remember ----------------------------------------------- */

json_t *rpc_meta_memo_parse(const char *buf, size_t len, struct rpc_meta_span *span)
{
	struct memo *m = memo_get(false);
	size_t ps, ms, me, n;
	char stack[4096], *tmp;
	json_t *doc, *pm;

	span->start = span->end = 0;
	if (!find_member(buf, 0, len, "params", &ps, NULL) ||
	    !find_member(buf, ps, len, "_meta", &ms, &me) || buf[ms] != '{' || me - ms > MEMO_MAX)
		return NULL;
	span->start = ms;
	span->end = me;
	if (!m || !m->meta || m->len != me - ms || memcmp(m->bytes, buf + ms, m->len) != 0)
		return NULL;
	n = len - (me - ms) + 2;
	tmp = n <= sizeof(stack) ? stack : malloc(n);
	if (!tmp)
		return NULL;
	memcpy(tmp, buf, ms);
	memcpy(tmp + ms, "{}", 2);
	memcpy(tmp + ms + 2, buf + me, len - me);
	doc = json_loadb(tmp, n, MEMO_FLAGS, NULL);
	if (tmp != stack)
		free(tmp);
	pm = json_object_get(json_object_get(doc, "params"), "_meta");
	if (!json_is_object(pm) || json_object_size(pm) != 0) {
		json_decref(doc);
		return NULL;
	}
	json_object_set(json_object_get(doc, "params"), "_meta", m->meta);
	return doc;
}

void rpc_meta_memo_store(const char *buf, const struct rpc_meta_span *span, const json_t *doc)
{
	const json_t *pm = json_object_get(json_object_get(doc, "params"), "_meta");
	struct memo *m;
	json_t *own;

	if (span->end <= span->start || !json_is_object(pm))
		return;
	own = json_loadb(buf + span->start, span->end - span->start, MEMO_FLAGS, NULL);
	if (!own || !json_equal(own, pm) || !(m = memo_get(true))) {
		json_decref(own);
		return;
	}
	json_decref(m->meta);
	m->meta = own;
	m->len = span->end - span->start;
	memcpy(m->bytes, buf + span->start, m->len);
}
