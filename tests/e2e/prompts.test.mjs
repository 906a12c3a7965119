// prompts.test.mjs - the config's prompts and completion through the
// official SDK 1.x client: prompts/list paged with stable cursors,
// prompts/get with {argument} substitution and an embedded file resource
// read through the fs family, completion/complete for a prompt argument
// (declared values, sql tables with the database as context, paths under
// the roots) and for resource template variables; and every refusal:
// unknown prompt, missing, unknown and non-string arguments, an embedded
// resource outside the roots, unknown refs. Runs over stdio and, with
// MOAT_E2E_TRANSPORT=http, over HTTP with the same bodies.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { connectClient, makeTempDir, openRaw, runMoat, writeConfig } from './helpers.mjs';

let dir, files, c, cfgPath;

function sqlite(file, sql) {
	const r = spawnSync('sqlite3', [file], { input: sql, encoding: 'utf8' });
	assert.equal(r.status, 0, `sqlite3 failed: ${r.stderr}`);
}

before(async () => {
	dir = fs.realpathSync(makeTempDir('moat-prompts-'));
	files = path.join(dir, 'files');
	fs.mkdirSync(path.join(files, 'src'), { recursive: true });
	fs.mkdirSync(path.join(files, 'docs'));
	fs.writeFileSync(path.join(files, 'src', 'main.c'), 'int main(void) { return 0; }\n');
	fs.writeFileSync(path.join(files, 'src', 'util.c'), '/* util */\n');
	fs.writeFileSync(path.join(files, 'README.md'), '# readme\n');
	fs.writeFileSync(path.join(files, '.hidden'), 'x\n');
	fs.writeFileSync(path.join(dir, 'outside.txt'), 'secret\n');
	for (const r of ['alpha', 'alps', 'beta']) {
		const g = spawnSync('git', ['init', '-q', path.join(dir, 'repos', r)], { encoding: 'utf8' });
		assert.equal(g.status, 0, g.stderr);
	}
	sqlite(path.join(dir, 'lib.db'), 'CREATE TABLE author(id INTEGER); CREATE TABLE article(id INTEGER); CREATE TABLE secret(pin TEXT);');
	cfgPath = writeConfig(dir, {
		roots: [files],
		databases: {
			lib: { type: 'sqlite', path: 'lib.db' },
			limited: { type: 'sqlite', path: 'lib.db', tables: ['author'] },
		},
		git: { repositories: ['alpha', 'alps', 'beta'].map((r) => ({ path: path.join(dir, 'repos', r), name: r })) },
		limits: { tools_page_size: 2 },
		prompts: {
			review_file: {
				title: 'Review a file',
				description: 'Review one file under the roots',
				arguments: [
					{ name: 'path', description: 'absolute path', required: true, complete: 'fs.paths' },
					{ name: 'focus', complete: ['security', 'style', 'speed'] },
				],
				messages: [
					{ role: 'user', text: 'Review {path} for {focus}. Braces: {{literal}}.' },
					{ role: 'user', resource: 'file://{path}' },
				],
			},
			describe_table: {
				description: 'Describe a table',
				arguments: [
					{ name: 'database', required: true, complete: 'sql.databases' },
					{ name: 'table', required: true, complete: 'sql.tables' },
				],
				messages: [
					{ role: 'user', text: 'Describe {table} of {database}.' },
					{ role: 'assistant', text: 'I will read sql://{database}/tables/{table}.' },
				],
			},
			repo_log: {
				description: 'Summarise a repository',
				arguments: [{ name: 'repo', required: true, complete: 'git.repositories' }],
				messages: [{ role: 'user', text: 'Summarise the log of {repo}.' }],
			},
			hello: { description: 'No arguments', messages: [{ role: 'user', text: 'Hello' }] },
			readme: {
				description: 'A fixed file',
				messages: [{ role: 'user', resource: `file://${files}/README.md` }],
			},
			table_doc: {
				description: 'A table described, through the sql family',
				arguments: [{ name: 'database', required: true }, { name: 'table', required: true }],
				messages: [{ role: 'user', resource: 'sql://{database}/tables/{table}' }],
			},
		},
	});
	c = await connectClient(cfgPath);
});

after(async () => {
	await c?.close();
});

async function rpcError(p) {
	try {
		await p;
	} catch (e) {
		return e;
	}
	assert.fail('expected a JSON-RPC error');
}

test('the server declares prompts and completions', () => {
	const caps = c.client.getServerCapabilities();
	assert.ok(caps.prompts, 'prompts capability');
	assert.ok(caps.completions, 'completions capability');
});

test('prompts/list pages with stable cursors in declaration order', async () => {
	const names = [];
	let cursor;
	let pages = 0;
	do {
		const r = await c.client.listPrompts(cursor ? { cursor } : {});
		assert.ok(r.prompts.length <= 2, 'a page holds at most tools_page_size prompts');
		names.push(...r.prompts.map((p) => p.name));
		cursor = r.nextCursor;
		pages++;
	} while (cursor);
	assert.deepEqual(names, ['review_file', 'describe_table', 'repo_log', 'hello', 'readme', 'table_doc']);
	assert.equal(pages, 3);
	const first = await c.client.listPrompts();
	const again = await c.client.listPrompts({ cursor: first.nextCursor });
	assert.deepEqual(again.prompts.map((p) => p.name), ['repo_log', 'hello'], 'the same cursor, the same page');
	const rf = first.prompts[0];
	assert.equal(rf.title, 'Review a file');
	assert.equal(rf.description, 'Review one file under the roots');
	assert.deepEqual(rf.arguments, [
		{ name: 'path', description: 'absolute path', required: true },
		{ name: 'focus' },
	]);
	const e = await rpcError(c.client.listPrompts({ cursor: 'forged' }));
	assert.equal(e.code, -32602);
});

test('prompts/get substitutes arguments and embeds a file read through the fs family', async () => {
	const file = path.join(files, 'src', 'main.c');
	const r = await c.client.getPrompt({ name: 'review_file', arguments: { path: file, focus: 'style' } });
	assert.equal(r.description, 'Review one file under the roots');
	assert.equal(r.messages.length, 2);
	assert.deepEqual(r.messages[0], {
		role: 'user',
		content: { type: 'text', text: `Review ${file} for style. Braces: {literal}.` },
	});
	assert.equal(r.messages[1].role, 'user');
	assert.equal(r.messages[1].content.type, 'resource');
	assert.equal(r.messages[1].content.resource.uri, `file://${file}`);
	assert.equal(r.messages[1].content.resource.text, 'int main(void) { return 0; }\n');
	assert.match(r.messages[1].content.resource.mimeType, /^text\//);
	// An optional argument left out becomes nothing.
	const r2 = await c.client.getPrompt({ name: 'review_file', arguments: { path: file } });
	assert.equal(r2.messages[0].content.text, `Review ${file} for . Braces: {literal}.`);
	const h = await c.client.getPrompt({ name: 'hello' });
	assert.deepEqual(h.messages, [{ role: 'user', content: { type: 'text', text: 'Hello' } }]);
	const d = await c.client.getPrompt({ name: 'describe_table', arguments: { database: 'lib', table: 'author' } });
	assert.equal(d.messages[1].role, 'assistant');
	assert.equal(d.messages[1].content.text, 'I will read sql://lib/tables/author.');
	const t = await c.client.getPrompt({ name: 'table_doc', arguments: { database: 'limited', table: 'author' } });
	assert.equal(t.messages[0].content.resource.uri, 'sql://limited/tables/author');
	assert.equal(t.messages[0].content.resource.mimeType, 'application/json');
	assert.equal(JSON.parse(t.messages[0].content.resource.text).table, 'author');
	const hidden = await rpcError(c.client.getPrompt({ name: 'table_doc', arguments: { database: 'limited', table: 'secret' } }));
	assert.equal(hidden.code, -32602, 'a table the allowlist hides is not found here either');
	const fixed = await c.client.getPrompt({ name: 'readme' });
	assert.equal(fixed.messages[0].content.resource.text, '# readme\n');
});

test('prompts/get refuses unknown prompts and bad arguments with -32602 naming them', async () => {
	let e = await rpcError(c.client.getPrompt({ name: 'no_such_prompt' }));
	assert.equal(e.code, -32602);
	assert.match(e.message, /unknown prompt 'no_such_prompt'/);
	e = await rpcError(c.client.getPrompt({ name: 'describe_table', arguments: { database: 'lib' } }));
	assert.equal(e.code, -32602);
	assert.match(e.message, /requires argument 'table'/);
	assert.equal(e.data?.rule, 'prompts.missing_argument');
	e = await rpcError(c.client.getPrompt({ name: 'hello', arguments: { extra: 'x' } }));
	assert.equal(e.code, -32602);
	assert.match(e.message, /no argument 'extra'/);
	assert.equal(e.data?.rule, 'prompts.unknown_argument');
	e = await rpcError(c.client.getPrompt({ name: 'describe_table', arguments: { database: 'lib', table: 7 } }));
	assert.equal(e.code, -32602);
	assert.match(e.message, /argument 'table' must be a string/);
	assert.equal(e.data?.rule, 'prompts.argument_not_string');
});

test('an embedded resource outside the roots is refused, as resources/read would refuse it', async () => {
	for (const p of [path.join(dir, 'outside.txt'), `${files}/../outside.txt`, '/etc/passwd']) {
		const e = await rpcError(c.client.getPrompt({ name: 'review_file', arguments: { path: p } }));
		assert.equal(e.code, -32602, `${p}: ${e.message}`);
		assert.match(e.message, /embedded resource/);
		assert.doesNotMatch(e.message, /secret/);
	}
	// A value cannot add a query or fragment to the URI: it is encoded.
	const e = await rpcError(c.client.getPrompt({ name: 'review_file', arguments: { path: `${files}/README.md#x` } }));
	assert.equal(e.code, -32602);
});

test('completion of a prompt argument: declared values filtered by prefix', async () => {
	let r = await c.client.complete({ ref: { type: 'ref/prompt', name: 'review_file' }, argument: { name: 'focus', value: 's' } });
	assert.deepEqual(r.completion.values, ['security', 'style', 'speed']);
	assert.equal(r.completion.hasMore, false);
	r = await c.client.complete({ ref: { type: 'ref/prompt', name: 'review_file' }, argument: { name: 'focus', value: 'sp' } });
	assert.deepEqual(r.completion.values, ['speed']);
	r = await c.client.complete({ ref: { type: 'ref/prompt', name: 'hello' }, argument: { name: 'x', value: '' } }).catch((x) => x);
	assert.equal(r.code, -32602);
});

test('completion of sql databases and tables, the allowlist applied', async () => {
	const ref = { type: 'ref/prompt', name: 'describe_table' };
	let r = await c.client.complete({ ref, argument: { name: 'database', value: 'l' } });
	assert.deepEqual(r.completion.values, ['lib', 'limited']);
	r = await c.client.complete({ ref, argument: { name: 'table', value: 'a' }, context: { arguments: { database: 'lib' } } });
	assert.deepEqual(r.completion.values.sort(), ['article', 'author']);
	r = await c.client.complete({ ref, argument: { name: 'table', value: '' }, context: { arguments: { database: 'limited' } } });
	assert.deepEqual(r.completion.values, ['author'], 'a table the allowlist hides is never offered');
	// Through the resource template too.
	r = await c.client.complete({
		ref: { type: 'ref/resource', uri: 'sql://{database}/tables/{table}' },
		argument: { name: 'table', value: 'se' },
		context: { arguments: { database: 'lib' } },
	});
	assert.deepEqual(r.completion.values, ['secret']);
	r = await c.client.complete({ ref: { type: 'ref/resource', uri: 'sql://{database}/tables' }, argument: { name: 'database', value: 'li' } });
	assert.deepEqual(r.completion.values, ['lib', 'limited']);
});

test('completion of git repository names', async () => {
	const ref = { type: 'ref/prompt', name: 'repo_log' };
	let r = await c.client.complete({ ref, argument: { name: 'repo', value: 'al' } });
	assert.deepEqual(r.completion.values, ['alpha', 'alps']);
	r = await c.client.complete({ ref, argument: { name: 'repo', value: '' } });
	assert.deepEqual(r.completion.values, ['alpha', 'alps', 'beta']);
	assert.equal(r.completion.total, 3);
});

test('completion of paths: one directory level, never outside a root', async () => {
	const ref = { type: 'ref/prompt', name: 'review_file' };
	let r = await c.client.complete({ ref, argument: { name: 'path', value: `${files}/` } });
	assert.deepEqual(r.completion.values, [`${files}/README.md`, `${files}/docs/`, `${files}/src/`]);
	r = await c.client.complete({ ref, argument: { name: 'path', value: `${files}/src/m` } });
	assert.deepEqual(r.completion.values, [`${files}/src/main.c`]);
	r = await c.client.complete({ ref, argument: { name: 'path', value: `${files}/.h` } });
	assert.deepEqual(r.completion.values, [`${files}/.hidden`], 'dot files only when asked for');
	r = await c.client.complete({ ref, argument: { name: 'path', value: `${files}/../` } });
	assert.deepEqual(r.completion.values, [], 'nothing above a root');
	r = await c.client.complete({ ref, argument: { name: 'path', value: `${dir}/` } });
	assert.deepEqual(r.completion.values, [`${files}/`], 'outside a root: only the roots, never outside.txt');
	r = await c.client.complete({ ref, argument: { name: 'path', value: dir.slice(0, 4) } });
	assert.ok(r.completion.values.includes(`${files}/`), 'the roots complete a prefix outside them');
	r = await c.client.complete({
		ref: { type: 'ref/resource', uri: 'file:///{+path}' },
		argument: { name: 'path', value: `${files.slice(1)}/src/u` },
	});
	assert.deepEqual(r.completion.values, [`${files.slice(1)}/src/util.c`]);
});

test('completion refuses unknown refs with -32602', async () => {
	let e = await rpcError(c.client.complete({ ref: { type: 'ref/prompt', name: 'nope' }, argument: { name: 'a', value: '' } }));
	assert.equal(e.code, -32602);
	e = await rpcError(c.client.complete({ ref: { type: 'ref/resource', uri: 'git://{x}' }, argument: { name: 'x', value: '' } }));
	assert.equal(e.code, -32602);
	e = await rpcError(c.client.complete({ ref: { type: 'ref/resource', uri: 'file:///{+path}' }, argument: { name: 'nope', value: '' } }));
	assert.equal(e.code, -32602);
});

test('a config whose template names an undeclared argument fails to load, naming the pointer', () => {
	const d = makeTempDir('moat-prompts-bad-');
	const bad = writeConfig(d, {
		roots: [d],
		prompts: { p: { description: 'x', arguments: [{ name: 'a' }], messages: [{ role: 'user', text: 'use {b}' }] } },
	});
	let r = runMoat(['check', '--config', bad]);
	assert.notEqual(r.code, 0);
	assert.match(r.stderr, /\/prompts\/p\/messages\/0\/text: \{b\} is not a declared argument/);
	const bad2 = writeConfig(d, {
		roots: [d],
		prompts: { p: { description: 'x', messages: [{ role: 'user', resource: 'sql://x/tables' }] } },
	}, 'bad2.json');
	r = runMoat(['check', '--config', bad2]);
	assert.notEqual(r.code, 0);
	assert.match(r.stderr, /\/prompts\/p\/messages\/0\/resource: no configured family serves sql: resources/);
	const bad3 = writeConfig(d, {
		roots: [d],
		prompts: { p: { description: 'x', messages: [{ role: 'user', text: 'a', resource: 'file:///x' }] } },
	}, 'bad3.json');
	r = runMoat(['check', '--config', bad3]);
	assert.notEqual(r.code, 0);
	assert.match(r.stderr, /\/prompts\/p\/messages\/0/);
	const bad4 = writeConfig(d, {
		roots: [d],
		prompts: { p: { description: 'x', messages: [{ role: 'user', text: 'a {b' }] } },
	}, 'bad4.json');
	r = runMoat(['check', '--config', bad4]);
	assert.notEqual(r.code, 0);
	assert.match(r.stderr, /\/prompts\/p\/messages\/0\/text: '\{' at byte 2 opens no \{name\}/);
	r = runMoat(['check', '--config', cfgPath]);
	assert.equal(r.code, 0, r.stderr);
	assert.match(r.stdout, /prompts \(6\):/);
	assert.match(r.stdout, /review_file\s+covered by read_text_file/);
	assert.match(r.stdout, /table_doc\s+covered by read_query/);
});

test('under 2026-07-28 (no initialize): the same prompts, with resultType and caching hints', async () => {
	const s = await openRaw(cfgPath, null);
	try {
		const _meta = {
			'io.modelcontextprotocol/protocolVersion': '2026-07-28',
			'io.modelcontextprotocol/clientCapabilities': {},
		};
		const list = await s.call('prompts/list', { _meta });
		assert.equal(list.resultType, 'complete');
		assert.equal(list.cacheScope, 'public');
		assert.ok(Number.isInteger(list.ttlMs) && list.ttlMs >= 0);
		assert.deepEqual(list.prompts.map((p) => p.name), ['review_file', 'describe_table']);
		const file = path.join(files, 'README.md');
		const got = await s.call('prompts/get', { name: 'review_file', arguments: { path: file }, _meta });
		assert.equal(got.resultType, 'complete');
		assert.equal(got.messages[1].content.resource.text, '# readme\n');
		const comp = await s.call('completion/complete', {
			ref: { type: 'ref/prompt', name: 'review_file' },
			argument: { name: 'focus', value: 'se' },
			_meta,
		});
		assert.equal(comp.resultType, 'complete');
		assert.deepEqual(comp.completion.values, ['security']);
		const e = await s.request('prompts/get', { name: 'nope', _meta });
		assert.equal(e.error.code, -32602);
	} finally {
		await s.close();
	}
});
