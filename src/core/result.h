/*
 * result.h - the one result type of moat and the caller-owned error detail.
 *
 * Every fallible function in moat returns an enum moat_rc and, when it fails,
 * fills a struct moat_err that the caller owns (usually on its stack). The
 * protocol layer turns a moat_err into a JSON-RPC error or an isError tool
 * result in exactly one place (server.c), so messages written here must name
 * the rule that was broken and must never contain argument values, secrets or
 * internal paths.
 */
#ifndef MOAT_CORE_RESULT_H
#define MOAT_CORE_RESULT_H

#include <stddef.h>

enum moat_rc {
	MOAT_OK = 0,
	MOAT_EINVAL,     /* input broke a rule (schema, syntax, shape) */
	MOAT_ENOMEM,     /* allocation failed */
	MOAT_ELIMIT,     /* a configured limit was reached */
	MOAT_EDENIED,    /* access refused by policy */
	MOAT_ENOTFOUND,  /* named thing does not exist */
	MOAT_ECANCELLED, /* the client cancelled the call */
	MOAT_ETIMEOUT,   /* the call deadline passed */
	MOAT_EIO,        /* operating system or I/O failure */
	MOAT_EUPSTREAM,  /* a database, repository or API failed */
	MOAT_EINTERNAL,  /* a bug or an impossible state */
	MOAT_EINPUT,     /* the call needs input from the client first
			    (callctx_ask): answered input_required or, in the
			    initialize era, asked by a request to the client */
	MOAT_ENOCAP,     /* the client lacks a capability the call needs */
};

#define MOAT_ERR_MSG_MAX 512

/* Error detail. Caller-owned; rc mirrors the returned code. */
struct moat_err {
	enum moat_rc rc;
	const char *rule; /* stable id of the rule that refused ("fs.outside_root",
			     "sql.read_only", "limits.rate" ...; docs/audit.md lists
			     them), static storage, or NULL: the audit trail records it */
	char msg[MOAT_ERR_MSG_MAX];
};

/*
 * moat_err_set - record rc and a printf-style message in err (err may be
 * NULL). The message is truncated to MOAT_ERR_MSG_MAX-1 bytes. err->rule is
 * kept, so a caller that rewraps an inner message ("%s: %s") keeps the rule
 * the inner call recorded. Returns rc so
 * callers can write `return moat_err_set(err, MOAT_EINVAL, "...")`.
 * Thread-safe (touches only *err).
 */
enum moat_rc moat_err_set(struct moat_err *err, enum moat_rc rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * moat_err_rule - as moat_err_set, and also record the stable id of the rule
 * that refused (rule: static storage, e.g. "fs.outside_root"). Use it where
 * a policy, a limit or a validation refuses; plain failures (I/O, upstream
 * errors) use moat_err_set and leave the rule NULL. Thread-safe (touches
 * only *err).
 */
enum moat_rc moat_err_rule(struct moat_err *err, enum moat_rc rc, const char *rule,
			   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* moat_err_clear - reset err to MOAT_OK with an empty message. Accepts NULL. */
void moat_err_clear(struct moat_err *err);

/* moat_rc_name - a short stable name for rc ("invalid", "limit", ...). Static storage. */
const char *moat_rc_name(enum moat_rc rc);

#endif
