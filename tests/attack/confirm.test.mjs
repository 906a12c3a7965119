// confirm.test.mjs - "confirm": {"fs": true, "write_query": true}: a write
// happens only after the person explicitly accepts it through the client.
// Every refusal is followed by the same proof: the files under the
// writable root and every row of the SQLite database are unchanged.
//   - initialize era (the official SDK 1.x client): the client declines,
//     accepts without checking the box, or has no elicitation capability;
//   - 2026-07-28 over stdio: no elicitation capability (-32021), a forged
//     inputResponses without a requestState (asked again), one with a
//     requestState issued for other arguments or another tool (-32602);
// and an accepted confirmation writes, in both eras.
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { RawSession, connectClient, snapshot } from './fixture.mjs';
import { assertToolError, makeTempDir, resultText, writeConfig } from '../e2e/helpers.mjs';

function sqlite(file, sql) {
	const r = spawnSync('sqlite3', [file], { input: sql, encoding: 'utf8' });
	assert.equal(r.status, 0, `sqlite3 failed: ${r.stderr}`);
	return r.stdout;
}

let base, rw, db, cfg;
const state = () => ({ tree: snapshot(rw), rows: sqlite(db, '.dump') });

before(() => {
	base = fs.realpathSync(makeTempDir('moat-confirm-'));
	rw = path.join(base, 'rw');
	fs.mkdirSync(rw);
	fs.mkdirSync(path.join(base, 'db'));
	fs.writeFileSync(path.join(rw, 'a.txt'), 'alpha\n');
	fs.writeFileSync(path.join(rw, 'b.txt'), 'beta\n');
	db = path.join(base, 'db', 'app.db');
	sqlite(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t VALUES (1, 'one');");
	cfg = writeConfig(base, {
		roots: [{ path: 'rw', write: true }],
		databases: { app: { type: 'sqlite', path: 'db/app.db', write: true, tables: ['t'] } },
		confirm: { fs: true, write_query: true },
	});
});

// The four writes, each on something that exists.
const WRITES = [
	['write_file', { path: 'new.txt', content: 'written\n' }],
	['edit_file', { path: 'a.txt', edits: [{ oldText: 'alpha', newText: 'ALPHA' }] }],
	['move_file', { source: 'b.txt', destination: 'moved.txt' }],
	['write_query', { database: 'app', query: "INSERT INTO t VALUES (2, 'two')" }],
];

/** An SDK 1.x client whose elicitation handler answers with answer(req). */
async function oldClient(answer, caps = { elicitation: {} }) {
	const c = await connectClient(cfg, { capabilities: caps });
	const asked = [];
	if (caps.elicitation) {
		c.client.setRequestHandler(ElicitRequestSchema, async (req) => {
			asked.push(req.params);
			return answer(req);
		});
	}
	return { c, asked };
}

describe('confirm: initialize era (SDK 1.x client)', () => {
	test('the client declines: nothing written', async () => {
		const before_ = state();
		const { c, asked } = await oldClient(() => ({ action: 'decline' }));
		try {
			for (const [name, args] of WRITES) {
				const res = await c.client.callTool({ name, arguments: args });
				assertToolError(res, /did not allow/, name);
			}
			assert.equal(asked.length, WRITES.length, 'one question per call');
			assert.match(asked[0].message, /write_file/);
			assert.match(asked[0].message, /new\.txt/);
			assert.equal(asked[0].requestedSchema.properties.confirm.type, 'boolean');
		} finally {
			await c.close();
		}
		assert.deepEqual(state(), before_);
	});

	test('accepted without the box checked, or cancelled: nothing written', async () => {
		const before_ = state();
		let n = 0;
		const { c } = await oldClient(() =>
			n++ % 2 ? { action: 'cancel' } : { action: 'accept', content: { confirm: false } },
		);
		try {
			for (const [name, args] of WRITES) {
				assertToolError(await c.client.callTool({ name, arguments: args }), /did not allow/);
				assertToolError(await c.client.callTool({ name, arguments: args }), /did not allow/);
			}
		} finally {
			await c.close();
		}
		assert.deepEqual(state(), before_);
	});

	test('a client without the elicitation capability: nothing written', async () => {
		const before_ = state();
		const { c } = await oldClient(null, {});
		try {
			for (const [name, args] of WRITES) {
				const res = await c.client.callTool({ name, arguments: args });
				assertToolError(res, /confirmation/, /elicitation/);
			}
			// A read needs no confirmation.
			const r = await c.client.callTool({ name: 'read_text_file', arguments: { path: 'a.txt' } });
			assert.equal(r.isError, false);
		} finally {
			await c.close();
		}
		assert.deepEqual(state(), before_);
	});
});

/** A 2026-07-28 tools/call over stdio; resolves with the response. */
let nextId = 1;
async function call(s, name, args, caps, extra = {}) {
	const id = nextId++;
	s.send({
		jsonrpc: '2.0',
		id,
		method: 'tools/call',
		params: {
			name,
			arguments: args,
			...extra,
			_meta: {
				'io.modelcontextprotocol/protocolVersion': '2026-07-28',
				'io.modelcontextprotocol/clientCapabilities': caps,
			},
		},
	});
	return s.response(id);
}

const ACCEPT = { moat_confirm: { action: 'accept', content: { confirm: true } } };

describe('confirm: 2026-07-28 over stdio', () => {
	test('no elicitation capability, forged answers, a state for something else: nothing written', async () => {
		const before_ = state();
		const s = new RawSession(cfg);
		try {
			for (const [name, args] of WRITES) {
				// Without the capability: -32021 naming elicitation.
				let r = await call(s, name, args, {});
				assert.equal(r.error?.code, -32021, JSON.stringify(r));
				assert.deepEqual(r.error.data.requiredCapabilities, { elicitation: {} });
				// Without the capability, with a forged answer: the same.
				r = await call(s, name, args, {}, { inputResponses: ACCEPT });
				assert.equal(r.error?.code, -32021, JSON.stringify(r));
				// With it, a forged answer and no requestState: asked (again).
				r = await call(s, name, args, { elicitation: {} }, { inputResponses: ACCEPT });
				assert.equal(r.result?.resultType, 'input_required', JSON.stringify(r));
				assert.equal(r.result.inputRequests.moat_confirm.method, 'elicitation/create');
				const st = r.result.requestState;
				// A made-up requestState: -32602 state.tampered.
				r = await call(s, name, args, { elicitation: {} }, { inputResponses: ACCEPT, requestState: 'AAAA' + st.slice(4) });
				assert.equal(r.error?.code, -32602);
				assert.equal(r.error.data.rule, 'state.tampered');
				// The answer with the state, but other arguments or another tool.
				const other =
					name === 'write_query'
						? { ...args, query: 'DELETE FROM t' }
						: name === 'move_file'
							? { ...args, destination: 'elsewhere.txt' }
							: { ...args, path: 'b.txt' };
				r = await call(s, name, other, { elicitation: {} }, { inputResponses: ACCEPT, requestState: st });
				assert.equal(r.error?.code, -32602, JSON.stringify(r));
				assert.equal(r.error.data.rule, 'state.wrong_arguments');
				const [tool2, args2] = name === 'write_file' ? WRITES[1] : WRITES[0];
				r = await call(s, tool2, args2, { elicitation: {} }, { inputResponses: ACCEPT, requestState: st });
				assert.equal(r.error?.code, -32602, JSON.stringify(r));
				assert.match(r.error.data.rule, /^state\.wrong_(tool|arguments)$/);
				// Declined with the state.
				r = await call(s, name, args, { elicitation: {} }, {
					inputResponses: { moat_confirm: { action: 'decline' } },
					requestState: st,
				});
				assert.equal(r.result?.isError, true, JSON.stringify(r));
				assert.match(r.result.content[0].text, /did not allow/);
			}
		} finally {
			s.proc.stdin.end();
			await s.exited;
		}
		assert.deepEqual(state(), before_);
	});

	test('accepted through a requestState: the write happens', async () => {
		const s = new RawSession(cfg);
		try {
			const args = { path: 'stateless.txt', content: 'new era\n' };
			let r = await call(s, 'write_file', args, { elicitation: {} });
			assert.equal(r.result?.resultType, 'input_required');
			assert.ok(!fs.existsSync(path.join(rw, 'stateless.txt')), 'nothing written in round 1');
			r = await call(s, 'write_file', args, { elicitation: {} }, {
				inputResponses: ACCEPT,
				requestState: r.result.requestState,
			});
			assert.equal(r.result?.isError, false, JSON.stringify(r));
			assert.equal(fs.readFileSync(path.join(rw, 'stateless.txt'), 'utf8'), 'new era\n');
			const q = { database: 'app', query: "INSERT INTO t VALUES (3, 'three')" };
			r = await call(s, 'write_query', q, { elicitation: {} });
			r = await call(s, 'write_query', q, { elicitation: {} }, { inputResponses: ACCEPT, requestState: r.result.requestState });
			assert.equal(r.result?.isError, false, JSON.stringify(r));
			assert.match(sqlite(db, 'SELECT v FROM t WHERE id = 3;'), /three/);
		} finally {
			s.proc.stdin.end();
			await s.exited;
		}
	});
});

describe('confirm: accepted in the initialize era', () => {
	test('the write happens after an explicit accept', async () => {
		const { c, asked } = await oldClient(() => ({ action: 'accept', content: { confirm: true } }));
		try {
			for (const [name, args] of WRITES) {
				const res = await c.client.callTool({ name, arguments: args });
				assert.equal(res.isError, false, `${name}: ${resultText(res)}`);
			}
			assert.equal(asked.length, WRITES.length);
		} finally {
			await c.close();
		}
		assert.equal(fs.readFileSync(path.join(rw, 'new.txt'), 'utf8'), 'written\n');
		assert.equal(fs.readFileSync(path.join(rw, 'a.txt'), 'utf8'), 'ALPHA\n');
		assert.ok(fs.existsSync(path.join(rw, 'moved.txt')) && !fs.existsSync(path.join(rw, 'b.txt')));
		assert.match(sqlite(db, 'SELECT v FROM t WHERE id = 2;'), /two/);
	});
});
