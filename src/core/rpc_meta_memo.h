/*
 * rpc_meta_memo.h - a per-thread memo of the last params._meta parsed, so
 * a 2026-07-28 client's identical _meta is not parsed on every request
 * (rpc_meta_memo.c says how, and why by hand). Used by rpc_parse only.
 */
#ifndef MOAT_CORE_RPC_META_MEMO_H
#define MOAT_CORE_RPC_META_MEMO_H

#include <jansson.h>
#include <stddef.h>

/* Where params._meta's bytes lie in a message (end 0: not found). */
struct rpc_meta_span {
	size_t start;
	size_t end;
};

/*
 * rpc_meta_memo_parse - the parsed message buf[0..len) (a new reference),
 * with jansson's strict flags, when its params._meta is byte for byte this
 * thread's memo; NULL otherwise (parse it whole), with *span set to where
 * its _meta lies when found. Thread-safe.
 */
json_t *rpc_meta_memo_parse(const char *buf, size_t len, struct rpc_meta_span *span);

/*
 * rpc_meta_memo_store - after a full parse of buf into doc (borrowed),
 * remember the _meta at span as this thread's memo when its own strict
 * parse equals what doc holds there. Thread-safe.
 */
void rpc_meta_memo_store(const char *buf, const struct rpc_meta_span *span, const json_t *doc);

#endif
