/*
 * testing_syscall.c - the test-only `syscall` tool: makes one system call
 * the seccomp filter denies (or one it must allow), with arguments that
 * would do nothing harmful even if the call ran, and reports what came
 * back, so tests/attack/seccomp.test.mjs can prove each refusal from
 * outside. Compiled only with -Dtest_provider=true.
 *
 * It refuses to try anything unless the calling thread runs under a
 * seccomp filter (mode 2): without one, some probes (unshare, a clone into
 * a new user namespace, vhangup) would really run. Two probes take a path:
 * `execve` execs /usr/bin/touch PATH in this process, `spawn` does it in a
 * child made by posix_spawn (what system(3) or a library running a helper
 * would do) and reports how the child ended. The answer is one JSON text:
 * {"name", "ret", "errno"} (errno a name such as "EPERM", or null), plus
 * "child" for spawn. `leak` loses memory on purpose, for the test that
 * LeakSanitizer still works under the filter in sanitizer builds.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <pthread.h>
#include <unistd.h>

#include "testing.h"

#ifndef AF_ALG
#define AF_ALG 38
#endif
#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif

extern char **environ;

/* One probe: a name and the call, returning the raw result (-1 and errno on
 * failure, like syscall(2)). */
struct probe {
	const char *name;
	long (*run)(const char *path);
};

#define PROBE(n, expr)                                                                        \
	static long probe_##n(const char *path)                                               \
	{                                                                                     \
		(void)path;                                                                   \
		return (long)(expr);                                                          \
	}

static char *const touch_env[] = {NULL};

static long probe_execve(const char *path)
{
	char *const argv[] = {"touch", (char *)path, NULL};
	return syscall(SYS_execve, "/usr/bin/touch", argv, touch_env);
}

static long probe_execveat(const char *path)
{
	char *const argv[] = {"touch", (char *)path, NULL};
	return syscall(SYS_execveat, AT_FDCWD, "/usr/bin/touch", argv, touch_env, 0);
}

/* A new user namespace by clone(2): the child, if one were made, exits. */
static long probe_clone_newuser(const char *path)
{
	long r = syscall(SYS_clone, (unsigned long)(CLONE_NEWUSER | SIGCHLD), 0, 0, 0, 0);
	(void)path;
	if (r == 0)
		_exit(0);
	if (r > 0)
		waitpid((pid_t)r, NULL, 0);
	return r;
}

static long probe_socket(int af, int type, int proto)
{
	long r = syscall(SYS_socket, af, type | SOCK_CLOEXEC, proto);
	if (r >= 0)
		close((int)r);
	return r >= 0 ? 0 : r;
}

static void *probe_thread_main(void *arg)
{
	return arg;
}

/* A thread started after the filter: glibc tries clone3 (ENOSYS), then clone. */
static long probe_thread(const char *path)
{
	pthread_t t;
	int e = pthread_create(&t, NULL, probe_thread_main, NULL);
	(void)path;
	if (e != 0) {
		errno = e;
		return -1;
	}
	pthread_join(t, NULL);
	return 0;
}

/* fork(2) without exec: allowed; the child exits at once. */
static long probe_fork(const char *path)
{
	pid_t p = fork();
	(void)path;
	if (p == 0)
		_exit(0);
	if (p > 0)
		waitpid(p, NULL, 0);
	return p < 0 ? -1 : 0;
}

/* leak: lose 100 blocks, so a sanitizer build's LeakSanitizer must report
 * them at exit: proof that the filter leaves it able to stop the world. */
static void *volatile leak_sink;

static long probe_leak(const char *path)
{
	(void)path;
	for (int i = 0; i < 100; i++)
		leak_sink = malloc(48);
	leak_sink = NULL;
	return 0;
}

#if defined(__x86_64__)
/* getpid through the x32 ABI (the high syscall bit): another ABI, killed.
 * (i386 through int 0x80 is killed by the same architecture check, but
 * kernels without IA32 emulation answer it with SIGSEGV before seccomp.) */
PROBE(x32_getpid, syscall(0x40000000L | SYS_getpid))
#endif

PROBE(ptrace, syscall(SYS_ptrace, -1L, 0, 0, 0))
PROBE(process_vm_readv, syscall(SYS_process_vm_readv, getpid(), NULL, 0, NULL, 0, 0))
PROBE(process_vm_writev, syscall(SYS_process_vm_writev, getpid(), NULL, 0, NULL, 0, 0))
PROBE(pidfd_getfd, syscall(SYS_pidfd_getfd, -1, -1, 0))
PROBE(kcmp, syscall(SYS_kcmp, getpid(), getpid(), -1, 0, 0))
PROBE(process_madvise, syscall(SYS_process_madvise, -1, NULL, 0, 0, 0))
PROBE(mount, syscall(SYS_mount, NULL, NULL, NULL, 0, NULL))
PROBE(umount2, syscall(SYS_umount2, NULL, 0))
PROBE(pivot_root, syscall(SYS_pivot_root, NULL, NULL))
PROBE(chroot, syscall(SYS_chroot, NULL))
PROBE(unshare, syscall(SYS_unshare, 0))
PROBE(setns, syscall(SYS_setns, -1, 0))
PROBE(fsopen, syscall(SYS_fsopen, NULL, 0))
PROBE(fsconfig, syscall(SYS_fsconfig, -1, 0, NULL, NULL, 0))
PROBE(fsmount, syscall(SYS_fsmount, -1, 0, 0))
PROBE(fspick, syscall(SYS_fspick, -1, NULL, 0))
PROBE(move_mount, syscall(SYS_move_mount, -1, NULL, -1, NULL, 0))
PROBE(open_tree, syscall(SYS_open_tree, -1, NULL, 0))
PROBE(mount_setattr, syscall(SYS_mount_setattr, -1, NULL, 0, NULL, 0))
PROBE(open_by_handle_at, syscall(SYS_open_by_handle_at, -1, NULL, 0))
PROBE(bpf, syscall(SYS_bpf, -1, NULL, 0))
PROBE(perf_event_open, syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0))
PROBE(userfaultfd, syscall(SYS_userfaultfd, ~0))
PROBE(io_uring_setup, syscall(SYS_io_uring_setup, 0, NULL))
PROBE(io_uring_enter, syscall(SYS_io_uring_enter, -1, 0, 0, 0, NULL, 0))
PROBE(io_uring_register, syscall(SYS_io_uring_register, -1, 0, NULL, 0))
#ifdef SYS_modify_ldt
PROBE(modify_ldt, syscall(SYS_modify_ldt, 0, NULL, 0))
#endif
#ifdef SYS_iopl
PROBE(iopl, syscall(SYS_iopl, 0))
#endif
#ifdef SYS_ioperm
PROBE(ioperm, syscall(SYS_ioperm, 0, 0, 0))
#endif
PROBE(personality, syscall(SYS_personality, 0xffffffffUL))
#ifdef SYS_uselib
PROBE(uselib, syscall(SYS_uselib, NULL))
#endif
PROBE(kexec_load, syscall(SYS_kexec_load, 0, 0, NULL, ~0UL))
#ifdef SYS_kexec_file_load
PROBE(kexec_file_load, syscall(SYS_kexec_file_load, -1, -1, 0, NULL, ~0UL))
#endif
PROBE(init_module, syscall(SYS_init_module, NULL, 0, NULL))
PROBE(finit_module, syscall(SYS_finit_module, -1, NULL, 0))
PROBE(delete_module, syscall(SYS_delete_module, NULL, 0))
PROBE(keyctl, syscall(SYS_keyctl, -1, 0, 0, 0, 0))
PROBE(add_key, syscall(SYS_add_key, NULL, NULL, NULL, 0, 0))
PROBE(request_key, syscall(SYS_request_key, NULL, NULL, NULL, 0))
PROBE(name_to_handle_at, syscall(SYS_name_to_handle_at, -1, NULL, NULL, NULL, 0))
PROBE(reboot, syscall(SYS_reboot, 0, 0, 0, NULL))
PROBE(swapon, syscall(SYS_swapon, NULL, 0))
PROBE(swapoff, syscall(SYS_swapoff, NULL))
PROBE(acct, syscall(SYS_acct, "/nonexistent/moat-acct"))
PROBE(settimeofday, syscall(SYS_settimeofday, NULL, NULL))
PROBE(clock_settime, syscall(SYS_clock_settime, -1, NULL))
PROBE(clock_adjtime, syscall(SYS_clock_adjtime, -1, NULL))
PROBE(adjtimex, syscall(SYS_adjtimex, NULL))
PROBE(sethostname, syscall(SYS_sethostname, NULL, 100000))
PROBE(setdomainname, syscall(SYS_setdomainname, NULL, 100000))
PROBE(quotactl, syscall(SYS_quotactl, 0, NULL, 0, NULL))
#ifdef SYS_quotactl_fd
PROBE(quotactl_fd, syscall(SYS_quotactl_fd, -1, 0, 0, NULL))
#endif
PROBE(syslog, syscall(SYS_syslog, 10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0))
PROBE(vhangup, syscall(SYS_vhangup))
#ifdef SYS_lookup_dcookie
PROBE(lookup_dcookie, syscall(SYS_lookup_dcookie, 0, NULL, 0))
#endif
PROBE(fanotify_init, syscall(SYS_fanotify_init, ~0U, 0))
PROBE(clone3, syscall(SYS_clone3, NULL, 0))
PROBE(socket_alg, probe_socket(AF_ALG, SOCK_SEQPACKET, 0))
PROBE(socket_vsock, probe_socket(AF_VSOCK, SOCK_STREAM, 0))
PROBE(socket_packet, probe_socket(AF_PACKET, SOCK_RAW, 0))
PROBE(socket_high_bits, syscall(SYS_socket, (long)AF_INET | (1L << 32), SOCK_STREAM, 0))
PROBE(netlink_audit, probe_socket(AF_NETLINK, SOCK_RAW, 9 /* NETLINK_AUDIT */))
/* must stay allowed */
PROBE(socket_inet, probe_socket(AF_INET, SOCK_STREAM, 0))
PROBE(socket_unix, probe_socket(AF_UNIX, SOCK_STREAM, 0))
PROBE(netlink_route, probe_socket(AF_NETLINK, SOCK_RAW, 0 /* NETLINK_ROUTE */))
PROBE(getpid, syscall(SYS_getpid) > 0 ? 0 : -1)

static const struct probe probes[] = {
#define P(n) {#n, probe_##n}
	P(execve), P(execveat), P(clone_newuser), P(thread), P(fork),
#if defined(__x86_64__)
	P(x32_getpid),
#endif
	P(ptrace), P(process_vm_readv), P(process_vm_writev), P(pidfd_getfd), P(kcmp),
	P(process_madvise), P(mount), P(umount2), P(pivot_root), P(chroot), P(unshare),
	P(setns), P(fsopen), P(fsconfig), P(fsmount), P(fspick), P(move_mount), P(open_tree),
	P(mount_setattr), P(open_by_handle_at), P(bpf), P(perf_event_open), P(userfaultfd),
	P(io_uring_setup), P(io_uring_enter), P(io_uring_register),
#ifdef SYS_modify_ldt
	P(modify_ldt),
#endif
#ifdef SYS_iopl
	P(iopl),
#endif
#ifdef SYS_ioperm
	P(ioperm),
#endif
	P(personality),
#ifdef SYS_uselib
	P(uselib),
#endif
	P(kexec_load),
#ifdef SYS_kexec_file_load
	P(kexec_file_load),
#endif
	P(init_module), P(finit_module), P(delete_module), P(keyctl), P(add_key),
	P(request_key), P(name_to_handle_at), P(reboot), P(swapon), P(swapoff), P(acct),
	P(settimeofday), P(clock_settime), P(clock_adjtime), P(adjtimex), P(sethostname),
	P(setdomainname), P(quotactl),
#ifdef SYS_quotactl_fd
	P(quotactl_fd),
#endif
	P(syslog), P(vhangup),
#ifdef SYS_lookup_dcookie
	P(lookup_dcookie),
#endif
	P(fanotify_init), P(clone3), P(socket_alg), P(socket_vsock), P(socket_packet),
	P(socket_high_bits), P(netlink_audit), P(socket_inet), P(socket_unix),
	P(netlink_route), P(getpid), P(leak),
#undef P
};

/* posix_spawn /usr/bin/touch PATH and wait: how the child ended. */
static enum moat_rc spawn_probe(const char *path, struct tool_result *out)
{
	char *const argv[] = {"touch", (char *)path, NULL};
	char msg[160];
	pid_t pid;
	int st = 0, e = posix_spawn(&pid, "/usr/bin/touch", NULL, NULL, argv, environ);

	if (e != 0)
		snprintf(msg, sizeof(msg), "{\"name\":\"spawn\",\"ret\":-1,\"errno\":\"%s\"}",
			 strerrorname_np(e) ? strerrorname_np(e) : "?");
	else if (waitpid(pid, &st, 0) < 0)
		snprintf(msg, sizeof(msg), "{\"name\":\"spawn\",\"ret\":-1,\"errno\":\"%s\"}",
			 strerrorname_np(errno) ? strerrorname_np(errno) : "?");
	else if (WIFSIGNALED(st))
		snprintf(msg, sizeof(msg),
			 "{\"name\":\"spawn\",\"ret\":0,\"errno\":null,\"child\":\"signal %d\"}",
			 WTERMSIG(st));
	else
		snprintf(msg, sizeof(msg),
			 "{\"name\":\"spawn\",\"ret\":0,\"errno\":null,\"child\":\"exit %d\"}",
			 WEXITSTATUS(st));
	return tool_result_text(out, msg);
}

enum moat_rc testing_syscall_tool(struct call_ctx *ctx, void *data, json_t *args,
				  struct tool_result *out, struct moat_err *err)
{
	const char *name = json_string_value(json_object_get(args, "name"));
	const char *path = json_string_value(json_object_get(args, "path"));
	char msg[160];
	long r;
	int e;

	if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) != 2)
		return moat_err_set(err, MOAT_EDENIED,
				    "syscall: no seccomp filter in force; not trying");
	if (!path)
		path = "/nonexistent/moat-marker";
	if (strcmp(name, "spawn") == 0)
		return spawn_probe(path, out);
	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		if (strcmp(probes[i].name, name) != 0)
			continue;
		errno = 0;
		r = probes[i].run(path);
		e = errno;
		if (r < 0 && e)
			snprintf(msg, sizeof(msg), "{\"name\":\"%s\",\"ret\":%ld,\"errno\":\"%s\"}",
				 name, r, strerrorname_np(e) ? strerrorname_np(e) : "?");
		else
			snprintf(msg, sizeof(msg), "{\"name\":\"%s\",\"ret\":%ld,\"errno\":null}",
				 name, r);
		return tool_result_text(out, msg);
	}
	return moat_err_set(err, MOAT_EINVAL, "syscall: no probe named %s", name);
}
