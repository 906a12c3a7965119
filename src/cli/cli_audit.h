/*
 * cli_audit.h - pieces shared by the `moat audit` subcommands: their
 * options, the files of the trail they read, and the record filter.
 * Single-threaded (a command-line tool).
 */
#ifndef MOAT_CLI_CLI_AUDIT_H
#define MOAT_CLI_CLI_AUDIT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "audit_chain.h"

/* Options of `moat audit SUB`. Strings borrow from argv. */
struct audit_cli {
	const char *config;    /* --config FILE */
	bool json;             /* --json */
	bool utc;              /* --utc: times in UTC instead of local time */
	bool follow;           /* tail -f */
	size_t lines;          /* tail -n N (default 20) */
	size_t top;            /* summary --top N (default 10) */
	const char *tool, *outcome, *rule, *principal; /* filters, exact */
	bool has_since;
	int64_t since_us;      /* --since: records at or after this (µs since the epoch) */
	const char *since_text;
	struct audit_files files; /* the trail, oldest first */
	bool explicit_files;   /* FILE arguments rather than the configured trail */
};

/* audit_cli_time - the "time" of a record in µs since the epoch, or -1. */
int64_t audit_cli_time(const json_t *rec);

/* audit_cli_match - true when rec passes the filters (and --since). */
bool audit_cli_match(const struct audit_cli *o, const json_t *rec);

/* audit_cli_fmt_time - us as "YYYY-MM-DD HH:MM:SS.mmm" (local, or UTC with
 * a trailing Z when o->utc) into buf. */
void audit_cli_fmt_time(const struct audit_cli *o, int64_t us, char *buf, size_t size);

/* The subcommands (cli_audit_show.c); each returns an EXIT_* code. */
int audit_cli_tail(struct audit_cli *o);
int audit_cli_summary(struct audit_cli *o);

#endif
