/*
 * audit_record.c - one audit record as JSON, formatted without printf or
 * a jansson tree: the caller's tool thread pays for it on every call, so
 * the time is written digit by digit (the date part cached per thread for
 * the current second), strings are escaped by table lookup, and
 * touched (string values or lists of strings, as callctx records them) is
 * walked directly; anything else falls back to json_dumpb.
 */
#include "audit_record.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>


void audit_buf_init(struct audit_buf *b, size_t max)
{
	b->p = b->inline_buf;
	b->len = 0;
	b->cap = sizeof(b->inline_buf);
	b->max = max;
	b->heap = b->failed = false;
}

void audit_buf_free(struct audit_buf *b)
{
	if (b->heap)
		free(b->p);
	audit_buf_init(b, b->max);
}

bool audit_buf_reserve(struct audit_buf *b, size_t more)
{
	size_t ncap;
	char *np;

	if (b->failed)
		return false;
	if (b->len + more <= b->cap)
		return true;
	if (b->len + more > b->max) {
		b->failed = true;
		return false;
	}
	ncap = b->cap * 2 > b->len + more ? b->cap * 2 : b->len + more;
	if (ncap > b->max)
		ncap = b->max;
	np = b->heap ? realloc(b->p, ncap) : malloc(ncap);
	if (!np) {
		b->failed = true;
		return false;
	}
	if (!b->heap)
		memcpy(np, b->p, b->len);
	b->p = np;
	b->cap = ncap;
	b->heap = true;
	return true;
}

void audit_buf_put(struct audit_buf *b, const void *s, size_t n)
{
	if (b->len + n <= b->cap || audit_buf_reserve(b, n)) {
		memcpy(b->p + b->len, s, n);
		b->len += n;
	}
}

#define PUT_LIT(b, lit) audit_buf_put((b), (lit), sizeof(lit) - 1)

/* 1 for the bytes a JSON string cannot carry as they are. */
static const unsigned char needs_escape[256] = {
	[0 ... 0x1f] = 1, ['"'] = 1, ['\\'] = 1,
};

/* A JSON string of s[0..n), cut to AUDIT_STR_MAX bytes on a UTF-8
 * boundary. Room for the worst case is taken once; the bytes are then
 * copied by one table lookup each (the strings are short). */
static void put_str(struct audit_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	char *o;

	if (n > AUDIT_STR_MAX) {
		n = AUDIT_STR_MAX;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--; /* do not end inside a UTF-8 sequence */
	}
	if (b->len + 6 * n + 2 > b->cap && !audit_buf_reserve(b, 6 * n + 2))
		return;
	o = b->p + b->len;
	*o++ = '"';
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!needs_escape[c]) {
			*o++ = (char)c;
			continue;
		}
		*o++ = '\\';
		switch (c) {
		case '"':
		case '\\':
			*o++ = (char)c;
			break;
		case '\n':
			*o++ = 'n';
			break;
		case '\r':
			*o++ = 'r';
			break;
		case '\t':
			*o++ = 't';
			break;
		default:
			memcpy(o, "u00", 3);
			o[3] = hex[c >> 4];
			o[4] = hex[c & 15];
			o += 5;
			break;
		}
	}
	*o++ = '"';
	b->len = (size_t)(o - b->p);
}

/* ,"key": */
static void put_key(struct audit_buf *b, const char *key, size_t klen)
{
	if (!audit_buf_reserve(b, klen + 4))
		return;
	b->p[b->len++] = ',';
	b->p[b->len++] = '"';
	memcpy(b->p + b->len, key, klen);
	b->len += klen;
	b->p[b->len++] = '"';
	b->p[b->len++] = ':';
}

static void field_str(struct audit_buf *b, const char *key, size_t klen, const char *v)
{
	if (!v)
		return;
	put_key(b, key, klen);
	put_str(b, v, strlen(v));
}

static void put_u64(struct audit_buf *b, uint64_t v)
{
	char tmp[24];
	size_t n = 0;

	do {
		tmp[sizeof(tmp) - 1 - n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	audit_buf_put(b, tmp + sizeof(tmp) - n, n);
}

/* Any JSON value through jansson, bounded. */
static void put_json(struct audit_buf *b, const json_t *v)
{
	size_t room = b->cap - b->len;
	size_t need;

	if (b->failed)
		return;
	need = json_dumpb(v, b->p + b->len, room, JSON_COMPACT | JSON_ENCODE_ANY);
	if (need > 0 && need <= room) {
		b->len += need;
		return;
	}
	if (need == 0 || !audit_buf_reserve(b, need)) {
		b->failed = false; /* too large: say so rather than drop the record */
		PUT_LIT(b, "null");
		return;
	}
	b->len += json_dumpb(v, b->p + b->len, need, JSON_COMPACT | JSON_ENCODE_ANY);
}

/* touched: {"key":"value" | ["a","b"], ...} as callctx records it. */
static void put_touched(struct audit_buf *b, const json_t *t)
{
	const char *key;
	json_t *v;
	bool first = true;

	if (!json_is_object(t)) {
		put_json(b, t);
		return;
	}
	audit_buf_put(b, "{", 1);
	json_object_foreach((json_t *)t, key, v) {
		if (!first)
			audit_buf_put(b, ",", 1);
		first = false;
		put_str(b, key, strlen(key));
		audit_buf_put(b, ":", 1);
		if (json_is_string(v)) {
			put_str(b, json_string_value(v), json_string_length(v));
		} else if (json_is_array(v)) {
			size_t i;
			json_t *el;
			audit_buf_put(b, "[", 1);
			json_array_foreach(v, i, el) {
				if (i)
					audit_buf_put(b, ",", 1);
				if (json_is_string(el))
					put_str(b, json_string_value(el), json_string_length(el));
				else
					put_json(b, el);
			}
			audit_buf_put(b, "]", 1);
		} else {
			put_json(b, v);
		}
	}
	audit_buf_put(b, "}", 1);
}

static void put2(char *p, int v)
{
	p[0] = (char)('0' + v / 10);
	p[1] = (char)('0' + v % 10);
}

/* The wall clock now. With mono_ns (CLOCK_MONOTONIC, read by the caller
 * anyway) it is derived from an offset to the wall clock read at most once
 * a second per thread, so a record costs no clock read of its own (on a
 * virtual machine a CLOCK_REALTIME read is a visible part of a small
 * call); a step of the wall clock shows within a second. */
static void wall_now(uint64_t mono_ns, struct timespec *ts)
{
	static _Thread_local uint64_t offset_ns, refresh_ns;
	uint64_t wall;

	if (mono_ns == 0 || mono_ns >= refresh_ns) {
		struct timespec r, m;
		clock_gettime(CLOCK_REALTIME, &r);
		if (mono_ns == 0) {
			*ts = r;
			return;
		}
		clock_gettime(CLOCK_MONOTONIC, &m);
		uint64_t real = (uint64_t)r.tv_sec * 1000000000u + (uint64_t)r.tv_nsec;
		uint64_t mono = (uint64_t)m.tv_sec * 1000000000u + (uint64_t)m.tv_nsec;
		offset_ns = real - mono;
		refresh_ns = mono + 1000000000u;
	}
	wall = mono_ns + offset_ns;
	ts->tv_sec = (time_t)(wall / 1000000000u);
	ts->tv_nsec = (long)(wall % 1000000000u);
}

/* {"time":"2026-12-06T05:02:13.006865Z" with the date and time of day
 * cached per thread for the current second. */
static void put_time(struct audit_buf *b, uint64_t mono_ns)
{
	static _Thread_local time_t cached_sec = -1;
	static _Thread_local char cached[20]; /* 2026-12-06T05:02:13 */
	struct timespec ts;
	char out[40];
	long us;

	wall_now(mono_ns, &ts);
	if (ts.tv_sec != cached_sec) {
		struct tm tm;
		int y;
		gmtime_r(&ts.tv_sec, &tm);
		y = tm.tm_year + 1900;
		if (y < 0 || y > 9999)
			y = 0;
		put2(cached, y / 100);
		put2(cached + 2, y % 100);
		cached[4] = '-';
		put2(cached + 5, tm.tm_mon + 1);
		cached[7] = '-';
		put2(cached + 8, tm.tm_mday);
		cached[10] = 'T';
		put2(cached + 11, tm.tm_hour);
		cached[13] = ':';
		put2(cached + 14, tm.tm_min);
		cached[16] = ':';
		put2(cached + 17, tm.tm_sec);
		cached_sec = ts.tv_sec;
	}
	memcpy(out, "{\"time\":\"", 9);
	memcpy(out + 9, cached, 19);
	out[28] = '.';
	us = ts.tv_nsec / 1000;
	for (int i = 6; i >= 1; i--) {
		out[28 + i] = (char)('0' + us % 10);
		us /= 10;
	}
	out[35] = 'Z';
	out[36] = '"';
	audit_buf_put(b, out, 37);
}

#define FIELD_STR(b, key, v) field_str((b), (key), sizeof(key) - 1, (v))

void audit_record_format(struct audit_buf *b, const struct audit_event *ev)
{
	put_time(b, ev->now_ns);
	FIELD_STR(b, "kind", ev->kind);
	FIELD_STR(b, "principal", ev->principal);
	FIELD_STR(b, "addr", ev->addr);
	FIELD_STR(b, "client", ev->client_name);
	FIELD_STR(b, "client_version", ev->client_version);
	FIELD_STR(b, "session", ev->session);
	if (ev->request_id) {
		put_key(b, "id", 2);
		if (json_is_string(ev->request_id))
			put_str(b, json_string_value(ev->request_id),
				json_string_length(ev->request_id));
		else if (json_is_integer(ev->request_id) && json_integer_value(ev->request_id) >= 0)
			put_u64(b, (uint64_t)json_integer_value(ev->request_id));
		else
			put_json(b, ev->request_id);
	}
	FIELD_STR(b, "tool", ev->tool);
	FIELD_STR(b, "family", ev->family);
	if (ev->touched) {
		put_key(b, "touched", 7);
		put_touched(b, ev->touched);
	}
	FIELD_STR(b, "outcome", ev->outcome);
	FIELD_STR(b, "rule", ev->rule);
	put_key(b, "duration_us", 11);
	put_u64(b, ev->duration_us);
	put_key(b, "bytes_out", 9);
	put_u64(b, (uint64_t)ev->bytes_out);
}
