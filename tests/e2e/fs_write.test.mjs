// fs_write.test.mjs - the fs write tools (write_file, edit_file,
// create_directory, move_file) end to end through the official SDK client,
// against a config with a writable root RW and a read-only root RO: every
// parameter and every error; registration only when a root is writable;
// confinement of writes (read-only roots, '..', symlinks pointing outside,
// dangling links); atomic replacement (no ".moat-" temp files left, mode
// kept); move_file never replacing anything; and edit_file's diff compared
// byte for byte with the reference server
// (@modelcontextprotocol/server-filesystem) for the same edit.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import {
	connectClient,
	makeTempDir,
	writeConfig,
	withTimeout,
	resultText,
	assertToolError,
} from './helpers.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const REFERENCE = path.join(REPO, 'node_modules/@modelcontextprotocol/server-filesystem/dist/index.js');
const WRITE_TOOLS = ['write_file', 'edit_file', 'create_directory', 'move_file'];

let base, RW, RO, RW2, OUT, REFDIR;
const rw = (...p) => path.join(RW, ...p);
const ro = (...p) => path.join(RO, ...p);

before(() => {
	base = fs.realpathSync(makeTempDir('moat-e2e-fswrite-'));
	RW = path.join(base, 'rw');
	RO = path.join(base, 'ro');
	RW2 = path.join(base, 'rw2');
	OUT = path.join(base, 'outside');
	REFDIR = path.join(base, 'ref');
	for (const d of [RW, RO, RW2, OUT, REFDIR]) fs.mkdirSync(d);
	fs.writeFileSync(ro('keep.txt'), 'read-only content\n');
	fs.writeFileSync(path.join(OUT, 'secret.txt'), 'outside\n');
});

// ---- clients -------------------------------------------------------------------

function config(roots, fsOpts) {
	const obj = { roots };
	if (fsOpts) obj.fs = fsOpts;
	return writeConfig(makeTempDir('moat-e2e-fswrite-cfg-'), obj);
}

/** The reference server on dir, through the same SDK client. */
async function reference(dir) {
	const transport = new StdioClientTransport({ command: process.execPath, args: [REFERENCE, dir], stderr: 'pipe' });
	const client = new Client({ name: 'moat-e2e-ref', version: '0.0.1' }, { capabilities: {} });
	await withTimeout(client.connect(transport), 10000, 'the reference server to connect');
	return { client, close: () => client.close() };
}

const call = (client, name, args) => client.callTool({ name, arguments: args });

/** Call a tool that must succeed; returns its text and checks structuredContent. */
async function ok(client, name, args) {
	const res = await call(client, name, args);
	assert.notEqual(res.isError, true, `${name} ${JSON.stringify(args)} failed: ${JSON.stringify(res.content)}`);
	assert.equal(res.content.length, 1);
	const text = resultText(res);
	assert.deepEqual(res.structuredContent, { content: text });
	return text;
}

/** Every ".moat-" temp file left anywhere under dir. */
function tempFiles(dir) {
	const found = [];
	for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
		if (e.name.startsWith('.moat-')) found.push(path.join(e.parentPath ?? e.path, e.name));
	}
	return found;
}

const mode = (p) => fs.statSync(p).mode & 0o777;
const exists = (p) => {
	try {
		fs.lstatSync(p);
		return true;
	} catch {
		return false;
	}
};

let moat, ref;
before(async () => {
	moat = await connectClient(config([{ path: RW, write: true }, { path: RO }]));
	ref = await reference(REFDIR);
});
after(async () => {
	await moat?.close();
	await ref?.close();
	assert.deepEqual(tempFiles(base), [], 'no temp files left behind');
});

// ---- registration --------------------------------------------------------------

describe('registration', () => {
	test('write tools are listed with the reference annotations and schemas', async () => {
		const { tools } = await moat.client.listTools();
		const byName = Object.fromEntries(tools.map((t) => [t.name, t]));
		for (const n of WRITE_TOOLS) assert.ok(byName[n], `${n} is listed`);
		const ann = (n) => byName[n].annotations;
		assert.deepEqual(ann('write_file'), { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false });
		assert.deepEqual(ann('edit_file'), { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false });
		assert.deepEqual(ann('create_directory'), { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false });
		assert.deepEqual(ann('move_file'), { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false });
		assert.deepEqual(byName.write_file.inputSchema.required, ['path', 'content']);
		assert.equal(byName.write_file.inputSchema.properties.content.maxLength, 10 * 1024 * 1024);
		assert.deepEqual(byName.edit_file.inputSchema.required, ['path', 'edits']);
		assert.deepEqual(byName.edit_file.inputSchema.properties.edits.items.required, ['oldText', 'newText']);
		assert.equal(byName.edit_file.inputSchema.properties.dryRun.type, 'boolean');
		assert.deepEqual(byName.create_directory.inputSchema.required, ['path']);
		assert.deepEqual(byName.move_file.inputSchema.required, ['source', 'destination']);
		for (const n of WRITE_TOOLS) {
			assert.deepEqual(byName[n].outputSchema.properties, { content: { type: 'string' } });
			assert.equal(byName[n].title, { write_file: 'Write File', edit_file: 'Edit File', create_directory: 'Create Directory', move_file: 'Move File' }[n]);
		}
	});

	test('the reference lists the same write tools with the same annotations', async () => {
		const mine = Object.fromEntries((await moat.client.listTools()).tools.map((t) => [t.name, t]));
		const theirs = (await ref.client.listTools()).tools.filter((t) => WRITE_TOOLS.includes(t.name));
		assert.equal(theirs.length, 4);
		for (const t of theirs) {
			assert.deepEqual(mine[t.name].annotations, t.annotations, t.name);
			assert.deepEqual(Object.keys(mine[t.name].inputSchema.properties).sort(), Object.keys(t.inputSchema.properties).sort(), t.name);
		}
	});

	test('`moat serve DIR` is read-only: no write tools', async () => {
		const c = await connectClient(null, { args: ['serve', RW] });
		try {
			const names = (await c.client.listTools()).tools.map((t) => t.name);
			assert.ok(names.includes('list_allowed_directories') || names.length > 0);
			for (const n of WRITE_TOOLS) assert.ok(!names.includes(n), `${n} must not be listed`);
			const res = await call(c.client, 'write_file', { path: rw('x.txt'), content: 'x' }).catch((e) => e);
			assert.ok(res instanceof Error || res.isError, 'write_file cannot be called');
			assert.ok(!exists(rw('x.txt')));
		} finally {
			await c.close();
		}
	});

	test('a config whose roots are all read-only has no write tools', async () => {
		const c = await connectClient(config([{ path: RW }, { path: RO, write: false }]));
		try {
			const names = (await c.client.listTools()).tools.map((t) => t.name);
			for (const n of WRITE_TOOLS) assert.ok(!names.includes(n), `${n} must not be listed`);
		} finally {
			await c.close();
		}
	});
});

// ---- write_file ----------------------------------------------------------------

describe('write_file', () => {
	test('creates a file and answers like the reference', async () => {
		const p = rw('new.txt');
		assert.equal(await ok(moat.client, 'write_file', { path: p, content: 'hello\nworld\n' }), `Successfully wrote to ${p}`);
		assert.equal(fs.readFileSync(p, 'utf8'), 'hello\nworld\n');
		assert.equal(mode(p), 0o644 & ~process.umask());
		const r = REFDIR + '/new.txt';
		assert.equal(await ok(ref.client, 'write_file', { path: r, content: 'x' }), `Successfully wrote to ${r}`);
	});

	test('overwrites, keeps the mode, and leaves no temp file', async () => {
		const p = rw('mode.txt');
		fs.writeFileSync(p, 'old content that is longer\n');
		fs.chmodSync(p, 0o640);
		const ino = fs.statSync(p).ino;
		await ok(moat.client, 'write_file', { path: p, content: 'new' });
		assert.equal(fs.readFileSync(p, 'utf8'), 'new');
		assert.equal(mode(p), 0o640);
		assert.notEqual(fs.statSync(p).ino, ino, 'replaced by rename, not rewritten in place');
		fs.chmodSync(p, 0o600);
		await ok(moat.client, 'write_file', { path: p, content: '' });
		assert.equal(fs.readFileSync(p, 'utf8'), '');
		assert.equal(mode(p), 0o600);
		assert.deepEqual(tempFiles(RW), []);
	});

	test('unicode content, relative paths and ~-free nested paths', async () => {
		const text = 'héllo wörld ✓ 😀\r\nline two\n';
		await ok(moat.client, 'write_file', { path: rw('uni.txt'), content: text });
		assert.equal(fs.readFileSync(rw('uni.txt'), 'utf8'), text);
		// a relative path resolves against the first root
		assert.equal(await ok(moat.client, 'write_file', { path: 'rel.txt', content: 'r' }), 'Successfully wrote to rel.txt');
		assert.equal(fs.readFileSync(rw('rel.txt'), 'utf8'), 'r');
		fs.mkdirSync(rw('sub'), { recursive: true });
		await ok(moat.client, 'write_file', { path: rw('sub', '.', 'deep.txt'), content: 'd' });
		assert.equal(fs.readFileSync(rw('sub', 'deep.txt'), 'utf8'), 'd');
	});

	test('is refused in a read-only root even though another root is writable', async () => {
		assertToolError(await call(moat.client, 'write_file', { path: ro('keep.txt'), content: 'pwned' }), /read-only/);
		assertToolError(await call(moat.client, 'write_file', { path: ro('fresh.txt'), content: 'pwned' }), /read-only/);
		assert.equal(fs.readFileSync(ro('keep.txt'), 'utf8'), 'read-only content\n');
		assert.ok(!exists(ro('fresh.txt')));
		assert.deepEqual(tempFiles(RO), []);
	});

	test('is refused outside the roots and through ..', async () => {
		assertToolError(await call(moat.client, 'write_file', { path: path.join(OUT, 'x.txt'), content: 'x' }), /access denied/);
		assertToolError(await call(moat.client, 'write_file', { path: rw('..', 'outside', 'y.txt'), content: 'x' }), /access denied|leaves/);
		assertToolError(await call(moat.client, 'write_file', { path: `${RW}2-sibling/x.txt`, content: 'x' }), /access denied/);
		assert.ok(!exists(path.join(OUT, 'x.txt')));
		assert.ok(!exists(path.join(OUT, 'y.txt')));
	});

	test('a dangling symlink pointing outside is refused: nothing is created outside, the link stays', async () => {
		const target = path.join(OUT, 'created-through-link.txt');
		fs.symlinkSync(target, rw('dangling'));
		const text = assertToolError(await call(moat.client, 'write_file', { path: rw('dangling'), content: 'pwned' }), /symbolic link/);
		assert.ok(!text.includes(OUT), 'the message does not echo paths');
		assert.ok(!exists(target), 'the outside target was not created');
		assert.ok(fs.lstatSync(rw('dangling')).isSymbolicLink(), 'the link is left as it was');
		assertToolError(await call(moat.client, 'edit_file', { path: rw('dangling'), edits: [] }), /symbolic link/);
		assert.ok(!exists(target));
	});

	test('a symlink to an outside file is refused and the file is untouched', async () => {
		fs.symlinkSync(path.join(OUT, 'secret.txt'), rw('link-out'));
		assertToolError(await call(moat.client, 'write_file', { path: rw('link-out'), content: 'pwned' }), /symbolic link/);
		assertToolError(await call(moat.client, 'edit_file', { path: rw('link-out'), edits: [{ oldText: 'outside', newText: 'pwned' }] }), /symbolic link/);
		assert.equal(fs.readFileSync(path.join(OUT, 'secret.txt'), 'utf8'), 'outside\n');
	});

	test('a symlink inside the root is not written through nor replaced', async () => {
		fs.writeFileSync(rw('real.txt'), 'real\n');
		fs.symlinkSync('real.txt', rw('link-in'));
		assertToolError(await call(moat.client, 'write_file', { path: rw('link-in'), content: 'x' }), /symbolic link/);
		for (const dryRun of [false, true]) {
			assertToolError(await call(moat.client, 'edit_file', { path: rw('link-in'), edits: [{ oldText: 'real', newText: 'x' }], dryRun }), /symbolic link/);
		}
		assert.equal(fs.readFileSync(rw('real.txt'), 'utf8'), 'real\n');
		assert.ok(fs.lstatSync(rw('link-in')).isSymbolicLink());
	});

	test('a directory component that is a symlink leading outside is refused', async () => {
		fs.symlinkSync(OUT, rw('dirlink-out'));
		assertToolError(await call(moat.client, 'write_file', { path: rw('dirlink-out', 'z.txt'), content: 'x' }), /access denied/);
		assert.ok(!exists(path.join(OUT, 'z.txt')));
	});

	test('errors: missing parent, a directory, the root itself, bad arguments', async () => {
		assertToolError(await call(moat.client, 'write_file', { path: rw('no', 'such', 'f.txt'), content: 'x' }), /Parent directory does not exist/);
		fs.mkdirSync(rw('adir'), { recursive: true });
		assertToolError(await call(moat.client, 'write_file', { path: rw('adir'), content: 'x' }), /is a directory/);
		assertToolError(await call(moat.client, 'write_file', { path: RW, content: 'x' }), /allowed directory itself/);
		assertToolError(await call(moat.client, 'write_file', { path: rw('f.txt') }), /invalid arguments/);
		assertToolError(await call(moat.client, 'write_file', { content: 'x' }), /invalid arguments/);
		assertToolError(await call(moat.client, 'write_file', { path: rw('f.txt'), content: 5 }), /invalid arguments/);
		assertToolError(await call(moat.client, 'write_file', { path: rw('f.txt'), content: 'x', extra: 1 }), /invalid arguments/);
		assertToolError(await call(moat.client, 'write_file', { path: '', content: 'x' }), /empty/);
		assert.ok(!exists(rw('f.txt')));
		fs.mkdirSync(rw('fifo-dir'), { recursive: true });
		assert.deepEqual(tempFiles(RW), []);
	});

	test('a write that fails midway (the call deadline) leaves the file and no temp file', async () => {
		const d = fs.mkdtempSync(path.join(RW2, 'deadline-'));
		const cfg = writeConfig(makeTempDir('moat-e2e-fswrite-cfg-'), { roots: [{ path: d, write: true }], limits: { call_timeout_ms: 1 } });
		const c = await connectClient(cfg);
		try {
			const p = path.join(d, 'f.txt');
			fs.writeFileSync(p, 'original\n');
			assertToolError(await call(c.client, 'write_file', { path: p, content: 'y'.repeat(3 << 20) }), /deadline|timed out|timeout/i);
			assert.equal(fs.readFileSync(p, 'utf8'), 'original\n');
			assert.deepEqual(tempFiles(d), []);
		} finally {
			await c.close();
		}
	});

	test('content larger than fs.max_file_size is refused', async () => {
		const c = await connectClient(config([{ path: RW2, write: true }], { max_file_size: 100 }));
		try {
			const { tools } = await c.client.listTools();
			assert.equal(tools.find((t) => t.name === 'write_file').inputSchema.properties.content.maxLength, 100);
			await ok(c.client, 'write_file', { path: path.join(RW2, 'small.txt'), content: 'x'.repeat(100) });
			assertToolError(await call(c.client, 'write_file', { path: path.join(RW2, 'big.txt'), content: 'x'.repeat(101) }), /invalid arguments|max_file_size/);
			// 50 characters, 150 bytes: the byte check in the handler
			assertToolError(await call(c.client, 'write_file', { path: path.join(RW2, 'big.txt'), content: '✓'.repeat(50) }), /max_file_size/);
			assert.ok(!exists(path.join(RW2, 'big.txt')));
			// edit_file: a file over the limit, and an edit that would pass it
			fs.writeFileSync(path.join(RW2, 'large.txt'), 'y'.repeat(200));
			assertToolError(await call(c.client, 'edit_file', { path: path.join(RW2, 'large.txt'), edits: [{ oldText: 'y', newText: 'z' }] }), /max_file_size/);
			assertToolError(await call(c.client, 'edit_file', { path: path.join(RW2, 'small.txt'), edits: [{ oldText: 'x', newText: 'xx' }] }), /max_file_size/);
			assert.equal(fs.readFileSync(path.join(RW2, 'small.txt'), 'utf8'), 'x'.repeat(100));
			assert.deepEqual(tempFiles(RW2), []);
		} finally {
			await c.close();
		}
	});
});

// ---- edit_file -------------------------------------------------------------------

/**
 * Run the same edit on the reference (on a copy under REFDIR) and on moat
 * (under RW): dryRun first on both, byte for byte, file unchanged; then for
 * real on both: the same diff (paths aside) and the same resulting bytes.
 */
async function sameAsReference(name, content, edits, { crlfKept = false } = {}) {
	const mine = rw(name), theirs = path.join(REFDIR, name);
	fs.writeFileSync(mine, content);
	fs.writeFileSync(theirs, content);
	const before = fs.statSync(mine);
	const dryRef = await ok(ref.client, 'edit_file', { path: theirs, edits, dryRun: true });
	const dryMine = await ok(moat.client, 'edit_file', { path: mine, edits, dryRun: true });
	assert.equal(dryMine, dryRef.split(theirs).join(mine), `${name}: dryRun diff`);
	assert.equal(fs.readFileSync(mine, 'utf8'), content, 'dryRun leaves the file unchanged');
	assert.equal(fs.statSync(mine).ino, before.ino);
	assert.equal(fs.statSync(mine).mtimeMs, before.mtimeMs);
	const realRef = await ok(ref.client, 'edit_file', { path: theirs, edits });
	const realMine = await ok(moat.client, 'edit_file', { path: mine, edits });
	assert.equal(realMine, realRef.split(theirs).join(mine), `${name}: diff`);
	assert.equal(realMine, dryMine);
	const want = fs.readFileSync(theirs, 'utf8');
	assert.equal(fs.readFileSync(mine, 'utf8'), crlfKept ? want.replace(/\n/g, '\r\n') : want, `${name}: resulting file`);
	return realMine;
}

describe('edit_file', () => {
	test('the diff of a one-line edit, byte for byte', async () => {
		const lines = Array.from({ length: 30 }, (_, i) => `line ${i + 1}`);
		const diff = await sameAsReference('one.txt', lines.join('\n') + '\n', [{ oldText: 'line 15', newText: 'LINE FIFTEEN' }]);
		const p = rw('one.txt');
		assert.equal(
			diff,
			'```diff\n' +
				`Index: ${p}\n` +
				'===================================================================\n' +
				`--- ${p}\toriginal\n` +
				`+++ ${p}\tmodified\n` +
				'@@ -11,9 +11,9 @@\n line 11\n line 12\n line 13\n line 14\n-line 15\n+LINE FIFTEEN\n line 16\n line 17\n line 18\n line 19\n' +
				'```\n\n',
		);
	});

	test('several edits, hunks merged and apart, additions and deletions', async () => {
		const lines = Array.from({ length: 60 }, (_, i) => `row ${i}`);
		await sameAsReference('multi.txt', lines.join('\n') + '\n', [
			{ oldText: 'row 3\n', newText: '' },
			{ oldText: 'row 9', newText: 'row 9a\nrow 9b\nrow 9c' },
			{ oldText: 'row 40\nrow 41', newText: 'forty-one' },
			{ oldText: 'row 59\n', newText: 'row 59\nrow 60\n' },
		]);
	});

	test('whitespace-flexible matching keeps the indentation like the reference', async () => {
		const src = 'function f() {\n    if (x) {\n        return 1;\n    }\n    return 2;\n}\n';
		await sameAsReference('indent.js', src, [
			{ oldText: 'if (x) {\n    return 1;\n}', newText: 'if (y) {\n        return 3;\n    log();\n}' },
		]);
		await sameAsReference('indent2.js', '\t\talpha\n\t\t  beta\n\t\tgamma\n', [{ oldText: 'alpha\nbeta', newText: '  ALPHA\n    BETA\nplain' }]);
		await sameAsReference('indent3.txt', 'a\n   b  \nc\n', [{ oldText: '  b\nc  ', newText: 'B\n  C' }]);
	});

	test('no final newline, empty oldText, emptying the file, backticks in the text', async () => {
		await sameAsReference('nonl.txt', 'first\nsecond\nlast', [{ oldText: 'last', newText: 'LAST' }]);
		await sameAsReference('nonl2.txt', 'first\nsecond', [{ oldText: 'second', newText: 'second\n' }]);
		await sameAsReference('empty-old.txt', 'body\n', [{ oldText: '', newText: 'head\n' }]);
		await sameAsReference('to-empty.txt', 'only line\n', [{ oldText: 'only line\n', newText: '' }]);
		await sameAsReference('from-empty.txt', '', [{ oldText: '', newText: 'new\n' }]);
		const diff = await sameAsReference('ticks.md', 'text\n````js\ncode\n````\n', [{ oldText: 'code', newText: 'more ``` code' }]);
		assert.ok(diff.startsWith('`````diff\n') && diff.endsWith('`````\n\n'), 'fence longer than any run inside');
		await sameAsReference('noop.txt', 'same\n', [{ oldText: 'same', newText: 'same' }]);
		await sameAsReference('noedits.txt', 'same\n', []);
	});

	test('unicode, and the first of several occurrences', async () => {
		await sameAsReference('uni.txt', 'héllo\nwörld ✓\nhéllo\n😀 end\n', [{ oldText: 'héllo', newText: 'hallo 😀' }]);
	});

	test('CRLF: the diff is the reference\'s; moat keeps the CRLF line endings', async () => {
		await sameAsReference('crlf.txt', 'one\r\ntwo\r\nthree\r\n', [{ oldText: 'two\r\n', newText: 'TWO\r\n' }], { crlfKept: true });
	});

	test('a large file with scattered edits', async () => {
		const lines = Array.from({ length: 5000 }, (_, i) => `${i % 7 === 0 ? '  ' : ''}line ${i} ${'x'.repeat(i % 13)}`);
		const edits = [];
		for (let i = 100; i < 5000; i += 450) edits.push({ oldText: lines[i].trim(), newText: `changed ${i}` });
		await sameAsReference('large.txt', lines.join('\n') + '\n', edits);
	});

	test('keeps the mode of the file', async () => {
		const p = rw('modekeep.sh');
		fs.writeFileSync(p, '#!/bin/sh\necho hi\n');
		fs.chmodSync(p, 0o751);
		await ok(moat.client, 'edit_file', { path: p, edits: [{ oldText: 'hi', newText: 'ho' }] });
		assert.equal(fs.readFileSync(p, 'utf8'), '#!/bin/sh\necho ho\n');
		assert.equal(mode(p), 0o751);
	});

	test('oldText not found: the reference\'s error, the file unchanged, no temp file', async () => {
		const p = rw('nf.txt');
		fs.writeFileSync(p, 'alpha\nbeta\n');
		const text = assertToolError(await call(moat.client, 'edit_file', { path: p, edits: [{ oldText: 'gamma', newText: 'x' }] }), /Could not find exact match for edit/);
		assert.ok(!text.includes('gamma'), 'the message does not echo the argument');
		// the first edit applies in memory, the second fails: nothing is written
		assertToolError(
			await call(moat.client, 'edit_file', { path: p, edits: [{ oldText: 'alpha', newText: 'ALPHA' }, { oldText: 'nope', newText: '' }] }),
			/Could not find exact match for edit 2/,
		);
		assert.equal(fs.readFileSync(p, 'utf8'), 'alpha\nbeta\n');
		// the reference fails the same way
		fs.writeFileSync(path.join(REFDIR, 'nf.txt'), 'alpha\nbeta\n');
		assertToolError(await call(ref.client, 'edit_file', { path: path.join(REFDIR, 'nf.txt'), edits: [{ oldText: 'gamma', newText: 'x' }] }), /Could not find exact match for edit/);
		assert.deepEqual(tempFiles(RW), []);
	});

	test('is refused in a read-only root, even as a dryRun', async () => {
		for (const dryRun of [false, true]) {
			assertToolError(await call(moat.client, 'edit_file', { path: ro('keep.txt'), edits: [{ oldText: 'read', newText: 'x' }], dryRun }), /read-only/);
		}
		assert.equal(fs.readFileSync(ro('keep.txt'), 'utf8'), 'read-only content\n');
	});

	test('errors: missing file, directory, not UTF-8, NUL bytes, bad arguments', async () => {
		const e = [{ oldText: 'a', newText: 'b' }];
		assertToolError(await call(moat.client, 'edit_file', { path: rw('missing.txt'), edits: e }), /no such file/);
		fs.mkdirSync(rw('edir'), { recursive: true });
		assertToolError(await call(moat.client, 'edit_file', { path: rw('edir'), edits: e }), /directory/);
		fs.writeFileSync(rw('latin1.txt'), Buffer.from([0x61, 0xe9, 0x0a]));
		assertToolError(await call(moat.client, 'edit_file', { path: rw('latin1.txt'), edits: e }), /UTF-8/);
		fs.writeFileSync(rw('nul.bin'), Buffer.from([0x61, 0x00, 0x62]));
		assertToolError(await call(moat.client, 'edit_file', { path: rw('nul.bin'), edits: e }), /UTF-8|NUL/);
		assert.deepEqual(fs.readFileSync(rw('latin1.txt')), Buffer.from([0x61, 0xe9, 0x0a]));
		assertToolError(await call(moat.client, 'edit_file', { path: rw('latin1.txt') }), /invalid arguments/);
		assertToolError(await call(moat.client, 'edit_file', { path: rw('latin1.txt'), edits: [{ oldText: 'a' }] }), /invalid arguments/);
		assertToolError(await call(moat.client, 'edit_file', { path: rw('latin1.txt'), edits: [{ oldText: 'a', newText: 'b', x: 1 }] }), /invalid arguments/);
		assertToolError(await call(moat.client, 'edit_file', { path: rw('latin1.txt'), edits: e, dryRun: 'yes' }), /invalid arguments/);
		assertToolError(await call(moat.client, 'edit_file', { path: rw('latin1.txt'), edits: Array(1001).fill(e[0]) }), /invalid arguments/);
		assertToolError(await call(moat.client, 'edit_file', { path: path.join(OUT, 'secret.txt'), edits: e }), /access denied/);
	});

	test('a diff larger than the output limit is refused and nothing is written', async () => {
		const d = fs.mkdtempSync(path.join(RW2, 'budget-'));
		const cfg = writeConfig(makeTempDir('moat-e2e-fswrite-cfg-'), { roots: [{ path: d, write: true }], limits: { max_output_bytes: 4096 } });
		const c = await connectClient(cfg);
		try {
			const p = path.join(d, 'f.txt');
			fs.writeFileSync(p, Array.from({ length: 400 }, (_, i) => `l${i}`).join('\n'));
			const edits = [{ oldText: fs.readFileSync(p, 'utf8'), newText: 'gone' }];
			assertToolError(await call(c.client, 'edit_file', { path: p, edits }), /output limit/);
			assert.ok(fs.readFileSync(p, 'utf8').startsWith('l0\nl1\n'));
			await ok(c.client, 'edit_file', { path: p, edits: [{ oldText: 'l200', newText: 'L200' }] });
			assert.ok(fs.readFileSync(p, 'utf8').includes('\nL200\n'));
			assert.deepEqual(tempFiles(d), []);
		} finally {
			await c.close();
		}
	});
});

// ---- create_directory ---------------------------------------------------------------

describe('create_directory', () => {
	test('creates nested directories; an existing one is fine', async () => {
		const p = rw('a', 'b', 'c');
		assert.equal(await ok(moat.client, 'create_directory', { path: p }), `Successfully created directory ${p}`);
		assert.ok(fs.statSync(p).isDirectory());
		await ok(moat.client, 'create_directory', { path: p });
		await ok(moat.client, 'create_directory', { path: rw('a') });
		await ok(moat.client, 'create_directory', { path: RW });
		await ok(moat.client, 'create_directory', { path: 'rel-dir/x' });
		assert.ok(fs.statSync(rw('rel-dir', 'x')).isDirectory());
		// '..' folds lexically, as the reference's path.resolve does
		await ok(moat.client, 'create_directory', { path: rw('a', 'zz', '..', 'yy') });
		assert.ok(fs.statSync(rw('a', 'yy')).isDirectory());
		assert.ok(!exists(rw('a', 'zz')));
		const r = path.join(REFDIR, 'q', 'r');
		assert.equal(await ok(ref.client, 'create_directory', { path: r }), `Successfully created directory ${r}`);
	});

	test('follows a symlink to a directory inside the root', async () => {
		fs.mkdirSync(rw('realdir'));
		fs.symlinkSync('realdir', rw('dirlink-in'));
		await ok(moat.client, 'create_directory', { path: rw('dirlink-in', 'n1', 'n2') });
		assert.ok(fs.statSync(rw('realdir', 'n1', 'n2')).isDirectory());
	});

	test('never creates anything outside: symlinks out, dangling links, ..', async () => {
		fs.symlinkSync(OUT, rw('cd-out'));
		assertToolError(await call(moat.client, 'create_directory', { path: rw('cd-out', 'evil') }), /access denied/);
		assert.ok(!exists(path.join(OUT, 'evil')));
		fs.symlinkSync(path.join(OUT, 'newdir'), rw('cd-dangling'));
		assertToolError(await call(moat.client, 'create_directory', { path: rw('cd-dangling') }), /access denied/);
		assertToolError(await call(moat.client, 'create_directory', { path: rw('cd-dangling', 'sub') }), /access denied/);
		assert.ok(!exists(path.join(OUT, 'newdir')));
		// a dangling link inside the root is not followed when creating either
		fs.symlinkSync('not-yet', rw('cd-dangling-in'));
		assertToolError(await call(moat.client, 'create_directory', { path: rw('cd-dangling-in') }), /not a directory/);
		assertToolError(await call(moat.client, 'create_directory', { path: rw('cd-dangling-in', 'sub') }), /not a directory/);
		assert.ok(!exists(rw('not-yet')));
		assert.ok(fs.lstatSync(rw('cd-dangling-in')).isSymbolicLink());
		assertToolError(await call(moat.client, 'create_directory', { path: rw('..', 'outside', 'evil2') }), /access denied/);
		assertToolError(await call(moat.client, 'create_directory', { path: rw('x', '..', '..', 'evil3') }), /access denied/);
		assertToolError(await call(moat.client, 'create_directory', { path: path.join(OUT, 'evil4') }), /access denied/);
		assert.deepEqual(fs.readdirSync(OUT).sort(), ['secret.txt']);
		assert.ok(!exists(path.join(base, 'evil3')));
	});

	test('errors: read-only root, a file in the way, bad arguments', async () => {
		assertToolError(await call(moat.client, 'create_directory', { path: ro('newdir') }), /read-only/);
		assert.ok(!exists(ro('newdir')));
		fs.writeFileSync(rw('plainfile'), 'x');
		assertToolError(await call(moat.client, 'create_directory', { path: rw('plainfile') }), /not a directory/);
		assertToolError(await call(moat.client, 'create_directory', { path: rw('plainfile', 'sub') }), /not a directory/);
		assertToolError(await call(moat.client, 'create_directory', {}), /invalid arguments/);
		assertToolError(await call(moat.client, 'create_directory', { path: 7 }), /invalid arguments/);
		assertToolError(await call(moat.client, 'create_directory', { path: '' }), /empty/);
	});
});

// ---- move_file -------------------------------------------------------------------------

describe('move_file', () => {
	test('renames and moves files and directories', async () => {
		fs.writeFileSync(rw('m1.txt'), 'one');
		const dst = rw('m1-renamed.txt');
		assert.equal(await ok(moat.client, 'move_file', { source: rw('m1.txt'), destination: dst }), `Successfully moved ${rw('m1.txt')} to ${dst}`);
		assert.equal(fs.readFileSync(dst, 'utf8'), 'one');
		assert.ok(!exists(rw('m1.txt')));
		fs.mkdirSync(rw('mdir', 'inner'), { recursive: true });
		fs.writeFileSync(rw('mdir', 'inner', 'f'), 'f');
		await ok(moat.client, 'move_file', { source: rw('mdir'), destination: rw('a', 'mdir-moved') });
		assert.equal(fs.readFileSync(rw('a', 'mdir-moved', 'inner', 'f'), 'utf8'), 'f');
		await ok(moat.client, 'move_file', { source: 'm1-renamed.txt', destination: 'sub/m1.txt' });
		assert.equal(fs.readFileSync(rw('sub', 'm1.txt'), 'utf8'), 'one');
		// a symlink moves as a link, never followed
		fs.symlinkSync(path.join(OUT, 'secret.txt'), rw('mlink'));
		await ok(moat.client, 'move_file', { source: rw('mlink'), destination: rw('mlink2') });
		assert.ok(fs.lstatSync(rw('mlink2')).isSymbolicLink());
		assert.equal(fs.readFileSync(path.join(OUT, 'secret.txt'), 'utf8'), 'outside\n');
	});

	test('never replaces an existing destination; both files unchanged', async () => {
		fs.writeFileSync(rw('src.txt'), 'source');
		fs.writeFileSync(rw('dst.txt'), 'destination');
		assertToolError(await call(moat.client, 'move_file', { source: rw('src.txt'), destination: rw('dst.txt') }), /destination exists/);
		assert.equal(fs.readFileSync(rw('src.txt'), 'utf8'), 'source');
		assert.equal(fs.readFileSync(rw('dst.txt'), 'utf8'), 'destination');
		// not onto a directory, an empty one or a dangling symlink either
		fs.mkdirSync(rw('emptydir'));
		assertToolError(await call(moat.client, 'move_file', { source: rw('src.txt'), destination: rw('emptydir') }), /destination exists/);
		fs.symlinkSync(path.join(OUT, 'nothing-here'), rw('dangling-dst'));
		assertToolError(await call(moat.client, 'move_file', { source: rw('src.txt'), destination: rw('dangling-dst') }), /destination exists/);
		assert.ok(!exists(path.join(OUT, 'nothing-here')));
		assert.ok(fs.lstatSync(rw('dangling-dst')).isSymbolicLink());
		assert.equal(fs.readFileSync(rw('src.txt'), 'utf8'), 'source');
		// the reference refuses too
		fs.writeFileSync(path.join(REFDIR, 's'), 's');
		fs.writeFileSync(path.join(REFDIR, 'd'), 'd');
		assertToolError(await call(ref.client, 'move_file', { source: path.join(REFDIR, 's'), destination: path.join(REFDIR, 'd') }), /already exists/);
	});

	test('read-only roots are refused on either side', async () => {
		fs.writeFileSync(rw('tomove.txt'), 'm');
		assertToolError(await call(moat.client, 'move_file', { source: rw('tomove.txt'), destination: ro('stolen.txt') }), /destination: .*read-only/);
		assertToolError(await call(moat.client, 'move_file', { source: ro('keep.txt'), destination: rw('keep.txt') }), /source: .*read-only/);
		assert.ok(exists(rw('tomove.txt')));
		assert.ok(!exists(ro('stolen.txt')));
		assert.equal(fs.readFileSync(ro('keep.txt'), 'utf8'), 'read-only content\n');
	});

	test('outside, .., symlinked parents out, roots themselves, missing source', async () => {
		assertToolError(await call(moat.client, 'move_file', { source: rw('tomove.txt'), destination: path.join(OUT, 'x') }), /destination: access denied/);
		assertToolError(await call(moat.client, 'move_file', { source: path.join(OUT, 'secret.txt'), destination: rw('s.txt') }), /source: access denied/);
		assertToolError(await call(moat.client, 'move_file', { source: rw('tomove.txt'), destination: rw('..', 'outside', 'y') }), /access denied/);
		fs.symlinkSync(OUT, rw('mv-out'));
		assertToolError(await call(moat.client, 'move_file', { source: rw('tomove.txt'), destination: rw('mv-out', 'z') }), /access denied/);
		assertToolError(await call(moat.client, 'move_file', { source: rw('mv-out', 'secret.txt'), destination: rw('z') }), /access denied/);
		assertToolError(await call(moat.client, 'move_file', { source: RW, destination: rw('x') }), /allowed directory itself/);
		assertToolError(await call(moat.client, 'move_file', { source: rw('no-such'), destination: rw('x') }), /source does not exist/);
		assertToolError(await call(moat.client, 'move_file', { source: rw('tomove.txt'), destination: rw('nodir', 'x') }), /Parent directory does not exist/);
		fs.mkdirSync(rw('selfdir'));
		assertToolError(await call(moat.client, 'move_file', { source: rw('selfdir'), destination: rw('selfdir', 'inside') }), /into itself/);
		assert.deepEqual(fs.readdirSync(OUT).sort(), ['secret.txt']);
		assert.ok(exists(rw('tomove.txt')));
	});

	test('bad arguments', async () => {
		assertToolError(await call(moat.client, 'move_file', { source: rw('tomove.txt') }), /invalid arguments/);
		assertToolError(await call(moat.client, 'move_file', { destination: rw('x') }), /invalid arguments/);
		assertToolError(await call(moat.client, 'move_file', { source: 1, destination: rw('x') }), /invalid arguments/);
	});

	test('between two writable roots', async () => {
		const a = fs.mkdtempSync(path.join(RW2, 'x-')), b = fs.mkdtempSync(path.join(RW2, 'y-'));
		const c = await connectClient(config([{ path: a, write: true }, { path: b, write: true }]));
		try {
			fs.writeFileSync(path.join(a, 'f'), 'cross');
			await ok(c.client, 'move_file', { source: path.join(a, 'f'), destination: path.join(b, 'g') });
			assert.equal(fs.readFileSync(path.join(b, 'g'), 'utf8'), 'cross');
			assert.ok(!exists(path.join(a, 'f')));
		} finally {
			await c.close();
		}
	});
});
