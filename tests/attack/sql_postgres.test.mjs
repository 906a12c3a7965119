// sql_postgres.test.mjs - attacks on the sql family's PostgreSQL backend,
// against a real server started here (tests/e2e/pg_server.mjs). Each
// attack goes through the real binary and is followed by the same proof:
// every relation, row and role is unchanged (a dump compared with the one
// taken before), no file named by an attack appeared, the secret table's
// content never shows in a response or on stderr, and no query of moat's
// is left running on the server.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { connectClient, resultText, sleep } from './fixture.mjs';
import { makeTempDir, writeConfig } from '../e2e/helpers.mjs';
import { PG_SCHEMA, PgServer } from '../e2e/pg_server.mjs';

const SECRET = `PG-SECRET-${crypto.randomBytes(6).toString('hex')}`;
const TOUCHED = `/tmp/moat-pg-attack-${crypto.randomBytes(4).toString('hex')}`;
let pg, c, before_;
const seen = [];

function dump() {
	return pg.psql(`
SELECT n.nspname || '.' || c.relname || ':' || c.relkind::text FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname IN ('shop', 'secret', 'public') ORDER BY 1;
SELECT * FROM shop.author ORDER BY 1;
SELECT * FROM shop.book ORDER BY 1;
SELECT * FROM shop.note ORDER BY 1;
SELECT * FROM secret.keys ORDER BY 1;
SELECT rolname, rolsuper, rolcreaterole FROM pg_roles WHERE rolname LIKE 'moat%' ORDER BY 1;
`);
}

function running() {
	return pg.psql("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'moat' AND state = 'active'").trim();
}

async function assertIntact() {
	assert.equal(dump(), before_, 'a relation, a row or a role changed');
	assert.ok(!fs.existsSync(TOUCHED), `${TOUCHED} was created`);
	for (const r of [...seen, c.stderr()]) {
		const s = typeof r === 'string' ? r : JSON.stringify(r);
		assert.ok(!s.includes(SECRET), `the secret leaked: ${s.slice(0, 300)}`);
	}
	for (let i = 0; i < 40 && running() !== '0'; i++) await sleep(50);
	assert.equal(running(), '0', 'a query of moat is still running on the server');
}

before(async () => {
	pg = await PgServer.start();
	pg.psql(PG_SCHEMA);
	pg.psql(`INSERT INTO secret.keys VALUES ('${SECRET}'); INSERT INTO shop.note(body) VALUES ('keep me');`);
	const dir = makeTempDir('moat-pg-attack-');
	const env = { ...process.env, DATABASE_URL: pg.url('moat_ro'), RW_URL: pg.url('moat_rw') };
	writeConfig(dir, {
		databases: {
			lib: { type: 'postgres', url: '${DATABASE_URL}', schemas: ['shop'], timeout_ms: 1500 },
			// a role that could write, served read-only: READ ONLY must hold
			rwro: { type: 'postgres', url: '${RW_URL}', schemas: ['shop'], timeout_ms: 1500 },
			rw: { type: 'postgres', url: '${RW_URL}', schemas: ['shop'], write: true, timeout_ms: 1500 },
		},
		limits: { call_timeout_ms: 30000 },
	});
	c = await connectClient(`${dir}/moat.json`, { env });
	before_ = dump();
});

after(async () => {
	await c?.close();
	pg?.stop();
});

async function refused(tool, args, pattern) {
	const r = await c.client.callTool({ name: tool, arguments: args });
	seen.push(r);
	assert.equal(r.isError, true, `not refused: ${resultText(r)}`);
	if (pattern) assert.match(resultText(r), pattern);
	await assertIntact();
	return r;
}

const read = (database, query, pattern) => refused('read_query', { database, query }, pattern);

describe('one statement per call', () => {
	test('SELECT 1; DROP TABLE', () => read('rwro', 'SELECT 1; DROP TABLE shop.note'));
	test('SELECT 1; COMMIT; DROP TABLE (the server-postgres bypass)', () =>
		read('rwro', 'SELECT 1; COMMIT; DROP TABLE shop.note'));
	test('write_query: DELETE; DROP TABLE', () =>
		refused('write_query', { database: 'rw', query: 'DELETE FROM shop.note; DROP TABLE shop.note' }));
	test('describe_table with an injection', () =>
		refused('describe_table', { database: 'rwro', table_name: 'x); DROP TABLE note;--' }, /no such table/));
});

describe('read-only', () => {
	test('WITH ... DELETE through read_query', () =>
		read('rwro', 'WITH d AS (DELETE FROM shop.note RETURNING *) SELECT * FROM d', /READ ONLY|read-only/));
	test('SET TRANSACTION READ WRITE', () => read('rwro', 'SET TRANSACTION READ WRITE'));
	test('set_config(transaction_read_only) then a write', () =>
		read('rwro', "WITH s AS (SELECT set_config('transaction_read_only', 'off', true)), d AS (DELETE FROM shop.note RETURNING *) SELECT * FROM s, d"));
	test('set_config(search_path) does not outlive the call', async () => {
		const r = await c.client.callTool({ name: 'read_query', arguments: { database: 'lib', query: "SELECT set_config('search_path', 'secret', false)" } });
		seen.push(r);
		await read('lib', 'SELECT * FROM keys');
	});
	test('pg_read_file', () => read('lib', "SELECT pg_read_file('/etc/passwd')"));
	test('COPY ... TO PROGRAM', () => read('lib', `COPY (SELECT 1) TO PROGRAM 'touch ${TOUCHED}'`));
	test('DO block', () => read('rwro', 'DO $$ BEGIN DELETE FROM shop.note; END $$'));
});

describe('schema allowlist', () => {
	test('directly', () => read('lib', 'SELECT * FROM secret.keys', /allowlist/));
	test('through a view', () => read('lib', 'SELECT * FROM leak', /allowlist/));
	test('through a CTE', () => read('lib', 'WITH s AS (SELECT * FROM secret.keys) SELECT * FROM s', /allowlist/));
	test('through a subquery', () => read('lib', 'SELECT (SELECT k FROM secret.keys LIMIT 1)', /allowlist/));
	test('through a scalar subquery in WHERE', () =>
		read('lib', 'SELECT title FROM book WHERE title IN (SELECT k FROM secret.keys)', /allowlist/));
	test('write_query into another schema', () =>
		refused('write_query', { database: 'rw', query: "INSERT INTO secret.keys VALUES ('x')" }));
});

describe('runaway queries', () => {
	test('pg_sleep(60) is cut at the timeout', async () => {
		const t0 = Date.now();
		await read('lib', 'SELECT pg_sleep(60)', /deadline/);
		assert.ok(Date.now() - t0 < 6000);
	});
	test('a runaway cross join is cut at the timeout', async () => {
		const t0 = Date.now();
		await read('lib', 'SELECT count(*) FROM generate_series(1, 100000) a, generate_series(1, 100000) b', /deadline/);
		assert.ok(Date.now() - t0 < 6000);
	});
	test('a client that cancels mid-query: the server-side query is gone', async () => {
		const ac = new AbortController();
		const p = c.client
			.callTool({ name: 'read_query', arguments: { database: 'lib', query: 'SELECT pg_sleep(1.2), 1' } }, undefined, { signal: ac.signal })
			.catch((e) => e);
		for (let i = 0; i < 40 && running() === '0'; i++) await sleep(25);
		assert.equal(running(), '1', 'the query is running');
		ac.abort();
		await p;
		for (let i = 0; i < 20 && running() !== '0'; i++) await sleep(25);
		assert.equal(running(), '0', 'cancelled on the server within half a second');
		await assertIntact();
	});
});
