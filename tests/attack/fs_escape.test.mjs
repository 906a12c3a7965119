// fs_escape.test.mjs - the published escapes against the reference filesystem
// server, replayed against every fs read tool: '../' traversal, absolute
// outside paths, a sibling sharing the root's prefix (CVE-2025-53110),
// symlinks out of the root (absolute, relative, through a directory:
// CVE-2025-53109), /proc/self/root paths, NUL bytes in paths, a FIFO and a
// character device inside a root, and a client root of "/". Each attack
// ends with the outside tree unchanged and the secret absent from every
// response and from stderr. Tools are called by their reference names; a
// tool that is not registered fails the test.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { ListRootsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import {
	buildFixture,
	openSession,
	assertTools,
	call,
	refused,
	finish,
	assertIntact,
	assertNotListed,
	connectClient,
	resultText,
	READ_TOOLS,
} from './fixture.mjs';

/** The escape paths of the fixture, named. */
function escapes(f) {
	return {
		'../ traversal': `${f.data}/../outside/secret.txt`,
		'../ from a subdirectory': `${f.data}/sub/../../outside/secret.txt`,
		'relative ../': '../outside/secret.txt',
		'absolute outside': f.secretFile,
		'sibling prefix (CVE-2025-53110)': path.join(f.data2, 'secret2.txt'),
		'sibling prefix, spelled through the root': `${f.data}2/secret2.txt`,
		'absolute symlink out (CVE-2025-53109)': path.join(f.data, 'abs-link'),
		'relative symlink out': path.join(f.data, 'rel-link'),
		'symlink out from a subdirectory': path.join(f.data, 'sub', 'up-link'),
		'through a symlinked directory': path.join(f.data, 'dir-link', 'secret.txt'),
		'/proc/self/root': `/proc/self/root${f.secretFile}`,
		'/proc/self/root to a root file': `/proc/self/root${f.data}/a.txt`,
		'/proc/self/cwd': '/proc/self/cwd/outside/secret.txt',
		'~/.ssh': path.join(f.home, '.ssh', 'id_rsa'),
		'/etc/passwd': '/etc/passwd',
	};
}

const DIRS = (f) => ({
	'outside dir': f.outside,
	'outside via ..': `${f.data}/../outside`,
	'sibling prefix dir': f.data2,
	'symlinked dir': path.join(f.data, 'dir-link'),
	'/proc/self/root dir': `/proc/self/root${f.outside}`,
	'/': '/',
});

describe('fs read tools refuse every escape', () => {
	test('read_text_file, read_multiple_files, get_file_info on escape paths', async () => {
		const f = buildFixture();
		const s = await openSession(f, { cwd: f.base });
		try {
			await assertTools(s, READ_TOOLS);
			// the root itself works, and a symlink that stays inside is followed
			assert.equal(resultText(await call(s, 'read_text_file', { path: path.join(f.data, 'a.txt') })), 'inside a\n');
			assert.equal(resultText(await call(s, 'read_text_file', { path: path.join(f.data, 'ok-link') })), 'inside a\n');
			for (const [what, p] of Object.entries(escapes(f))) {
				await refused(s, 'read_text_file', { path: p }, what);
				await refused(s, 'read_text_file', { path: p, head: 1 }, `${what} (head)`);
				await refused(s, 'get_file_info', { path: p }, what);
			}
			const all = Object.values(escapes(f));
			const r = await call(s, 'read_multiple_files', { paths: [path.join(f.data, 'a.txt'), ...all] });
			const text = resultText(r);
			assert.ok(text.includes('inside a'), 'the allowed file is still read');
			// every outside path is reported as an inline error
			assert.ok((text.match(/error/gi) ?? []).length >= all.length, text.slice(0, 600));
			const texts = await finish(s);
			assertIntact(f, texts);
		} finally {
			s.kill();
		}
	});

	test('list_directory, directory_tree, search_files never show outside names', async () => {
		const f = buildFixture();
		const s = await openSession(f);
		try {
			await assertTools(s, READ_TOOLS);
			for (const [what, p] of Object.entries(DIRS(f))) {
				await refused(s, 'list_directory', { path: p }, what);
				await refused(s, 'directory_tree', { path: p }, what);
				await refused(s, 'search_files', { path: p, pattern: '*' }, what);
			}
			// inside the root: symlinks out are listed as names at most, never followed
			const tree = await call(s, 'directory_tree', { path: f.data });
			assert.notEqual(tree.isError, true, resultText(tree));
			const list = await call(s, 'list_directory', { path: path.join(f.data, 'dir-link') });
			assert.equal(list.isError, true, 'listing a symlinked directory out of the root');
			for (const pattern of ['*hidden*', `**/${f.hiddenName}*`, '**/*', '*']) {
				await call(s, 'search_files', { path: f.data, pattern });
			}
			const texts = await finish(s);
			assertNotListed(f, texts);
			assertIntact(f, texts);
		} finally {
			s.kill();
		}
	});

	test('a FIFO and a character device inside a root: refused quickly, no hang', async () => {
		const f = buildFixture();
		const s = await openSession(f);
		try {
			await assertTools(s, READ_TOOLS);
			for (const name of ['fifo', 'zero']) {
				const p = path.join(f.data, name);
				const t0 = Date.now();
				await refused(s, 'read_text_file', { path: p }, name);
				await refused(s, 'read_text_file', { path: p, tail: 2 }, `${name} (tail)`);
				const m = await call(s, 'read_multiple_files', { paths: [p] });
				assert.match(resultText(m), /error/i);
				assert.ok(Date.now() - t0 < 4000, `${name} took ${Date.now() - t0} ms`);
			}
			// the session is still alive and other calls still work
			await s.assertAlive();
			const texts = await finish(s);
			assertIntact(f, texts);
		} finally {
			s.kill();
		}
	});

	test('NUL bytes in a path are a parse error (-32700) and the session survives', async () => {
		const f = buildFixture();
		const s = await openSession(f);
		try {
			await assertTools(s, ['read_text_file']);
			const nul = `${f.data}/a.txt\\u0000/../../outside/secret.txt`;
			s.send(
				`{"jsonrpc":"2.0","id":77,"method":"tools/call","params":{"name":"read_text_file","arguments":{"path":"${nul}"}}}`,
			);
			// refused by name before any handler runs, with the id
			const e = await s.response(77);
			assert.equal(e.result.isError, true);
			assert.match(resultText(e.result), /\/path: contains a NUL byte/);
			s.send(`{"jsonrpc":"2.0","id":78,"method":"tools/call","params":{"name":"read_text_file","arguments":{"path":"${f.secretFile}\\u0000"}}}`);
			const e2 = await s.response(78);
			assert.equal(e2.result.isError, true);
			assert.match(resultText(e2.result), /\/path: contains a NUL byte/);
			assert.doesNotMatch(resultText(e2.result), /secret/i);
			await s.assertAlive();
			assert.equal(resultText(await call(s, 'read_text_file', { path: path.join(f.data, 'a.txt') })), 'inside a\n');
			const texts = await finish(s);
			assertIntact(f, [...texts, ...s.lines]);
		} finally {
			s.kill();
		}
	});

	test('a client root of / never widens access', async () => {
		const f = buildFixture();
		const c = await connectClient(f.config, { capabilities: { roots: { listChanged: true } } });
		let asked = 0;
		c.client.setRequestHandler(ListRootsRequestSchema, async () => {
			asked++;
			return { roots: [{ uri: 'file:///', name: 'everything' }] };
		});
		const seen = [];
		try {
			await c.client.sendRootsListChanged();
			await new Promise((r) => setTimeout(r, 200));
			const tools = (await c.client.listTools()).tools.map((t) => t.name);
			for (const n of READ_TOOLS) assert.ok(tools.includes(n), `tool ${n} is not registered`);
			for (const [what, p] of Object.entries(escapes(f))) {
				const r = await c.client.callTool({ name: 'read_text_file', arguments: { path: p } });
				seen.push(r);
				assert.equal(r.isError, true, `${what} was not refused with client root /`);
			}
			const raw = await c.client.callTool({ name: 'raw_open', arguments: { path: f.secretFile } });
			seen.push(raw);
			assert.match(resultText(raw), /^denied: Permission denied$/);
			const allowed = await c.client.callTool({ name: 'list_allowed_directories', arguments: {} });
			seen.push(allowed);
			assert.ok(!/^\/$/m.test(resultText(allowed)), 'list_allowed_directories shows /');
			const ok = await c.client.callTool({ name: 'read_text_file', arguments: { path: path.join(f.data, 'a.txt') } });
			assert.equal(resultText(ok), 'inside a\n');
			// asked is informative: the server may not request roots/list yet
			void asked;
		} finally {
			await c.close();
		}
		assertIntact(f, [...seen, c.stderr()]);
	});
});
