// sql_sqlite.test.mjs - attacks on the sql family's SQLite backend. Each
// attack goes through the real binary and is followed by the same proof:
// every table and row of every database is unchanged (a full dump compared
// with the one taken before) and no file appeared or changed anywhere in
// the scene or at the /tmp paths the attacks name; the secret table's
// content never shows in a response or on stderr.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { connectClient, resultText } from './fixture.mjs';
import { makeTempDir, writeConfig } from '../e2e/helpers.mjs';
import { snapshot } from './fixture.mjs';

function sqlite(file, sql) {
	const r = spawnSync('sqlite3', [file], { input: sql, encoding: 'utf8' });
	assert.equal(r.status, 0, `sqlite3 failed: ${r.stderr}`);
	return r.stdout;
}

const SECRET = `SQL-SECRET-${crypto.randomBytes(6).toString('hex')}`;
let base, ro, rw, cfg, c, before_;
const tmpTargets = [];
const seen = [];

function dumpAll() {
	return { ro: sqlite(ro, '.dump'), rw: sqlite(rw, '.dump'), tree: snapshot(base) };
}

function assertIntact() {
	assert.deepEqual(dumpAll(), before_, 'a table, a row or a file changed');
	for (const t of tmpTargets) assert.ok(!fs.existsSync(t), `${t} was created`);
	for (const r of [...seen, c.stderr()]) {
		const s = typeof r === 'string' ? r : JSON.stringify(r);
		assert.ok(!s.includes(SECRET), `the secret leaked: ${s.slice(0, 300)}`);
	}
}

async function refused(name, args, re) {
	const r = await c.client.callTool({ name, arguments: args });
	seen.push(r);
	assert.equal(r.isError, true, `${name} ${JSON.stringify(args)} was not refused: ${JSON.stringify(r).slice(0, 300)}`);
	if (re) assert.match(resultText(r), re);
	assertIntact();
	return resultText(r);
}

before(async () => {
	base = fs.realpathSync(makeTempDir('moat-sqlatk-'));
	fs.mkdirSync(path.join(base, 'rw'));
	ro = path.join(base, 'ro.db');
	rw = path.join(base, 'rw', 'rw.db');
	const schema = `CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);
INSERT INTO t VALUES (1, 'one'), (2, 'two');
CREATE TABLE secret(s TEXT);
INSERT INTO secret VALUES ('${SECRET}');
CREATE VIEW leak AS SELECT s AS v FROM secret;
CREATE VIEW t_view AS SELECT * FROM t;`;
	sqlite(ro, schema);
	sqlite(rw, schema);
	for (const n of ['x', 'x.db', 'vac.db', 'vac2.db']) tmpTargets.push(path.join('/tmp', `moat-sqlatk-${process.pid}-${n}`));
	cfg = writeConfig(base, {
		databases: {
			ro: { type: 'sqlite', path: 'ro.db', tables: ['t', 't_view', 'leak'], timeout_ms: 300 },
			rw: { type: 'sqlite', path: 'rw/rw.db', write: true, tables: ['t', 'leak'], timeout_ms: 300 },
			open: { type: 'sqlite', path: 'ro.db', timeout_ms: 300 },
		},
	}, 'moat.json');
	before_ = dumpAll();
	c = await connectClient(cfg);
});

after(async () => {
	await c?.close();
	assertIntact();
});

const X = (n) => tmpTargets.find((t) => t.endsWith(`-${n}`));

describe('one statement per call', () => {
	test('SELECT 1; DROP TABLE t', async () => {
		await refused('read_query', { database: 'ro', query: 'SELECT 1; DROP TABLE t' }, /exactly one statement/);
		await refused('write_query', { database: 'rw', query: 'SELECT 1; DROP TABLE t' }, /exactly one statement/);
		await refused('write_query', { database: 'rw', query: "UPDATE t SET v = 'x'; DROP TABLE t" }, /exactly one statement/);
	});
	test('describe_table with x); DROP TABLE t;--', async () => {
		for (const db of ['ro', 'rw', 'open']) {
			await refused('describe_table', { database: db, table_name: 'x); DROP TABLE t;--' }, /no such table/);
			await refused('describe_table', { database: db, table_name: "t'); DROP TABLE t;--" }, /no such table/);
		}
	});
});

describe('files and the engine', () => {
	test("ATTACH DATABASE '/tmp/x' AS p", async () => {
		await refused('read_query', { database: 'ro', query: `ATTACH DATABASE '${X('x')}' AS p` });
		await refused('write_query', { database: 'rw', query: `ATTACH DATABASE '${X('x.db')}' AS p` });
		await refused('write_query', { database: 'rw', query: 'DETACH DATABASE main' });
	});
	test('VACUUM INTO', async () => {
		await refused('read_query', { database: 'open', query: `VACUUM INTO '${X('vac.db')}'` });
		await refused('write_query', { database: 'rw', query: `VACUUM INTO '${X('vac2.db')}'` });
		await refused('write_query', { database: 'rw', query: 'VACUUM' });
	});
	test('PRAGMA writable_schema=1 and other PRAGMAs', async () => {
		await refused('read_query', { database: 'open', query: 'PRAGMA writable_schema=1' }, /PRAGMA/);
		await refused('write_query', { database: 'rw', query: 'PRAGMA writable_schema=1' });
		await refused('write_query', { database: 'rw', query: 'PRAGMA journal_mode=OFF' });
		await refused('write_query', { database: 'rw', query: 'PRAGMA query_only=0' });
		await refused('read_query', { database: 'open', query: 'PRAGMA query_only=0' });
		await refused('read_query', { database: 'ro', query: 'PRAGMA table_info(secret)' }, /PRAGMA/);
	});
	test("SELECT load_extension('x')", async () => {
		await refused('read_query', { database: 'open', query: "SELECT load_extension('x')" }, /load_extension/);
		await refused('write_query', { database: 'rw', query: "SELECT load_extension('/tmp/x') FROM t" });
	});
	test('writes through read_query: INSERT, WITH ... DELETE, DDL, temp objects', async () => {
		await refused('read_query', { database: 'open', query: "INSERT INTO t VALUES (3, 'three')" }, /read-only/);
		await refused('read_query', { database: 'open', query: 'WITH x AS (SELECT 1) DELETE FROM t' }, /read-only/);
		await refused('write_query', { database: 'rw', query: 'WITH x AS (SELECT id FROM secret) DELETE FROM t WHERE id IN x' });
		await refused('read_query', { database: 'open', query: 'DROP TABLE t' });
		await refused('read_query', { database: 'open', query: 'CREATE TEMP TABLE z(a)' });
		await refused('write_query', { database: 'rw', query: 'CREATE TEMP VIEW t AS SELECT * FROM secret' });
		await refused('write_query', { database: 'rw', query: 'CREATE TABLE z(a)' }, /schema changes/);
		await refused('write_query', { database: 'rw', query: 'DROP TABLE secret' });
		await refused('write_query', { database: 'rw', query: 'BEGIN' }, /transaction/);
		await refused('write_query', { database: 'rw', query: 'SAVEPOINT a' });
	});
	test('write_query on a read-only database', async () => {
		await refused('write_query', { database: 'ro', query: "UPDATE t SET v = 'x'" }, /read-only/);
		await refused('write_query', { database: 'open', query: 'DELETE FROM t' }, /read-only/);
	});
});

describe('the table allowlist, enforced by the engine', () => {
	test('directly', async () => {
		await refused('read_query', { database: 'ro', query: 'SELECT * FROM secret' }, /allowlist/);
		await refused('read_query', { database: 'ro', query: 'SELECT * FROM main.SECRET' }, /allowlist/);
		await refused('write_query', { database: 'rw', query: "INSERT INTO secret VALUES ('x')" }, /allowlist/);
		await refused('write_query', { database: 'rw', query: 'DELETE FROM secret' }, /allowlist/);
	});
	test('through a view', async () => {
		await refused('read_query', { database: 'ro', query: 'SELECT * FROM leak' }, /allowlist/);
		await refused('describe_table', { database: 'ro', table_name: 'secret' }, /no such table/);
	});
	test('through a CTE and a subquery', async () => {
		await refused('read_query', { database: 'ro', query: 'WITH x AS (SELECT s FROM secret) SELECT * FROM x' }, /allowlist/);
		await refused('read_query', { database: 'ro', query: 'SELECT (SELECT s FROM secret) FROM t' }, /allowlist/);
		await refused('read_query', { database: 'ro', query: 'SELECT * FROM t WHERE v IN (SELECT s FROM secret)' }, /allowlist/);
		await refused('read_query', { database: 'ro', query: 'SELECT * FROM t JOIN secret' }, /allowlist/);
		await refused('read_query', { database: 'ro', query: 'SELECT count(*) FROM secret' }, /allowlist/);
		await refused('read_query', { database: 'ro', query: 'WITH secret AS (SELECT 1) SELECT count(*) FROM main.secret' }, /allowlist/);
		await refused('read_query', { database: 'ro', query: 'SELECT count(*) FROM dbstat' });
		await refused('read_query', { database: 'ro', query: "SELECT count(*) FROM pragma_table_info('secret')" });
		await refused('write_query', { database: 'rw', query: 'UPDATE t SET v = (SELECT s FROM secret)' }, /allowlist/);
	});
	test('through the schema tables and pragma functions', async () => {
		await refused('read_query', { database: 'ro', query: 'SELECT sql FROM sqlite_schema' }, /schema tables/);
		await refused('read_query', { database: 'ro', query: 'SELECT sql FROM sqlite_master' });
		await refused('read_query', { database: 'ro', query: "SELECT * FROM pragma_table_info('secret')" });
		const r = await c.client.callTool({ name: 'list_tables', arguments: { database: 'ro' } });
		seen.push(r);
		assert.deepEqual(r.structuredContent.tables.map((t) => t.name), ['leak', 't', 't_view']);
		assertIntact();
	});
	test('what is allowed still works', async () => {
		const r = await c.client.callTool({ name: 'read_query', arguments: { database: 'ro', query: "SELECT v FROM t_view WHERE id = 1 UNION ALL SELECT value FROM json_each('[2]') UNION ALL SELECT count(*) FROM t" } });
		seen.push(r);
		assert.deepEqual(r.structuredContent.rows, [['one'], [2], [2]]);
		const w = await c.client.callTool({ name: 'read_query', arguments: { database: 'ro', query: 'WITH x(i) AS (SELECT id FROM t) SELECT count(*) FROM x' } });
		seen.push(w);
		assert.deepEqual(w.structuredContent.rows, [[2]]);
		assertIntact();
	});
});

describe('runaway statements', () => {
	test('a cross join is cut at timeout_ms', async () => {
		const t0 = Date.now();
		await refused('read_query', { database: 'ro', query: "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000) SELECT count(*) FROM n a, n b, t" }, /deadline/);
		assert.ok(Date.now() - t0 < 5000, `took ${Date.now() - t0} ms`);
		const t1 = Date.now();
		await refused('write_query', { database: 'rw', query: "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) UPDATE t SET v = (SELECT count(*) FROM n)" }, /deadline/);
		assert.ok(Date.now() - t1 < 5000, `took ${Date.now() - t1} ms`);
	});
	test('a huge value is refused, not allocated', async () => {
		await refused('read_query', { database: 'open', query: 'SELECT length(zeroblob(1000000000))' }, /too big/);
	});
});
