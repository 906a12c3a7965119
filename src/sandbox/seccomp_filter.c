/*
 * seccomp_filter.c - the system-call filter (libseccomp), installed after
 * Landlock. See seccomp_filter.h for the contract, docs/security.md for the model.
 *
 * Why a denylist. One moat process runs the four families' libraries:
 * glibc (threads, the resolver and its NSS modules), libcurl with its
 * resolver threads, libxml2, libmagic, SQLite, libpq with OpenSSL, GSSAPI
 * and LDAP, libgit2 with mbedtls and libssh2, and in test builds the
 * ASan/UBSan/LSan runtimes. An allowlist must hold every call any of them
 * makes on any path, across glibc and library versions (glibc alone moved
 * to clone3, rseq and statx within two releases), and a miss kills the
 * server on a rare path: a Kerberos ticket cache, a PostgreSQL server that
 * asks for GSSAPI, a resolver reading a changed /etc/resolv.conf. A
 * denylist cannot break a path that calls nothing on it, and the calls on
 * it are the ones kernel exploits and escapes are made of. The filter also
 * stands behind Landlock (which already refuses exec and every file outside
 * the roots) and no_new_privs, so it need not name every harmless call.
 *
 * What it does, on the native architecture only (libseccomp adds just the
 * native arch; any other ABI, i386 through int 0x80 or x32 with its high
 * syscall bit, kills the process: a denylist keyed on numbers must never
 * see another ABI's numbers):
 *  - kill the process (SECCOMP_RET_KILL_PROCESS) for calls only an exploit
 *    would make: exec, tracing or reading another process, namespaces and
 *    mounts (and clone with a CLONE_NEW* flag), bpf, perf_event_open,
 *    userfaultfd, io_uring, modify_ldt, iopl, ioperm, personality, uselib,
 *    open_by_handle_at, kexec and kernel modules. Killing ends an exploit
 *    at its first step; the kernel records it (an audit record of type
 *    SECCOMP where the kernel audits) and the client sees the server exit
 *    by SIGSYS. No library moat links makes these calls after start-up.
 *  - fail with EPERM and log (SECCOMP_RET_TRAP and a SIGSYS handler) for
 *    calls a library might make on a rare path and copes with when refused:
 *    the kernel keyring (Kerberos credential caches, reached through
 *    libpq's GSSAPI), name_to_handle_at (libsystemd through NSS), and host
 *    administration that needs a capability moat never uses (reboot, swap,
 *    clocks, hostname, quotas, the kernel log ...). The server keeps
 *    serving and the call fails; the handler writes one line on stderr,
 *    the only log the kernel does not keep for an errno action.
 *  - fail with EAFNOSUPPORT and log every socket family but unix, inet,
 *    inet6 and netlink (NETLINK_ROUTE only, for getaddrinfo): the rare
 *    families (AF_ALG, AF_VSOCK, AF_TIPC, AF_PACKET ...) are kernel attack
 *    surface moat never needs.
 *  - fail clone3 with ENOSYS, unlogged: seccomp cannot read clone3's flags
 *    (they sit in memory), and glibc then starts threads with clone, whose
 *    flags the filter checks.
 *
 * The SIGSYS handler is async-signal-safe: it formats into a stack buffer,
 * calls write(2) only, reads a table written before the filter was loaded,
 * and sets the system call's return register to -errno (x86_64, aarch64;
 * on other architectures the refused calls use SECCOMP_RET_ERRNO and are
 * not logged). The kernel's seccomp action cache makes the filter free for
 * calls it always allows; only socket and clone run the BPF program.
 *
 * Sanitizer builds: LeakSanitizer stops the world at exit from a tracer
 * task it clones (CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_UNTRACED, no
 * namespace flag), which attaches to every thread with ptrace(2). Killed
 * on ptrace, the tracer dies and the process spins at exit waiting for it
 * (tried). So sanitizer builds, and only they, leave ptrace allowed;
 * product builds kill on it; tests/attack/seccomp.test.mjs proves a leak
 * is still reported. Nothing else LSan or ASan call at run time is denied (ASan's
 * symbolizer execs from a forked child, which alone is killed).
 */
#include "seccomp_filter.h"
#include "log.h"

#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <ucontext.h>
#include <unistd.h>

#include "log.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SCF_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SCF_SANITIZER 1
#endif
#endif

/* Where the SIGSYS handler writes a system call's result. */
#if defined(__x86_64__)
#define SCF_ARCH_NAME "x86_64"
#define SCF_SET_RESULT(uc, v) ((uc)->uc_mcontext.gregs[REG_RAX] = (greg_t)(v))
#elif defined(__aarch64__)
#define SCF_ARCH_NAME "aarch64"
#define SCF_SET_RESULT(uc, v) ((uc)->uc_mcontext.regs[0] = (unsigned long long)(v))
#else
#define SCF_ARCH_NAME "native"
#define SCF_NO_TRAP 1
#endif

#ifndef SYS_SECCOMP
#define SYS_SECCOMP 1 /* si_code of a SIGSYS the filter raised */
#endif

/* clone's flags are its first argument everywhere but on s390. */
#if defined(__s390__) || defined(__s390x__)
#define SCF_CLONE_FLAGS_ARG 1
#else
#define SCF_CLONE_FLAGS_ARG 0
#endif

enum scf_action { SCF_KILL, SCF_REFUSE };

struct scf_group {
	const char *what;
	enum scf_action act;
	const char *const *names; /* NULL-terminated */
};


/* One argument comparison, every field named (libseccomp's SCMP_A*
 * macros leave datum_b to the compiler, which clang's
 * -Wmissing-field-initializers refuses). */
static struct scmp_arg_cmp scf_cmp(unsigned int arg, enum scmp_compare op, scmp_datum_t a,
				   scmp_datum_t b)
{
	return (struct scmp_arg_cmp){.arg = arg, .op = op, .datum_a = a, .datum_b = b};
}

static const char *const scf_exec[] = {"execve", "execveat", NULL};
static const char *const scf_procs[] = {
#ifndef SCF_SANITIZER
	"ptrace",
#endif
	"process_vm_readv", "process_vm_writev", "pidfd_getfd", "kcmp", "process_madvise",
	NULL};
static const char *const scf_ns[] = {"mount", "umount2", "pivot_root", "chroot", "unshare",
				     "setns", "fsopen", "fsconfig", "fsmount", "fspick",
				     "move_mount", "open_tree", "mount_setattr",
				     "open_by_handle_at", NULL};
static const char *const scf_kernel[] = {"bpf", "perf_event_open", "userfaultfd",
					 "io_uring_setup", "io_uring_enter",
					 "io_uring_register", "modify_ldt", "iopl", "ioperm",
					 "personality", "uselib", NULL};
static const char *const scf_kcode[] = {"kexec_load", "kexec_file_load", "init_module",
					"finit_module", "delete_module", NULL};
static const char *const scf_keys[] = {"keyctl", "add_key", "request_key", NULL};
static const char *const scf_admin[] = {
	"reboot", "swapon", "swapoff", "acct", "settimeofday", "clock_settime", "clock_adjtime",
	"adjtimex", "sethostname", "setdomainname", "quotactl", "quotactl_fd", "syslog",
	"vhangup", "lookup_dcookie", "fanotify_init", "name_to_handle_at", NULL};

static const struct scf_group scf_groups[] = {
	{"exec", SCF_KILL, scf_exec},
	{"other processes", SCF_KILL, scf_procs},
	{"namespaces and mounts", SCF_KILL, scf_ns},
	{"kernel attack surface", SCF_KILL, scf_kernel},
	{"kernel code", SCF_KILL, scf_kcode},
	{"kernel keyring", SCF_REFUSE, scf_keys},
	{"host administration", SCF_REFUSE, scf_admin},
};

/* The namespace flags clone may not carry. */
static const struct {
	unsigned long flag;
	const char *name;
} scf_clone_ns[] = {
	{CLONE_NEWNS, "CLONE_NEWNS"},	{CLONE_NEWCGROUP, "CLONE_NEWCGROUP"},
	{CLONE_NEWUTS, "CLONE_NEWUTS"}, {CLONE_NEWIPC, "CLONE_NEWIPC"},
	{CLONE_NEWUSER, "CLONE_NEWUSER"}, {CLONE_NEWPID, "CLONE_NEWPID"},
	{CLONE_NEWNET, "CLONE_NEWNET"},
};

/* Socket families that stay open; netlink only with NETLINK_ROUTE (0). */
#define SCF_AF_LIMIT 46 /* every family from here up is refused by one rule */

static bool scf_family_allowed(int af)
{
	return af == AF_UNIX || af == AF_INET || af == AF_INET6 || af == AF_NETLINK;
}

/* ---- the SIGSYS handler ---------------------------------------------------- */

/* What the handler needs per refused call; written before the filter is
 * loaded, read-only afterwards. */
struct scf_trap {
	int nr;
	int err;
	char name[24];
};

static struct scf_trap scf_traps[64];
static size_t scf_ntraps;

#ifndef SCF_NO_TRAP
/* Append s to buf[*n..cap); async-signal-safe. */
static void scf_put(char *buf, size_t cap, size_t *n, const char *s)
{
	while (*s && *n + 1 < cap)
		buf[(*n)++] = *s++;
}

static void scf_put_num(char *buf, size_t cap, size_t *n, long v)
{
	char d[24];
	size_t k = 0;
	unsigned long u = v < 0 ? (unsigned long)-v : (unsigned long)v;

	if (v < 0)
		scf_put(buf, cap, n, "-");
	do {
		d[k++] = (char)('0' + u % 10);
		u /= 10;
	} while (u && k < sizeof(d));
	while (k && *n + 1 < cap)
		buf[(*n)++] = d[--k];
}

static void scf_on_sigsys(int sig, siginfo_t *si, void *ctx)
{
	ucontext_t *uc = ctx;
	int saved = errno, nr = si->si_syscall, e = EPERM;
	const char *name = "unknown";
	char line[256];
	size_t n = 0;

	if (si->si_code != SYS_SECCOMP)
		return; /* a SIGSYS someone sent: nothing to answer */
	for (size_t i = 0; i < scf_ntraps; i++) {
		if (scf_traps[i].nr == nr) {
			name = scf_traps[i].name;
			e = scf_traps[i].err;
			break;
		}
	}
	/* --log-format json: the same words as a record (the name is a
	 * system call's, nothing to escape). */
	bool json = log_get_format() == LOG_FORMAT_JSON;
	if (json)
		n = log_json_head(line, sizeof(line), LOG_LVL_WARNING);
	scf_put(line, sizeof(line), &n, json ? "" : "moat: warning: ");
	scf_put(line, sizeof(line), &n, "seccomp: refused system call ");
	scf_put_num(line, sizeof(line), &n, nr);
	scf_put(line, sizeof(line), &n, " (");
	scf_put(line, sizeof(line), &n, name);
	scf_put(line, sizeof(line), &n, e == EAFNOSUPPORT ? "): EAFNOSUPPORT" : "): EPERM");
	scf_put(line, sizeof(line), &n, json ? "\"}\n" : "\n");
	(void)!write(STDERR_FILENO, line, n);
	SCF_SET_RESULT(uc, -e);
	errno = saved;
}
#endif

/* ---- building the filter --------------------------------------------------- */

static int scf_note_trap(int nr, int err, const char *name)
{
	for (size_t i = 0; i < scf_ntraps; i++)
		if (scf_traps[i].nr == nr)
			return 0;
	if (scf_ntraps == sizeof(scf_traps) / sizeof(scf_traps[0]))
		return -1;
	scf_traps[scf_ntraps].nr = nr;
	scf_traps[scf_ntraps].err = err;
	snprintf(scf_traps[scf_ntraps].name, sizeof(scf_traps[0].name), "%s", name);
	scf_ntraps++;
	return 0;
}

/* The action for a refused call failing with err. */
static uint32_t scf_refuse(int err)
{
#ifdef SCF_NO_TRAP
	return SCMP_ACT_ERRNO((uint32_t)err);
#else
	(void)err;
	return SCMP_ACT_TRAP;
#endif
}

static enum moat_rc scf_fail(struct moat_err *err, const char *what, int rc)
{
	return moat_err_set(err, MOAT_EIO, "seccomp: %s: %s", what, strerror(rc < 0 ? -rc : rc));
}

/* Every rule of the filter into ctx; counts into rep. */
static enum moat_rc scf_rules(scmp_filter_ctx ctx, struct seccomp_report *rep,
			      struct moat_err *err)
{
	int rc, nr;

	for (size_t g = 0; g < sizeof(scf_groups) / sizeof(scf_groups[0]); g++) {
		for (const char *const *p = scf_groups[g].names; *p; p++) {
			nr = seccomp_syscall_resolve_name(*p);
			if (nr < 0)
				continue; /* not a system call on this architecture */
			if (scf_groups[g].act == SCF_KILL) {
				rc = seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS, nr, 0);
				rep->nkill++;
			} else {
				if (scf_note_trap(nr, EPERM, *p) != 0)
					return moat_err_set(err, MOAT_EINTERNAL,
							    "seccomp: too many refused calls");
				rc = seccomp_rule_add(ctx, scf_refuse(EPERM), nr, 0);
				rep->nrefuse++;
			}
			if (rc < 0)
				return scf_fail(err, *p, rc);
		}
	}
	for (size_t i = 0; i < sizeof(scf_clone_ns) / sizeof(scf_clone_ns[0]); i++) {
		rc = seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS, SCMP_SYS(clone), 1,
				      scf_cmp(SCF_CLONE_FLAGS_ARG, SCMP_CMP_MASKED_EQ,
					      scf_clone_ns[i].flag, scf_clone_ns[i].flag));
		if (rc < 0)
			return scf_fail(err, "clone", rc);
	}
	rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	if (rc < 0)
		return scf_fail(err, "clone3", rc);
	/* socket(2): every family but the four moat uses. Comparisons are on
	 * the whole 64-bit register, so a family with high bits set is >= the
	 * limit and refused too. */
	if (scf_note_trap(SCMP_SYS(socket), EAFNOSUPPORT, "socket") != 0)
		return moat_err_set(err, MOAT_EINTERNAL, "seccomp: too many refused calls");
	for (int af = 0; af < SCF_AF_LIMIT; af++) {
		if (scf_family_allowed(af))
			continue;
		rc = seccomp_rule_add(ctx, scf_refuse(EAFNOSUPPORT), SCMP_SYS(socket), 1,
				      scf_cmp(0, SCMP_CMP_EQ, (scmp_datum_t)af, 0));
		if (rc < 0)
			return scf_fail(err, "socket", rc);
	}
	rc = seccomp_rule_add(ctx, scf_refuse(EAFNOSUPPORT), SCMP_SYS(socket), 1,
			      scf_cmp(0, SCMP_CMP_GE, (scmp_datum_t)SCF_AF_LIMIT, 0));
	if (rc >= 0)
		rc = seccomp_rule_add(ctx, scf_refuse(EAFNOSUPPORT), SCMP_SYS(socket), 2,
				      scf_cmp(0, SCMP_CMP_EQ, (scmp_datum_t)AF_NETLINK, 0),
				      scf_cmp(2, SCMP_CMP_NE, 0, 0));
	if (rc < 0)
		return scf_fail(err, "socket", rc);
	rep->nrefuse++;
	return MOAT_OK;
}

static void scf_summary(struct seccomp_report *r, const char *why)
{
	if (!r->active) {
		snprintf(r->summary, sizeof(r->summary), "seccomp unavailable (%s)", why);
		return;
	}
	snprintf(r->summary, sizeof(r->summary),
		 "seccomp: %s only; %zu system calls kill the process, %zu fail%s%s",
		 SCF_ARCH_NAME, r->nkill, r->nrefuse, r->logs_denied ? " and are logged" : "",
#ifdef SCF_SANITIZER
		 "; ptrace allowed (sanitizer build)"
#else
		 ""
#endif
	);
}

enum moat_rc sandbox_seccomp_install(struct seccomp_report *out, struct moat_err *err)
{
	struct seccomp_report rep = {0};
	scmp_filter_ctx ctx = NULL;
	const char *why = NULL;
	enum moat_rc rc = MOAT_OK;
	int r;

	/* PR_GET_SECCOMP fails with EINVAL on a kernel built without seccomp. */
	if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) < 0 && errno == EINVAL) {
		why = "the kernel has no seccomp";
		log_warn("seccomp: %s: no system-call filter", why);
		goto out;
	}
	ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx) {
		rc = moat_err_set(err, MOAT_ENOMEM, "seccomp: cannot create a filter");
		goto out;
	}
	if ((r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS)) < 0 ||
	    (r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1)) < 0) {
		rc = scf_fail(err, "filter attributes", r);
		goto out;
	}
	/* Optional: a binary tree of system calls, raw kernel error codes. */
	(void)seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	(void)seccomp_attr_set(ctx, SCMP_FLTATR_API_SYSRAWRC, 1);
	scf_ntraps = 0;
	if ((rc = scf_rules(ctx, &rep, err)))
		goto out;
#ifndef SCF_NO_TRAP
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = scf_on_sigsys;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) != 0) {
		rc = moat_err_set(err, MOAT_EIO, "seccomp: SIGSYS handler: %s", strerror(errno));
		goto out;
	}
	rep.logs_denied = true;
#endif
	r = seccomp_load(ctx);
	if (r == -ENOSYS || r == -EINVAL) {
		why = "the kernel refused a filter";
		log_warn("seccomp: %s (%s): no system-call filter", why, strerror(-r));
		goto out;
	}
	if (r < 0) {
		rc = scf_fail(err, "load", r);
		goto out;
	}
	rep.active = true;
out:
	if (ctx)
		seccomp_release(ctx);
	if (!rep.active)
		rep.logs_denied = false;
	scf_summary(&rep, why ? why : "not loaded");
	if (out)
		*out = rep;
	return rc;
}

/* ---- moat check ------------------------------------------------------------ */

void sandbox_seccomp_describe(FILE *f)
{
	const char *refused = "EPERM and logged";

#ifdef SCF_NO_TRAP
	refused = "EPERM";
#endif
	if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) < 0 && errno == EINVAL) {
		fprintf(f, "  %-12s unavailable: the kernel has no seccomp\n", "seccomp");
		return;
	}
	fprintf(f, "  %-12s %s system calls only (any other ABI kills the process); "
		   "installed after Landlock, on every thread\n", "seccomp", SCF_ARCH_NAME);
	for (size_t g = 0; g < sizeof(scf_groups) / sizeof(scf_groups[0]); g++) {
		fprintf(f, "  %-12s %s, %s:", "seccomp",
			scf_groups[g].act == SCF_KILL ? "kill process" : refused,
			scf_groups[g].what);
		for (const char *const *p = scf_groups[g].names; *p; p++)
			if (seccomp_syscall_resolve_name(*p) >= 0)
				fprintf(f, " %s", *p);
		fputc('\n', f);
	}
	fprintf(f, "  %-12s kill process, clone with a namespace flag:", "seccomp");
	for (size_t i = 0; i < sizeof(scf_clone_ns) / sizeof(scf_clone_ns[0]); i++)
		fprintf(f, " %s", scf_clone_ns[i].name);
	fputc('\n', f);
	fprintf(f, "  %-12s %s, socket families: all but unix, inet, inet6 and netlink "
		   "(NETLINK_ROUTE only)\n", "seccomp",
#ifdef SCF_NO_TRAP
		"EAFNOSUPPORT"
#else
		"EAFNOSUPPORT and logged"
#endif
	);
	fprintf(f, "  %-12s ENOSYS, clone3: glibc falls back to clone, whose flags are checked\n",
		"seccomp");
#ifdef SCF_SANITIZER
	fprintf(f, "  %-12s allowed in this sanitizer build: ptrace (LeakSanitizer stops the "
		   "world with it at exit)\n", "seccomp");
#endif
	fprintf(f, "  %-12s allowed, every other system call (a denylist: see docs/security.md)\n",
		"seccomp");
}
