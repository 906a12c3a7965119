// http_auth.test.mjs - attacks on authentication and per-principal policy
// over moat's HTTP listener with static bearer tokens: missing, wrong,
// truncated and extended tokens; a principal calling a tool outside its
// patterns, directly and inside a batch (each request judged on its own);
// a session id stolen by another principal; /metrics for a principal not
// allowed it; the inbound token forwarded to an upstream API (it must never
// be: declared API tools use their own configured credential); TLS with
// keys the test generates, TLS 1.1 refused. Every refusal is in the audit
// trail with its rule; none leaks whether a hidden tool exists.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { makeTempDir, writeConfig, testingConfig, runMoat } from '../e2e/helpers.mjs';
import { makeTestCA, startUpstream, send } from '../e2e/http_upstream.mjs';
import { INIT, assertSecurityHeaders, callTool, initialize, messageOf, post, request, startListener } from './http_fixture.mjs';

const ALICE = crypto.randomBytes(32).toString('hex');
const BOB = crypto.randomBytes(32).toString('hex');
const UPSTREAM_KEY = 'upstream-key-' + crypto.randomBytes(8).toString('hex');
const bearer = (t) => ({ Authorization: `Bearer ${t}` });

function readTrail(file) {
	return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
}

/** The trail's records matching pred, once ok(records) holds (the writer
 * batches records for up to 50 ms) or 2 s have passed. */
async function trailWhen(file, pred, ok) {
	const until = Date.now() + 2000;
	for (;;) {
		const recs = readTrail(file).filter(pred);
		if (ok(recs) || Date.now() > until) return recs;
		await new Promise((r) => setTimeout(r, 25));
	}
}

describe('HTTP listener: static tokens and tool policy', () => {
	let m, trail, up, ca, cfgPath;
	before(async () => {
		ca = makeTestCA();
		up = await startUpstream({
			tls: { key: ca.key, cert: ca.cert },
			routes: { 'GET /crm/ping': (req, res) => send(res, 200, { pong: true }) },
		});
		const dir = makeTempDir('moat-http-auth-');
		trail = path.join(dir, 'audit.jsonl');
		cfgPath = writeConfig(
			dir,
			testingConfig({
				audit: { file: trail },
				auth: {
					tokens: [
						{ name: 'alice', token: '${MOAT_TOKEN_ALICE}', tools: ['echo', 'add', 'crm_*'] },
						{ name: 'bob', token: '${MOAT_TOKEN_BOB}', tools: ['*'], metrics: true },
					],
				},
				http: {
					apis: {
						crm: {
							base_url: `${up.origin}/crm/`,
							ca_file: ca.caFile,
							allow_addresses: ['127.0.0.1'],
							headers: { Authorization: 'Bearer ${MOAT_UPSTREAM_KEY}' },
							cache: false,
							tools: [{ name: 'crm_ping', description: 'ping', method: 'GET', path: '/ping' }],
						},
					},
				},
			}),
		);
		m = await startListener(cfgPath, { env: { MOAT_TOKEN_ALICE: ALICE, MOAT_TOKEN_BOB: BOB, MOAT_UPSTREAM_KEY: UPSTREAM_KEY } });
	});
	after(async () => {
		const e = await m.stop();
		await up?.close();
		assert.equal(e.code, 0, m.stderr());
		assert.ok(!m.stderr().includes(ALICE) && !m.stderr().includes(BOB), 'no token in the logs');
		const text = fs.existsSync(trail) ? fs.readFileSync(trail, 'utf8') : '';
		assert.ok(!text.includes(ALICE) && !text.includes(BOB), 'no token in the audit trail');
	});

	test('a missing or wrong credential gets 401 with WWW-Authenticate, and opens nothing', async () => {
		const wrong = [
			{},
			{ Authorization: '' },
			{ Authorization: 'Bearer' },
			{ Authorization: 'Bearer ' },
			{ Authorization: `Basic ${Buffer.from(`alice:${ALICE}`).toString('base64')}` },
			bearer(ALICE.slice(0, -1)),
			bearer(ALICE + '0'),
			bearer(ALICE.toUpperCase()),
			bearer(BOB.slice(0, 32)),
			{ Authorization: `Bearer  ${ALICE}` },
			{ Authorization: `bearer${ALICE}` },
			bearer('x'.repeat(10000)),
		];
		for (const h of wrong) {
			const r = await post(m.port, INIT(), h);
			assert.equal(r.status, 401, `${JSON.stringify(h).slice(0, 60)}: ${r.status}`);
			assert.match(r.headers['www-authenticate'] ?? '', /^Bearer\b/);
			assert.equal(r.headers['mcp-session-id'], undefined);
			assertSecurityHeaders(r);
		}
		const bad = await post(m.port, INIT(), bearer(ALICE + '0'));
		assert.match(bad.headers['www-authenticate'], /error="invalid_token"/);
		const refusals = await trailWhen(
			trail,
			(r) => r.kind === 'security' && /^auth\./.test(r.rule ?? ''),
			(rs) => rs.length >= wrong.length,
		);
		assert.ok(refusals.length >= wrong.length, `auth refusals audited: ${refusals.length}`);
		assert.ok(refusals.every((r) => r.addr && r.addr.startsWith('127.0.0.1')), 'with the client address');
	});

	test('each principal sees only its tools; a hidden tool is answered as an unknown one', async () => {
		const a = await initialize(m.port, bearer(ALICE));
		const list = messageOf(await post(m.port, { jsonrpc: '2.0', id: 2, method: 'tools/list' }, a.headers));
		assert.deepEqual(list.result.tools.map((t) => t.name).sort(), ['add', 'crm_ping', 'echo']);
		const b = await initialize(m.port, bearer(BOB));
		const blist = messageOf(await post(m.port, { jsonrpc: '2.0', id: 2, method: 'tools/list' }, b.headers));
		assert.ok(blist.result.tools.length > 3);
		const hidden = messageOf(await post(m.port, { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'slow', arguments: {} } }, a.headers));
		const unknown = messageOf(await post(m.port, { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'no_such_tool', arguments: {} } }, a.headers));
		assert.equal(hidden.error.code, unknown.error.code);
		assert.equal(hidden.error.message.replace('slow', 'X'), unknown.error.message.replace('no_such_tool', 'X'));
		const ok = await callTool(m.port, a.headers, 'echo', { text: 'hi' }, 4);
		assert.equal(ok.result.isError, false);
		const rec = await trailWhen(
			trail,
			(r) => r.rule === 'policy.tool_not_allowed',
			(rs) => rs.some((r) => r.principal === 'alice' && r.tool === 'slow'),
		);
		assert.ok(rec.some((r) => r.principal === 'alice' && r.tool === 'slow'), 'the trail names the hidden call');
	});

	test('inside a batch every request is authorized on its own', async () => {
		const a = await initialize(m.port, bearer(ALICE), '2025-03-26');
		const r = await post(
			m.port,
			[
				{ jsonrpc: '2.0', id: 11, method: 'tools/call', params: { name: 'echo', arguments: { text: 'a' } } },
				{ jsonrpc: '2.0', id: 12, method: 'tools/call', params: { name: 'slow', arguments: {} } },
				{ jsonrpc: '2.0', id: 13, method: 'tools/call', params: { name: 'add', arguments: { a: 1, b: 2 } } },
			],
			a.headers,
		);
		assert.equal(r.status, 200, r.body);
		const arr = messageOf(r);
		assert.ok(Array.isArray(arr));
		const byId = Object.fromEntries(arr.map((x) => [x.id, x]));
		assert.equal(byId[11].result.isError, false);
		assert.equal(byId[12].error.code, -32602);
		assert.match(byId[12].error.message, /unknown tool/);
		assert.equal(byId[13].result.isError, false);
	});

	test('a session id presented by another principal is unknown (404), and without a token 401', async () => {
		const a = await initialize(m.port, bearer(ALICE));
		const stolen = await post(m.port, { jsonrpc: '2.0', id: 5, method: 'tools/list' }, { ...a.headers, ...bearer(BOB) });
		const unknown = await post(m.port, { jsonrpc: '2.0', id: 5, method: 'tools/list' }, { ...a.headers, ...bearer(BOB), 'Mcp-Session-Id': 'a'.repeat(a.sid.length) });
		assert.equal(stolen.status, 404);
		assert.equal(stolen.status, unknown.status);
		assert.equal(stolen.body, unknown.body, 'nothing tells a stolen id from an unknown one');
		const anon = await post(m.port, { jsonrpc: '2.0', id: 5, method: 'tools/list' }, { 'Mcp-Session-Id': a.sid });
		assert.equal(anon.status, 401);
		const del = await request({ port: m.port, method: 'DELETE', headers: { 'Mcp-Session-Id': a.sid, ...bearer(BOB) } });
		assert.equal(del.status, 404, 'bob cannot end alice\'s session');
		const still = await post(m.port, { jsonrpc: '2.0', id: 6, method: 'ping' }, a.headers);
		assert.equal(still.status, 200, 'alice\'s session lives on');
		assert.ok(a.sid.length >= 32 && /^[A-Za-z0-9_-]+$/.test(a.sid), `session id ${a.sid}: 128+ random bits`);
	});

	test('/metrics only for a principal allowed it; /healthz for anyone, revealing nothing', async () => {
		assert.equal((await request({ port: m.port, method: 'GET', path: '/metrics' })).status, 401);
		assert.equal((await request({ port: m.port, method: 'GET', path: '/metrics', headers: bearer(ALICE) })).status, 403);
		const ok = await request({ port: m.port, method: 'GET', path: '/metrics', headers: bearer(BOB) });
		assert.equal(ok.status, 200);
		assert.match(ok.headers['content-type'], /^text\/plain/);
		assert.match(ok.body, /moat_tool_calls_total/);
		assert.ok(!ok.body.includes('alice') && !ok.body.includes(ALICE), 'no principal names or tokens in metrics');
		const h = await request({ port: m.port, method: 'GET', path: '/healthz' });
		assert.equal(h.status, 200);
		assert.ok(h.body.length < 64, `healthz says little: ${h.body}`);
		assert.ok(!/moat\/|version|\d+\.\d+\.\d+/i.test(h.body), 'no version in healthz');
	});

	test('the inbound token never reaches an upstream API; its own credential does', async () => {
		const a = await initialize(m.port, bearer(ALICE));
		up.reset?.();
		const r = await callTool(m.port, a.headers, 'crm_ping', {}, 21);
		assert.equal(r.result.isError, false, JSON.stringify(r));
		const hits = up.hits((q) => q.path === '/crm/ping');
		assert.ok(hits.length >= 1);
		for (const h of hits) {
			assert.equal(h.headers.authorization, `Bearer ${UPSTREAM_KEY}`);
			const all = JSON.stringify(h.headers) + (h.body ?? '');
			assert.ok(!all.includes(ALICE), 'alice\'s token was forwarded');
		}
	});

	test('moat check prints the principals and their patterns, never a token', () => {
		const r = runMoat(['check', '--config', cfgPath], {
			env: { ...process.env, MOAT_TOKEN_ALICE: ALICE, MOAT_TOKEN_BOB: BOB, MOAT_UPSTREAM_KEY: UPSTREAM_KEY },
		});
		assert.equal(r.code, 0, r.stderr);
		assert.match(r.stdout, /alice/);
		assert.match(r.stdout, /echo/);
		assert.ok(!r.stdout.includes(ALICE) && !r.stdout.includes(BOB) && !r.stderr.includes(ALICE));
	});
});

describe('HTTP listener: start-up refusals and TLS', () => {
	test('a non-loopback address without auth, or without TLS, does not start', () => {
		const dir = makeTempDir('moat-http-refuse-');
		const cfg = writeConfig(dir, testingConfig());
		let r = runMoat(['serve', '--config', cfg, '--http', '0.0.0.0:0'], { timeoutMs: 5000 });
		assert.notEqual(r.code, 0);
		assert.match(r.stderr, /auth/);
		const cfg2 = writeConfig(dir, testingConfig({ auth: { tokens: [{ name: 'a', token: '${T}', tools: ['*'] }] } }), 'b.json');
		r = runMoat(['serve', '--config', cfg2, '--http', '0.0.0.0:0'], { timeoutMs: 5000, env: { ...process.env, T: ALICE } });
		assert.notEqual(r.code, 0);
		assert.match(r.stderr, /tls|insecure_plaintext/i);
	});

	test('TLS: a generated key serves HTTPS with HSTS; TLS 1.1 is refused', async () => {
		const ca = makeTestCA();
		const dir = makeTempDir('moat-http-tls-');
		const cfg = writeConfig(
			dir,
			testingConfig({
				listen: { tls: { cert: path.join(ca.dir, 'server.pem'), key: path.join(ca.dir, 'server.key') } },
				auth: { tokens: [{ name: 'alice', token: '${MOAT_TOKEN_ALICE}', tools: ['*'] }] },
			}),
		);
		const m = await startListener(cfg, { env: { MOAT_TOKEN_ALICE: ALICE } });
		try {
			assert.equal(m.tls, true);
			const r = await post(m.port, INIT(), bearer(ALICE), { tls: true, ca: ca.ca });
			assert.equal(r.status, 200, r.body);
			assertSecurityHeaders(r, { tls: true });
			const old = await new Promise((resolve) => {
				const s = tls.connect({ host: '127.0.0.1', port: m.port, ca: ca.ca, minVersion: 'TLSv1', maxVersion: 'TLSv1.1', servername: 'localhost' });
				s.on('secureConnect', () => {
					s.destroy();
					resolve('connected');
				});
				s.on('error', (e) => resolve(e.code ?? e.message));
			});
			assert.notEqual(old, 'connected', 'TLS 1.1 must be refused');
			// Plain HTTP on the TLS port gets nothing useful.
			const plain = await request({ port: m.port, method: 'GET', path: '/healthz' }).catch((e) => e);
			assert.ok(plain instanceof Error || plain.status >= 400);
		} finally {
			assert.equal((await m.stop()).code, 0, m.stderr());
		}
	});
});
