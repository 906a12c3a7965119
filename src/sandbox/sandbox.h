/*
 * sandbox.h - the kernel sandbox moat applies once after start-up.
 *
 * Start-up (config, providers, roots, libmagic, audit file) runs with the
 * user's full rights; then, before any worker thread exists, the process
 * confines itself for good: Landlock limits the file system to the
 * configured roots (read-only or read-write as configured) and denies every
 * TCP bind, and every TCP connect except to the ports the families recorded
 * (registry_grant_port: the http family's APIs and fetch); with Landlock ABI 6 and later abstract UNIX sockets
 * and signals are scoped to the process's own domain. Independently of
 * Landlock the process sets no_new_privs, becomes non-dumpable and gets a
 * zero core-file limit. Files opened before the sandbox (stdin, stdout,
 * stderr, the audit log, the roots' O_PATH fds) keep working: Landlock
 * checks access when a file is opened, never on an fd already held.
 *
 * A plan collects what the process still needs; sandbox_apply() enforces
 * it, sandbox_describe() prints what would be enforced without applying
 * anything (moat check). Nothing here is thread-safe: it belongs to the
 * single-threaded start-up, and Landlock only restricts the calling thread
 * and the threads it starts afterwards.
 */
#ifndef MOAT_SANDBOX_SANDBOX_H
#define MOAT_SANDBOX_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "config.h"
#include "registry.h"
#include "result.h"

/* What the process may still do under a path after the sandbox is on. */
enum sandbox_access {
	SANDBOX_READ,        /* directory tree: open files and list directories */
	SANDBOX_READ_WRITE,  /* directory tree: also create, write, truncate, remove, rename */
	SANDBOX_APPEND_FILE, /* one regular file: open for writing (the caller uses O_APPEND) */
	SANDBOX_AUDIT_DIR,   /* the audit trail's directory: create, read, write, rename
				within and remove files (rotation), never list */
};

struct sandbox_rule {
	char *path; /* absolute, canonical; owned */
	int fd;     /* O_PATH fd naming it (owned), or -1: open path when applying */
	enum sandbox_access access;
};

/* The rules to enforce. Zero-initialise, fill, apply, then sandbox_plan_free. */
struct sandbox_plan {
	struct sandbox_rule *rules; /* owned */
	size_t nrules;
	size_t cap;
	bool network;          /* unused: TCP is governed by ports below */
	uint16_t ports[64];    /* TCP ports connect is allowed to */
	size_t nports;
	uint16_t bind_ports[4]; /* TCP ports bind is allowed on (the HTTP
				   listener's, bound before the sandbox); no other */
	size_t nbind_ports;
	const char *held_open; /* the audit trail's file, for the description;
				  borrowed from the config, NULL when none */
	bool audit_shared_dir; /* its directory holds other files: no rule, so
				  no rotation or reopening under the sandbox */
};

/* What sandbox_apply() enforced. */
struct sandbox_report {
	int abi;            /* Landlock ABI, 0 when Landlock is unavailable */
	bool landlock;      /* a Landlock domain is in force */
	bool tcp_denied;    /* TCP bind and connect denied (ABI >= 4), but for */
	size_t nports;      /* connect to this many ports */
	size_t nbind_ports; /* bind on this many ports */
	bool scoped;        /* abstract UNIX sockets and signals scoped (ABI >= 6) */
	bool no_new_privs;
	bool not_dumpable;
	bool no_core;
	size_t nread;       /* read-only directory trees */
	size_t nwrite;      /* read-write directory trees */
	size_t nfiles;      /* single files */
	size_t naudit;      /* the audit trail's directory (0 or 1) */
	char summary[320];  /* one line: "Landlock ABI 7: 2 read-only roots, ..." */
};

/*
 * sandbox_plan_add_path - add a rule for path (copied; it should be absolute
 * and canonical). Fails with MOAT_ENOMEM, or MOAT_EINVAL for a relative
 * path. The same path added twice keeps the wider access.
 */
enum moat_rc sandbox_plan_add_path(struct sandbox_plan *plan, const char *path,
				   enum sandbox_access access, struct moat_err *err);

/*
 * sandbox_plan_from - the rules the families recorded with registry_grant()
 * (each by the O_PATH fd the family itself opened, so the rule names exactly
 * that directory), plus the directory of cfg's audit trail with what
 * rotation and reopening need (SANDBOX_AUDIT_DIR) when it holds nothing
 * but the trail (audit_dir_own; otherwise no rule, a warning, and the
 * trail cannot rotate under the sandbox). cfg and reg are borrowed; cfg
 * must outlive the plan.
 */
enum moat_rc sandbox_plan_from(struct sandbox_plan *plan, const struct moat_config *cfg,
			       const struct registry *reg, struct moat_err *err);

/* sandbox_plan_free - release what the plan owns and zero it. NULL ok. */
void sandbox_plan_free(struct sandbox_plan *plan);

/*
 * sandbox_apply - confine the calling process for the rest of its life.
 * Must run before any other thread exists (it checks, and fails with
 * MOAT_EINTERNAL otherwise). When the kernel lacks Landlock (ENOSYS,
 * EOPNOTSUPP) it still applies no_new_privs, non-dumpable and no core files,
 * logs a warning and succeeds with out->landlock false. Any other failure
 * (a rule's path cannot be opened, restrict_self refused) fails with
 * MOAT_EIO: the caller must not serve unconfined. out is filled in both
 * cases (may be NULL).
 */
enum moat_rc sandbox_apply(const struct sandbox_plan *plan, struct sandbox_report *out,
			   struct moat_err *err);

/*
 * sandbox_describe - print to f, indented, what sandbox_apply would
 * enforce on this kernel (the Landlock ABI is probed, nothing is applied).
 */
void sandbox_describe(const struct sandbox_plan *plan, FILE *f);

/*
 * sandbox_confine - what `moat serve` and `moat call` run right after
 * start-up: the plan from cfg and reg, applied, then the seccomp filter
 * (seccomp_filter.h), and one info line for each saying what is enforced.
 * Both are borrowed. Returns the first failure (the caller must not serve).
 */
enum moat_rc sandbox_confine(const struct moat_config *cfg, const struct registry *reg,
			     struct moat_err *err);

#endif
