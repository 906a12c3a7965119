// request_state.test.mjs - attacks on the requestState of 2026-07-28
// multi-round calls. The victim is write_file under "confirm": {"fs": true}:
// round 1 answers input_required with a sealed requestState, and a retry
// that carries an accepted confirmation with that state writes the file.
// Every retry below carries the accepted confirmation, and each must be
// refused with -32602 naming the rule, and nothing written:
//   - the state changed (one character, cut, extended, another key's);
//   - the state expired (server.state_ttl_seconds: 1);
//   - a state whose confirmation was already used, sent again;
//   - the state sent with another tool, or other arguments;
//   - over HTTP with two static tokens, the state of one principal sent by
//     the other;
// and, with one server.state_key, two processes accept each other's states.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { RawSession, sleep, snapshot } from './fixture.mjs';
import { makeTempDir, writeConfig } from '../e2e/helpers.mjs';
import { post, messageOf, startListener } from './http_fixture.mjs';

const META = {
	'io.modelcontextprotocol/protocolVersion': '2026-07-28',
	'io.modelcontextprotocol/clientCapabilities': { elicitation: {} },
};
const ACCEPT = { moat_confirm: { action: 'accept', content: { confirm: true } } };
const ARGS = { path: 'victim.txt', content: 'should never be written\n' };

/** A writable root (rw/a.txt) and a config; returns { cfg, rw }. */
function scene(extra = {}) {
	const base = fs.realpathSync(makeTempDir('moat-rstate-'));
	const rw = path.join(base, 'rw');
	fs.mkdirSync(rw);
	fs.writeFileSync(path.join(rw, 'a.txt'), 'alpha\n');
	return { rw, cfg: writeConfig(base, { roots: [{ path: 'rw', write: true }], confirm: { fs: true }, ...extra }) };
}

let nextId = 1;
async function call(s, name, args, extra = {}) {
	const id = nextId++;
	s.send({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args, ...extra, _meta: META } });
	return s.response(id);
}

function refused(r, rule) {
	assert.equal(r.error?.code, -32602, JSON.stringify(r));
	assert.equal(r.error.data?.rule, rule, JSON.stringify(r.error));
}

describe('requestState over stdio', () => {
	let s, rw, before_;
	before(() => {
		const sc = scene({ server: { state_ttl_seconds: 1 } });
		rw = sc.rw;
		before_ = snapshot(rw);
		s = new RawSession(sc.cfg);
	});
	after(async () => {
		s.proc.stdin.end();
		const e = await s.exited;
		assert.equal(e.code, 0, s.stderrText);
		assert.deepEqual(snapshot(rw), before_, 'nothing was written');
		assert.ok(!s.stderrText.includes('should never'), 'no argument values in the logs');
	});

	test('a changed, cut, extended or foreign state is tampered', async () => {
		const r1 = await call(s, 'write_file', ARGS);
		assert.equal(r1.result?.resultType, 'input_required', JSON.stringify(r1));
		const st = r1.result.requestState;
		assert.match(st, /^[A-Za-z0-9_-]+$/);
		const flips = [0, 1, 5, Math.floor(st.length / 2), st.length - 20, st.length - 2];
		for (const i of flips) {
			const bad = st.slice(0, i) + (st[i] === 'A' ? 'B' : 'A') + st.slice(i + 1);
			refused(await call(s, 'write_file', ARGS, { inputResponses: ACCEPT, requestState: bad }), 'state.tampered');
		}
		refused(await call(s, 'write_file', ARGS, { inputResponses: ACCEPT, requestState: st.slice(0, -4) }), 'state.tampered');
		refused(await call(s, 'write_file', ARGS, { inputResponses: ACCEPT, requestState: st + 'AAAA' }), 'state.tampered');
		refused(await call(s, 'write_file', ARGS, { inputResponses: ACCEPT, requestState: `${st}-TAMPERED` }), 'state.tampered');
		// Sealed by another moat process (another random key).
		const other = new RawSession(scene().cfg);
		const o1 = await call(other, 'write_file', ARGS);
		other.proc.stdin.end();
		await other.exited;
		refused(
			await call(s, 'write_file', ARGS, { inputResponses: ACCEPT, requestState: o1.result.requestState }),
			'state.tampered',
		);
		// Not a string at all.
		refused(await call(s, 'write_file', ARGS, { inputResponses: ACCEPT, requestState: { v: 1 } }), 'state.malformed');
		refused(await call(s, 'write_file', ARGS, { inputResponses: ACCEPT, requestState: '' }), 'state.malformed');
	});

	test('another tool or other arguments', async () => {
		const r1 = await call(s, 'write_file', ARGS);
		const st = r1.result.requestState;
		refused(
			await call(s, 'edit_file', { path: 'a.txt', edits: [{ oldText: 'alpha', newText: 'x' }] }, { inputResponses: ACCEPT, requestState: st }),
			'state.wrong_tool',
		);
		refused(
			await call(s, 'write_file', { ...ARGS, path: 'a.txt' }, { inputResponses: ACCEPT, requestState: st }),
			'state.wrong_arguments',
		);
		refused(
			await call(s, 'write_file', { ...ARGS, content: 'other\n' }, { inputResponses: ACCEPT, requestState: st }),
			'state.wrong_arguments',
		);
	});

	test('a confirmed state replayed within its lifetime', async () => {
		const args = { path: 'once.txt', content: 'once\n' };
		const r1 = await call(s, 'write_file', args);
		const st = r1.result.requestState;
		const r2 = await call(s, 'write_file', args, { inputResponses: ACCEPT, requestState: st });
		assert.equal(r2.result?.isError, false, JSON.stringify(r2));
		fs.rmSync(path.join(rw, 'once.txt'));
		refused(await call(s, 'write_file', args, { inputResponses: ACCEPT, requestState: st }), 'state.replayed');
		assert.ok(!fs.existsSync(path.join(rw, 'once.txt')), 'the replay wrote nothing');
	});

	test('replayed after expiry', async () => {
		const r1 = await call(s, 'write_file', ARGS);
		const st = r1.result.requestState;
		await sleep(2100);
		refused(await call(s, 'write_file', ARGS, { inputResponses: ACCEPT, requestState: st }), 'state.expired');
	});
});

describe('requestState across processes', () => {
	test('one server.state_key: a state of one process opens in the other; none: refused', async () => {
		const key = 'ab'.repeat(32);
		const sc = scene({ server: { state_key: '${RS_STATE_KEY}' } });
		const env = { RS_STATE_KEY: key };
		const a = new RawSession(sc.cfg, { env });
		const b = new RawSession(sc.cfg, { env });
		const args = { path: 'shared.txt', content: 'shared\n' };
		try {
			const r1 = await call(a, 'write_file', args);
			assert.equal(r1.result?.resultType, 'input_required');
			const r2 = await call(b, 'write_file', args, { inputResponses: ACCEPT, requestState: r1.result.requestState });
			assert.equal(r2.result?.isError, false, JSON.stringify(r2));
			assert.equal(fs.readFileSync(path.join(sc.rw, 'shared.txt'), 'utf8'), 'shared\n');
		} finally {
			for (const s of [a, b]) {
				s.proc.stdin.end();
				await s.exited;
			}
		}
		assert.ok(!a.stderrText.includes(key) && !b.stderrText.includes(key), 'the key is never logged');
	});
});

describe('requestState over HTTP: another principal', () => {
	const ALICE = 'alice-token-0123456789abcdef0123456789';
	const BOB = 'bob-token-0123456789abcdef0123456789';
	let m, rw, before_;
	before(async () => {
		const { cfg, rw: dir } = scene({
			auth: {
				tokens: [
					{ name: 'alice', token: '${RS_TOKEN_ALICE}', tools: ['*'] },
					{ name: 'bob', token: '${RS_TOKEN_BOB}', tools: ['*'] },
				],
			},
		});
		rw = dir;
		before_ = snapshot(rw);
		m = await startListener(cfg, { env: { RS_TOKEN_ALICE: ALICE, RS_TOKEN_BOB: BOB } });
	});
	after(async () => {
		const e = await m.stop();
		assert.equal(e.code, 0, m.stderr());
		assert.deepEqual(snapshot(rw), before_, 'nothing was written');
	});

	const send = (token, args, extra = {}) =>
		post(
			m.port,
			{ jsonrpc: '2.0', id: nextId++, method: 'tools/call', params: { name: 'write_file', arguments: args, ...extra, _meta: META } },
			{
				Authorization: `Bearer ${token}`,
				'MCP-Protocol-Version': '2026-07-28',
				'Mcp-Method': 'tools/call',
				'Mcp-Name': 'write_file',
			},
		);

	test("bob cannot use alice's state", async (t) => {
		const r1 = await send(ALICE, ARGS);
		const m1 = messageOf(r1);
		if (m1?.error?.data?.rule === 'http.session_missing') {
			t.skip('this build serves no sessionless (2026-07-28) HTTP requests yet');
			return;
		}
		assert.equal(m1.result?.resultType, 'input_required', JSON.stringify(m1));
		const r2 = await send(BOB, ARGS, { inputResponses: ACCEPT, requestState: m1.result.requestState });
		assert.equal(r2.status, 400);
		refused(messageOf(r2), 'state.wrong_principal');
	});
});
