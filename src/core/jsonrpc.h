/*
 * jsonrpc.h - strict JSON-RPC 2.0 parsing and message building on jansson.
 *
 * rpc_parse() enforces moat's input rules before jansson is allowed to work
 * hard: the size limit first, then a linear pre-scan of the nesting depth,
 * then a strict parse (duplicate keys, invalid UTF-8, NaN/Infinity, \u0000 in keys
 * and trailing garbage are all parse errors). rpc_classify() then checks the
 * JSON-RPC shape of one message. The builders return new references that the
 * caller owns. Everything here is pure and thread-safe.
 */
#ifndef MOAT_CORE_JSONRPC_H
#define MOAT_CORE_JSONRPC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "result.h"

#define RPC_PARSE_ERROR -32700
#define RPC_INVALID_REQUEST -32600
#define RPC_METHOD_NOT_FOUND -32601
#define RPC_INVALID_PARAMS -32602
#define RPC_INTERNAL_ERROR -32603
/* JSON-RPC's implementation-defined server error: moat uses it for a request
 * (other than tools/call, which answers isError) refused by a limit. */
#define RPC_LIMIT_ERROR -32000

enum rpc_kind {
	RPC_REQUEST,      /* has method and id */
	RPC_NOTIFICATION, /* has method, no id */
	RPC_RESPONSE,     /* has result or error and id (a reply to us) */
};

/* A classified message. All pointers borrow from the parsed document. */
struct rpc_msg {
	enum rpc_kind kind;
	json_t *id;         /* string or integer; NULL for notifications */
	const char *method; /* NULL for responses */
	json_t *params;     /* object, or NULL when absent */
};

/*
 * rpc_depth_ok - true when buf[0..len) nests arrays/objects no deeper than
 * max_depth, counted in one pass that skips string contents. It does not
 * validate JSON; it only bounds the work the parser may be asked to do.
 */
bool rpc_depth_ok(const char *buf, size_t len, size_t max_depth);

/* rpc_skip_string - where the JSON string opening with the quote at b[i]
 * ends (one past its closing quote) within b[0..n), or 0 when it does not
 * end there. Only locates; judges nothing of the content. */
size_t rpc_skip_string(const char *b, size_t i, size_t n);

/*
 * rpc_parse - parse one message of len bytes. Fails with MOAT_ELIMIT when
 * len > max_bytes or nesting exceeds max_depth, MOAT_EINVAL for any JSON
 * error; err->msg then names the rule and (for syntax errors) the position,
 * never the content. On success *out is a new reference owned by the caller.
 */
enum moat_rc rpc_parse(const char *buf, size_t len, size_t max_bytes, size_t max_depth,
		       json_t **out, struct moat_err *err);

/*
 * rpc_classify - check that msg is a JSON-RPC 2.0 object: "jsonrpc":"2.0",
 * a string method (requests/notifications) or result/error (responses), an
 * id that is a string or integer when present, params an object when present.
 * Fills *m (borrowing from msg). On a shape error returns MOAT_EINVAL and, if
 * the message had a usable id, leaves it in m->id so the error can carry it.
 */
enum moat_rc rpc_classify(json_t *msg, struct rpc_msg *m, struct moat_err *err);

/* rpc_result - {"jsonrpc":"2.0","id":id,"result":result}. Steals result;
 * borrows id (NULL means JSON null). Returns a new reference or NULL. */
json_t *rpc_result(json_t *id, json_t *result);

/* rpc_error - {"jsonrpc":"2.0","id":id,"error":{code,message}}. Borrows id
 * (NULL means JSON null). Returns a new reference or NULL. */
json_t *rpc_error(json_t *id, int code, const char *message);

/* rpc_notification - {"jsonrpc":"2.0","method":method,"params":params}.
 * Steals params (may be NULL). Returns a new reference or NULL. */
json_t *rpc_notification(const char *method, json_t *params);

/* rpc_id_key - write a canonical text key for id (compact JSON) into buf.
 * Returns false when it does not fit. */
bool rpc_id_key(const json_t *id, char *buf, size_t n);

#endif
