// fs_hardening.test.mjs - the fs family's bounds and reports (issue 11),
// through the official SDK client against the real binary:
//   - glob patterns: over-long and over-nested ones refused by name (rule id
//     in the message), a negated pattern whose budget runs out is an error,
//     and the server answers the next call;
//   - client roots: 1,500 spellings of one directory are one root (one fd),
//     more than 64 distinct ones are capped, and every family still works;
//   - NUL bytes: write_file's content and edit_file's newText are written
//     whole; a NUL in a path is refused by name;
//   - errors that point: "no such file or directory: notes/todo.md", never
//     an absolute path;
//   - the audit trail records the root and the path within it, and the rule
//     of each refusal.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { ListRootsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import {
	TRANSPORT,
	assertToolError,
	connectClient,
	makeTempDir,
	resultText,
	sleep,
	withClient,
	writeConfig,
} from './helpers.mjs';

/** A root with a few files, a writable root, and a config (audit on). */
function scene(extra = {}) {
	const base = fs.realpathSync(makeTempDir('moat-e2e-fsh-'));
	const root = path.join(base, 'root');
	const rw = path.join(base, 'rw');
	fs.mkdirSync(path.join(root, 'notes'), { recursive: true });
	fs.mkdirSync(rw);
	fs.writeFileSync(path.join(root, 'notes', 'a.txt'), 'alpha\n');
	fs.writeFileSync(path.join(root, 'b.md'), 'beta\n');
	for (let i = 0; i < 40; i++) fs.mkdirSync(path.join(root, 'many', `d${i}`), { recursive: true });
	const audit = path.join(base, 'audit.jsonl');
	const config = writeConfig(base, {
		roots: [root, { path: rw, write: true }],
		testing: { enabled: true },
		log: { audit_file: audit },
		limits: { call_timeout_ms: 3000 },
		...extra,
	});
	return { base, root, rw, audit, config };
}

const call = (c, name, args) => c.callTool({ name, arguments: args });

/** The audit records so far (one JSON object a line). */
function auditLines(file) {
	if (!fs.existsSync(file)) return [];
	return fs
		.readFileSync(file, 'utf8')
		.split('\n')
		.filter((l) => l.trim())
		.map((l) => JSON.parse(l));
}

const rep = (s, n) => s.repeat(n);

describe('glob patterns are bounded', () => {
	test('the reported crash pattern is refused by name and the server goes on', async () => {
		const s = scene();
		await withClient(s.config, async (c) => {
			const crash = rep('@(', 60000) + 'a.txt' + rep(')', 60000);
			const t0 = Date.now();
			assertToolError(await call(c, 'search_files', { path: s.root, pattern: crash }), /limits\.glob_length/);
			const deep = rep('@(', 17) + 'a.txt' + rep(')', 17);
			assertToolError(await call(c, 'search_files', { path: s.root, pattern: deep }), /limits\.glob_depth/);
			assertToolError(
				await call(c, 'directory_tree', { path: s.root, excludePatterns: ['*' + rep('+(', 17) + 'x' + rep(')', 17)] }),
				/excludePatterns\/0.*limits\.glob_depth/,
			);
			assertToolError(
				await call(c, 'grep_files', { path: s.root, pattern: 'x', include: rep('{', 17) + rep('}', 17) }),
				/^include: groups nest 17 deep.*limits\.glob_depth/,
			);
			assert.ok(Date.now() - t0 < 3000, 'refusals are immediate');
			assert.match(resultText(await call(c, 'search_files', { path: s.root, pattern: '**/a.txt' })), /notes\/a\.txt/);
		});
	});

	test('an exhausted budget is an error, negated or not; the deadline holds', async () => {
		const s = scene();
		// a name the backtracking pattern chews on
		fs.writeFileSync(path.join(s.root, 'x' + rep('a', 200)), '');
		await withClient(s.config, async (c) => {
			const bt = rep('*a', 14) + '*b';
			for (const pattern of [bt, '!' + bt, 'x!(' + bt + ')', '!x!(' + bt + ')']) {
				const t0 = Date.now();
				const r = await call(c, 'search_files', { path: s.root, pattern });
				assertToolError(r, /limits\.glob_steps/);
				assert.ok(Date.now() - t0 < 3000, `${pattern.slice(0, 20)}: answered within the deadline`);
			}
			// the same pattern as an exclude: never a silent "excluded" or "kept"
			assertToolError(
				await call(c, 'search_files', { path: s.root, pattern: '**', excludePatterns: ['!' + bt] }),
				/limits\.glob_steps/,
			);
			assert.match(resultText(await call(c, 'echo', { text: 'alive' })), /alive/);
		});
		const lines = auditLines(s.audit);
		assert.ok(lines.some((l) => l.rule === 'limits.glob_steps'), 'the audit names the rule');
	});
});

// Over HTTP moat asks no client for roots (one client's roots would narrow
// every session's view): client roots are a stdio feature.
describe('client roots', { skip: TRANSPORT === 'http' && 'no client roots over HTTP' }, () => {
	test('1,500 spellings of one directory are one root; every family still works', async () => {
		const base = fs.realpathSync(makeTempDir('moat-e2e-fsh-db-'));
		const db = path.join(base, 'shop.db');
		const r = spawnSync('sqlite3', [db], { input: 'CREATE TABLE t(x); INSERT INTO t VALUES (42);', encoding: 'utf8' });
		assert.equal(r.status, 0, `sqlite3 failed: ${r.stderr}`);
		const s = scene({ databases: { shop: { type: 'sqlite', path: db } } });
		const sub = path.join(s.root, 'notes');
		fs.symlinkSync('notes', path.join(s.root, 'notes-link'));
		const spellings = [];
		for (let i = 0; i < 500; i++) {
			spellings.push(`${s.root}/${'./'.repeat(i)}notes`);
			spellings.push(`${s.root}/${'/'.repeat(i + 1)}notes/`);
			spellings.push(`${s.root}/notes/${'../notes/'.repeat(i % 40)}`);
		}
		spellings.push(`${s.root}/notes-link`);
		const c = await connectClient(s.config, { capabilities: { roots: { listChanged: true } } });
		let asked = 0;
		c.client.setRequestHandler(ListRootsRequestSchema, async () => {
			asked++;
			return { roots: spellings.map((p, i) => ({ uri: `file://${p}`, name: `r${i}` })) };
		});
		try {
			await c.client.sendRootsListChanged();
			for (let i = 0; i < 50 && asked === 0; i++) await sleep(50);
			await sleep(300);
			assert.ok(asked > 0, 'the server asked for the roots');
			const dirs = resultText(await call(c.client, 'list_allowed_directories', {}));
			assert.deepEqual(dirs.split('\n').slice(1), [sub], dirs.slice(0, 500));
			const pid = c.transport.pid;
			if (pid && fs.existsSync(`/proc/${pid}/fd`)) {
				const fds = fs.readdirSync(`/proc/${pid}/fd`).length;
				assert.ok(fds < 200, `the server holds ${fds} fds`);
			}
			assert.equal(resultText(await call(c.client, 'read_text_file', { path: path.join(sub, 'a.txt') })), 'alpha\n');
			assertToolError(await call(c.client, 'read_text_file', { path: path.join(s.root, 'b.md') }), /outside/);
			assert.match(resultText(await call(c.client, 'echo', { text: 'still here' })), /still here/);
			assert.match(resultText(await call(c.client, 'read_query', { query: 'SELECT x FROM t' })), /42/);
			// and again after the client changes its roots a second time
			await c.client.sendRootsListChanged();
			await sleep(300);
			assert.match(resultText(await call(c.client, 'read_query', { query: 'SELECT x + 1 AS y FROM t' })), /43/);
		} finally {
			await c.close();
		}
	});

	test('more than 64 distinct client roots are capped with a warning', async () => {
		const s = scene();
		const c = await connectClient(s.config, { capabilities: { roots: { listChanged: true } } });
		let asked = 0;
		c.client.setRequestHandler(ListRootsRequestSchema, async () => {
			asked++;
			return { roots: Array.from({ length: 40 }, (_, i) => ({ uri: `file://${s.root}/many/d${i}` })).concat(
				Array.from({ length: 40 }, (_, i) => ({ uri: `file://${s.root}/many/d${i}/.` })),
				[{ uri: `file://${s.root}/notes` }, { uri: `file://${s.rw}` }],
			).concat(Array.from({ length: 30 }, (_, i) => ({ uri: `file://${s.base}/nowhere${i}` }))) };
		});
		try {
			await c.client.sendRootsListChanged();
			for (let i = 0; i < 50 && asked === 0; i++) await sleep(50);
			await sleep(300);
			const dirs = resultText(await call(c.client, 'list_allowed_directories', {})).split('\n').slice(1);
			assert.equal(dirs.length, 42, 'duplicates dropped, all distinct ones kept under the cap');
			assert.match(resultText(await call(c.client, 'echo', { text: 'ok' })), /ok/);
		} finally {
			await c.close();
		}
		// 100 distinct directories: 64 kept, a warning says so
		const base2 = fs.realpathSync(makeTempDir('moat-e2e-fsh-cap-'));
		for (let i = 0; i < 100; i++) fs.mkdirSync(path.join(base2, `d${i}`));
		const cfg = writeConfig(base2, { roots: [base2], testing: { enabled: true } });
		const c2 = await connectClient(cfg, { capabilities: { roots: { listChanged: true } } });
		let asked2 = 0;
		c2.client.setRequestHandler(ListRootsRequestSchema, async () => {
			asked2++;
			return { roots: Array.from({ length: 100 }, (_, i) => ({ uri: `file://${base2}/d${i}` })) };
		});
		try {
			await c2.client.sendRootsListChanged();
			for (let i = 0; i < 50 && asked2 === 0; i++) await sleep(50);
			await sleep(300);
			const dirs = resultText(await call(c2.client, 'list_allowed_directories', {})).split('\n').slice(1);
			assert.equal(dirs.length, 64);
			assert.match(c2.stderr(), /64 kept.*36 dropped|36 dropped/);
		} finally {
			await c2.close();
		}
	});
});

describe('NUL bytes in content', () => {
	test('write_file writes "a\\u0000b" whole; edit_file newText too; a NUL in a path is refused', async () => {
		const s = scene();
		await withClient(s.config, async (c) => {
			const f = path.join(s.rw, 'nul.bin');
			assert.match(resultText(await call(c, 'write_file', { path: f, content: 'a\u0000b' })), /Successfully wrote/);
			const got = fs.readFileSync(f);
			assert.equal(got.length, 3);
			assert.deepEqual([...got], [0x61, 0x00, 0x62]);
			const g = path.join(s.rw, 'edit.txt');
			fs.writeFileSync(g, 'one\ntwo\n');
			const r = await call(c, 'edit_file', { path: g, edits: [{ oldText: 'two', newText: 't\u0000o' }] });
			assert.ok(!r.isError, JSON.stringify(r).slice(0, 300));
			assert.ok(resultText(r).includes('+t\u0000o'), 'the diff shows the NUL byte');
			assert.deepEqual([...fs.readFileSync(g)], [...Buffer.from('one\nt\u0000o\n')]);
			// a NUL in a path is refused by name, nothing is written
			assertToolError(await call(c, 'write_file', { path: path.join(s.rw, 'x\u0000y'), content: 'z' }), /path: contains a NUL byte/);
			assert.deepEqual(fs.readdirSync(s.rw).sort(), ['edit.txt', 'nul.bin']);
		});
	});
});

describe('errors that point', () => {
	test('runtime errors name the path within its root, never an absolute path', async () => {
		const s = scene();
		fs.symlinkSync('/etc', path.join(s.root, 'out-link'));
		await withClient(s.config, async (c) => {
			const cases = [
				[call(c, 'read_text_file', { path: path.join(s.root, 'notes', 'todo.md') }), /no such file or directory: notes\/todo\.md/],
				[call(c, 'list_directory', { path: path.join(s.root, 'b.md') }), /not a directory: b\.md/],
				[call(c, 'read_text_file', { path: path.join(s.root, 'notes') }), /is a directory, not a file: notes/],
				[call(c, 'read_text_file', { path: path.join(s.root, 'out-link', 'passwd') }), /out-link\/passwd leaves its allowed directory/],
				[call(c, 'write_file', { path: path.join(s.root, 'new.txt'), content: 'x' }), /read-only/],
				[call(c, 'read_text_file', { path: '/etc/passwd' }), /outside the allowed directories/],
				[call(c, 'read_text_file', { path: `${s.root}/notes/../../../etc/passwd` }), /./],
			];
			for (const [p, re] of cases) {
				const text = assertToolError(await p, re);
				assert.ok(!text.includes('/etc/passwd'), `an outside path is echoed: ${text}`);
				assert.ok(!text.includes(s.base + '/root/'), `an absolute path is echoed: ${text}`);
			}
		});
	});
});

describe('the audit trail', () => {
	test('records root and path within it, and the rule of each refusal', async () => {
		const s = scene();
		await withClient(s.config, async (c) => {
			await call(c, 'read_text_file', { path: path.join(s.root, 'notes', 'a.txt') });
			await call(c, 'read_multiple_files', { paths: [path.join(s.root, 'b.md'), path.join(s.root, 'notes', 'a.txt')] });
			await call(c, 'write_file', { path: path.join(s.rw, 'w.txt'), content: 'w' });
			await call(c, 'move_file', { source: path.join(s.rw, 'w.txt'), destination: path.join(s.rw, 'v.txt') });
			await call(c, 'search_files', { path: path.join(s.root, 'notes'), pattern: '*' });
			await call(c, 'write_file', { path: path.join(s.root, 'ro.txt'), content: 'x' });
			await call(c, 'read_text_file', { path: '/etc/passwd' });
			await call(c, 'write_file', { path: path.join(s.rw, 'v.txt'), content: 'x'.repeat(10) });
			await call(c, 'move_file', { source: path.join(s.rw, 'v.txt'), destination: path.join(s.rw, 'v.txt') });
			// across roots: both roots listed, paths in order
			await call(c, 'read_multiple_files', { paths: [path.join(s.root, 'b.md'), path.join(s.rw, 'v.txt')] });
		});
		await sleep(100);
		const calls = auditLines(s.audit).filter((l) => l.kind === 'call');
		const by = (tool) => calls.filter((l) => l.tool === tool);
		const read = by('read_text_file');
		assert.deepEqual(read[0].touched, { root: s.root, path: 'notes/a.txt' });
		assert.equal(read[1].rule, 'fs.outside_root');
		assert.equal(read[1].touched, undefined, 'nothing touched outside the roots');
		assert.deepEqual(by('read_multiple_files')[0].touched, { root: [s.root], path: ['b.md', 'notes/a.txt'] });
		assert.deepEqual(by('write_file')[0].touched, { root: s.rw, path: 'w.txt' });
		assert.equal(by('write_file')[1].rule, 'fs.read_only');
		assert.deepEqual(by('move_file')[0].touched, { root: [s.rw], path: ['w.txt', 'v.txt'] });
		assert.equal(by('move_file')[1].rule, 'fs.exists');
		assert.deepEqual(by('search_files')[0].touched, { root: s.root, path: 'notes' });
		assert.deepEqual(by('read_multiple_files')[1].touched, { root: [s.root, s.rw], path: ['b.md', 'v.txt'] });
		const text = fs.readFileSync(s.audit, 'utf8');
		assert.ok(!text.includes('xxxxxxxxxx'), 'no content in the audit trail');
	});
});
