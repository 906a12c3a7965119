/*
 * sandbox.c - the kernel sandbox: Landlock (file system, TCP, scoping),
 * no_new_privs, non-dumpable, no core files. See sandbox.h for the model.
 *
 * Landlock is used best effort: the ABI the kernel reports decides which
 * rights are handled, so every right the kernel knows is denied unless a
 * rule grants it (EXECUTE and IOCTL_DEV are handled and never granted, so
 * no exec and no device ioctls anywhere). Read-only roots get READ_FILE and
 * READ_DIR. Read-write roots also get WRITE_FILE, TRUNCATE, REFER, REMOVE_*
 * and MAKE_REG/DIR/SYM/FIFO/SOCK (a rename within the root must be able to
 * move any such entry); MAKE_CHAR and MAKE_BLOCK are never granted, so even
 * moat running as root cannot mint a device node inside a root. The
 * installed headers predate ABI 3, so the newer constants are defined here
 * and the syscalls are called directly.
 *
 * Files opened before the sandbox keep working because Landlock checks a
 * file when it is opened: the audit log is opened O_APPEND by audit_open
 * before the sandbox, and its directory gets only what rotation needs
 * (WRITE_FILE, READ_FILE, MAKE_REG, REMOVE_FILE: no listing), and only
 * when it holds nothing but the trail (those rights cover every file in
 * it).
 * stdin/stdout/stderr and the roots' O_PATH fds need no rule (opens
 * beneath those are checked against the rules, which name the same
 * directories). libmagic's database is loaded before
 * the sandbox; jansson and PCRE2 read no files.
 *
 * The seccomp filter (seccomp_filter.c) goes on right after Landlock, from
 * sandbox_confine; sandbox_describe prints its plan too.
 *
 * Sanitizer builds: ASan/LSan read /proc/self/maps and /proc/self/task when
 * they report (LeakSanitizer at exit). __sanitizer_sandbox_on_notify() lets
 * them cache the maps first, and sanitizer builds only add a read-only rule
 * for /proc so LeakSanitizer can still stop the world at exit. Product
 * builds have no such rule.
 */
#include "sandbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/landlock.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "audit_chain.h"
#include "log.h"
#include "seccomp_filter.h"

/* ---- Landlock constants newer than the installed headers ---------------- */

#ifndef LANDLOCK_CREATE_RULESET_VERSION
#define LANDLOCK_CREATE_RULESET_VERSION (1U << 0)
#endif
#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13) /* ABI 2 */
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14) /* ABI 3 */
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15) /* ABI 5 */
#endif
#ifndef LANDLOCK_ACCESS_NET_BIND_TCP
#define LANDLOCK_ACCESS_NET_BIND_TCP (1ULL << 0) /* ABI 4 */
#endif
#ifndef LANDLOCK_ACCESS_NET_CONNECT_TCP
#define LANDLOCK_ACCESS_NET_CONNECT_TCP (1ULL << 1) /* ABI 4 */
#endif
#ifndef LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0) /* ABI 6 */
#endif
#ifndef LANDLOCK_SCOPE_SIGNAL
#define LANDLOCK_SCOPE_SIGNAL (1ULL << 1) /* ABI 6 */
#endif

#define SBX_RULE_PATH_BENEATH 1 /* LANDLOCK_RULE_PATH_BENEATH */
#define SBX_RULE_NET_PORT 2     /* LANDLOCK_RULE_NET_PORT (ABI 4) */

struct sbx_net_port_attr {
	uint64_t allowed_access;
	uint64_t port;
};

/* The ABI 6 layout of struct landlock_ruleset_attr; a kernel that knows
 * fewer fields accepts the larger struct as long as those are zero. */
struct sbx_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
};

struct sbx_path_beneath_attr {
	uint64_t allowed_access;
	int32_t parent_fd;
} __attribute__((packed));

/* ABI 1 rights: EXECUTE .. MAKE_SYM. */
#define FS_ABI1 ((1ULL << 13) - 1)
#define FS_READ (LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)
#define FS_WRITE                                                                              \
	(FS_READ | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_TRUNCATE |              \
	 LANDLOCK_ACCESS_FS_REFER | LANDLOCK_ACCESS_FS_REMOVE_DIR |                           \
	 LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_DIR |                       \
	 LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SYM |                          \
	 LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_SOCK)
/* The rights that make sense on a file rather than a directory. */
#define FS_FILE_RIGHTS                                                                        \
	(LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |                         \
	 LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_TRUNCATE |                         \
	 LANDLOCK_ACCESS_FS_IOCTL_DEV)

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SBX_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SBX_SANITIZER 1
#endif
#endif

#ifdef SBX_SANITIZER
/* From <sanitizer/common_interface_defs.h>; NULL is a valid argument. */
void __sanitizer_sandbox_on_notify(void *args);
#endif

/* ---- the plan ------------------------------------------------------------ */

enum moat_rc sandbox_plan_add_path(struct sandbox_plan *plan, const char *path,
				   enum sandbox_access access, struct moat_err *err)
{
	struct sandbox_rule *r;
	char *copy;

	if (!path || path[0] != '/')
		return moat_err_set(err, MOAT_EINVAL, "sandbox: a rule's path must be absolute");
	for (size_t i = 0; i < plan->nrules; i++) {
		r = &plan->rules[i];
		/* The audit directory's rights are not a root's: never merged. */
		if (strcmp(r->path, path) != 0 ||
		    (access == SANDBOX_AUDIT_DIR) != (r->access == SANDBOX_AUDIT_DIR))
			continue;
		if (access == SANDBOX_READ_WRITE || r->access == SANDBOX_APPEND_FILE)
			r->access = access;
		return MOAT_OK;
	}
	if (plan->nrules == plan->cap) {
		size_t ncap = plan->cap ? plan->cap * 2 : 8;
		r = realloc(plan->rules, ncap * sizeof(*r));
		if (!r)
			return moat_err_set(err, MOAT_ENOMEM, "out of memory");
		plan->rules = r;
		plan->cap = ncap;
	}
	copy = strdup(path);
	if (!copy)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	plan->rules[plan->nrules++] = (struct sandbox_rule){.path = copy, .fd = -1,
							    .access = access};
	return MOAT_OK;
}

enum moat_rc sandbox_plan_from(struct sandbox_plan *plan, const struct moat_config *cfg,
			       const struct registry *reg, struct moat_err *err)
{
	for (size_t i = 0; i < registry_grant_count(reg); i++) {
		const struct registry_grant *g = registry_grant_at(reg, i);
		enum moat_rc rc = sandbox_plan_add_path(
			plan, g->path, g->write ? SANDBOX_READ_WRITE : SANDBOX_READ, err);
		if (rc)
			return rc;
		for (size_t k = 0; k < plan->nrules; k++) {
			struct sandbox_rule *r = &plan->rules[k];
			if (r->fd < 0 && strcmp(r->path, g->path) == 0)
				r->fd = fcntl(g->fd, F_DUPFD_CLOEXEC, 3);
		}
	}
	/* audit_open() opens the trail before the sandbox (Landlock does not
	 * check fds already open), but rotation renames it, creates the next
	 * file and removes the oldest, SIGHUP reopens it by name, and another
	 * moat sharing the trail may have written the reopened file: its
	 * directory gets exactly those rights (rule_rights), never listing. */
	if (cfg->audit_file && !audit_dir_own(cfg->audit_file)) {
		plan->audit_shared_dir = true;
		log_warn("audit: the trail's directory holds other files: under the sandbox the "
			 "trail can neither rotate nor be reopened; give it a directory of its own");
	} else if (cfg->audit_file) {
		char dir[PATH_MAX];
		enum moat_rc rc;
		if (!audit_dir_of(cfg->audit_file, dir, sizeof(dir)))
			return moat_err_set(err, MOAT_EINVAL, "sandbox: audit file path not absolute");
		if ((rc = sandbox_plan_add_path(plan, dir, SANDBOX_AUDIT_DIR, err)))
			return rc;
	}
	plan->held_open = cfg->audit_file;
	plan->network = false;
	for (size_t i = 0; i < registry_port_count(reg); i++) {
		if (plan->nports == sizeof(plan->ports) / sizeof(plan->ports[0]))
			return moat_err_set(err, MOAT_ELIMIT,
					    "sandbox: more than 64 TCP ports to connect to");
		plan->ports[plan->nports++] = registry_port_at(reg, i);
	}
	for (size_t i = 0; i < registry_bind_port_count(reg) && i < 4; i++)
		plan->bind_ports[plan->nbind_ports++] = registry_bind_port_at(reg, i);
	return MOAT_OK;
}

void sandbox_plan_free(struct sandbox_plan *plan)
{
	if (!plan)
		return;
	for (size_t i = 0; i < plan->nrules; i++) {
		free(plan->rules[i].path);
		if (plan->rules[i].fd >= 0)
			close(plan->rules[i].fd);
	}
	free(plan->rules);
	memset(plan, 0, sizeof(*plan));
}

/* ---- Landlock ---------------------------------------------------------- */

/* The Landlock ABI, or 0 with *why set when the kernel has none usable. */
static int sandbox_abi(const char **why)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);

	if (abi >= 1)
		return (int)abi;
	switch (errno) {
	case ENOSYS:
		*why = "the kernel has no Landlock";
		break;
	case EOPNOTSUPP:
		*why = "Landlock is disabled at boot";
		break;
	default: /* e.g. EPERM from a container's seccomp profile */
		*why = "Landlock is blocked by the runtime";
		break;
	}
	return 0;
}

static uint64_t fs_handled(int abi)
{
	uint64_t m = FS_ABI1;

	if (abi >= 2)
		m |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		m |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 5)
		m |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	return m;
}

static uint64_t rule_rights(enum sandbox_access a)
{
	switch (a) {
	case SANDBOX_READ_WRITE:
		return FS_WRITE;
	case SANDBOX_APPEND_FILE:
		return LANDLOCK_ACCESS_FS_WRITE_FILE;
	case SANDBOX_AUDIT_DIR:
		/* A rename within one directory needs no REFER. READ_FILE: a
		 * reopened trail is read for the last line another moat wrote. */
		return LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE |
		       LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_REMOVE_FILE;
	case SANDBOX_READ:
	default:
		return FS_READ;
	}
}

/* Count the rules of each kind (the sanitizer allowance is not a root). */
static void count_rules(const struct sandbox_plan *plan, struct sandbox_report *r)
{
	for (size_t i = 0; i < plan->nrules; i++) {
		struct stat st;
		/* A single file (the resolver's /etc/hosts...) is not a root. */
		if (plan->rules[i].access == SANDBOX_AUDIT_DIR)
			r->naudit++;
		else if (plan->rules[i].fd >= 0 && fstat(plan->rules[i].fd, &st) == 0 &&
			 !S_ISDIR(st.st_mode))
			r->nfiles++;
		else if (plan->rules[i].access == SANDBOX_READ)
			r->nread++;
		else if (plan->rules[i].access == SANDBOX_READ_WRITE)
			r->nwrite++;
		else
			r->nfiles++;
	}
}

/* Add one path_beneath rule; -1 with err on failure. */
static int add_rule(int ruleset, const char *path, int held_fd, uint64_t want,
		    uint64_t handled, struct moat_err *err)
{
	struct sbx_path_beneath_attr pb = {0};
	struct stat st;
	/* A family's own fd when there is one: the rule then covers exactly
	 * the directory it opened, not a second resolution of the path. */
	int fd = held_fd >= 0 ? held_fd : open(path, O_PATH | O_CLOEXEC);
	int ret = -1;

	if (fd < 0 || fstat(fd, &st) != 0) {
		moat_err_set(err, MOAT_EIO, "sandbox: cannot open a configured path: %s",
			     strerror(errno));
		goto out;
	}
	if (!S_ISDIR(st.st_mode))
		want &= FS_FILE_RIGHTS;
	pb.allowed_access = want & handled;
	pb.parent_fd = fd;
	if (pb.allowed_access == 0) {
		ret = 0;
		goto out;
	}
	if (syscall(SYS_landlock_add_rule, ruleset, SBX_RULE_PATH_BENEATH, &pb, 0) != 0) {
		moat_err_set(err, MOAT_EIO, "sandbox: landlock_add_rule failed: %s",
			     strerror(errno));
		goto out;
	}
	ret = 0;
out:
	if (fd >= 0 && fd != held_fd)
		close(fd);
	return ret;
}

/* ---- process-wide hardening ------------------------------------------- */

/* Number of threads of this process, or 0 when /proc cannot say. */
static size_t thread_count(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *de;
	size_t n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static void fill_summary(struct sandbox_report *r, const char *why)
{
	char *s = r->summary;
	size_t n = sizeof(r->summary), o;

	if (r->landlock)
		o = (size_t)snprintf(s, n,
				     "Landlock ABI %d: %zu read-only root%s, %zu read-write root%s, "
				     "%zu single file%s%s, no other file access, no exec%s%s",
				     r->abi, r->nread, r->nread == 1 ? "" : "s", r->nwrite,
				     r->nwrite == 1 ? "" : "s", r->nfiles, r->nfiles == 1 ? "" : "s",
				     r->naudit ? ", the audit directory" : "",
				     !r->tcp_denied ? ""
				     : r->nbind_ports && r->nports ? ", TCP bind only on the listener's port, connect only to the configured ports"
				     : r->nbind_ports ? ", TCP bind only on the listener's port, connect denied"
				     : r->nports ? ", TCP bind denied, connect only to the configured ports"
						 : ", TCP denied",
				     r->scoped ? ", signals and abstract sockets scoped" : "");
	else
		o = (size_t)snprintf(s, n, "Landlock unavailable (%s): confinement by openat2 only",
				     why ? why : "unknown");
	if (o < n)
		snprintf(s + o, n - o, "%s%s%s", r->no_new_privs ? "; no_new_privs" : "",
			 r->not_dumpable ? "; not dumpable" : "", r->no_core ? "; no core files" : "");
}

enum moat_rc sandbox_apply(const struct sandbox_plan *plan, struct sandbox_report *out,
			   struct moat_err *err)
{
	struct sandbox_report rep = {0};
	struct sbx_ruleset_attr attr = {0};
	const struct rlimit zero = {0, 0};
	const char *why = NULL;
	enum moat_rc rc = MOAT_OK;
	int ruleset = -1;

	if (thread_count() > 1) {
		rc = moat_err_set(err, MOAT_EINTERNAL,
				  "sandbox: another thread already runs; Landlock would not cover it");
		goto out;
	}
	/* Needed by landlock_restrict_self for an unprivileged process, and
	 * wanted anyway: nothing moat could exec may gain privileges. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		rc = moat_err_set(err, MOAT_EIO, "sandbox: PR_SET_NO_NEW_PRIVS: %s",
				  strerror(errno));
		goto out;
	}
	rep.no_new_privs = true;
	if (setrlimit(RLIMIT_CORE, &zero) != 0) {
		rc = moat_err_set(err, MOAT_EIO, "sandbox: RLIMIT_CORE: %s", strerror(errno));
		goto out;
	}
	rep.no_core = true;
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
		rc = moat_err_set(err, MOAT_EIO, "sandbox: PR_SET_DUMPABLE: %s", strerror(errno));
		goto out;
	}
	rep.not_dumpable = true;
	count_rules(plan, &rep);
	rep.abi = sandbox_abi(&why);
	if (rep.abi == 0) {
		log_warn("sandbox: %s: confinement by openat2 only", why ? why : "Landlock unavailable");
		goto out;
	}
	attr.handled_access_fs = fs_handled(rep.abi);
	if (rep.abi >= 4 && !plan->network)
		attr.handled_access_net =
			LANDLOCK_ACCESS_NET_BIND_TCP | LANDLOCK_ACCESS_NET_CONNECT_TCP;
	if (rep.abi >= 6)
		attr.scoped = LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | LANDLOCK_SCOPE_SIGNAL;
	ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
	if (ruleset < 0) {
		rc = moat_err_set(err, MOAT_EIO, "sandbox: landlock_create_ruleset: %s",
				  strerror(errno));
		goto out;
	}
	for (size_t i = 0; i < plan->nrules; i++) {
		if (add_rule(ruleset, plan->rules[i].path, plan->rules[i].fd,
			     rule_rights(plan->rules[i].access),
			     attr.handled_access_fs, err) != 0) {
			rc = MOAT_EIO;
			goto out;
		}
	}
	for (size_t i = 0; attr.handled_access_net && i < plan->nports; i++) {
		struct sbx_net_port_attr np = {.allowed_access = LANDLOCK_ACCESS_NET_CONNECT_TCP,
					       .port = plan->ports[i]};
		if (syscall(SYS_landlock_add_rule, ruleset, SBX_RULE_NET_PORT, &np, 0) != 0) {
			rc = moat_err_set(err, MOAT_EIO, "sandbox: landlock_add_rule (port %u): %s",
					  (unsigned)plan->ports[i], strerror(errno));
			goto out;
		}
		rep.nports++;
	}
	for (size_t i = 0; attr.handled_access_net && i < plan->nbind_ports; i++) {
		struct sbx_net_port_attr np = {.allowed_access = LANDLOCK_ACCESS_NET_BIND_TCP,
					       .port = plan->bind_ports[i]};
		if (syscall(SYS_landlock_add_rule, ruleset, SBX_RULE_NET_PORT, &np, 0) != 0) {
			rc = moat_err_set(err, MOAT_EIO, "sandbox: landlock_add_rule (bind %u): %s",
					  (unsigned)plan->bind_ports[i], strerror(errno));
			goto out;
		}
		rep.nbind_ports++;
	}
#ifdef SBX_SANITIZER
	/* Sanitizer builds only: LeakSanitizer lists /proc/self/task at exit. */
	if (add_rule(ruleset, "/proc", -1, FS_READ, attr.handled_access_fs, err) != 0) {
		rc = MOAT_EIO;
		goto out;
	}
	__sanitizer_sandbox_on_notify(NULL);
#endif
	if (syscall(SYS_landlock_restrict_self, ruleset, 0) != 0) {
		rc = moat_err_set(err, MOAT_EIO, "sandbox: landlock_restrict_self: %s",
				  strerror(errno));
		goto out;
	}
	rep.landlock = true;
	rep.tcp_denied = attr.handled_access_net != 0;
	rep.scoped = attr.scoped != 0;
out:
	if (ruleset >= 0)
		close(ruleset);
	fill_summary(&rep, why);
	if (out)
		*out = rep;
	return rc;
}

/* ---- moat check ---------------------------------------------------------- */

void sandbox_describe(const struct sandbox_plan *plan, FILE *f)
{
	const char *why = NULL;
	int abi = sandbox_abi(&why);

	if (abi > 0)
		fprintf(f, "sandbox: Landlock ABI %d, applied after start-up (before any thread):\n",
			abi);
	else
		fprintf(f, "sandbox: Landlock unavailable (%s): confinement by openat2 only\n", why);
	for (size_t i = 0; abi > 0 && i < plan->nrules; i++) {
		const struct sandbox_rule *r = &plan->rules[i];
		if (r->access == SANDBOX_AUDIT_DIR) {
			fprintf(f, "  %-12s %s (the trail's files: create, read, append, rename, "
				   "remove; no listing)\n", "audit dir", r->path);
			continue;
		}
		fprintf(f, "  %-12s %s\n",
			r->access == SANDBOX_READ	  ? "read-only"
			: r->access == SANDBOX_READ_WRITE ? "read-write"
							  : "append",
			r->path);
	}
	if (plan->held_open)
		fprintf(f, "  %-12s %s (opened before the sandbox%s)\n", "audit log",
			plan->held_open,
			plan->audit_shared_dir ? "; its directory holds other files, so no rule: "
						 "no rotation or reopening under the sandbox"
					       : "");
	if (abi > 0) {
		fprintf(f, "  %-12s no access; no exec anywhere%s\n", "elsewhere",
			abi >= 5 ? "; no device ioctls" : "");
		if (abi >= 4 && plan->nports == 0 && plan->nbind_ports == 0) {
			fprintf(f, "  %-12s bind and connect denied\n", "TCP");
		} else if (abi >= 4) {
			fprintf(f, "  %-12s bind ", "TCP");
			if (plan->nbind_ports == 0)
				fputs("denied", f);
			for (size_t i = 0; i < plan->nbind_ports; i++)
				fprintf(f, "%s%u", i ? ", " : "only on port ",
					(unsigned)plan->bind_ports[i]);
			if (plan->nports == 0)
				fputs("; connect denied", f);
			else
				fprintf(f, "; connect only to port%s", plan->nports == 1 ? "" : "s");
			for (size_t i = 0; i < plan->nports; i++)
				fprintf(f, "%s %u", i ? "," : "", (unsigned)plan->ports[i]);
			fputc('\n', f);
		}
		else
			fprintf(f, "  %-12s not restricted (Landlock ABI < 4)\n", "TCP");
		if (abi >= 6)
			fprintf(f, "  %-12s abstract UNIX sockets and signals limited to moat\n",
				"scoping");
		if (abi < 3)
			fprintf(f, "  %-12s truncate not restricted (Landlock ABI < 3)\n", "note");
	}
	fprintf(f, "  %-12s no_new_privs; not dumpable; no core files\n", "process");
	sandbox_seccomp_describe(f);
}

enum moat_rc sandbox_confine(const struct moat_config *cfg, const struct registry *reg,
			     struct moat_err *err)
{
	struct sandbox_plan plan = {0};
	struct sandbox_report rep;
	struct seccomp_report sc;
	enum moat_rc rc;

	if ((rc = sandbox_plan_from(&plan, cfg, reg, err)))
		goto out;
	if ((rc = sandbox_apply(&plan, &rep, err)))
		goto out;
	log_info("sandbox: %s", rep.summary);
	/* After Landlock, whose set-up calls the filter would not care about
	 * either way; TSYNC puts it on any thread that exists. */
	if ((rc = sandbox_seccomp_install(&sc, err)))
		goto out;
	log_info("sandbox: %s", sc.summary);
out:
	sandbox_plan_free(&plan);
	return rc;
}
