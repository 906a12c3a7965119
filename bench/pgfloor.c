/*
 * pgfloor.c - the floor for the sql benchmark: the statements one
 * read_query sends to PostgreSQL, sent straight through libpq on one
 * connection with no MCP in between, so a call's cost can be read against
 * the database round trips it is made of.
 *
 *   pgfloor URL SEQUENCE SECONDS QUERY LABEL
 *
 * SEQUENCE is the statement sequence of one call:
 *
 *   moat       what moat's sql_pg.c sent before it used pipeline mode, one
 *              round trip each:
 *              "DEALLOCATE ALL; BEGIN READ ONLY; SET LOCAL
 *              statement_timeout; SET LOCAL search_path" (simple
 *              protocol); Parse moat_q; Describe moat_q; EXPLAIN (VERBOSE,
 *              FORMAT JSON) of the query; Execute moat_q in single-row
 *              mode; ROLLBACK: 6 round trips
 *   reference  what @modelcontextprotocol/server-postgres sends: BEGIN
 *              TRANSACTION READ ONLY; the query (simple protocol);
 *              ROLLBACK: 3 round trips (the reference does not wait for
 *              its ROLLBACK before answering; here every one is waited for)
 *   pipelined  moat's statements in two round trips (libpq pipeline
 *              mode): BEGIN, the SETs, Parse, Describe and EXPLAIN in the
 *              first; Execute, DEALLOCATE moat_q and ROLLBACK in the
 *              second, sent once the plan is back (where moat checks it).
 *              What sql_pg.c does now (it sends DEALLOCATE ALL at the
 *              start of the first instead, and DISCARD ALL at the end of
 *              the second).
 *   cached     what sql_pg.c sends when its plan-check cache answers
 *              (sql_pg_cache.c), two round trips with no EXPLAIN:
 *              DEALLOCATE ALL, BEGIN READ ONLY, the SETs, Parse, Describe
 *              and SELECT pg_current_snapshot()::text in the first;
 *              Execute (single-row mode), the snapshot again, ROLLBACK and
 *              DISCARD ALL in the second. Exactly moat's statements on a
 *              hit, DISCARD ALL included (pipelined leaves it out).
 *
 * Runs the sequence back to back for SECONDS (after 0.5 s of warm-up) and
 * prints one JSON line: calls per second and the p50 latency of a call.
 * Every result is read in full and every error is fatal.
 * Build: cc -O2 -std=c17 -D_GNU_SOURCE -I$(pg_config --includedir) bench/pgfloor.c -lpq -o pgfloor
 */
#include <libpq-fe.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_SAMPLES (1 << 22)
#define STMT "moat_q"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void die(PGconn *c, const PGresult *r)
{
	fprintf(stderr, "pgfloor: %s", r ? PQresultErrorMessage(r) : PQerrorMessage(c));
	exit(1);
}

/* Read every result of the command in flight (one round trip). */
static void drain(PGconn *c)
{
	PGresult *r;

	while ((r = PQgetResult(c))) {
		if (PQresultStatus(r) == PGRES_FATAL_ERROR)
			die(c, r);
		PQclear(r);
	}
}

/* Read the results of n pipelined commands and their sync. */
static void drain_pipeline(PGconn *c, int n)
{
	PGresult *r;

	for (int i = 0; i <= n; i++) {
		while ((r = PQgetResult(c))) {
			ExecStatusType st = PQresultStatus(r);
			if (st == PGRES_FATAL_ERROR || st == PGRES_PIPELINE_ABORTED)
				die(c, r);
			PQclear(r);
			if (st == PGRES_PIPELINE_SYNC)
				break;
		}
	}
}

static const char *query;
static char *explain;

static void send_or_die(PGconn *c, int ok)
{
	if (!ok)
		die(c, NULL);
}

static void seq_moat(PGconn *c)
{
	send_or_die(c, PQsendQuery(c, "DEALLOCATE ALL; BEGIN READ ONLY; SET LOCAL "
				      "statement_timeout = 60000; SET LOCAL search_path = \"public\""));
	drain(c);
	send_or_die(c, PQsendPrepare(c, STMT, query, 0, NULL));
	drain(c);
	send_or_die(c, PQsendDescribePrepared(c, STMT));
	drain(c);
	send_or_die(c, PQsendQueryParams(c, explain, 0, NULL, NULL, NULL, NULL, 0));
	drain(c);
	send_or_die(c, PQsendQueryPrepared(c, STMT, 0, NULL, NULL, NULL, 0));
	PQsetSingleRowMode(c);
	drain(c);
	send_or_die(c, PQsendQuery(c, "ROLLBACK"));
	drain(c);
}

static void seq_reference(PGconn *c)
{
	send_or_die(c, PQsendQuery(c, "BEGIN TRANSACTION READ ONLY"));
	drain(c);
	send_or_die(c, PQsendQuery(c, query));
	drain(c);
	send_or_die(c, PQsendQuery(c, "ROLLBACK"));
	drain(c);
}

static void param(PGconn *c, const char *sql)
{
	send_or_die(c, PQsendQueryParams(c, sql, 0, NULL, NULL, NULL, NULL, 0));
}

static void seq_pipelined(PGconn *c)
{
	send_or_die(c, PQenterPipelineMode(c));
	param(c, "BEGIN READ ONLY");
	param(c, "SET LOCAL statement_timeout = 60000");
	param(c, "SET LOCAL search_path = \"public\"");
	send_or_die(c, PQsendPrepare(c, STMT, query, 0, NULL));
	send_or_die(c, PQsendDescribePrepared(c, STMT));
	param(c, explain);
	send_or_die(c, PQpipelineSync(c));
	drain_pipeline(c, 6);
	send_or_die(c, PQsendQueryPrepared(c, STMT, 0, NULL, NULL, NULL, 0));
	param(c, "DEALLOCATE " STMT);
	param(c, "ROLLBACK");
	send_or_die(c, PQpipelineSync(c));
	drain_pipeline(c, 3);
	send_or_die(c, PQexitPipelineMode(c));
}

#define SNAPSHOT "SELECT pg_catalog.pg_current_snapshot()::text"

static void seq_cached(PGconn *c)
{
	send_or_die(c, PQenterPipelineMode(c));
	param(c, "DEALLOCATE ALL");
	param(c, "BEGIN READ ONLY");
	param(c, "SET LOCAL statement_timeout = 60000");
	param(c, "SET LOCAL search_path = \"public\"");
	send_or_die(c, PQsendPrepare(c, STMT, query, 0, NULL));
	send_or_die(c, PQsendDescribePrepared(c, STMT));
	param(c, SNAPSHOT);
	send_or_die(c, PQpipelineSync(c));
	drain_pipeline(c, 7);
	send_or_die(c, PQsendQueryPrepared(c, STMT, 0, NULL, NULL, NULL, 0));
	send_or_die(c, PQsetSingleRowMode(c));
	param(c, SNAPSHOT);
	param(c, "ROLLBACK");
	param(c, "DISCARD ALL");
	send_or_die(c, PQpipelineSync(c));
	drain_pipeline(c, 4);
	send_or_die(c, PQexitPipelineMode(c));
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	void (*seq)(PGconn *);
	double seconds, *lat;
	size_t n = 0;
	uint64_t t0, end;
	PGconn *c;

	if (argc != 6) {
		fprintf(stderr,
			"usage: pgfloor URL moat|reference|pipelined|cached SECONDS QUERY LABEL\n");
		return 2;
	}
	if (strcmp(argv[2], "moat") == 0)
		seq = seq_moat;
	else if (strcmp(argv[2], "reference") == 0)
		seq = seq_reference;
	else if (strcmp(argv[2], "pipelined") == 0)
		seq = seq_pipelined;
	else if (strcmp(argv[2], "cached") == 0)
		seq = seq_cached;
	else {
		fprintf(stderr, "pgfloor: unknown sequence %s\n", argv[2]);
		return 2;
	}
	seconds = strtod(argv[3], NULL);
	query = argv[4];
	if (seconds <= 0 || asprintf(&explain, "EXPLAIN (VERBOSE, FORMAT JSON) %s", query) < 0 ||
	    !(lat = malloc(MAX_SAMPLES * sizeof(*lat)))) {
		fprintf(stderr, "pgfloor: bad SECONDS, or out of memory\n");
		return 2;
	}
	c = PQconnectdb(argv[1]);
	if (PQstatus(c) != CONNECTION_OK)
		die(c, NULL);
	end = now_ns() + 500000000u;
	while (now_ns() < end)
		seq(c);
	t0 = now_ns();
	end = t0 + (uint64_t)(seconds * 1e9);
	for (uint64_t t = t0, u; t < end && n < MAX_SAMPLES; t = u) {
		seq(c);
		u = now_ns();
		lat[n++] = (double)(u - t) / 1000.0;
	}
	seconds = (double)(now_ns() - t0) / 1e9;
	qsort(lat, n, sizeof(*lat), cmp_double);
	printf("{\"label\":\"%s\",\"sequence\":\"%s\",\"calls\":%zu,\"seconds\":%.3f,"
	       "\"per_second\":%.1f,\"p50_us\":%.1f}\n",
	       argv[5], argv[2], n, seconds, (double)n / seconds, n ? lat[n / 2] : 0.0);
	PQfinish(c);
	free(lat);
	free(explain);
	return 0;
}
