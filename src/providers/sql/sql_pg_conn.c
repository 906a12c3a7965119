/*
 * sql_pg_conn.c - the PostgreSQL backend's connections: a small pool per
 * database (at most pool_size open, a caller waits for one to come back
 * until its deadline), and running one command without blocking so that
 * the call's deadline and the client's cancellation are honoured while the
 * server works: both send a cancel request (PQcancel), which the server
 * acts on at once, and then wait a bounded time for it to answer.
 *
 * A connection the server dropped (a restart, an idle timeout) is noticed
 * by the call that uses it: that call fails with an error that says so,
 * the connection is closed, and every idle connection of the same
 * generation (opened before the drop, so probably dead too) is closed
 * with it; the next call connects afresh.
 *
 * A call that failed is ended here (sqlpg_abandon): ROLLBACK and, when the
 * user's text reached the server, DISCARD ALL, so that nothing it left in
 * the session (sql_pg.c lists what) outlives it; a connection that cannot
 * be reset is closed, never pooled.
 *
 * Thread-safe: the pool is guarded by its mutex; a lease is used by one
 * thread.
 */
#include "sql_pg.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "text.h"

#define SQLPG_POLL_MS 50
#define SQLPG_CANCEL_GRACE_NS (2000ull * 1000000ull) /* wait this long after a cancel */
#define SQLPG_ERRMSG_MAX 200

uint64_t sqlpg_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void sqlpg_call_start(struct sqlpg_call *call, const struct sql_db *db, struct call_ctx *ctx,
		      const char *what)
{
	uint64_t limit = db->timeout_ms ? sqlpg_now_ns() + (uint64_t)db->timeout_ms * 1000000u : 0;

	call->ctx = ctx;
	call->what = what;
	call->stop = MOAT_OK;
	call->deadline_ns = ctx && ctx->deadline_ns && (!limit || ctx->deadline_ns < limit)
				    ? ctx->deadline_ns
				    : limit;
}

/* MOAT_OK while the call may go on; else why not (err untouched). */
static enum moat_rc call_check(const struct sqlpg_call *call)
{
	enum moat_rc rc;

	if (call->ctx && (rc = callctx_check(call->ctx, NULL)) != MOAT_OK)
		return rc;
	if (call->deadline_ns && sqlpg_now_ns() >= call->deadline_ns)
		return MOAT_ETIMEOUT;
	return MOAT_OK;
}

static enum moat_rc stop_err(const struct sqlpg_call *call, enum moat_rc why, struct moat_err *err)
{
	if (why == MOAT_ECANCELLED)
		return moat_err_set(err, MOAT_ECANCELLED, "%s: cancelled by the client", call->what);
	return moat_err_rule(err, MOAT_ETIMEOUT, "limits.timeout",
			     "%s: the statement ran past its deadline (the database's timeout_ms, "
			     "or the call's timeout)", call->what);
}

/* ---- the pool ------------------------------------------------------------ */

enum moat_rc sqlpg_pool_init(struct sqlpg_pool *p, const struct sql_db *db, struct moat_err *err)
{
	p->db = db;
	p->max = db->pool_size ? db->pool_size : 1;
	if (!(p->idle = calloc(p->max, sizeof(*p->idle))))
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	p->cache = sqlpg_cache_new(db->plan_cache); /* NULL: off (0), or ENOMEM */
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->freed, NULL);
	return MOAT_OK;
}

void sqlpg_pool_fini(struct sqlpg_pool *p)
{
	if (!p->idle)
		return;
	for (size_t i = 0; i < p->nidle; i++)
		PQfinish(p->idle[i]);
	free(p->idle);
	free(p->role);
	free(p->where);
	free(p->pin_host);
	free(p->pin_hostaddr);
	free(p->pin_port);
	free(p->search_path);
	free(p->schema_array);
	sqlpg_cache_free(p->cache);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->freed);
	memset(p, 0, sizeof(*p));
}

/* Open one connection with a connect timeout inside the deadline. The
 * connection string is expanded as given; moat's settings (and the hosts
 * pinned at start-up) come after it and win. Never logs or returns the
 * string. */
static PGconn *connect_one(const struct sqlpg_pool *p, const struct sqlpg_call *call,
			   struct moat_err *err)
{
	char secs[16];
	uint64_t now = sqlpg_now_ns();
	uint64_t left = call->deadline_ns > now ? (call->deadline_ns - now) / 1000000000u : 10;
	const char *keys[] = {"dbname", "client_encoding", "application_name", "connect_timeout",
			      "host", "hostaddr", "port", NULL};
	const char *vals[] = {p->db->url, "UTF8", "moat", secs,
			      p->pin_host, p->pin_hostaddr, p->pin_port, NULL};
	PGconn *c;

	snprintf(secs, sizeof(secs), "%llu", (unsigned long long)(left < 2 ? 2 : left));
	if (!p->pin_hostaddr)
		keys[4] = NULL; /* no host name was pinned: the string as it is */
	c = PQconnectdbParams(keys, vals, 1);
	if (!c) {
		moat_err_set(err, MOAT_ENOMEM, "out of memory");
		return NULL;
	}
	if (PQstatus(c) != CONNECTION_OK) {
		char msg[SQLPG_ERRMSG_MAX + 1];
		const char *m = PQerrorMessage(c);
		/* libpq's connect messages name the host and port and the
		 * server's reason (bad password, no such database), never the
		 * password itself. */
		snprintf(msg, sizeof(msg), "%s", m ? m : "");
		msg[text_utf8_prefix(msg, SQLPG_ERRMSG_MAX)] = '\0';
		for (char *q = msg; *q; q++)
			if (*q == '\n' || *q == '\t')
				*q = ' ';
		moat_err_set(err, MOAT_EUPSTREAM, "%s: cannot connect to database '%s' (%s): %s",
			     call->what, p->db->name, p->where ? p->where : "postgres", msg);
		PQfinish(c);
		return NULL;
	}
	return c;
}

enum moat_rc sqlpg_take(struct sqlpg_pool *p, struct sqlpg_call *call, struct sqlpg_lease *l,
			struct moat_err *err)
{
	enum moat_rc rc;

	memset(l, 0, sizeof(*l));
	pthread_mutex_lock(&p->lock);
	for (;;) {
		struct timespec ts;
		if (p->nidle > 0) {
			l->conn = p->idle[--p->nidle];
			l->gen = p->gen;
			pthread_mutex_unlock(&p->lock);
			return MOAT_OK;
		}
		if (p->nopen < p->max) {
			p->nopen++;
			l->gen = p->gen;
			pthread_mutex_unlock(&p->lock);
			if ((l->conn = connect_one(p, call, err)))
				return MOAT_OK;
			pthread_mutex_lock(&p->lock);
			p->nopen--;
			pthread_cond_signal(&p->freed);
			pthread_mutex_unlock(&p->lock);
			return err->rc;
		}
		if ((rc = call_check(call)) != MOAT_OK) {
			pthread_mutex_unlock(&p->lock);
			return stop_err(call, rc, err);
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += SQLPG_POLL_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&p->freed, &p->lock, &ts);
	}
}

void sqlpg_give(struct sqlpg_pool *p, struct sqlpg_lease *l)
{
	bool keep;

	if (!l->conn)
		return;
	keep = !l->broken && !l->discard && !l->dirty && PQstatus(l->conn) == CONNECTION_OK &&
	       PQtransactionStatus(l->conn) == PQTRANS_IDLE;
	pthread_mutex_lock(&p->lock);
	if (l->broken && l->gen == p->gen) {
		/* Connections opened before this one died are likely dead. */
		for (size_t i = 0; i < p->nidle; i++)
			PQfinish(p->idle[i]);
		p->nopen -= p->nidle;
		p->nidle = 0;
		p->gen++;
	}
	if (keep && l->gen == p->gen && p->nidle < p->max) {
		p->idle[p->nidle++] = l->conn;
	} else {
		PQfinish(l->conn);
		p->nopen--;
	}
	l->conn = NULL;
	pthread_cond_signal(&p->freed);
	pthread_mutex_unlock(&p->lock);
}

/* ---- running a command ----------------------------------------------------- */

static void send_cancel(PGconn *c)
{
	char buf[256];
	PGcancel *k = PQgetCancel(c);

	if (k) {
		if (!PQcancel(k, buf, sizeof(buf)))
			log_warn("sql: postgres: the cancel request could not be sent");
		PQfreeCancel(k);
	}
}

static bool is_error(const PGresult *r)
{
	ExecStatusType s = PQresultStatus(r);

	return s == PGRES_FATAL_ERROR || s == PGRES_BAD_RESPONSE || s == PGRES_NONFATAL_ERROR;
}

PGresult *sqlpg_wait(struct sqlpg_lease *l, struct sqlpg_call *call, sqlpg_row_fn rows, void *u,
		     struct moat_err *err)
{
	PGconn *c = l->conn;
	PGresult *last = NULL;
	bool cut = false, row_failed = false;
	uint64_t cancel_at = 0, heard = 0;
	enum moat_rc why;

	for (;;) {
		struct pollfd pfd = {.fd = PQsocket(c), .events = POLLIN};
		while (!PQisBusy(c)) {
			PGresult *r = PQgetResult(c);
			if (!r)
				goto done;
			if (cancel_at)
				heard = sqlpg_now_ns();
			if (PQresultStatus(r) == PGRES_SINGLE_TUPLE) {
				if (!cut && rows && !rows(u, r, err)) {
					/* a cap was reached (or the row failed): drop the rest */
					cut = true;
					row_failed = err->rc != MOAT_OK;
					if (!cancel_at) {
						send_cancel(c);
						cancel_at = sqlpg_now_ns();
					}
				}
				PQclear(r);
				continue;
			}
			if (last && is_error(last)) {
				PQclear(r); /* keep the first error */
			} else {
				PQclear(last);
				last = r;
			}
		}
		if (pfd.fd < 0)
			goto lost;
		if (poll(&pfd, 1, SQLPG_POLL_MS) < 0 && errno != EINTR)
			goto lost;
		if (!PQconsumeInput(c))
			goto lost;
		if (!cancel_at && (why = call_check(call)) != MOAT_OK) {
			call->stop = why;
			send_cancel(c);
			cancel_at = sqlpg_now_ns();
		}
		/* After a cancel the server is given the grace period to answer,
		 * counted from what it last sent (rows already on their way are
		 * still being read: a slow client is not a dead server), but no
		 * longer than the grace past the call's deadline. */
		if (cancel_at &&
		    (sqlpg_now_ns() - (heard > cancel_at ? heard : cancel_at) > SQLPG_CANCEL_GRACE_NS ||
		     (call->deadline_ns &&
		      sqlpg_now_ns() > call->deadline_ns + SQLPG_CANCEL_GRACE_NS))) {
			/* the server did not answer the cancel: drop the connection */
			l->broken = true;
			PQclear(last);
			if (call->stop)
				return (void)stop_err(call, call->stop, err), NULL;
			moat_err_set(err, MOAT_EUPSTREAM, "%s: the server did not answer in time",
				     call->what);
			return NULL;
		}
	}
done:
	if (PQstatus(c) == CONNECTION_BAD)
		goto lost;
	if (cancel_at) {
		/* When the command ended before the cancel reached the server,
		 * the request may still land on the next command: this
		 * connection is not reused. */
		const char *st = last ? PQresultErrorField(last, PG_DIAG_SQLSTATE) : NULL;
		if (!st || strcmp(st, "57014") != 0)
			l->discard = true;
	}
	if (call->stop) {
		PQclear(last);
		stop_err(call, call->stop, err);
		return NULL;
	}
	if (row_failed) {
		PQclear(last);
		return NULL;
	}
	if (cut) {
		/* the rows wanted are in; what the cancel did to the rest is moot */
		PQclear(last);
		if (!(last = PQmakeEmptyPGresult(c, PGRES_TUPLES_OK)))
			moat_err_set(err, MOAT_ENOMEM, "out of memory");
		return last;
	}
	if (!last)
		moat_err_set(err, MOAT_EUPSTREAM, "%s: the server sent no result", call->what);
	return last;
lost:
	l->broken = true;
	PQclear(last);
	if (call->stop) {
		stop_err(call, call->stop, err);
		return NULL;
	}
	moat_err_set(err, MOAT_EUPSTREAM,
		     "%s: the connection to PostgreSQL was lost (the server restarted or closed it); "
		     "the statement did not complete, and the next call reconnects", call->what);
	return NULL;
}

enum moat_rc sqlpg_pipeline_collect(struct sqlpg_lease *l, struct sqlpg_call *call, PGresult **out,
				    int n, sqlpg_row_fn rows, void *u, struct moat_err *err)
{
	PGresult *sync;

	for (int i = 0; i < n; i++)
		out[i] = NULL;
	if (!PQpipelineSync(l->conn)) {
		l->broken = true;
		return sqlpg_fail(call, NULL, l->conn, err);
	}
	for (int i = 0; i < n; i++) {
		if (!(out[i] = sqlpg_wait(l, call, i == 0 ? rows : NULL, u, err)))
			goto fail;
	}
	if (!(sync = sqlpg_wait(l, call, NULL, NULL, err)))
		goto fail;
	if (PQresultStatus(sync) != PGRES_PIPELINE_SYNC) {
		PQclear(sync);
		moat_err_set(err, MOAT_EUPSTREAM, "%s: the server answered out of order", call->what);
		goto fail;
	}
	PQclear(sync);
	if (!PQexitPipelineMode(l->conn)) {
		moat_err_set(err, MOAT_EUPSTREAM, "%s: the pipeline did not end", call->what);
		goto fail;
	}
	return MOAT_OK;
fail:
	/* Where the server stands in the pipeline is unknown: drop it. */
	l->broken = true;
	for (int i = 0; i < n; i++) {
		PQclear(out[i]);
		out[i] = NULL;
	}
	return err->rc ? err->rc : MOAT_EUPSTREAM;
}

PGresult *sqlpg_exec(struct sqlpg_lease *l, struct sqlpg_call *call, const char *sql,
		     int nparams, const char *const *params, struct moat_err *err)
{
	PGresult *r;
	ExecStatusType s;

	if (!PQsendQueryParams(l->conn, sql, nparams, NULL, params, NULL, NULL, 0)) {
		l->broken = PQstatus(l->conn) == CONNECTION_BAD;
		sqlpg_fail(call, NULL, l->conn, err);
		return NULL;
	}
	if (!(r = sqlpg_wait(l, call, NULL, NULL, err)))
		return NULL;
	s = PQresultStatus(r);
	if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK)
		return r;
	sqlpg_fail(call, r, l->conn, err);
	PQclear(r);
	return NULL;
}

enum moat_rc sqlpg_fail(const struct sqlpg_call *call, const PGresult *r, PGconn *conn,
			struct moat_err *err)
{
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	const char *m = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	char msg[SQLPG_ERRMSG_MAX + 1];

	if (!state)
		state = "";
	if (!m)
		m = conn ? PQerrorMessage(conn) : "";
	if (strcmp(state, "25006") == 0)
		return moat_err_rule(err, MOAT_EDENIED, "sql.read_only",
				     "%s: read_query runs read-only statements only: the transaction "
				     "is READ ONLY (use write_query on a database with \"write\": "
				     "true)", call->what);
	if (strcmp(state, "57014") == 0)
		return moat_err_rule(err, MOAT_ETIMEOUT, "limits.timeout",
				     "%s: the statement ran past its deadline (statement_timeout from "
				     "the database's timeout_ms)", call->what);
	if (strcmp(state, "42501") == 0)
		return moat_err_rule(err, MOAT_EDENIED, "sql.privilege_denied",
				     "%s: refused by PostgreSQL: the role lacks the privilege",
				     call->what);
	if (strncmp(state, "22", 2) == 0 || strncmp(state, "23", 2) == 0)
		/* data exceptions and constraint violations quote values */
		return moat_err_set(err, MOAT_EINVAL, "%s: postgres: %s (SQLSTATE %s)", call->what,
				    strncmp(state, "22", 2) == 0 ? "a value is not valid for its type "
								    "or operation"
								  : "a constraint was violated",
				    state);
	snprintf(msg, sizeof(msg), "%s", m);
	msg[text_utf8_prefix(msg, SQLPG_ERRMSG_MAX)] = '\0';
	for (char *q = msg; *q; q++)
		if (*q == '\n')
			*q = ' ';
	if (strncmp(state, "08", 2) == 0 || state[0] == '\0')
		return moat_err_set(err, MOAT_EUPSTREAM, "%s: postgres: %s", call->what, msg);
	return moat_err_set(err, strncmp(state, "42", 2) == 0 || strncmp(state, "0A", 2) == 0 ||
					 strncmp(state, "25", 2) == 0 || strncmp(state, "26", 2) == 0
				     ? MOAT_EINVAL
				     : MOAT_EUPSTREAM,
			    "%s: postgres: %s (SQLSTATE %s)", call->what, msg, state);
}

/* ---- moat's own commands, and ending a call ------------------------------ */

enum moat_rc sqlpg_simple(struct sqlpg_lease *l, struct sqlpg_call *call, const char *sql,
			  struct moat_err *err)
{
	PGresult *r;
	enum moat_rc rc = MOAT_OK;

	if (!PQsendQuery(l->conn, sql)) {
		l->broken = PQstatus(l->conn) == CONNECTION_BAD;
		return sqlpg_fail(call, NULL, l->conn, err);
	}
	if (!(r = sqlpg_wait(l, call, NULL, NULL, err)))
		return err->rc;
	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
		rc = sqlpg_fail(call, r, l->conn, err);
	PQclear(r);
	return rc;
}

void sqlpg_abandon(const struct sql_db *db, struct sqlpg_lease *l)
{
	struct sqlpg_call call;
	struct moat_err e = {0};
	PGresult *r[2] = {0};
	bool open_tx;
	int n = 0;

	if (l->broken || l->discard || !l->conn)
		return;
	open_tx = PQtransactionStatus(l->conn) != PQTRANS_IDLE;
	if (!open_tx && !l->dirty)
		return;
	sqlpg_call_start(&call, db, NULL, "rollback");
	call.deadline_ns = sqlpg_now_ns() + 2000ull * 1000000ull;
	if (!PQenterPipelineMode(l->conn) ||
	    (open_tx && !PQsendQueryParams(l->conn, "ROLLBACK", 0, NULL, NULL, NULL, NULL, 0)) ||
	    (l->dirty && !PQsendQueryParams(l->conn, "DISCARD ALL", 0, NULL, NULL, NULL, NULL, 0))) {
		l->broken = true;
		return;
	}
	n = (int)open_tx + (int)l->dirty;
	if (sqlpg_pipeline_collect(l, &call, r, n, NULL, NULL, &e) != MOAT_OK)
		return; /* marked broken */
	for (int i = 0; i < n; i++) {
		if (PQresultStatus(r[i]) != PGRES_COMMAND_OK)
			l->broken = true;
		PQclear(r[i]);
	}
	if (!l->broken)
		l->dirty = false;
}
