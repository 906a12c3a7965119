// seccomp.test.mjs - proof that the seccomp filter (src/sandbox/seccomp_filter.c)
// is on in a serving moat and refuses what it says it refuses. The test-only
// `syscall` tool makes one system call with harmless arguments and answers
// its result and errno, so only the kernel stands between a handler and the
// call:
//   - `moat check` lists the filter; every call this file requires appears
//     there with its action (kill the process, or EPERM and logged);
//   - each "EPERM and logged" call fails with EPERM, a line on stderr names
//     it, and the server keeps serving; rare socket families fail with
//     EAFNOSUPPORT; clone3 fails with ENOSYS while threads, fork, inet, unix
//     and netlink-route sockets still work;
//   - each "kill process" call kills the server by SIGSYS before it answers;
//   - an exec (in process or from a spawned child) creates no marker file;
//   - /proc/PID/status of a serving moat says Seccomp: 2.
// Sanitizer builds leave ptrace allowed (LeakSanitizer needs it); check
// says so, and the test then expects ptrace to run instead of killing, and
// a deliberate leak (the `leak` probe) to be reported at exit.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { buildFixture, openSession, assertTools, call, finish, resultText, runMoat, RawSession } from './fixture.mjs';

const KILL = [
	'execve', 'execveat', 'ptrace', 'process_vm_readv', 'process_vm_writev', 'pidfd_getfd',
	'kcmp', 'process_madvise', 'mount', 'umount2', 'pivot_root', 'chroot', 'unshare', 'setns',
	'fsopen', 'fsconfig', 'fsmount', 'fspick', 'move_mount', 'open_tree', 'mount_setattr',
	'open_by_handle_at', 'bpf', 'perf_event_open', 'userfaultfd', 'io_uring_setup',
	'io_uring_enter', 'io_uring_register', 'modify_ldt', 'iopl', 'ioperm', 'personality',
	'uselib', 'kexec_load', 'kexec_file_load', 'init_module', 'finit_module', 'delete_module',
];
const REFUSE = [
	'keyctl', 'add_key', 'request_key', 'name_to_handle_at', 'reboot', 'swapon', 'swapoff',
	'acct', 'settimeofday', 'clock_settime', 'clock_adjtime', 'adjtimex', 'sethostname',
	'setdomainname', 'quotactl', 'quotactl_fd', 'syslog', 'vhangup', 'lookup_dcookie',
	'fanotify_init',
];
const SOCKETS_REFUSED = ['socket_alg', 'socket_vsock', 'socket_packet', 'socket_high_bits', 'netlink_audit'];
const STILL_ALLOWED = ['socket_inet', 'socket_unix', 'netlink_route', 'thread', 'fork', 'getpid'];

/** The filter's plan as `moat check` prints it: name -> action, and the
 * calls a sanitizer build allows. */
function seccompPlan(f) {
	const r = runMoat(['check', '--config', f.config]);
	assert.equal(r.code, 0, r.stderr);
	const plan = new Map();
	for (const m of r.stdout.matchAll(/^ {2}seccomp +(kill process|EPERM and logged), [^:]+: (.+)$/gm)) {
		if (m[2].startsWith('CLONE_')) continue; // the clone flags line
		for (const name of m[2].trim().split(/ +/)) plan.set(name, m[1]);
	}
	const sanitizerAllowed = new Set();
	for (const m of r.stdout.matchAll(/^ {2}seccomp +allowed in this sanitizer build: (\w+)/gm)) {
		sanitizerAllowed.add(m[1]);
	}
	return { plan, sanitizerAllowed, stdout: r.stdout };
}

async function probe(s, name, args = {}) {
	const res = await call(s, 'syscall', { name, ...args });
	assert.notEqual(res.isError, true, `syscall ${name}: ${JSON.stringify(res)}`);
	return JSON.parse(resultText(res));
}

function procStatus(pid) {
	const st = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
	const field = (k) => (new RegExp(`^${k}:\\s*(\\d+)$`, 'm').exec(st) ?? [])[1];
	return { seccomp: field('Seccomp'), filters: field('Seccomp_filters') };
}

/** Start a server, make one call that must kill it; returns its exit. */
async function expectKilled(f, name, args = {}) {
	const s = await openSession(f);
	try {
		await assertTools(s, ['syscall']);
		const id = 9000;
		s.send({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'syscall', arguments: { name, ...args } } });
		const exit = await s.waitExit(20000);
		assert.equal(exit.signal, 'SIGSYS', `${name}: the server exited with ${JSON.stringify(exit)}; stderr:\n${s.stderrText}`);
		assert.ok(!s.messages.some((m) => m.id === id), `${name}: the call was answered`);
		return exit;
	} finally {
		s.kill();
	}
}

/** Run fn over items, at most n at a time. */
async function pooled(items, n, fn) {
	const queue = [...items];
	await Promise.all(
		Array.from({ length: n }, async () => {
			while (queue.length) await fn(queue.shift());
		}),
	);
}

describe('seccomp filter', () => {
	test('moat check lists the filter and every call it must deny', () => {
		const f = buildFixture();
		const { plan, sanitizerAllowed, stdout } = seccompPlan(f);
		assert.match(stdout, /^ {2}seccomp +x86_64 system calls only \(any other ABI kills the process\); installed after Landlock, on every thread$/m);
		assert.match(stdout, /^ {2}seccomp +kill process, clone with a namespace flag: .*CLONE_NEWUSER/m);
		assert.match(stdout, /^ {2}seccomp +EAFNOSUPPORT and logged, socket families: all but unix, inet, inet6 and netlink/m);
		assert.match(stdout, /^ {2}seccomp +ENOSYS, clone3/m);
		for (const n of KILL) {
			if (sanitizerAllowed.has(n)) continue;
			assert.equal(plan.get(n), 'kill process', `${n} in the check output`);
		}
		for (const n of REFUSE) assert.equal(plan.get(n), 'EPERM and logged', `${n} in the check output`);
		for (const n of sanitizerAllowed) assert.equal(n, 'ptrace', 'only ptrace is allowed for sanitizers');
	});

	test('refused calls fail with EPERM, are logged, and the server keeps serving; Seccomp: 2', async () => {
		const f = buildFixture();
		const s = await openSession(f);
		try {
			await assertTools(s, ['syscall']);
			const st = procStatus(s.proc.pid);
			assert.equal(st.seccomp, '2', 'Seccomp mode in /proc/PID/status');
			assert.ok(Number(st.filters) >= 1, `Seccomp_filters ${st.filters}`);
			for (const n of REFUSE) {
				const r = await probe(s, n);
				assert.equal(r.errno, 'EPERM', `${n}: ${JSON.stringify(r)}`);
				assert.equal(r.ret, -1);
			}
			for (const n of SOCKETS_REFUSED) {
				const r = await probe(s, n);
				assert.equal(r.errno, 'EAFNOSUPPORT', `${n}: ${JSON.stringify(r)}`);
			}
			assert.equal((await probe(s, 'clone3')).errno, 'ENOSYS');
			for (const n of STILL_ALLOWED) {
				const r = await probe(s, n);
				assert.deepEqual(r, { name: n, ret: 0, errno: null }, `${n} must still work`);
			}
			// still serving: a ping, a tool call, the same filter
			await s.assertAlive();
			assert.equal(resultText(await call(s, 'echo', { text: 'still here' })), 'still here');
			assert.equal(procStatus(s.proc.pid).seccomp, '2');
			const texts = await finish(s);
			const stderr = texts.at(-1);
			for (const n of REFUSE) {
				assert.match(stderr, new RegExp(`^moat: warning: seccomp: refused system call \\d+ \\(${n}\\): EPERM$`, 'm'));
			}
			assert.match(stderr, /^moat: warning: seccomp: refused system call \d+ \(socket\): EAFNOSUPPORT$/m);
			assert.doesNotMatch(stderr, /clone3/); // ENOSYS for clone3 is silent: glibc tries it per thread
			assert.match(stderr, /sandbox: seccomp: x86_64 only; \d+ system calls kill the process, \d+ fail and are logged/);
		} finally {
			s.kill();
		}
	});

	test('each kill-listed call kills the server by SIGSYS before it answers', async () => {
		const f = buildFixture();
		const { plan, sanitizerAllowed } = seccompPlan(f);
		// plus clone(CLONE_NEWUSER) and getpid through the x32 ABI (only x86_64 is in the filter)
		const names = [...KILL.filter((n) => plan.get(n) === 'kill process'), 'clone_newuser'];
		if (process.arch === 'x64') names.push('x32_getpid');
		assert.ok(names.length >= 30, `only ${names.length} kill-listed calls`);
		await pooled(names, 4, (n) => expectKilled(f, n));
		// a sanitizer build lets ptrace run (LeakSanitizer needs it) and keeps serving
		if (sanitizerAllowed.has('ptrace')) {
			const s = await openSession(f);
			try {
				const r = await probe(s, 'ptrace');
				assert.equal(r.ret, -1); // an invalid request, refused by the kernel, not killed
				await s.assertAlive();
			} finally {
				s.kill();
			}
		}
	});

	test('an exec creates no marker: in process the server dies, from a spawned child only the child does', async () => {
		const f = buildFixture();
		const marker = path.join(f.rw, 'exec-marker');
		await expectKilled(f, 'execve', { path: marker });
		await expectKilled(f, 'execveat', { path: marker });
		assert.ok(!fs.existsSync(marker), 'an exec ran');
		const s = await openSession(f);
		try {
			const r = await probe(s, 'spawn', { path: marker });
			assert.equal(r.child, 'signal 31', `the spawned child: ${JSON.stringify(r)}`);
			assert.ok(!fs.existsSync(marker), 'the spawned child exec ran');
			await s.assertAlive();
			await finish(s);
		} finally {
			s.kill();
		}
		// moat call is filtered the same way
		const c = runMoat(['call', 'syscall', 'name=execve', `path=${marker}`, '--config', f.config]);
		assert.equal(c.signal, 'SIGSYS', JSON.stringify(c));
		assert.ok(!fs.existsSync(marker), 'moat call ran an exec');
	});

	test('a sanitizer build still catches leaks under the filter (LeakSanitizer stops the world with ptrace)', async (t) => {
		const f = buildFixture();
		if (!seccompPlan(f).sanitizerAllowed.has('ptrace')) {
			t.skip('not a sanitizer build');
			return;
		}
		const s = await openSession(f);
		try {
			assert.deepEqual(await probe(s, 'leak'), { name: 'leak', ret: 0, errno: null });
			s.proc.stdin.end();
			// denied ptrace would leave the process spinning at exit: the wait would time out
			const exit = await s.waitExit(30000);
			assert.notEqual(exit.code, 0, 'LeakSanitizer should fail the exit');
			assert.match(s.stderrText, /ERROR: LeakSanitizer: detected memory leaks/);
			assert.match(s.stderrText, /Direct leak of 4800 byte\(s\) in 100 object\(s\)/);
		} finally {
			s.kill();
		}
	});

	test('without the roots that enable it, the syscall tool is not registered', async () => {
		const f = buildFixture();
		const cfg = JSON.parse(fs.readFileSync(f.config, 'utf8'));
		delete cfg.roots;
		fs.writeFileSync(f.config, JSON.stringify(cfg));
		const s = new RawSession(f.config);
		try {
			await s.initialize();
			const r = await s.call('tools/list', {});
			assert.ok(!r.tools.some((t) => t.name === 'syscall'));
			await s.close();
		} finally {
			s.kill();
		}
	});
});
