/*
 * seccomp_filter.h - the system-call filter moat installs after start-up, beside
 * Landlock (DESIGN.md section 5.2; docs/security.md "seccomp").
 *
 * A denylist over the native architecture only: every other ABI (32-bit
 * x86 through int 0x80, x32) kills the process. Calls only an exploit
 * would make (exec, tracing other processes, namespaces and mounts, bpf,
 * io_uring, userfaultfd, kernel modules ...) kill the process; calls a
 * library might make on a rare path (the kernel keyring, host
 * administration, uncommon socket families) fail with EPERM (or
 * EAFNOSUPPORT) and are logged on stderr by a SIGSYS handler; clone3
 * fails with ENOSYS so glibc starts threads with clone, whose namespace
 * flags the filter can read. seccomp_filter.c says why it is a denylist.
 *
 * Nothing here is for concurrent use during start-up: install once, from
 * the single-threaded start-up (TSYNC covers any thread that exists).
 */
#ifndef MOAT_SANDBOX_SECCOMP_FILTER_H
#define MOAT_SANDBOX_SECCOMP_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "result.h"

/* What sandbox_seccomp_install() put in force. */
struct seccomp_report {
	bool active;       /* a filter is loaded on every thread */
	size_t nkill;      /* system calls that kill the process */
	size_t nrefuse;    /* system calls that fail (EPERM, EAFNOSUPPORT) and are logged */
	bool logs_denied;  /* a SIGSYS handler logs refused calls (else the kernel's audit log only) */
	char summary[200]; /* one line for the start-up log */
};

/*
 * sandbox_seccomp_install - build the filter and load it on every thread of
 * the process (SECCOMP_FILTER_FLAG_TSYNC), with no_new_privs. Installs the
 * SIGSYS handler first. When the kernel has no seccomp filter support it
 * logs a warning and succeeds with out->active false; any other failure is
 * MOAT_EIO and the caller must not serve. out may be NULL.
 */
enum moat_rc sandbox_seccomp_install(struct seccomp_report *out, struct moat_err *err);

/*
 * sandbox_seccomp_describe - print to f, indented like sandbox_describe,
 * what the filter denies and how (moat check). Loads nothing.
 */
void sandbox_seccomp_describe(FILE *f);

#endif
