// sql_audit.test.mjs - what the sql family writes to the audit trail
// (DESIGN.md §9): every call records the database it used and the tables
// its statement read or wrote (SQLite: from the authorizer, so through
// views, CTEs and subqueries; not a CTE's own name), and a refusal records
// the stable id of the rule that refused it. Query text, params and row
// values never appear. PostgreSQL's side (tables from the plan) is in
// sql_postgres.test.mjs.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { connectClient, makeTempDir, resultText, writeConfig } from './helpers.mjs';

function sqlite(file, sql) {
	const r = spawnSync('sqlite3', [file], { input: sql, encoding: 'utf8' });
	assert.equal(r.status, 0, `sqlite3 failed: ${r.stderr}`);
}

let dir, c, auditFile;

before(async () => {
	dir = makeTempDir('moat-sql-audit-');
	sqlite(path.join(dir, 'lib.db'), `
CREATE TABLE author(id INTEGER PRIMARY KEY, name TEXT);
CREATE TABLE book(id INTEGER PRIMARY KEY, title TEXT, author_id INTEGER);
CREATE TABLE secret(k TEXT);
CREATE VIEW titles AS SELECT b.title, a.name FROM book b JOIN author a ON a.id = b.author_id;
INSERT INTO author VALUES (1, 'Le Guin'); INSERT INTO book VALUES (1, 'Earthsea', 1);
INSERT INTO secret VALUES ('VALUE-NEVER-AUDITED');`);
	fs.mkdirSync(path.join(dir, 'rw'));
	sqlite(path.join(dir, 'rw', 'notes.db'), 'CREATE TABLE note(id INTEGER PRIMARY KEY, body TEXT);');
	auditFile = path.join(dir, 'audit.jsonl');
	writeConfig(dir, {
		databases: {
			lib: { type: 'sqlite', path: 'lib.db', tables: ['author', 'book', 'titles'] },
			open: { type: 'sqlite', path: 'lib.db', timeout_ms: 300 },
			notes: { type: 'sqlite', path: 'rw/notes.db', write: true },
		},
		log: { audit_file: auditFile },
	});
	c = await connectClient(path.join(dir, 'moat.json'));
});

after(async () => {
	await c?.close();
});

// Call a tool and return the audit line written for it (the last one).
async function audited(name, args) {
	const r = await c.client.callTool({ name, arguments: args });
	for (let i = 0; i < 50; i++) {
		const lines = fs.existsSync(auditFile) ? fs.readFileSync(auditFile, 'utf8').split('\n').filter((l) => l.endsWith('}')) : [];
		const last = lines.length ? JSON.parse(lines[lines.length - 1]) : null;
		if (last && last.tool === name && lines.length > (audited.n ?? 0)) {
			audited.n = lines.length;
			return { r, a: last };
		}
		await new Promise((res) => setTimeout(res, 20));
	}
	throw new Error('no audit line');
}

describe('touched', () => {
	test('read_query: the database and every table read, through a view and a CTE', async () => {
		const { r, a } = await audited('read_query', { database: 'lib', query: 'WITH t AS (SELECT * FROM titles) SELECT count(*) FROM t, book' });
		assert.ok(!r.isError, resultText(r));
		assert.equal(a.touched.database, 'lib');
		assert.deepEqual([...a.touched.tables].sort(), ['author', 'book', 'titles']);
		assert.equal(a.rule, undefined);
	});

	test('write_query: the table written', async () => {
		const { r, a } = await audited('write_query', { database: 'notes', query: "INSERT INTO note(body) VALUES ('x')" });
		assert.ok(!r.isError, resultText(r));
		assert.deepEqual(a.touched, { database: 'notes', tables: ['note'] });
	});

	test('describe_table and list_tables', async () => {
		let { a } = await audited('describe_table', { database: 'lib', table_name: 'BOOK' });
		assert.deepEqual(a.touched, { database: 'lib', tables: ['book'] });
		({ a } = await audited('list_tables', { database: 'lib' }));
		assert.deepEqual(a.touched, { database: 'lib' });
	});

	test('a refused statement records no table', async () => {
		const { a } = await audited('read_query', { database: 'lib', query: 'SELECT * FROM book, secret' });
		assert.equal(a.touched.database, 'lib');
		assert.equal(a.touched.tables, undefined);
		assert.equal(a.rule, 'sql.table_not_allowed');
	});

	test('never query text, params or values', () => {
		const text = fs.readFileSync(auditFile, 'utf8');
		assert.ok(!text.includes('SELECT'), 'no query text');
		assert.ok(!text.includes('Earthsea') && !text.includes('VALUE-NEVER-AUDITED'), 'no values');
	});
});

describe('rule ids', () => {
	const cases = [
		['read_query', { database: 'lib', query: 'SELECT * FROM secret' }, 'sql.table_not_allowed'],
		['read_query', { database: 'lib', query: 'SELECT * FROM sqlite_master' }, 'sql.table_not_allowed'],
		['read_query', { database: 'open', query: 'SELECT 1; SELECT 2' }, 'sql.multiple_statements'],
		['read_query', { database: 'notes', query: "INSERT INTO note(body) VALUES ('x')" }, 'sql.read_only'],
		['write_query', { database: 'lib', query: 'DELETE FROM book' }, 'sql.read_only'],
		['write_query', { database: 'notes', query: 'SELECT 1' }, 'sql.not_a_write'],
		['write_query', { database: 'notes', query: 'BEGIN' }, 'sql.transaction_control'],
		['read_query', { database: 'open', query: "ATTACH 'x.db' AS x" }, 'sql.attach_denied'],
		['read_query', { database: 'open', query: "SELECT load_extension('x')" }, 'sql.function_denied'],
		['read_query', { database: 'open', query: 'PRAGMA journal_mode' }, 'sql.pragma_denied'],
		// the shared connection's memory of earlier calls
		['read_query', { database: 'notes', query: 'SELECT last_insert_rowid()' }, 'sql.function_denied'],
		['read_query', { database: 'notes', query: 'SELECT changes()' }, 'sql.function_denied'],
		['read_query', { database: 'notes', query: 'SELECT total_changes()' }, 'sql.function_denied'],
		['read_query', { database: 'open', query: 'SELECT ?1', params: [] }, 'sql.params_count'],
		['read_query', { database: 'open', query: 'WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r) SELECT count(*) FROM r' }, 'limits.timeout'],
	];
	for (const [tool, args, rule] of cases)
		test(`${rule}: ${tool} ${args.query}`, async () => {
			const { r, a } = await audited(tool, args);
			assert.equal(r.isError, true, resultText(r));
			assert.equal(a.rule, rule, resultText(r));
		});
});
