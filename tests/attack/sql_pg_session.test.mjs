// sql_pg_session.test.mjs - a pooled PostgreSQL connection carries nothing
// from one call to the next (issue 11, item 3). Both databases have
// pool_size 1, so every call reuses the one connection (each test checks
// that the backend pid did not change). For each kind of state a statement
// can leave in a session (advisory locks, set_config(..., false) and the
// role, temporary tables, cursors WITH HOLD, prepared statements, LISTEN,
// sequences' currval/lastval, the session authorization), it is tried
// through read_query (a READ ONLY transaction, rolled back) and through
// write_query (a READ WRITE transaction, committed), and then looked for
// from a second connection (psql: pg_locks, pg_stat_activity, pg_class)
// and from the next call on the same pooled connection (pg_cursors,
// pg_prepared_statements, pg_listening_channels(), current_setting ...).
// Whether the statement itself was accepted does not matter: what matters
// is that nothing of it is left.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connectClient, resultText } from './fixture.mjs';
import { makeTempDir, writeConfig } from '../e2e/helpers.mjs';
import { PG_SCHEMA, PgServer } from '../e2e/pg_server.mjs';

let pg, c;

before(async () => {
	pg = await PgServer.start();
	pg.psql(PG_SCHEMA);
	// moat_rw may become moat_ro (SET ROLE through set_config)
	pg.psql('GRANT moat_ro TO moat_rw; GRANT USAGE ON SEQUENCE shop.note_id_seq TO moat_ro;');
	const dir = makeTempDir('moat-pg-session-');
	const env = { ...process.env, RO_URL: pg.url('moat_ro'), RW_URL: pg.url('moat_rw') };
	writeConfig(dir, {
		databases: {
			ro: { type: 'postgres', url: '${RO_URL}', schemas: ['shop'], pool_size: 1, timeout_ms: 3000 },
			rw: { type: 'postgres', url: '${RW_URL}', schemas: ['shop'], pool_size: 1, write: true, timeout_ms: 3000 },
		},
		limits: { call_timeout_ms: 20000 },
	});
	c = await connectClient(`${dir}/moat.json`, { env });
});

after(async () => {
	await c?.close();
	pg?.stop();
});

const tool = (db) => (db === 'rw' ? 'write_query' : 'read_query');

// Run one statement; returns the result (error or not).
async function run(db, query, t = tool(db)) {
	return c.client.callTool({ name: t, arguments: { database: db, query } });
}

// The first value of the first row, from a read on db's pooled connection.
async function value(db, query) {
	const r = await run(db, query, 'read_query');
	assert.ok(!r.isError, resultText(r));
	return r.structuredContent.rows[0]?.[0];
}

const pidOf = (db) => value(db, 'SELECT pg_backend_pid()');

// Checks from a second connection, on the backend pid of moat's connection.
const fromOutside = {
	advisoryLocks: (pid) => pg.psql(`SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = ${pid}`).trim(),
	anyAdvisory: () => pg.psql("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'").trim(),
	appName: (pid) => pg.psql(`SELECT application_name FROM pg_stat_activity WHERE pid = ${pid}`).trim(),
	state: (pid) => pg.psql(`SELECT state FROM pg_stat_activity WHERE pid = ${pid}`).trim(),
	tempRelations: () =>
		pg.psql("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relpersistence = 't' AND n.nspname LIKE 'pg_temp_%'").trim(),
};

// Try `query` through db's tool, then prove the same pooled connection
// serves the next call and `check(pid)` holds.
async function leaves(db, query, check) {
	const pid = await pidOf(db);
	const r = await run(db, query);
	const after = await pidOf(db);
	assert.equal(after, pid, `the pooled connection was replaced (${resultText(r)}): the test proves nothing`);
	await check(pid, r);
	assert.equal(fromOutside.state(pid), 'idle', 'the connection is idle between calls');
	return r;
}

for (const db of ['ro', 'rw']) {
	describe(`${tool(db)} (${db === 'ro' ? 'READ ONLY, rolled back' : 'READ WRITE, committed'})`, () => {
		test('pg_advisory_lock: no session lock outlives the call', async () => {
			const r = await leaves(db, 'SELECT pg_advisory_lock(42)', async (pid) => {
				assert.equal(fromOutside.advisoryLocks(pid), '0', 'pg_locks, from a second connection');
				assert.equal(await value(db, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"), 0);
			});
			assert.ok(!r.isError, `the lock itself is allowed: ${resultText(r)}`);
			assert.equal(pg.psql('SELECT pg_try_advisory_lock(42)').trim(), 't', 'another session can take it');
		});

		test('pg_advisory_lock_shared, and pg_try_advisory_lock on several keys', async () => {
			await leaves(db, 'SELECT pg_advisory_lock_shared(7), pg_try_advisory_lock(8), pg_try_advisory_lock(9, 10)', async (pid) => {
				assert.equal(fromOutside.advisoryLocks(pid), '0');
			});
		});

		test('a lock taken by a statement that then fails', async () => {
			const r = await leaves(db, 'SELECT pg_advisory_lock(43), 1/0', async (pid) => {
				assert.equal(fromOutside.advisoryLocks(pid), '0');
			});
			assert.equal(r.isError, true);
		});

		test('a lock taken by a statement cut at its deadline: the connection is dropped, the lock with it', async () => {
			const r = await run(db, 'SELECT pg_advisory_lock(44), pg_sleep(10)');
			assert.equal(r.isError, true);
			assert.match(resultText(r), /deadline/);
			for (let i = 0; i < 40 && fromOutside.anyAdvisory() !== '0'; i++) await new Promise((res) => setTimeout(res, 50));
			assert.equal(fromOutside.anyAdvisory(), '0', 'pg_locks, from a second connection');
			assert.equal(await value(db, 'SELECT 1'), 1, 'the next call works');
		});

		test('set_config(..., false): application_name and a custom setting', async () => {
			await leaves(db, "SELECT set_config('application_name', 'evil', false), set_config('moat.x', 'leak', false)", async (pid) => {
				assert.equal(fromOutside.appName(pid), 'moat', 'pg_stat_activity, from a second connection');
				assert.equal(await value(db, "SELECT current_setting('application_name')"), 'moat');
				assert.ok(!(await value(db, "SELECT current_setting('moat.x', true)")), 'the custom setting is gone');
			});
		});

		test('set_config(search_path / statement_timeout, false)', async () => {
			await leaves(db, "SELECT set_config('statement_timeout', '1', false), set_config('search_path', 'secret', false)", async () => {
				assert.equal(await value(db, "SELECT current_setting('search_path')"), 'shop');
				assert.equal(await value(db, 'SELECT count(*) FROM pg_sleep(0.05)'), 1, 'no 1 ms statement_timeout left behind');
			});
		});

		test('set_config(role, ..., false): SET ROLE by function', async () => {
			await leaves(db, "SELECT set_config('role', 'moat_ro', false)", async () => {
				assert.equal(await value(db, 'SELECT current_user::text'), db === 'rw' ? 'moat_rw' : 'moat_ro');
			});
		});

		test('set_config(session_authorization): refused or reset', async () => {
			await leaves(db, "SELECT set_config('session_authorization', 'postgres', false)", async () => {
				assert.equal(await value(db, 'SELECT session_user::text'), db === 'rw' ? 'moat_rw' : 'moat_ro');
			});
		});

		test('SET ROLE and SET SESSION AUTHORIZATION statements are refused', async () => {
			for (const q of ['SET ROLE moat_ro', 'SET SESSION AUTHORIZATION moat_ro', 'RESET ROLE']) {
				const r = await run(db, q);
				assert.equal(r.isError, true, q);
				assert.match(resultText(r), /only statements with a plan/);
			}
		});

		test('CREATE TEMP TABLE AS: no temporary table outlives the call', async () => {
			await leaves(db, 'CREATE TEMP TABLE t AS SELECT 1 AS x', async () => {
				assert.equal(fromOutside.tempRelations(), '0', 'pg_class, from a second connection');
				assert.equal(await value(db, "SELECT to_regclass('pg_temp.t') IS NULL"), true);
			});
		});

		test('SELECT INTO TEMP: no temporary table outlives the call', async () => {
			await leaves(db, 'SELECT 1 AS x INTO TEMP u', async () => {
				assert.equal(fromOutside.tempRelations(), '0');
				assert.equal(await value(db, "SELECT to_regclass('pg_temp.u') IS NULL"), true);
			});
		});

		test('DECLARE ... CURSOR WITH HOLD: no cursor outlives the call', async () => {
			await leaves(db, 'DECLARE cur CURSOR WITH HOLD FOR SELECT * FROM shop.book', async () => {
				assert.equal(await value(db, "SELECT count(*) FROM pg_cursors WHERE name = 'cur'"), 0);
			});
		});

		test('PREPARE is refused; no prepared statement but the call\'s own', async () => {
			const r = await leaves(db, 'PREPARE p AS SELECT 1', async () => {
				assert.equal(await value(db, "SELECT count(*) FROM pg_prepared_statements WHERE name <> 'moat_q'"), 0);
			});
			assert.equal(r.isError, true);
		});

		test('LISTEN is refused; no channel is listened to', async () => {
			const r = await leaves(db, 'LISTEN moat_chan', async () => {
				assert.equal(await value(db, 'SELECT count(*) FROM pg_listening_channels()'), 0);
			});
			assert.equal(r.isError, true);
		});

		test("nextval: the next call sees no currval or lastval", async () => {
			const r = await leaves(db, "SELECT nextval('shop.note_id_seq')", async () => {
				const cv = await run(db, "SELECT currval('shop.note_id_seq')", 'read_query');
				assert.equal(cv.isError, true, `currval survived: ${resultText(cv)}`);
				assert.match(resultText(cv), /not yet defined in this session/);
				const lv = await run(db, 'SELECT lastval()', 'read_query');
				assert.equal(lv.isError, true, `lastval survived: ${resultText(lv)}`);
			});
			if (db === 'ro') assert.match(resultText(r), /read-only/, 'nextval in a READ ONLY transaction');
		});
	});
}

test('no advisory lock of moat is held anywhere at the end', () => {
	assert.equal(fromOutside.anyAdvisory(), '0');
});
