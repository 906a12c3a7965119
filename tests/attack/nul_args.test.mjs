// nul_args.test.mjs - a NUL byte (\u0000, valid JSON) in every kind of
// argument: a path, a pattern, SQL text, a SQL parameter, a database name, a
// revision, a repository name, a URL, an API path and query value. Each is
// refused by name before any handler runs, answered with the request's id,
// and afterwards nothing changed: the files under the root, the database's
// rows, the repository, and the canary upstream got no request. Only file
// content (write_file's content) may hold NUL bytes, and is written whole.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { RawSession, LATEST_VERSION, makeTempDir, writeConfig, assertNoSanitizerReport } from '../e2e/helpers.mjs';
import { startUpstream } from '../e2e/http_upstream.mjs';
import { buildMain } from '../e2e/git_fixture.mjs';
import { snapshot } from './fixture.mjs';

let base, root, db, repo, up, cfg, s, rootBefore, repoBefore;

const rows = () => execFileSync('sqlite3', [db, 'SELECT group_concat(x) FROM t']).toString().trim();

before(async () => {
	base = fs.realpathSync(makeTempDir('moat-attack-nul-'));
	root = path.join(base, 'root');
	fs.mkdirSync(root);
	fs.writeFileSync(path.join(root, 'a.txt'), 'alpha\n');
	fs.mkdirSync(path.join(base, 'outside'));
	fs.writeFileSync(path.join(base, 'outside', 'secret.txt'), 'NUL-SECRET\n');
	db = path.join(base, 'db.sqlite');
	execFileSync('sqlite3', [db, 'CREATE TABLE t(x TEXT); INSERT INTO t VALUES (1), (2);']);
	repo = buildMain(base).dir;
	up = await startUpstream({ routes: { '/': (req, res) => res.end('{}') } });
	cfg = writeConfig(base, {
		roots: [{ path: root, write: true }],
		databases: { db: { type: 'sqlite', path: db, write: true } },
		git: { repositories: [{ path: repo, name: 'repo' }] },
		http: {
			fetch: { allow_addresses: ['127.0.0.1'], allow_http: true },
			apis: {
				crm: {
					base_url: `http://127.0.0.1:${up.port}/api`,
					allow_http: true,
					allow_addresses: ['127.0.0.1'],
					tools: [
						{
							name: 'get_item',
							description: 'an item',
							method: 'GET',
							path: '/item/{id}',
							query: { q: '{q}' },
							input_schema: { type: 'object', properties: { id: { type: 'string' }, q: { type: 'string' } }, required: ['id'] },
						},
					],
				},
			},
		},
		log: { audit_file: path.join(base, 'audit.jsonl') },
	});
	rootBefore = snapshot(root);
	repoBefore = snapshot(repo);
	s = new RawSession(cfg);
	await s.initialize(LATEST_VERSION);
});

after(async () => {
	s?.proc.stdin.end();
	await s?.exited;
	await up?.close?.();
	assertNoSanitizerReport(s?.stderrText ?? '');
});

const N = (t) => t.replaceAll('\u0000', '\\u0000');
// [tool, arguments as JSON text with \u0000 escapes, the pointer named]
const CASES = [
	['read_text_file', `{"path":"a.txt\\u0000/../../outside/secret.txt"}`, '/path'],
	['write_file', `{"path":"new\\u0000.txt","content":"x"}`, '/path'],
	['edit_file', `{"path":"a.txt\\u0000","edits":[{"oldText":"alpha","newText":"beta"}]}`, '/path'],
	['move_file', `{"source":"a.txt","destination":"b\\u0000.txt"}`, '/destination'],
	['create_directory', `{"path":"d\\u0000ir"}`, '/path'],
	['search_files', `{"path":".","pattern":"*\\u0000"}`, '/pattern'],
	['directory_tree', `{"path":".","excludePatterns":["a\\u0000"]}`, '/excludePatterns/0'],
	['read_query', `{"database":"db","query":"SELECT 1\\u0000; DELETE FROM t"}`, '/query'],
	['write_query', `{"database":"db","query":"DELETE FROM t WHERE x = ?","params":["1\\u0000"]}`, '/params/0'],
	['write_query', `{"database":"db\\u0000","query":"DELETE FROM t"}`, '/database'],
	['git_show', `{"repo_path":"repo","revision":"HEAD\\u0000--output=/tmp/moat-nul"}`, '/revision'],
	['git_log', `{"repo_path":"repo\\u0000/../.."}`, '/repo_path'],
	['fetch', `{"url":"http://127.0.0.1:PORT/\\u0000"}`, '/url'],
	['get_item', `{"id":"1\\u0000admin"}`, '/id'],
	['get_item', `{"id":"1","q":"x\\u0000y"}`, '/q'],
];

describe('a NUL byte in any argument', () => {
	test('is refused by name, with the id, and nothing is touched', async () => {
		for (const [i, [tool, args, where]] of CASES.entries()) {
			const id = `nul-${i}`;
			s.send(`{"jsonrpc":"2.0","id":"${id}","method":"tools/call","params":{"name":"${tool}","arguments":${args.replace('PORT', up.port)}}}`);
			const r = await s.response(id);
			assert.equal(r.result?.isError, true, `${tool} ${N(args)}: ${JSON.stringify(r)}`);
			const text = r.result.content[0].text;
			assert.match(text, new RegExp(`invalid arguments: ${where}: contains a NUL byte`), `${tool}: ${text}`);
			assert.doesNotMatch(text, /NUL-SECRET|outside|admin/, 'the refusal quotes no value');
		}
		await s.assertAlive();
		assert.equal(up.requests.length, 0, 'the upstream got no request');
		assert.equal(rows(), '1,2', 'the database rows are unchanged');
		assert.deepEqual(snapshot(root), rootBefore, 'nothing under the root changed');
		assert.deepEqual(snapshot(repo), repoBefore, 'the repository is unchanged');
		assert.ok(!fs.existsSync('/tmp/moat-nul'), 'no file was written by a revision');
		const audit = fs.readFileSync(path.join(base, 'audit.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
		const refusals = audit.filter((a) => a.rule === 'schema.nul_byte');
		assert.equal(refusals.length, CASES.length, 'each refusal audited with its rule');
	});

	test('file content may hold NUL bytes where writing is allowed: written whole', async () => {
		const r = await s.request('tools/call', { name: 'write_file', arguments: { path: path.join(root, 'bin.dat'), content: 'a\u0000b' } });
		assert.equal(r.result.isError, false, JSON.stringify(r));
		assert.deepEqual([...fs.readFileSync(path.join(root, 'bin.dat'))], [0x61, 0x00, 0x62]);
		fs.unlinkSync(path.join(root, 'bin.dat'));
	});
});
