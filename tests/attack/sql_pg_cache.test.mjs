// sql_pg_cache.test.mjs - attacks on the PostgreSQL backend's plan-check
// cache (src/providers/sql/sql_pg_cache.c; sql_pg.c says what it
// guarantees): a read_query answered from the cache must never let a
// denied relation through where an EXPLAIN in the call would have refused
// it. Against a real server (tests/e2e/pg_server.mjs) with log_statement
// = all for moat's role, so each test first PROVES that the statement is
// being answered from the cache (a call with no EXPLAIN in the server's
// log) before it changes the database under it from another session:
//
//   a  a view redefined to read a denied schema;
//   b  a table renamed and a view of the same name put in its place, and
//      a table of the same name created in a schema earlier in the
//      search_path (both allowlisted);
//   c  the race: another session holds the view's lock while it redefines
//      it, moat's cached call waits on that lock, the session commits;
//      and the after-check: moat's cached call waits on a partition's lock
//      at Execute, after its snapshot was taken, while the session swaps
//      the body of an inlined SQL function for one that reads the secret;
//   d  the key holds the parameter VALUES: a statement allowed with one
//      value (folded to no relation at all) is refused with another;
//   e  after all of it, nothing in the database changed (a dump compared
//      with the one taken before; every test undoes its own DDL), and the
//      secret never appeared in a response or on stderr.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { connectClient, resultText, sleep } from './fixture.mjs';
import { makeTempDir, writeConfig } from '../e2e/helpers.mjs';
import { PG_SCHEMA, PgServer } from '../e2e/pg_server.mjs';

const SECRET = `PG-CACHE-SECRET-${crypto.randomBytes(6).toString('hex')}`;
let pg, c, before_;
const seen = [];

const SETUP = `
CREATE TABLE shop.t1(title text);
INSERT INTO shop.t1 VALUES ('plain');
CREATE VIEW shop.v AS SELECT title FROM shop.book;
CREATE SCHEMA early;
CREATE TABLE shop.parted(id int, t text) PARTITION BY LIST (id);
CREATE TABLE shop.p1 PARTITION OF shop.parted FOR VALUES IN (1);
INSERT INTO shop.parted VALUES (1, 'part one');
CREATE FUNCTION shop.f() RETURNS TABLE(x text) LANGUAGE sql STABLE AS 'SELECT title FROM shop.book';
GRANT USAGE ON SCHEMA early TO moat_ro;
GRANT SELECT ON shop.t1, shop.v, shop.parted, shop.p1 TO moat_ro;
ALTER ROLE moat_ro SET log_statement = 'all';
CREATE ROLE moat_rr LOGIN;
GRANT USAGE ON SCHEMA shop TO moat_rr;
GRANT SELECT ON ALL TABLES IN SCHEMA shop TO moat_rr;
ALTER ROLE moat_rr SET log_statement = 'all';
ALTER ROLE moat_rr SET default_transaction_isolation = 'repeatable read';
`;

function dump() {
	return pg.psql(`
SELECT n.nspname || '.' || c.relname || ':' || c.relkind::text FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname IN ('shop', 'secret', 'early', 'public') ORDER BY 1;
SELECT pg_get_viewdef('shop.v'::regclass);
SELECT prosrc FROM pg_proc WHERE proname = 'f';
SELECT * FROM shop.t1 ORDER BY 1;
SELECT * FROM shop.parted ORDER BY 1;
SELECT * FROM shop.book ORDER BY 1;
SELECT * FROM secret.keys ORDER BY 1;
SELECT rolname, rolsuper, rolcreaterole FROM pg_roles WHERE rolname LIKE 'moat%' ORDER BY 1;
`);
}

function assertNoSecret() {
	for (const r of [...seen, c.stderr()]) {
		const s = typeof r === 'string' ? r : JSON.stringify(r);
		assert.ok(!s.includes(SECRET), `the secret leaked: ${s.slice(0, 300)}`);
	}
}

// The server's log: how many times moat asked for the plan of `query`.
function explains(query) {
	const log = fs.readFileSync(path.join(pg.dir, 'log'), 'utf8');
	return log.split(`EXPLAIN (VERBOSE, FORMAT JSON) ${query}`).length - 1;
}

// How many times moat ran `query` (Execute of its prepared statement).
function executes(query) {
	const log = fs.readFileSync(path.join(pg.dir, 'log'), 'utf8');
	return log.split(`execute moat_q: ${query}\n`).length - 1;
}

async function read(database, query, params) {
	const r = await c.client.callTool({ name: 'read_query', arguments: { database, query, ...(params ? { params } : {}) } });
	seen.push(r);
	return r;
}

// Call until a call is answered without an EXPLAIN (a cache hit), and
// check its rows; fails the test when no call ever is.
async function cached(database, query, params, check) {
	for (let i = 0; i < 6; i++) {
		const n = explains(query);
		const r = await read(database, query, params);
		assert.ok(!r.isError, resultText(r));
		check(r.structuredContent.rows);
		if (explains(query) === n) return;
	}
	assert.fail(`never answered from the cache: ${query}`);
}

function assertRefused(r) {
	assert.ok(!JSON.stringify(r).includes(SECRET), `the secret leaked: ${JSON.stringify(r).slice(0, 300)}`);
	assert.equal(r.isError, true, `not refused: ${resultText(r)}`);
	assert.match(resultText(r), /allowlist/);
}

// Another session (psql as the superuser) that stays open: statements go
// in one at a time while moat's call is in flight.
function session() {
	const p = spawn(path.join(pg.bin, 'psql'), ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1',
		'-h', '127.0.0.1', '-p', String(pg.port), '-U', 'postgres', '-d', 'postgres'], { stdio: ['pipe', 'pipe', 'pipe'] });
	let out = '';
	p.stdout.on('data', (d) => { out += d; });
	p.stderr.on('data', (d) => { out += d; });
	const done = new Promise((resolve) => p.on('close', (code) => resolve(code)));
	return {
		send: (sql) => p.stdin.write(`${sql}\n`),
		end: async () => { p.stdin.end(); const code = await done; assert.equal(code, 0, out); },
		output: () => out,
	};
}

async function until(what, fn) {
	for (let i = 0; i < 200; i++) {
		if (fn()) return;
		await sleep(25);
	}
	assert.fail(`timed out waiting for ${what}`);
}

const moatWaitsOnLock = () =>
	pg.psql("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'moat' AND wait_event_type = 'Lock'").trim() === '1';

before(async () => {
	pg = await PgServer.start();
	pg.psql(PG_SCHEMA);
	pg.psql(SETUP);
	pg.psql(`INSERT INTO secret.keys VALUES ('${SECRET}');`);
	const dir = makeTempDir('moat-pg-cache-');
	const env = { ...process.env, DATABASE_URL: pg.url('moat_ro'), RR_URL: pg.url('moat_rr') };
	writeConfig(dir, {
		databases: {
			lib: { type: 'postgres', url: '${DATABASE_URL}', schemas: ['shop'], timeout_ms: 10000, pool_size: 2 },
			two: { type: 'postgres', url: '${DATABASE_URL}', schemas: ['early', 'shop'], timeout_ms: 10000 },
			small: { type: 'postgres', url: '${DATABASE_URL}', schemas: ['shop'], timeout_ms: 10000, max_rows: 2 },
			nocache: { type: 'postgres', url: '${DATABASE_URL}', schemas: ['shop'], timeout_ms: 10000, plan_cache: 0 },
			// a role whose transactions are REPEATABLE READ by default
			rr: { type: 'postgres', url: '${RR_URL}', schemas: ['shop'], timeout_ms: 10000 },
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

describe('a cached plan check', () => {
	test('a: a view redefined to read a denied schema is refused', async () => {
		const q = 'SELECT title FROM v ORDER BY 1';
		await cached('lib', q, undefined, (rows) => assert.ok(rows.length > 0));
		try {
			pg.psql('CREATE OR REPLACE VIEW shop.v AS SELECT k AS title FROM secret.keys');
			assertRefused(await read('lib', q));
		} finally {
			pg.psql('CREATE OR REPLACE VIEW shop.v AS SELECT title FROM shop.book');
		}
		assert.equal(dump(), before_);
	});

	test('b: a table renamed and a view of its name over a denied schema is refused', async () => {
		const q = 'SELECT title FROM t1';
		await cached('lib', q, undefined, (rows) => assert.match(JSON.stringify(rows), /plain/));
		try {
			pg.psql('ALTER TABLE shop.t1 RENAME TO t1_real; CREATE VIEW shop.t1 AS SELECT k AS title FROM secret.keys; GRANT SELECT ON shop.t1 TO moat_ro');
			assertRefused(await read('lib', q));
		} finally {
			pg.psql('DROP VIEW IF EXISTS shop.t1; ALTER TABLE IF EXISTS shop.t1_real RENAME TO t1');
		}
		assert.equal(dump(), before_);
	});

	test('b: a relation of the same name earlier in the search_path is refused', async () => {
		const q = 'SELECT title FROM t1';
		await cached('two', q, undefined, (rows) => assert.equal(rows.length, 1));
		try {
			pg.psql('CREATE VIEW early.t1 AS SELECT k AS title FROM secret.keys; GRANT SELECT ON early.t1 TO moat_ro');
			assertRefused(await read('two', q));
		} finally {
			pg.psql('DROP VIEW IF EXISTS early.t1');
		}
		assert.equal(dump(), before_);
	});

	test('c: a view redefined while moat waits on its lock: refused once the session commits', async () => {
		const q = 'SELECT title FROM v';
		await cached('lib', q, undefined, (rows) => assert.ok(rows.length > 0));
		try {
			const s = session();
			s.send('BEGIN;');
			s.send('CREATE OR REPLACE VIEW shop.v AS SELECT k AS title FROM secret.keys;');
			s.send("SELECT 'locked';");
			await until('the session to hold the lock', () => s.output().includes('locked'));
			const call = read('lib', q);
			await until('moat to wait on the lock', moatWaitsOnLock);
			s.send('COMMIT;');
			await s.end();
			assertRefused(await call);
		} finally {
			pg.psql('CREATE OR REPLACE VIEW shop.v AS SELECT title FROM shop.book');
		}
		assert.equal(dump(), before_);
	});

	test('c: a function body swapped while the cached call waits at Execute: the rows are not answered', async () => {
		// The materialised CTE is planned first and waits on p1's lock;
		// f() is inlined after, with whatever body it has by then.
		const q = 'WITH a AS MATERIALIZED (SELECT t FROM parted) SELECT a.t, f.x FROM a, f() AS f ORDER BY 2';
		await cached('lib', q, undefined, (rows) => assert.ok(rows.length > 0));
		try {
			const s = session();
			s.send('BEGIN;');
			s.send('LOCK TABLE shop.p1 IN ACCESS EXCLUSIVE MODE;');
			s.send("SELECT 'locked';");
			await until('the session to hold the lock', () => s.output().includes('locked'));
			const call = read('lib', q);
			await until('moat to wait on the lock', moatWaitsOnLock);
			s.send("CREATE OR REPLACE FUNCTION shop.f() RETURNS TABLE(x text) LANGUAGE sql STABLE AS 'SELECT k FROM secret.keys';");
			s.send('COMMIT;');
			await s.end();
			assertRefused(await call);
		} finally {
			pg.psql("CREATE OR REPLACE FUNCTION shop.f() RETURNS TABLE(x text) LANGUAGE sql STABLE AS 'SELECT title FROM shop.book'");
		}
		assert.equal(dump(), before_);
	});

	test('d: the key holds the parameter values: allowed with 0, refused with 1', async () => {
		const q = 'SELECT k FROM secret.keys WHERE $1::int = 1';
		await cached('lib', q, [0], (rows) => assert.equal(rows.length, 0));
		assertRefused(await read('lib', q, [1]));
		assertRefused(await read('lib', q, ['1']));
		// and the harmless value is still answered (from the cache or not)
		const r = await read('lib', q, [0]);
		assert.ok(!r.isError, resultText(r));
		assert.equal(r.structuredContent.rows.length, 0);
	});

	test('a session that is not READ COMMITTED never answers from the cache', async () => {
		// one snapshot for the whole transaction could not show a commit
		// made while the call runs: every call is explained
		const q = 'SELECT title FROM book WHERE id = 1';
		for (let i = 0; i < 4; i++) {
			const n = explains(q);
			const r = await read('rr', q);
			assert.ok(!r.isError, resultText(r));
			assert.equal(r.structuredContent.rows.length, 1);
			assert.equal(explains(q), n + 1, `call ${i} was not explained`);
		}
	});

	test('a result cut at a cap: right every time, and such a statement is then always explained', async () => {
		// the cancel at the row cap skips the snapshot after Execute: the
		// first hit is redone with EXPLAIN, later calls are explained
		const q = 'SELECT b.title FROM book b, generate_series(1, 200000) g';
		const counts = [], runs = [];
		for (let i = 0; i < 6; i++) {
			const n = explains(q), m = executes(q);
			const r = await read('small', q);
			assert.ok(!r.isError, resultText(r));
			assert.equal(r.structuredContent.rows.length, 2);
			assert.equal(r.structuredContent.truncated, true);
			counts.push(explains(q) - n);
			runs.push(executes(q) - m);
		}
		// two misses; the third call is a hit, cut, and run again with
		// EXPLAIN; from then on every call is explained
		assert.deepEqual(counts, [1, 1, 1, 1, 1, 1]);
		assert.deepEqual(runs, [1, 1, 2, 1, 1, 1]);
	});

	test('"plan_cache": 0 explains every call', async () => {
		const q = 'SELECT title FROM book WHERE id = 2';
		for (let i = 0; i < 4; i++) {
			const n = explains(q);
			const r = await read('nocache', q);
			assert.ok(!r.isError, resultText(r));
			assert.equal(r.structuredContent.rows.length, 1);
			assert.equal(explains(q), n + 1, `call ${i} was not explained`);
		}
		// and the same statement on a database with the cache is answered from it
		await cached('lib', q, undefined, (rows) => assert.equal(rows.length, 1));
	});

	test('e: nothing in the database changed, the secret never showed', async () => {
		assert.equal(dump(), before_);
		assertNoSecret();
		assert.ok(fs.readFileSync(path.join(pg.dir, 'log'), 'utf8').includes('pg_current_snapshot'), 'the snapshot was read');
	});
});
