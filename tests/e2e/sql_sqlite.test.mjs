// sql_sqlite.test.mjs - the sql family on SQLite end to end through the
// official SDK client: every tool and parameter against database files
// made here with the sqlite3 CLI; params of every JSON type, blobs, NULLs,
// reals and integers mapped exactly; truncation by rows and by bytes; a
// runaway query cut at timeout_ms; cancellation mid-query; the errors
// (unknown database, database left out when several exist, bad SQL,
// placeholders that do not match params, write_query on a read-only
// database).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { assertToolError, connectClient, makeTempDir, resultText, runMoat, writeConfig } from './helpers.mjs';

export function sqlite(file, sql) {
	const r = spawnSync('sqlite3', [file], { input: sql, encoding: 'utf8' });
	assert.equal(r.status, 0, `sqlite3 failed: ${r.stderr}`);
	return r.stdout;
}

const SCHEMA = `
CREATE TABLE author(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE book(
  id INTEGER PRIMARY KEY,
  title TEXT NOT NULL DEFAULT 'untitled',
  author_id INTEGER REFERENCES author(id) ON DELETE CASCADE,
  price REAL,
  cover BLOB
);
CREATE INDEX book_author ON book(author_id, title);
CREATE VIEW cheap AS SELECT title FROM book WHERE price < 10;
INSERT INTO author VALUES (1, 'Le Guin'), (2, 'Borges');
INSERT INTO book VALUES (1, 'Earthsea', 1, 9.5, x'00FF10'), (2, 'Ficciones', 2, 12.25, NULL),
  (3, 'The Dispossessed', 1, NULL, x'');
`;

let dir, cfg, one, c, c1;

before(async () => {
	dir = makeTempDir('moat-sql-');
	fs.mkdirSync(path.join(dir, 'rw'));
	sqlite(path.join(dir, 'lib.db'), SCHEMA);
	sqlite(path.join(dir, 'rw', 'notes.db'), 'CREATE TABLE note(id INTEGER PRIMARY KEY, body TEXT, data BLOB);');
	cfg = writeConfig(dir, {
		databases: {
			lib: { type: 'sqlite', path: 'lib.db', max_rows: 50, timeout_ms: 500 },
			small: { type: 'sqlite', path: 'lib.db', max_rows: 2 },
			tiny: { type: 'sqlite', path: 'lib.db', max_bytes: 1024 },
			notes: { type: 'sqlite', path: 'rw/notes.db', write: true },
		},
		limits: { call_timeout_ms: 20000 },
	});
	one = writeConfig(dir, { databases: { lib: { type: 'sqlite', path: 'lib.db' } } }, 'one.json');
	c = await connectClient(cfg);
	c1 = await connectClient(one);
});

after(async () => {
	await c?.close();
	await c1?.close();
});

const call = (name, args) => c.client.callTool({ name, arguments: args });
const rows = async (args) => {
	const r = await call('read_query', { database: 'lib', ...args });
	assert.ok(!r.isError, resultText(r));
	return r.structuredContent;
};

describe('tools', () => {
	test('tools/list: the five tools, annotations and output schemas', async () => {
		const { tools } = await c.client.listTools();
		const by = Object.fromEntries(tools.map((t) => [t.name, t]));
		for (const n of ['list_databases', 'list_tables', 'describe_table', 'read_query', 'write_query']) {
			assert.ok(by[n], n);
			assert.ok(by[n].outputSchema, `${n} has an output schema`);
		}
		assert.equal(by.read_query.annotations.readOnlyHint, true);
		assert.equal(by.write_query.annotations.readOnlyHint, false);
		assert.equal(by.write_query.annotations.destructiveHint, true);
		// a config without a writable database offers no write_query
		const t1 = (await c1.client.listTools()).tools.map((t) => t.name);
		assert.ok(!t1.includes('write_query'));
	});

	test('list_databases', async () => {
		const r = await call('list_databases', {});
		const dbs = r.structuredContent.databases;
		assert.deepEqual(dbs.map((d) => d.name).sort(), ['lib', 'notes', 'small', 'tiny']);
		const lib = dbs.find((d) => d.name === 'lib');
		assert.equal(lib.type, 'sqlite');
		assert.equal(lib.write, false);
		assert.equal(lib.max_rows, 50);
		assert.equal(lib.tables, null);
		assert.equal(dbs.find((d) => d.name === 'notes').write, true);
		assert.ok(!JSON.stringify(r).includes(dir), 'no file paths');
		assert.match(resultText(r), /notes \(sqlite, read-write\)/);
	});

	test('list_tables: tables and views, no sqlite_ internals', async () => {
		const r = await call('list_tables', { database: 'lib' });
		assert.deepEqual(r.structuredContent.tables, [
			{ name: 'author', type: 'table' },
			{ name: 'book', type: 'table' },
			{ name: 'cheap', type: 'view' },
		]);
		assert.match(resultText(r), /cheap \(view\)/);
		// the only database may be left out
		const r1 = await c1.client.callTool({ name: 'list_tables', arguments: {} });
		assert.equal(r1.structuredContent.tables.length, 3);
	});

	test('describe_table: columns, defaults, keys, foreign keys, indexes', async () => {
		const r = await call('describe_table', { database: 'lib', table_name: 'book' });
		const d = r.structuredContent;
		assert.equal(d.table, 'book');
		assert.equal(d.type, 'table');
		assert.deepEqual(d.columns.map((x) => [x.name, x.type, x.not_null, x.default, x.primary_key]), [
			['id', 'INTEGER', false, null, 1],
			['title', 'TEXT', true, "'untitled'", 0],
			['author_id', 'INTEGER', false, null, 0],
			['price', 'REAL', false, null, 0],
			['cover', 'BLOB', false, null, 0],
		]);
		assert.equal(d.foreign_keys.length, 1);
		assert.equal(d.foreign_keys[0].table, 'author');
		assert.equal(d.foreign_keys[0].from, 'author_id');
		assert.equal(d.foreign_keys[0].to, 'id');
		assert.equal(d.foreign_keys[0].on_delete, 'CASCADE');
		const ix = d.indexes.find((i) => i.name === 'book_author');
		assert.deepEqual(ix.columns, ['author_id', 'title']);
		assert.equal(ix.unique, false);
		const a = (await call('describe_table', { database: 'lib', table_name: 'AUTHOR' })).structuredContent;
		assert.equal(a.table, 'author', 'names compare case-insensitively');
		assert.ok(a.indexes.some((i) => i.unique && i.columns[0] === 'name'));
		const text = resultText(r);
		assert.match(text, /title TEXT NOT NULL DEFAULT 'untitled'/);
		assert.match(text, /foreign key: author_id -> author\(id\)/);
		const v = (await call('describe_table', { database: 'lib', table_name: 'cheap' })).structuredContent;
		assert.equal(v.type, 'view');
		assertToolError(await call('describe_table', { database: 'lib', table_name: 'nope' }), /no such table/);
		assertToolError(await call('describe_table', { database: 'lib', table_name: 'sqlite_schema' }), /no such table/);
	});
});

describe('read_query', () => {
	test('values map to JSON exactly; blobs as base64; NULL as null', async () => {
		const r = await rows({ query: 'SELECT id, title, price, cover FROM book ORDER BY id' });
		assert.deepEqual(r.columns, [
			{ name: 'id', type: 'INTEGER' },
			{ name: 'title', type: 'TEXT' },
			{ name: 'price', type: 'REAL' },
			{ name: 'cover', type: 'BLOB' },
		]);
		assert.deepEqual(r.rows, [
			[1, 'Earthsea', 9.5, 'AP8Q'],
			[2, 'Ficciones', 12.25, null],
			[3, 'The Dispossessed', null, ''],
		]);
		assert.equal(r.truncated, false);
		assert.equal(r.row_count, 3);
	});

	test('expressions: types from the first row; big integers, reals, unicode, invalid UTF-8', async () => {
		const r = await rows({
			query: "SELECT 9007199254740993 AS big, -9223372036854775808 AS min, 0.1 AS r, 1e999 AS inf, 'héllo €' AS u, CAST(x'61FF62' AS TEXT) AS bad, NULL AS n",
		});
		assert.deepEqual(r.columns.map((x) => x.type), ['INTEGER', 'INTEGER', 'REAL', 'REAL', 'TEXT', 'TEXT', null]);
		// JSON.parse loses the 2^53+1 precision; the text must carry it exactly
		assert.equal(r.rows[0][2], 0.1);
		assert.equal(r.rows[0][3], 'Infinity');
		assert.equal(r.rows[0][4], 'héllo €');
		assert.equal(r.rows[0][5], 'a\uFFFDb');
		assert.equal(r.rows[0][6], null);
		const raw = await c.client.callTool({ name: 'read_query', arguments: { database: 'lib', query: 'SELECT 9007199254740993 AS big' } });
		assert.match(resultText(raw), /9007199254740993/);
	});

	test('params: every JSON type is bound, never spliced', async () => {
		const r = await rows({
			query: 'SELECT ?1, typeof(?1), ?2, typeof(?2), ?3, typeof(?3), ?4, ?5, typeof(?5), ?6, typeof(?6), hex(?7), typeof(?7), ?8',
			params: ['x\'); DROP TABLE book;--', 42, 2.5, true, null, [1, 'a'], { base64: 'AP8Q' }, { k: 1 }],
		});
		assert.deepEqual(r.rows[0], [
			"x'); DROP TABLE book;--", 'text', 42, 'integer', 2.5, 'real', 1, null, 'null',
			'[1,"a"]', 'text', '00FF10', 'blob', '{"k":1}',
		]);
		const b = await rows({ query: 'SELECT title FROM book WHERE author_id = ? AND price < ?', params: [1, 100] });
		assert.deepEqual(b.rows, [['Earthsea']]);
		const blob = await rows({ query: 'SELECT id FROM book WHERE cover = ?', params: [{ base64: 'AP8Q' }] });
		assert.deepEqual(blob.rows, [[1]]);
		assertToolError(await call('read_query', { database: 'lib', query: 'SELECT ?1, ?2', params: [1] }), /placeholder/);
		assertToolError(await call('read_query', { database: 'lib', query: 'SELECT 1', params: [1] }), /placeholder/);
		assertToolError(await call('read_query', { database: 'lib', query: 'SELECT ?', params: [{ base64: '!!' }] }), /base64/);
	});

	test('truncation by max_rows and by max_bytes', async () => {
		const r = await call('read_query', { database: 'small', query: 'SELECT id FROM book ORDER BY id' });
		assert.deepEqual(r.structuredContent.rows, [[1], [2]]);
		assert.equal(r.structuredContent.truncated, true);
		assert.match(r.structuredContent.note, /max_rows/);
		assert.match(resultText(r), /truncated/);
		// exactly max_rows rows is not truncated
		const e = await call('read_query', { database: 'small', query: 'SELECT id FROM book LIMIT 2' });
		assert.equal(e.structuredContent.truncated, false);
		const b = await call('read_query', {
			database: 'tiny',
			query: "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000) SELECT i, printf('%050d', i) FROM n",
		});
		assert.equal(b.structuredContent.truncated, true);
		assert.match(b.structuredContent.note, /max_bytes/);
		assert.ok(b.structuredContent.row_count > 5 && b.structuredContent.row_count < 30);
		assert.ok(JSON.stringify(b.structuredContent.rows).length <= 1024);
	});

	test('a runaway query is cut at timeout_ms', async () => {
		const t0 = Date.now();
		const r = await call('read_query', {
			database: 'lib',
			query: 'WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n',
		});
		const took = Date.now() - t0;
		assertToolError(r, /deadline|timeout/);
		assert.ok(took >= 400 && took < 5000, `took ${took} ms`);
		// the connection works afterwards
		assert.equal((await rows({ query: 'SELECT count(*) FROM book' })).rows[0][0], 3);
	});

	test('cancellation mid-query ends the statement', async () => {
		const ac = new AbortController();
		const q = c.client.callTool(
			{ name: 'read_query', arguments: { database: 'notes', query: 'WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n' } },
			undefined,
			{ signal: ac.signal, timeout: 20000 },
		);
		setTimeout(() => ac.abort(), 200);
		await assert.rejects(q);
		// notes has the default 5 s timeout: a cancelled query must free it long before
		const t0 = Date.now();
		const r = await call('read_query', { database: 'notes', query: 'SELECT count(*) FROM note' });
		assert.ok(!r.isError, resultText(r));
		assert.ok(Date.now() - t0 < 2000, `the connection stayed busy for ${Date.now() - t0} ms`);
	});

	test('errors: bad SQL, empty statements, unknown and missing database, writes', async () => {
		assertToolError(await call('read_query', { database: 'lib', query: 'SELEC 1' }), /syntax error/);
		assertToolError(await call('read_query', { database: 'lib', query: 'SELECT * FROM nope' }), /no such table/);
		assertToolError(await call('read_query', { database: 'lib', query: '-- nothing' }), /no statement/);
		assertToolError(await call('read_query', { database: 'lib', query: 'SELECT 1; SELECT 2' }), /exactly one statement/);
		assertToolError(await call('read_query', { database: 'nope', query: 'SELECT 1' }), /no database named 'nope' is configured/);
		assertToolError(await call('read_query', { query: 'SELECT 1' }), /required when more than one/);
		assertToolError(await call('list_tables', {}), /required when more than one/);
		assertToolError(await call('read_query', { database: 'notes', query: "INSERT INTO note(body) VALUES ('x')" }), /read-only statements only/);
		assertToolError(await call('write_query', { database: 'lib', query: 'DELETE FROM book' }), /read-only/);
		// trailing semicolons and comments are fine
		assert.deepEqual((await rows({ query: 'SELECT 1; -- done\n/* really */ ;' })).rows, [[1]]);
	});
});

describe('write_query', () => {
	test('affected rows, params, blobs, RETURNING and schema changes', async () => {
		const w = await call('write_query', { database: 'notes', query: 'INSERT INTO note(body, data) VALUES (?, ?), (?, NULL)', params: ['one', { base64: 'AQID' }, 'two'] });
		assert.ok(!w.isError, resultText(w));
		assert.equal(w.structuredContent.affected_rows, 2);
		assert.match(resultText(w), /2 rows affected/);
		const u = await call('write_query', { database: 'notes', query: "UPDATE note SET body = body || '!' WHERE id = ?", params: [1] });
		assert.equal(u.structuredContent.affected_rows, 1);
		const ret = await call('write_query', { database: 'notes', query: "INSERT INTO note(body) VALUES ('three') RETURNING id, body" });
		assert.deepEqual(ret.structuredContent.rows, [[3, 'three']]);
		const r = await call('read_query', { database: 'notes', query: 'SELECT id, body, data FROM note ORDER BY id' });
		assert.deepEqual(r.structuredContent.rows, [[1, 'one!', 'AQID'], [2, 'two', null], [3, 'three', null]]);
		const ddl = await call('write_query', { database: 'notes', query: 'CREATE TABLE tag(name TEXT)' });
		assert.ok(!ddl.isError, resultText(ddl));
		assertToolError(await call('write_query', { database: 'notes', query: 'SELECT 1' }), /does not write/);
		assertToolError(await call('write_query', { database: 'notes', query: 'BEGIN' }), /transaction control/);
		assertToolError(await call('write_query', { database: 'notes', query: "INSERT INTO nope VALUES (1)" }), /no such table/);
		assertToolError(await call('write_query', { database: 'notes', query: 'DELETE FROM note; DELETE FROM tag' }), /exactly one statement/);
		assert.equal(sqlite(path.join(dir, 'rw', 'notes.db'), 'SELECT count(*) FROM note;').trim(), '3');
	});
});

describe('config and moat check', () => {
	test('moat check shows each database and its sandbox grant', () => {
		const r = runMoat(['check', '--config', cfg]);
		assert.equal(r.code, 0, r.stderr);
		assert.match(r.stdout, /lib +sqlite read-only .*lib\.db/);
		assert.match(r.stdout, /notes +sqlite read-write .*notes\.db/);
		if (/Landlock ABI/.test(r.stdout)) {
			assert.match(r.stdout, new RegExp(`read-only +${fs.realpathSync(dir)}/lib\\.db`));
			assert.match(r.stdout, new RegExp(`read-write +${fs.realpathSync(dir)}/rw\\n`));
		}
	});

	test('config errors name the rule', () => {
		const bad = (obj, re) => {
			const p = writeConfig(makeTempDir('moat-sqlcfg-'), obj);
			const r = runMoat(['check', '--config', p]);
			assert.notEqual(r.code, 0);
			assert.match(r.stderr, re);
		};
		bad({ databases: { x: { type: 'sqlite', path: 'missing.db' } } }, /databases\/x\/path: cannot open database 'x' \(missing\.db\): no such file or directory/);
		bad({ databases: { x: { type: 'sqlite', path: 'sub/../missing.db' } } }, /cannot open database 'x' \(sub\/\.\.\/missing\.db\)/);
		bad({ databases: { x: { type: 'sqlite' } } }, /path/);
		bad({ databases: { x: { type: 'mysql', path: 'a' } } }, /databases\/x\/type/);
		bad({ databases: {} }, /databases/);
		const d = makeTempDir('moat-sqlcfg-');
		fs.writeFileSync(path.join(d, 'junk.db'), 'this is not a database, just text that is long enough to fill a header page maybe');
		const p = writeConfig(d, { databases: { x: { type: 'sqlite', path: 'junk.db' } } });
		const r = runMoat(['check', '--config', p]);
		assert.notEqual(r.code, 0);
		assert.match(r.stderr, /cannot open database 'x' \(junk\.db\): not a usable SQLite database/);
		assert.ok(!r.stderr.includes(path.join(d, 'junk.db')), 'the path as the config wrote it, not resolved');
	});

	test('a database that cannot be opened: check and serve both fail, naming it', () => {
		const d = makeTempDir('moat-sqlcfg-');
		fs.mkdirSync(path.join(d, 'data', 'dir.db'), { recursive: true });
		const p = writeConfig(d, { databases: { shop: { type: 'sqlite', path: 'data/dir.db' } } });
		const codes = ['check', 'serve'].map((cmd) => {
			const r = runMoat([cmd, '--config', p], { input: '' });
			assert.notEqual(r.code, 0, cmd);
			assert.match(r.stderr, /cannot open database 'shop' \(data\/dir\.db\): not a regular file/, cmd);
			return r.code;
		});
		assert.equal(codes[0], codes[1], 'check and serve exit alike');
		if (process.getuid?.() !== 0) { // root reads any file
			sqlite(path.join(d, 'data', 'locked.db'), 'CREATE TABLE t(x);');
			fs.chmodSync(path.join(d, 'data', 'locked.db'), 0);
			const q = writeConfig(d, { databases: { shop: { type: 'sqlite', path: 'data/locked.db' } } });
			const r = runMoat(['check', '--config', q]);
			assert.notEqual(r.code, 0);
			assert.match(r.stderr, /cannot open database 'shop' \(data\/locked\.db\): permission denied/);
		}
	});

	test('moat check warns about an allowlisted table that does not exist', () => {
		const d = makeTempDir('moat-sqlcfg-');
		sqlite(path.join(d, 'a.db'), 'CREATE TABLE book(id INTEGER); CREATE VIEW v AS SELECT 1;');
		const p = writeConfig(d, { databases: { a: { type: 'sqlite', path: 'a.db', tables: ['book', 'v', 'bok'] } } });
		const r = runMoat(['check', '--config', p]);
		assert.equal(r.code, 0, r.stderr);
		assert.match(r.stderr, /database 'a' \(a\.db\): the "tables" allowlist names 'bok', which does not exist/);
		assert.ok(!/names '(book|v)'/.test(r.stderr), r.stderr);
	});
});
