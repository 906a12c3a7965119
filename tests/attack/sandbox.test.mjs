// sandbox.test.mjs - proof that the kernel sandbox (Landlock) confines the
// whole process, not just the fs tools: the test-only raw_open tool calls
// plain open(2) on any path with no moat check at all, so only the kernel
// can refuse it. Outside files, /etc/passwd, an ~/.ssh key and /proc/self/root
// escapes are denied (EACCES) while files inside a root open; `moat call`
// is sandboxed the same way; the audit log opened before the sandbox still
// records calls; `moat check` prints the plan without applying it.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
	buildFixture,
	openSession,
	assertTools,
	call,
	finish,
	assertIntact,
	resultText,
	runMoat,
} from './fixture.mjs';

const DENIED = /^denied: Permission denied$/;

describe('kernel sandbox', () => {
	test('raw open(2) outside every root is denied by the kernel; inside a root it opens', async () => {
		const f = buildFixture();
		const s = await openSession(f);
		try {
			await assertTools(s, ['raw_open']);
			const outside = [
				f.secretFile,
				f.canary,
				path.join(f.outside, `${f.hiddenName}.txt`),
				path.join(f.data2, 'secret2.txt'), // sibling sharing the root's prefix
				path.join(f.rw2, 'secret3.txt'),
				path.join(f.home, '.ssh', 'id_rsa'),
				f.config, // the config itself is not readable after start-up
				'/etc/passwd',
				'/etc/hostname',
				`/proc/self/root${f.secretFile}`,
				'/proc/self/root/etc/passwd',
				path.join(f.data, 'abs-link'), // a symlink inside the root, to outside
				path.join(f.data, 'dir-link', 'secret.txt'),
				`${f.data}/../outside/secret.txt`,
				f.outside, // directories too
				'/',
			];
			for (const p of outside) {
				// precondition: the file exists and is readable by this (unsandboxed) test
				fs.accessSync(p, fs.constants.R_OK);
				const t = resultText(await call(s, 'raw_open', { path: p }));
				assert.match(t, DENIED, `raw_open ${p}`);
			}
			for (const p of [
				path.join(f.data, 'a.txt'),
				path.join(f.data, 'sub', 'b.txt'),
				path.join(f.data, 'ok-link'),
				f.data,
				path.join(f.rw, 'a.txt'),
				f.rw,
			]) {
				assert.equal(resultText(await call(s, 'raw_open', { path: p })), 'opened', `raw_open ${p}`);
			}
			const texts = await finish(s);
			assert.match(texts.at(-1), /sandbox: Landlock ABI \d+: 1 read-only root, 1 read-write root/);
			assert.match(texts.at(-1), /no_new_privs; not dumpable; no core files/);
			assertIntact(f, texts);
		} finally {
			s.kill();
		}
	});

	test('moat call is sandboxed after start-up too', () => {
		const f = buildFixture();
		const r = runMoat(['call', 'raw_open', `path=${f.secretFile}`, '--config', f.config]);
		assert.equal(r.code, 0, r.stderr);
		assert.match(r.stdout.trim(), DENIED);
		const ok = runMoat(['call', 'raw_open', `path=${path.join(f.data, 'a.txt')}`, '--config', f.config]);
		assert.equal(ok.stdout.trim(), 'opened');
		assert.match(r.stderr, /sandbox: Landlock ABI \d+/);
		assertIntact(f, [r.stdout, r.stderr, ok.stdout, ok.stderr]);
	});

	test('the audit trail keeps recording; its directory opens only to the trail, never lists', () => {
		const f = buildFixture({ extra: { log: { audit_file: 'audit/audit.jsonl' } } });
		fs.mkdirSync(path.join(f.base, 'audit'));
		const auditDir = path.join(f.base, 'audit');
		f.before.top = fs.readdirSync(f.base).sort();
		for (let i = 0; i < 2; i++) {
			// The trail's own files may be reopened (rotation, SIGHUP, another
			// moat's lines): they hold nothing secret. The directory is not
			// listable, and nothing else opens.
			const r = runMoat(['call', 'raw_open', `path=${auditDir}`, '--config', f.config]);
			assert.equal(r.code, 0, r.stderr);
			assert.match(r.stdout.trim(), DENIED);
			const s = runMoat(['call', 'raw_open', `path=${f.secretFile}`, '--config', f.config]);
			assert.match(s.stdout.trim(), DENIED);
		}
		const lines = fs.readFileSync(path.join(auditDir, 'audit.jsonl'), 'utf8').trim().split('\n');
		assert.equal(lines.length, 4);
		for (const l of lines) assert.equal(JSON.parse(l).tool, 'raw_open');
	});

	test('moat check prints the plan without applying it', () => {
		const f = buildFixture({ extra: { log: { audit_file: 'audit.jsonl' } } });
		const r = runMoat(['check', '--config', f.config]);
		assert.equal(r.code, 0, r.stderr);
		assert.match(r.stdout, /^sandbox: Landlock ABI \d+, applied after start-up/m);
		assert.match(r.stdout, new RegExp(`^  read-only +${f.data}$`, 'm'));
		assert.match(r.stdout, new RegExp(`^  read-write +${f.rw}$`, 'm'));
		// The trail shares its directory with the roots: no rights on it.
		assert.match(r.stdout, /^  audit log +.*audit\.jsonl \(opened before the sandbox; its directory holds other files, so no rule: no rotation or reopening under the sandbox\)$/m);
		assert.doesNotMatch(r.stdout, /^  audit dir/m);
		assert.match(r.stderr, /audit: the trail's directory holds other files/);
		assert.match(r.stdout, /^  TCP +bind and connect denied$/m);
		assert.match(r.stdout, /^  process +no_new_privs; not dumpable; no core files$/m);
		assert.doesNotMatch(r.stdout, /none yet/);
		// check itself is not sandboxed (it applies nothing) and serves nothing
		assert.doesNotMatch(r.stderr, /sandbox:/);
	});

	test('serve DIR without a config is confined to DIR', async () => {
		const f = buildFixture();
		const s = await openSession(f, { args: ['serve', f.data] });
		try {
			// no testing tools without a config: the fs tools must still be confined
			const r = await s.call('tools/list', {});
			assert.ok(!r.tools.some((t) => t.name === 'raw_open'));
			const texts = await finish(s);
			assert.match(texts.at(-1), /sandbox: Landlock ABI \d+: 1 read-only root, 0 read-write roots/);
			assertIntact(f, texts);
		} finally {
			s.kill();
		}
	});
});
