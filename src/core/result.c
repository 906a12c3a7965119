/*
 * result.c - helpers for the moat result type and its error detail.
 */
#include "result.h"

#include <stdarg.h>
#include <stdio.h>

enum moat_rc moat_err_set(struct moat_err *err, enum moat_rc rc, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return rc;
	err->rc = rc;
	va_start(ap, fmt);
	(void)vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return rc;
}

enum moat_rc moat_err_rule(struct moat_err *err, enum moat_rc rc, const char *rule,
			   const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return rc;
	err->rc = rc;
	err->rule = rule;
	va_start(ap, fmt);
	(void)vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return rc;
}

void moat_err_clear(struct moat_err *err)
{
	if (!err)
		return;
	err->rc = MOAT_OK;
	err->rule = NULL;
	err->msg[0] = '\0';
}

const char *moat_rc_name(enum moat_rc rc)
{
	switch (rc) {
	case MOAT_OK: return "ok";
	case MOAT_EINVAL: return "invalid";
	case MOAT_ENOMEM: return "out_of_memory";
	case MOAT_ELIMIT: return "limit";
	case MOAT_EDENIED: return "denied";
	case MOAT_ENOTFOUND: return "not_found";
	case MOAT_ECANCELLED: return "cancelled";
	case MOAT_ETIMEOUT: return "timeout";
	case MOAT_EIO: return "io";
	case MOAT_EUPSTREAM: return "upstream";
	case MOAT_EINTERNAL: return "internal";
	case MOAT_EINPUT: return "input_required";
	case MOAT_ENOCAP: return "no_capability";
	}
	return "unknown";
}
