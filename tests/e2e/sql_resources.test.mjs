// sql_resources.test.mjs - list_tables and describe_table served as MCP
// resources (sql://{database}/tables, sql://{database}/tables/{table})
// beside the fs family's file:// resources, through the official SDK
// client: one listing paged across both families, reads that equal the
// tools' structuredContent, percent-encoded names that round-trip, the
// allowlist hiding a table here as in the tools, and clear errors for
// URIs no family serves.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { connectClient, makeTempDir, writeConfig } from './helpers.mjs';

function sqlite(file, sql) {
	const r = spawnSync('sqlite3', [file], { input: sql, encoding: 'utf8' });
	assert.equal(r.status, 0, `sqlite3 failed: ${r.stderr}`);
	return r.stdout;
}

let dir, c, c1;

const SCHEMA = `
CREATE TABLE author(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE "odd name/x%y" (k TEXT PRIMARY KEY, v INTEGER DEFAULT 7);
CREATE TABLE secret(pin TEXT);
CREATE VIEW names AS SELECT name FROM author;
INSERT INTO secret VALUES ('4242');
`;

before(async () => {
	dir = fs.realpathSync(makeTempDir('moat-sqlres-'));
	fs.mkdirSync(path.join(dir, 'files'));
	fs.writeFileSync(path.join(dir, 'files', 'a.txt'), 'alpha\n');
	fs.writeFileSync(path.join(dir, 'files', 'b.txt'), 'beta\n');
	sqlite(path.join(dir, 'lib.db'), SCHEMA);
	const cfg = writeConfig(dir, {
		roots: [path.join(dir, 'files')],
		databases: {
			lib: { type: 'sqlite', path: 'lib.db' },
			'my-db': { type: 'sqlite', path: 'lib.db', tables: ['author'] },
		},
		limits: { tools_page_size: 3 },
	});
	c = await connectClient(cfg);
	const one = writeConfig(dir, { databases: { lib: { type: 'sqlite', path: 'lib.db' } } }, 'one.json');
	c1 = await connectClient(one);
});

after(async () => {
	await c?.close();
	await c1?.close();
});

async function listAll(client) {
	const uris = [];
	let cursor;
	let pages = 0;
	do {
		const r = await client.listResources(cursor ? { cursor } : {});
		assert.ok(r.resources.length <= 3, 'a page holds at most tools_page_size resources');
		for (const res of r.resources) uris.push(res);
		cursor = r.nextCursor;
		pages++;
		assert.ok(pages < 20, 'the listing ends');
	} while (cursor);
	return { uris, pages };
}

const readJson = async (client, uri) => {
	const r = await client.readResource({ uri });
	assert.equal(r.contents.length, 1);
	assert.equal(r.contents[0].uri, uri);
	assert.equal(r.contents[0].mimeType, 'application/json');
	return JSON.parse(r.contents[0].text);
};

describe('sql resources beside file resources', () => {
	test('initialize announces resources; one listing pages across both families', async () => {
		assert.ok(c.client.getServerCapabilities().resources);
		const { uris, pages } = await listAll(c.client);
		const names = uris.map((r) => r.uri);
		assert.deepEqual(names, [
			`file://${dir}/files/a.txt`,
			`file://${dir}/files/b.txt`,
			'sql://lib/tables',
			'sql://lib/tables/author',
			'sql://lib/tables/names',
			'sql://lib/tables/odd%20name%2Fx%25y',
			'sql://lib/tables/secret',
			'sql://my-db/tables',
			'sql://my-db/tables/author',
		]);
		assert.equal(pages, 3);
		for (const r of uris.filter((x) => x.uri.startsWith('sql:'))) {
			assert.equal(r.mimeType, 'application/json');
			assert.ok(r.name && r.description, `${r.uri} has a name and a description`);
		}
	});

	test('templates of both families', async () => {
		const t = await c.client.listResourceTemplates();
		const names = t.resourceTemplates.map((x) => x.uriTemplate);
		assert.ok(names.includes('file:///{+path}'));
		assert.ok(names.includes('sql://{database}/tables'));
		assert.ok(names.includes('sql://{database}/tables/{table}'));
	});

	test('sql://{database}/tables equals list_tables', async () => {
		const doc = await readJson(c.client, 'sql://lib/tables');
		const tool = await c.client.callTool({ name: 'list_tables', arguments: { database: 'lib' } });
		assert.deepEqual(doc, tool.structuredContent);
		assert.deepEqual(doc.tables.map((t) => t.name), ['author', 'names', 'odd name/x%y', 'secret']);
	});

	test('sql://{database}/tables/{table} equals describe_table, odd names included', async () => {
		for (const table of ['author', 'names', 'odd name/x%y']) {
			const uri = `sql://lib/tables/${encodeURIComponent(table)}`;
			const doc = await readJson(c.client, uri);
			const tool = await c.client.callTool({ name: 'describe_table', arguments: { database: 'lib', table_name: table } });
			assert.deepEqual(doc, tool.structuredContent, uri);
		}
		const odd = await readJson(c.client, 'sql://lib/tables/odd%20name%2Fx%25y');
		assert.deepEqual(odd.columns.map((x) => [x.name, x.default]), [['k', null], ['v', '7']]);
		// A second database over the same file, with a table allowlist.
		const my = await readJson(c.client, 'sql://my-db/tables');
		assert.deepEqual(my.tables.map((t) => t.name), ['author']);
	});

	test('the allowlist hides a table from resources as from the tools', async () => {
		await assert.rejects(c.client.readResource({ uri: 'sql://my-db/tables/secret' }), (e) => {
			assert.equal(e.code, -32002);
			assert.doesNotMatch(e.message, /4242/);
			return true;
		});
		await assert.rejects(c.client.readResource({ uri: 'sql://my-db/tables/names' }), (e) => e.code === -32002);
	});

	test('URIs that are not sql resources are refused with the rule', async () => {
		const bad = [
			'sql://nope/tables',
			'sql://lib/tables/nope',
			'sql://lib/tables/',
			'sql://lib/table',
			'sql://lib/tablesX',
			'sql:///tables',
			'sql://lib',
			'sql://lib/tables/a/b',
			'sql://lib/tables/%00x',
			'sql://lib/tables/%zz',
			'sql://lib/tables/%2',
			"sql://lib/tables/x); DROP TABLE author;--",
			'sqlite://lib/tables',
			'gopher://x/',
		];
		for (const uri of bad) {
			await assert.rejects(c.client.readResource({ uri }), (e) => {
				assert.equal(e.code, -32002, `${uri}: ${e.message}`);
				assert.match(e.message, /not found|no such/, uri);
				return true;
			});
		}
		const r = await c.client.callTool({ name: 'read_query', arguments: { database: 'lib', query: 'SELECT count(*) AS n FROM author' } });
		assert.deepEqual(r.structuredContent.rows, [[0]]);
		assert.equal(sqlite(path.join(dir, 'lib.db'), "SELECT name FROM sqlite_master WHERE name='author';").trim(), 'author');
	});

	test('a cursor no family issued is invalid params', async () => {
		for (const cursor of ['x', 'sql:0:1', '5:', '1:sql:9:0']) {
			await assert.rejects(c.client.listResources({ cursor }), (e) => {
				assert.equal(e.code, -32602, `${cursor}: ${e.message}`);
				return true;
			});
		}
	});

	test('the server keeps serving file resources and tools after all that', async () => {
		const r = await c.client.readResource({ uri: `file://${dir}/files/a.txt` });
		assert.equal(r.contents[0].text, 'alpha\n');
	});
});

describe('sql resources alone', () => {
	test('with only the sql family, its own cursors and URIs', async () => {
		assert.ok(c1.client.getServerCapabilities().resources);
		const r = await c1.client.listResources();
		assert.deepEqual(r.resources.map((x) => x.uri), [
			'sql://lib/tables',
			'sql://lib/tables/author',
			'sql://lib/tables/names',
			'sql://lib/tables/odd%20name%2Fx%25y',
			'sql://lib/tables/secret',
		]);
		assert.equal(r.nextCursor, undefined);
		await assert.rejects(c1.client.readResource({ uri: 'file:///etc/passwd' }), (e) => e.code === -32002);
	});
});
