// sql_postgres.test.mjs - the sql family on PostgreSQL end to end through
// the official SDK client, against a real server started here on
// 127.0.0.1 in a temporary directory (pg_server.mjs) and stopped after:
// every tool, values mapped by type OID, params of every JSON type,
// truncation by rows and by bytes, a statement cut at timeout_ms, the
// schema allowlist, write_query, the role checks (a superuser refused
// unless allow_superuser), and a server restart mid-run (a clear error,
// then working again).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { assertToolError, connectClient, makeTempDir, resultText, runMoat, writeConfig } from './helpers.mjs';
import { PG_SCHEMA, PgServer } from './pg_server.mjs';


let pg, dir, c, env;

before(async () => {
	pg = await PgServer.start();
	pg.psql(PG_SCHEMA);
	dir = makeTempDir('moat-pg-e2e-');
	env = { ...process.env, DATABASE_URL: pg.url('moat_ro'), RW_URL: pg.url('moat_rw') };
	const common = { type: 'postgres', url: '${DATABASE_URL}', schemas: ['shop'] };
	writeConfig(dir, {
		databases: {
			lib: { ...common, max_rows: 50, timeout_ms: 1000 },
			small: { ...common, max_rows: 2 },
			tiny: { ...common, max_bytes: 1024 },
			rw: { type: 'postgres', url: '${RW_URL}', schemas: ['shop'], write: true, pool_size: 2 },
		},
		limits: { call_timeout_ms: 20000 },
	});
	c = await connectClient(`${dir}/moat.json`, { env });
});

after(async () => {
	await c?.close();
	pg?.stop();
});

const call = (name, args) => c.client.callTool({ name, arguments: args });
const rows = async (args, database = 'lib') => {
	const r = await call('read_query', { database, ...args });
	assert.ok(!r.isError, resultText(r));
	return r.structuredContent;
};

describe('tools', () => {
	test('list_databases names the engine and the schema allowlist', async () => {
		const r = await call('list_databases', {});
		const lib = r.structuredContent.databases.find((d) => d.name === 'lib');
		assert.equal(lib.type, 'postgres');
		assert.deepEqual(lib.schemas, ['shop']);
		assert.equal(lib.write, false);
		assert.ok(!resultText(r).includes('127.0.0.1'), 'no connection details');
	});

	test('list_tables: tables and views of the allowed schemas only', async () => {
		const r = await call('list_tables', { database: 'lib' });
		assert.ok(!r.isError, resultText(r));
		const names = r.structuredContent.tables.map((t) => `${t.name}:${t.type}`);
		assert.deepEqual(names, ['author:table', 'book:table', 'cheap:view', 'leak:view', 'note:table']);
	});

	test('describe_table: columns, primary key, foreign key, indexes', async () => {
		const r = await call('describe_table', { database: 'lib', table_name: 'book' });
		assert.ok(!r.isError, resultText(r));
		const s = r.structuredContent;
		assert.equal(s.type, 'table');
		const col = Object.fromEntries(s.columns.map((x) => [x.name, x]));
		assert.equal(col.id.primary_key, 1);
		assert.equal(col.id.not_null, true);
		assert.equal(col.title.default, "'untitled'::text");
		assert.equal(col.price.type, 'numeric(10,2)');
		assert.deepEqual(s.foreign_keys.map((f) => [f.from, f.table, f.to, f.on_delete]), [['author_id', 'author', 'id', 'c']]);
		const ix = Object.fromEntries(s.indexes.map((i) => [i.name, i]));
		assert.deepEqual(ix.book_author.columns, ['author_id', 'title']);
		assert.equal(ix.book_pkey.origin, 'pk');
		assert.equal(ix.book_pkey.unique, true);
		assert.match(resultText(r), /foreign key: author_id -> author\(id\)/);
	});

	test('describe_table: schema-qualified, and not found outside the allowlist', async () => {
		const r = await call('describe_table', { database: 'lib', table_name: 'shop.author' });
		assert.ok(!r.isError, resultText(r));
		assertToolError(await call('describe_table', { database: 'lib', table_name: 'secret.keys' }), /no such table/);
		assertToolError(await call('describe_table', { database: 'lib', table_name: 'keys' }), /no such table/);
	});
});

describe('resources', () => {
	test('sql://{database}/tables and /tables/{table} equal the tools; the allowlist holds', async () => {
		const read = async (uri) => JSON.parse((await c.client.readResource({ uri })).contents[0].text);
		assert.deepEqual(await read('sql://lib/tables'), (await call('list_tables', { database: 'lib' })).structuredContent);
		assert.deepEqual(await read('sql://lib/tables/book'), (await call('describe_table', { database: 'lib', table_name: 'book' })).structuredContent);
		assert.deepEqual(await read('sql://lib/tables/shop.author'), (await call('describe_table', { database: 'lib', table_name: 'shop.author' })).structuredContent);
		for (const uri of ['sql://lib/tables/secret.keys', 'sql://lib/tables/keys', 'sql://lib/tables/pg_catalog.pg_authid']) {
			await assert.rejects(c.client.readResource({ uri }), (e) => e.code === -32002 && /no such table/.test(e.message), uri);
		}
		const listed = (await c.client.listResources()).resources.map((r) => r.uri);
		assert.ok(listed.includes('sql://lib/tables/cheap'));
		assert.ok(!listed.some((u) => /keys/.test(u)), 'no table outside the schema allowlist is listed');
	});
});

describe('read_query', () => {
	test('values map by type OID', async () => {
		const s = await rows({ query: 'SELECT id, price, weight, cover, tags, in_print, big, published, title FROM book ORDER BY id' });
		assert.deepEqual(s.columns.map((x) => x.type), ['integer', 'numeric', 'double precision', 'bytea', 'jsonb', 'boolean', 'bigint', 'date', 'text']);
		assert.deepEqual(s.rows[0], [1, 9.5, 0.25, 'AP8Q', { a: [1, 2] }, true, 9007199254740993, '1968-01-01', 'Earthsea']);
		assert.deepEqual(s.rows[1], [2, 12.25, null, null, null, false, null, null, 'Ficciones']);
		assert.deepEqual(s.rows[2], [3, null, null, '', [], null, -1, null, 'The Dispossessed']);
		assert.equal(s.row_count, 3);
		assert.equal(s.truncated, false);
	});

	test('numeric that a double cannot hold stays text; NaN stays text', async () => {
		const s = await rows({ query: "SELECT 12345678901234567890.5::numeric AS a, 'NaN'::float8 AS b, 0.1::numeric AS c" });
		assert.deepEqual(s.rows[0], ['12345678901234567890.5', 'NaN', 0.1]);
	});

	test('params of every JSON type are bound', async () => {
		const s = await rows({
			query: 'SELECT $1::int + 1 AS i, $2::text AS t, $3::bool AS b, $4::jsonb AS j, $5::bytea AS y, $6::float8 AS f, $7::text IS NULL AS n',
			params: [41, "it's; DROP TABLE book", true, { x: [1] }, { base64: 'AP8Q' }, 1.5, null],
		});
		assert.deepEqual(s.rows[0], [42, "it's; DROP TABLE book", true, { x: [1] }, 'AP8Q', 1.5, true]);
	});

	test('a wrong number of params is an error', async () => {
		assertToolError(await call('read_query', { database: 'lib', query: 'SELECT $1::int', params: [] }), /1 placeholder, params has 0/);
	});

	test('truncation by rows and by bytes', async () => {
		const a = await rows({ query: 'SELECT g FROM generate_series(1, 100000) g' }, 'small');
		assert.equal(a.truncated, true);
		assert.deepEqual(a.rows, [[1], [2]]);
		const b = await rows({ query: "SELECT repeat('x', 100) FROM generate_series(1, 1000)" }, 'tiny');
		assert.equal(b.truncated, true);
		assert.ok(b.rows.length < 20);
	});

	test('a statement past timeout_ms is cut', async () => {
		const t0 = Date.now();
		assertToolError(await call('read_query', { database: 'lib', query: 'SELECT pg_sleep(30)' }), /deadline/);
		assert.ok(Date.now() - t0 < 5000, 'cut near the timeout');
		// the connection still works
		assert.deepEqual((await rows({ query: 'SELECT 1 AS one' })).rows, [[1]]);
	});

	test('one statement per call; no writes; the schema allowlist', async () => {
		assertToolError(await call('read_query', { database: 'lib', query: 'SELECT 1; SELECT 2' }), /multiple commands|one statement/);
		assertToolError(await call('read_query', { database: 'lib', query: "INSERT INTO note(body) VALUES ('x')" }), /read-only|READ ONLY|privilege/);
		assertToolError(await call('read_query', { database: 'lib', query: 'SELECT * FROM secret.keys' }), /allowlist/);
		assertToolError(await call('read_query', { database: 'lib', query: 'SELECT * FROM leak' }), /allowlist/);
		assertToolError(await call('read_query', { database: 'lib', query: 'SHOW search_path' }), /utility|plan/);
	});

	test('errors name the rule, not the values', async () => {
		const r = await call('read_query', { database: 'lib', query: 'SELECT $1::int', params: ['sekrit-value'] });
		assertToolError(r, /not valid/);
		assert.ok(!resultText(r).includes('sekrit-value'));
	});
});

describe('write_query', () => {
	test('inserts return the affected row count; read-only databases refuse', async () => {
		const r = await call('write_query', { database: 'rw', query: 'INSERT INTO note(body) VALUES ($1), ($2)', params: ['a', 'b'] });
		assert.ok(!r.isError, resultText(r));
		assert.equal(r.structuredContent.affected_rows, 2);
		assert.equal(pg.psql('SELECT count(*) FROM shop.note').trim(), '2');
		assertToolError(await call('write_query', { database: 'lib', query: 'DELETE FROM note' }), /read-only/);
		const ret = await call('write_query', { database: 'rw', query: 'DELETE FROM note WHERE body = $1 RETURNING id', params: ['a'] });
		assert.ok(!ret.isError, resultText(ret));
		assert.equal(ret.structuredContent.affected_rows, 1);
		assert.equal(ret.structuredContent.rows.length, 1);
		pg.psql('TRUNCATE shop.note');
	});
});

describe('roles', () => {
	test('a superuser is refused unless allow_superuser, with a loud warning then', () => {
		const d = makeTempDir('moat-pg-su-');
		const superEnv = { ...process.env, DATABASE_URL: pg.url('postgres') };
		writeConfig(d, { databases: { su: { type: 'postgres', url: '${DATABASE_URL}' } } });
		let r = runMoat(['check', '--config', `${d}/moat.json`], { env: superEnv });
		assert.notEqual(r.code, 0);
		assert.match(r.stderr + r.stdout, /superuser/);
		writeConfig(d, { databases: { su: { type: 'postgres', url: '${DATABASE_URL}', allow_superuser: true } } });
		r = runMoat(['check', '--config', `${d}/moat.json`], { env: superEnv });
		assert.equal(r.code, 0, r.stderr);
		assert.match(r.stdout + r.stderr, /SUPERUSER/);
	});

	test('moat check warns about a role that can write on a read-only database', () => {
		const d = makeTempDir('moat-pg-rw-');
		writeConfig(d, { databases: { x: { type: 'postgres', url: '${RW_URL}', schemas: ['shop'] } } });
		const r = runMoat(['check', '--config', `${d}/moat.json`], { env });
		assert.equal(r.code, 0, r.stderr);
		assert.match(r.stdout + r.stderr, /can write/);
		assert.match(r.stdout, /postgres read-only 127\.0\.0\.1:\d+\/postgres as moat_rw/);
	});

	test('a bad connection string is refused without echoing it', () => {
		const d = makeTempDir('moat-pg-bad-');
		const badEnv = { ...process.env, DATABASE_URL: `postgresql://moat_ro:pa55word@127.0.0.1:1/nodb` };
		writeConfig(d, { databases: { x: { type: 'postgres', url: '${DATABASE_URL}' } } });
		const r = runMoat(['check', '--config', `${d}/moat.json`], { env: badEnv });
		assert.notEqual(r.code, 0);
		assert.match(r.stderr, /cannot connect to database 'x' \(127\.0\.0\.1:1\/nodb\)/);
		assert.ok(!(r.stderr + r.stdout).includes('pa55word'));
	});

	test('an unreachable server fails check and serve alike (start-up connects)', () => {
		const d = makeTempDir('moat-pg-down-');
		const downEnv = { ...process.env, DATABASE_URL: `postgresql://moat_ro:pa55word@127.0.0.1:1/nodb` };
		writeConfig(d, { databases: { x: { type: 'postgres', url: '${DATABASE_URL}' } } });
		const codes = ['check', 'serve'].map((cmd) => {
			const r = runMoat([cmd, '--config', `${d}/moat.json`], { env: downEnv });
			assert.match(r.stderr, /cannot connect to database 'x'/, cmd);
			assert.ok(!r.stderr.includes('pa55word'), cmd);
			return r.code;
		});
		assert.notEqual(codes[0], 0);
		assert.equal(codes[0], codes[1], 'same exit code');
	});

	test('moat check warns about an allowlisted schema that does not exist', () => {
		const d = makeTempDir('moat-pg-schema-');
		writeConfig(d, { databases: { x: { type: 'postgres', url: '${DATABASE_URL}', schemas: ['shop', 'shpo'] } } });
		const r = runMoat(['check', '--config', `${d}/moat.json`], { env });
		assert.equal(r.code, 0, r.stderr);
		assert.match(r.stderr, /database 'x' \(127\.0\.0\.1:\d+\/postgres\): the "schemas" allowlist names 'shpo', which does not exist/);
		assert.ok(!/names 'shop'/.test(r.stderr));
	});
});

describe('audit', () => {
	let ac, auditFile, n = 0;
	before(async () => {
		const d = makeTempDir('moat-pg-audit-');
		auditFile = `${d}/audit.jsonl`;
		pg.psql('CREATE SCHEMA IF NOT EXISTS extra; CREATE TABLE IF NOT EXISTS extra.t(x int); GRANT USAGE ON SCHEMA extra TO moat_ro; GRANT SELECT ON extra.t TO moat_ro;');
		writeConfig(d, {
			databases: {
				lib: { type: 'postgres', url: '${DATABASE_URL}', schemas: ['shop', 'extra'], timeout_ms: 500 },
				rw: { type: 'postgres', url: '${RW_URL}', schemas: ['shop'], write: true },
			},
			log: { audit_file: auditFile },
		});
		ac = await connectClient(`${d}/moat.json`, { env });
	});
	after(async () => ac?.close());

	async function audited(name, args) {
		const r = await ac.client.callTool({ name, arguments: args });
		for (let i = 0; i < 50; i++) {
			const lines = fs.existsSync(auditFile) ? fs.readFileSync(auditFile, 'utf8').split('\n').filter((l) => l.endsWith('}')) : [];
			if (lines.length > n) {
				n = lines.length;
				return { r, a: JSON.parse(lines[lines.length - 1]) };
			}
			await new Promise((res) => setTimeout(res, 20));
		}
		throw new Error('no audit line');
	}

	test('read_query records every relation of the plan: through a view, a subquery, another schema', async () => {
		const { r, a } = await audited('read_query', { database: 'lib', query: 'SELECT (SELECT count(*) FROM extra.t), * FROM cheap JOIN author ON true' });
		assert.ok(!r.isError, resultText(r));
		assert.equal(a.touched.database, 'lib');
		assert.deepEqual([...a.touched.tables].sort(), ['author', 'book', 'extra.t']);
	});

	test('write_query records the table written', async () => {
		const { r, a } = await audited('write_query', { database: 'rw', query: "INSERT INTO note(body) VALUES ('audited')" });
		assert.ok(!r.isError, resultText(r));
		assert.deepEqual(a.touched, { database: 'rw', tables: ['note'] });
		pg.psql('TRUNCATE shop.note');
	});

	// A statement the plan check refused records no table; one the server
	// refused while running (a write in a READ ONLY transaction) ran
	// against its tables, and records them.
	test('refusals carry their rule; no table recorded for those the plan check refused', async () => {
		const cases = [
			['read_query', { database: 'lib', query: 'SELECT * FROM secret.keys' }, 'sql.schema_not_allowed'],
			['read_query', { database: 'lib', query: 'SELECT 1; SELECT 2' }, 'sql.multiple_statements'],
			['read_query', { database: 'lib', query: 'SHOW search_path' }, 'sql.statement_refused'],
			['read_query', { database: 'rw', query: 'DELETE FROM note' }, 'sql.read_only', ['note']],
			['write_query', { database: 'lib', query: 'DELETE FROM note' }, 'sql.read_only'],
			['read_query', { database: 'lib', query: 'SELECT $1::int', params: [] }, 'sql.params_count'],
			['read_query', { database: 'lib', query: 'SELECT pg_sleep(5)' }, 'limits.timeout'],
		];
		for (const [tool, args, rule, tables] of cases) {
			const { r, a } = await audited(tool, args);
			assert.equal(r.isError, true, `${args.query}: ${resultText(r)}`);
			assert.equal(a.rule, rule, `${args.query}: ${resultText(r)}`);
			assert.deepEqual(a.touched?.tables, tables, args.query);
		}
	});

	test('never query text or values', () => {
		const text = fs.readFileSync(auditFile, 'utf8');
		assert.ok(!/SELECT|audited|Earthsea/.test(text), text.slice(0, 500));
	});
});

describe('restart', () => {
	test('a server restart gives one clear error, then works again', async () => {
		assert.deepEqual((await rows({ query: 'SELECT 1 AS one' })).rows, [[1]]);
		pg.restart();
		const r = await call('read_query', { database: 'lib', query: 'SELECT 2 AS two' });
		if (r.isError) assert.match(resultText(r), /connection to PostgreSQL was lost|terminat/);
		assert.deepEqual((await rows({ query: 'SELECT 3 AS three' })).rows, [[3]]);
	});

	test('a host name is resolved once at start-up and pinned: reconnects need no resolver', async () => {
		const d = makeTempDir('moat-pg-name-');
		const nameEnv = { ...process.env, DATABASE_URL: `postgresql://moat_ro@localhost:${pg.port}/postgres` };
		writeConfig(d, { databases: { n: { type: 'postgres', url: '${DATABASE_URL}', schemas: ['shop'] } } });
		const check = runMoat(['check', '--config', `${d}/moat.json`], { env: nameEnv });
		assert.equal(check.code, 0, check.stderr);
		assert.match(check.stdout, /resolved at start-up and pinned: [0-9a-f:.,]+/);
		assert.match(check.stdout, new RegExp(`connect only to port ${pg.port}\\b`), 'no port 53: the sandbox allows no resolver');
		const n = await connectClient(`${d}/moat.json`, { env: nameEnv });
		try {
			const q = (sql) => n.client.callTool({ name: 'read_query', arguments: { query: sql } });
			assert.deepEqual((await q('SELECT 1 AS one')).structuredContent.rows, [[1]]);
			pg.restart();
			await q('SELECT 2 AS two'); // may find its connection dead
			const r = await q('SELECT 3 AS three');
			assert.ok(!r.isError, `a reconnect by host name under the sandbox: ${resultText(r)}`);
			assert.deepEqual(r.structuredContent.rows, [[3]]);
		} finally {
			await n.close();
		}
	});

	test('over a Unix socket: works under the sandbox, and reconnects after a restart', async () => {
		const d = makeTempDir('moat-pg-unix-');
		const sockEnv = { ...process.env, DATABASE_URL: `postgresql://moat_ro@/postgres?host=${encodeURIComponent(pg.dir)}&port=${pg.port}` };
		writeConfig(d, { databases: { u: { type: 'postgres', url: '${DATABASE_URL}', schemas: ['shop'] } } });
		const check = runMoat(['check', '--config', `${d}/moat.json`], { env: sockEnv });
		assert.equal(check.code, 0, check.stderr);
		assert.match(check.stdout, /TCP\s+bind and connect denied/, 'a socket connection needs no TCP grant');
		const u = await connectClient(`${d}/moat.json`, { env: sockEnv });
		try {
			const q = (sql) => u.client.callTool({ name: 'read_query', arguments: { query: sql } });
			let r = await q('SELECT count(*) AS n FROM author');
			assert.ok(!r.isError, resultText(r));
			assert.deepEqual(r.structuredContent.rows, [[2]]);
			pg.restart();
			r = await q('SELECT 2 AS two');
			if (r.isError) assert.match(resultText(r), /connection to PostgreSQL was lost|terminat/);
			r = await q('SELECT 3 AS three');
			assert.ok(!r.isError, `the reconnect over the socket after the sandbox is on: ${resultText(r)}`);
			assert.deepEqual(r.structuredContent.rows, [[3]]);
		} finally {
			await u.close();
		}
	});
});
