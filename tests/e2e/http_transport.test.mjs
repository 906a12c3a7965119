// http_transport.test.mjs - the Streamable HTTP transport itself (MCP
// 2025-11-25), over real sockets with node:http: sessions (id, reuse,
// unknown, DELETE, expiry), the answers a POST gets (JSON, an SSE stream
// when progress comes first, 202 for notifications), cancellation, the GET
// stream, the MCP-Protocol-Version check, the refusals (Host, Origin,
// Content-Type, Accept) with their rule ids in the body and the audit
// trail, the security headers on every kind of response, /healthz,
// /metrics, TLS, start-up refusals and SIGTERM. The tool tests of every
// family run over HTTP through helpers.mjs (MOAT_E2E_TRANSPORT=http).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { makeTempDir, runMoat, sleep, testingConfig, withTimeout, writeConfig } from './helpers.mjs';
import { makeTestCA } from './http_upstream.mjs';
import {
	ACCEPT_BOTH,
	INIT,
	assertSecurityHeaders,
	initialize,
	messageOf,
	post,
	request,
	startListener,
} from '../attack/http_fixture.mjs';

const readTrail = (file) =>
	fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];

const ruleOf = (res) => JSON.parse(res.body).error.data.rule;

/** Open a GET stream; resolves once the headers are in with { res, text(), ended, close() }. */
function openStream(port, headers) {
	return withTimeout(
		new Promise((resolve, reject) => {
			const req = http.request(
				{ host: '127.0.0.1', port, method: 'GET', path: '/mcp', headers: { Accept: 'text/event-stream', ...headers }, agent: false },
				(res) => {
					let text = '';
					res.setEncoding('utf8');
					const ended = new Promise((r) => {
						res.on('end', () => r(true));
						res.on('error', () => r(true));
						res.on('close', () => r(true));
					});
					res.on('data', (c) => (text += c));
					resolve({ res, text: () => text, ended, close: () => req.destroy() });
				},
			);
			req.on('error', reject);
			req.end();
		}),
		5000,
		'GET /mcp',
	);
}

describe('Streamable HTTP: sessions and answers', () => {
	let m, dir, trail;
	before(async () => {
		dir = makeTempDir('moat-http-transport-');
		trail = path.join(dir, 'audit.jsonl');
		const cfg = writeConfig(
			dir,
			testingConfig({ audit: { file: trail }, listen: { allowed_origins: ['https://app.example'], max_sse_streams_per_session: 2 } }),
		);
		m = await startListener(cfg);
	});
	after(async () => {
		const e = await m.stop();
		assert.equal(e.code, 0, m.stderr());
	});

	test('initialize answers in JSON with a fresh Mcp-Session-Id: sealed, visible ASCII, at most 1024 characters', async () => {
		const r = await post(m.port, INIT());
		assert.equal(r.status, 200, r.body);
		assert.match(r.headers['content-type'], /^application\/json/);
		const sid = r.headers['mcp-session-id'];
		assert.match(sid, /^[A-Za-z0-9_-]{100,1024}$/);
		const msg = JSON.parse(r.body);
		assert.equal(msg.id, 1);
		assert.equal(msg.result.protocolVersion, '2025-11-25');
		assert.equal(msg.result.serverInfo.name, 'moat');
		const again = await post(m.port, INIT());
		assert.notEqual(again.headers['mcp-session-id'], sid, 'every initialize opens its own session');
		const old = await post(m.port, INIT(1, '2025-03-26'));
		assert.equal(JSON.parse(old.body).result.protocolVersion, '2025-03-26');
		assert.ok(old.headers['mcp-session-id']);
	});

	test('a session is reused, unknown ids get 404, DELETE ends it', async () => {
		const s = await initialize(m.port);
		const list = await post(m.port, { jsonrpc: '2.0', id: 2, method: 'tools/list' }, s.headers);
		assert.equal(list.status, 200);
		assert.ok(messageOf(list).result.tools.some((t) => t.name === 'echo'));
		// Without a session and not initialize: a 2026-07-28 request, which
		// must carry its _meta (-32602, 400, with the request's id).
		const none = await post(m.port, { jsonrpc: '2.0', id: 3, method: 'tools/list' });
		assert.equal(none.status, 400);
		assert.equal(ruleOf(none), 'protocol.meta_missing');
		assert.equal(JSON.parse(none.body).id, 3);
		assert.equal(JSON.parse(none.body).error.code, -32602);
		for (const bad of ['0'.repeat(48), s.sid.slice(0, -1), s.sid + '0', 'x']) {
			const r = await post(m.port, { jsonrpc: '2.0', id: 4, method: 'ping' }, { ...s.headers, 'Mcp-Session-Id': bad });
			assert.equal(r.status, 404, `id ${bad}`);
			assert.equal(ruleOf(r), 'http.session_unknown');
			assertSecurityHeaders(r);
		}
		const del = await request({ port: m.port, method: 'DELETE', headers: s.headers });
		assert.equal(del.status, 204);
		assertSecurityHeaders(del);
		const after = await post(m.port, { jsonrpc: '2.0', id: 5, method: 'ping' }, s.headers);
		assert.equal(after.status, 404, 'the ended session is unknown');
		const del2 = await request({ port: m.port, method: 'DELETE', headers: s.headers });
		assert.equal(del2.status, 404);
	});

	test('notifications and responses get 202 with no body', async () => {
		const s = await initialize(m.port);
		const n = await post(m.port, { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 99 } }, s.headers);
		assert.equal(n.status, 202);
		assert.equal(n.body, '');
		assertSecurityHeaders(n);
		const resp = await post(m.port, { jsonrpc: '2.0', id: 'srv-1', result: {} }, s.headers);
		assert.equal(resp.status, 202);
	});

	test('MCP-Protocol-Version, when sent, must name a version moat speaks', async () => {
		const s = await initialize(m.port);
		const ping = { jsonrpc: '2.0', id: 7, method: 'ping' };
		for (const v of ['1999-01-01', 'garbage', '2025-11-25x', '']) {
			const r = await post(m.port, ping, { ...s.headers, 'MCP-Protocol-Version': v });
			assert.equal(r.status, 400, JSON.stringify(v));
			assert.equal(ruleOf(r), 'http.protocol_version');
		}
		const { 'MCP-Protocol-Version': _, ...noVersion } = s.headers;
		assert.equal((await post(m.port, ping, noVersion)).status, 200, 'absent: accepted');
		assert.equal((await post(m.port, ping, s.headers)).status, 200);
		// Another supported version than the negotiated one is accepted, as the
		// conformance suite sends it (server-sse-multiple-streams).
		assert.equal((await post(m.port, ping, { ...s.headers, 'MCP-Protocol-Version': '2025-03-26' })).status, 200);
	});

	test('a call that reports progress is answered as an event stream; one that does not, in JSON', async () => {
		const s = await initialize(m.port);
		const r = await post(
			m.port,
			{ jsonrpc: '2.0', id: 8, method: 'tools/call', params: { name: 'slow', arguments: { ms: 200, steps: 4 }, _meta: { progressToken: 'p8' } } },
			s.headers,
		);
		assert.equal(r.status, 200);
		assert.match(r.headers['content-type'], /^text\/event-stream/);
		assertSecurityHeaders(r);
		// SSE polling (2025-11-25): a priming event first, with an id, a
		// retry and empty data; every event after it has a larger id.
		const first = r.body.split('\n\n')[0].split('\n');
		assert.match(first.find((l) => l.startsWith('id: ')) ?? '', /^id: \d+$/);
		assert.match(first.find((l) => l.startsWith('retry: ')) ?? '', /^retry: \d+$/);
		assert.ok(first.includes('data: '), 'empty data');
		const ids = [...r.body.matchAll(/^id: (\d+)$/gm)].map((x) => Number(x[1]));
		assert.ok(ids.every((v, i) => i === 0 || v > ids[i - 1]), `ids increase: ${ids}`);
		const events = r.body
			.split('\n\n')
			.filter((e) => e.includes('data: {'))
			.map((e) => JSON.parse(e.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n')));
		const progress = events.filter((e) => e.method === 'notifications/progress');
		assert.deepEqual(progress.map((p) => p.params.progress), [1, 2, 3, 4]);
		assert.ok(progress.every((p) => p.params.progressToken === 'p8'));
		assert.deepEqual(events.at(-1).id, 8, 'the result comes last');
		assert.equal(events.at(-1).result.content[0].text, 'done');
		const plain = await post(m.port, { jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'slow', arguments: { ms: 50 } } }, s.headers);
		assert.match(plain.headers['content-type'], /^application\/json/);
		assert.equal(JSON.parse(plain.body).result.content[0].text, 'done');
	});

	test('calls of one session run side by side, each answered on its own request', async () => {
		const s = await initialize(m.port);
		const t0 = Date.now();
		const rs = await Promise.all(
			[1, 2, 3, 4].map((i) => post(m.port, { jsonrpc: '2.0', id: 20 + i, method: 'tools/call', params: { name: 'slow', arguments: { ms: 400 } } }, s.headers)),
		);
		assert.ok(Date.now() - t0 < 1500, `four 400 ms calls took ${Date.now() - t0} ms`);
		assert.deepEqual(rs.map((r) => JSON.parse(r.body).id), [21, 22, 23, 24]);
	});

	test('cancellation: the cancelled request ends without a result and the call stops', async () => {
		const s = await initialize(m.port);
		const t0 = Date.now();
		const pending = post(m.port, { jsonrpc: '2.0', id: 30, method: 'tools/call', params: { name: 'slow', arguments: { ms: 5000 } } }, s.headers);
		await sleep(300);
		const c = await post(m.port, { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 30, reason: 'test' } }, s.headers);
		assert.equal(c.status, 202);
		const r = await pending;
		assert.ok(Date.now() - t0 < 3000, `the cancelled call ended after ${Date.now() - t0} ms`);
		assert.ok([200, 202].includes(r.status), `${r.status}`);
		if (r.status === 200) assert.ok(!/"result"/.test(r.body), 'no result for a cancelled request');
		await sleep(150);
		const rec = readTrail(trail).find((x) => x.kind === 'call' && x.id === 30);
		assert.equal(rec?.outcome, 'cancelled', JSON.stringify(rec));
		assert.ok(rec.addr.startsWith('127.0.0.1:'), 'the record names the client address');
	});

	test('GET opens the session stream; its number is capped; DELETE ends it', async () => {
		const s = await initialize(m.port);
		const a = await openStream(m.port, s.headers);
		assert.equal(a.res.statusCode, 200);
		assert.match(a.res.headers['content-type'], /^text\/event-stream/);
		assertSecurityHeaders(a.res);
		const b = await openStream(m.port, { ...s.headers, 'Last-Event-ID': '0' });
		assert.equal(b.res.statusCode, 200);
		const c = await request({ port: m.port, method: 'GET', headers: { ...s.headers, Accept: 'text/event-stream' } });
		assert.equal(c.status, 429, 'max_sse_streams_per_session is 2');
		assert.equal(ruleOf(c), 'limits.http_sse_streams');
		const noSession = await request({ port: m.port, method: 'GET', headers: { Accept: 'text/event-stream' } });
		assert.equal(noSession.status, 400);
		const wrongAccept = await request({ port: m.port, method: 'GET', headers: { ...s.headers, Accept: 'application/json' } });
		assert.equal(wrongAccept.status, 406);
		// Calls still answer on their own POSTs while streams are open.
		const ping = await post(m.port, { jsonrpc: '2.0', id: 40, method: 'ping' }, s.headers);
		assert.equal(ping.status, 200);
		b.close();
		await sleep(100);
		const del = await request({ port: m.port, method: 'DELETE', headers: s.headers });
		assert.equal(del.status, 204);
		assert.equal(await withTimeout(a.ended, 3000, 'the stream to end with its session'), true);
	});

	test('Host and Origin are checked before anything runs, and the refusals are audited', async () => {
		const foreign = await post(m.port, INIT(), { Host: 'evil.example' });
		assert.equal(foreign.status, 403);
		assert.equal(ruleOf(foreign), 'http.host_not_allowed');
		assert.equal(JSON.parse(foreign.body).id, null);
		const origin = await post(m.port, INIT(), { Origin: 'https://evil.example' });
		assert.equal(origin.status, 403);
		assert.equal(ruleOf(origin), 'http.origin_not_allowed');
		assert.equal(origin.headers['access-control-allow-origin'], undefined);
		const ok = await post(m.port, INIT(), { Origin: 'https://app.example' });
		assert.equal(ok.status, 200);
		assert.equal(ok.headers['access-control-allow-origin'], 'https://app.example');
		assert.match(ok.headers['access-control-expose-headers'], /Mcp-Session-Id/);
		assert.equal(ok.headers.vary, 'Origin');
		const pre = await request({ port: m.port, method: 'OPTIONS', headers: { Origin: 'https://app.example', 'Access-Control-Request-Method': 'POST' } });
		assert.equal(pre.status, 204);
		assert.match(pre.headers['access-control-allow-headers'], /Mcp-Session-Id/);
		await sleep(100);
		const sec = readTrail(trail).filter((x) => x.kind === 'security');
		for (const rule of ['http.host_not_allowed', 'http.origin_not_allowed']) {
			const rec = sec.find((x) => x.rule === rule);
			assert.ok(rec, `${rule} in the trail`);
			assert.equal(rec.principal, undefined, 'refused before anyone was authenticated');
			assert.match(rec.addr, /^127\.0\.0\.1:\d+$/);
		}
	});

	test('Content-Type and Accept are exact, and the refusal names the rule', async () => {
		const s = await initialize(m.port);
		const ping = { jsonrpc: '2.0', id: 50, method: 'ping' };
		const ct = await post(m.port, ping, { ...s.headers, 'Content-Type': 'text/plain' });
		assert.equal(ct.status, 415);
		assert.equal(ruleOf(ct), 'http.content_type');
		const charset = await post(m.port, ping, { ...s.headers, 'Content-Type': 'application/json; charset=utf-8' });
		assert.equal(charset.status, 200, 'parameters are fine');
		for (const accept of ['application/json', 'text/event-stream', '*/*', 'application/*, text/*']) {
			const r = await post(m.port, ping, { ...s.headers, Accept: accept });
			assert.equal(r.status, 406, accept);
			assert.equal(ruleOf(r), 'http.accept');
		}
		const spaced = await post(m.port, ping, { ...s.headers, Accept: 'text/event-stream ;q=0.9,APPLICATION/JSON' });
		assert.equal(spaced.status, 200, 'order, case and parameters do not matter');
		const put = await request({ port: m.port, method: 'PUT', headers: s.headers, body: '{}' });
		assert.equal(put.status, 405);
		assert.equal(put.headers.allow, 'GET, POST, DELETE, OPTIONS');
		const big = await post(m.port, ping, { ...s.headers, 'Content-Length': String(64 << 20) }, { timeoutMs: 3000 }).catch((e) => e);
		assert.ok(big instanceof Error || big.status === 413 || big.status === 400, `${big.status ?? big}`);
	});

	test('every kind of response carries the security headers', async () => {
		const s = await initialize(m.port);
		const responses = [
			await post(m.port, INIT()),
			await post(m.port, { jsonrpc: '2.0', method: 'notifications/initialized' }, s.headers),
			await post(m.port, { jsonrpc: '2.0', id: 60, method: 'ping' }, { 'Mcp-Session-Id': 'f'.repeat(48) }),
			await post(m.port, { jsonrpc: '2.0', id: 61, method: 'ping' }, { Host: 'evil.example' }),
			await post(m.port, { jsonrpc: '2.0', id: 62, method: 'ping' }, { 'Content-Type': 'text/plain' }),
			await request({ port: m.port, method: 'GET', path: '/nope' }),
			await request({ port: m.port, method: 'GET', path: '/healthz' }),
			await request({ port: m.port, method: 'GET', path: '/metrics' }),
			await request({ port: m.port, method: 'GET', path: '/.well-known/oauth-protected-resource' }),
			await request({ port: m.port, method: 'DELETE', headers: s.headers }),
		];
		assert.deepEqual(
			responses.map((r) => r.status),
			[200, 202, 404, 403, 415, 404, 200, 403, 404, 204],
		);
		for (const r of responses) assertSecurityHeaders(r);
	});

	test('headers past listen.max_header_bytes get 431 naming the rule', async () => {
		const r = await post(m.port, INIT(), { 'X-Filler': 'x'.repeat(40000) });
		assert.equal(r.status, 431);
		assert.equal(ruleOf(r), 'http.header_too_large');
		assertSecurityHeaders(r);
		// Far past it libmicrohttpd refuses on its own (memory bound), also 431.
		const huge = await post(m.port, INIT(), { 'X-Filler': 'x'.repeat(200000) }).catch((e) => e);
		assert.ok(huge instanceof Error || huge.status === 431, `${huge.status ?? huge}`);
		assert.equal((await post(m.port, INIT())).status, 200, 'the listener serves on');
	});

	test('/healthz answers anyone, with any Host, and says only that moat is alive', async () => {
		const r = await request({ port: m.port, method: 'GET', path: '/healthz', headers: { Host: 'lb.internal' } });
		assert.equal(r.status, 200);
		assert.deepEqual(JSON.parse(r.body), { status: 'ok' });
		const post_ = await request({ port: m.port, method: 'POST', path: '/healthz', body: '{}' });
		assert.equal(post_.status, 405);
	});
});

describe('Streamable HTTP: 2026-07-28 requests without a session, and SSE polling', () => {
	let m;
	const V = '2026-07-28';
	const meta = { 'io.modelcontextprotocol/protocolVersion': V, 'io.modelcontextprotocol/clientCapabilities': {} };
	const stateless = (id, method, params = {}) => [
		{ jsonrpc: '2.0', id, method, params: { ...params, _meta: { ...meta, ...(params._meta ?? {}) } } },
		{ 'MCP-Protocol-Version': V, 'Mcp-Method': method, ...(params.name ? { 'Mcp-Name': params.name } : {}) },
	];
	before(async () => {
		const dir = makeTempDir('moat-http-stateless-e2e-');
		// The conformance fixtures (test_reconnection) when this build has them.
		m = await startListener(writeConfig(dir, testingConfig({ audit: false, testing: { enabled: true, conformance: true } }))).catch(() =>
			startListener(writeConfig(dir, testingConfig({ audit: false }), 'plain.json')),
		);
	});
	after(async () => {
		assert.equal((await m.stop()).code, 0, m.stderr());
	});

	test('server/discover and tools/list need no session, and open none', async () => {
		const [d, dh] = stateless(1, 'server/discover');
		const r = await post(m.port, d, dh);
		assert.equal(r.status, 200, r.body);
		assert.equal(r.headers['mcp-session-id'], undefined);
		assert.ok(messageOf(r).result.supportedVersions.includes(V));
		const [l, lh] = stateless(2, 'tools/list');
		const list = await post(m.port, l, lh);
		assert.equal(list.status, 200);
		assert.equal(messageOf(list).result.resultType, 'complete');
		assert.ok(messageOf(list).result.tools.some((t) => t.name === 'echo'));
		// GET and DELETE still belong to sessions.
		const g = await request({ port: m.port, method: 'GET', headers: { Accept: 'text/event-stream' } });
		assert.equal(g.status, 400);
		assert.equal(ruleOf(g), 'http.session_missing');
	});

	test('a stateless call with progress is answered as an event stream without ids (nothing to resume)', async () => {
		const [c, ch] = stateless(3, 'tools/call', { name: 'slow', arguments: { ms: 120, steps: 3 }, _meta: { progressToken: 'p3' } });
		const r = await post(m.port, c, ch);
		assert.equal(r.status, 200);
		assert.match(r.headers['content-type'], /^text\/event-stream/);
		assert.ok(!/^id: /m.test(r.body), 'no event ids without a session');
		const last = messageOf(r);
		assert.equal(last.id, 3);
		assert.equal(last.result.content[0].text, 'done');
	});

	test('an error answer of a stateless request carries its status; old-era errors keep 200', async () => {
		const [c, ch] = stateless(4, 'prompts/nope');
		const r = await post(m.port, c, ch);
		assert.equal(r.status, 404);
		const s = await initialize(m.port);
		const old = await post(m.port, { jsonrpc: '2.0', id: 5, method: 'prompts/nope' }, s.headers);
		assert.equal(old.status, 200);
		assert.equal(JSON.parse(old.body).error.code, -32601);
	});

	test("SSE polling: the server closes a call's stream, the client resumes it with GET and Last-Event-ID", async (t) => {
		const s = await initialize(m.port);
		const list = messageOf(await post(m.port, { jsonrpc: '2.0', id: 6, method: 'tools/list' }, s.headers));
		if (!list.result.tools.some((x) => x.name === 'test_reconnection')) return t.skip('no test_reconnection fixture in this build');
		const r = await post(m.port, { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'test_reconnection', arguments: {} } }, s.headers);
		assert.equal(r.status, 200);
		assert.match(r.headers['content-type'], /^text\/event-stream/);
		const first = r.body.split('\n\n')[0];
		assert.match(first, /^id: \d+\nretry: \d+\ndata: $/, 'a priming event first');
		assert.ok(!r.body.includes('"result"'), 'the stream closed before the result');
		const id = first.match(/^id: (\d+)/)[1];
		const g = await request({ port: m.port, method: 'GET', headers: { ...s.headers, Accept: 'text/event-stream', 'Last-Event-ID': id } });
		assert.equal(g.status, 200);
		const res = messageOf(g);
		assert.equal(res.id, 7);
		assert.match(res.result.content[0].text, /Reconnection test completed/);
		// Resuming again from the result's id: the stream ends at once, empty.
		const lastId = [...g.body.matchAll(/^id: (\d+)$/gm)].at(-1)[1];
		const again = await request({ port: m.port, method: 'GET', headers: { ...s.headers, Accept: 'text/event-stream', 'Last-Event-ID': lastId } });
		assert.equal(again.status, 200);
		assert.ok(!again.body.includes('data: {'), again.body);
	});
});

describe('Streamable HTTP: expiry, metrics address, TLS, start-up rules, SIGTERM', () => {
	test('an idle session expires after listen.session_idle_s', async () => {
		const cfg = writeConfig(makeTempDir('moat-http-idle-'), testingConfig({ audit: false, listen: { session_idle_s: 1 } }));
		const m = await startListener(cfg);
		try {
			const s = await initialize(m.port);
			assert.equal((await post(m.port, { jsonrpc: '2.0', id: 2, method: 'ping' }, s.headers)).status, 200);
			// A call in flight keeps it alive past the idle time.
			const slow = await post(m.port, { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'slow', arguments: { ms: 1800 } } }, s.headers);
			assert.equal(JSON.parse(slow.body).result.content[0].text, 'done');
			await sleep(3000);
			const r = await post(m.port, { jsonrpc: '2.0', id: 4, method: 'ping' }, s.headers);
			assert.equal(r.status, 404);
			assert.equal(ruleOf(r), 'http.session_unknown');
		} finally {
			assert.equal((await m.stop()).code, 0, m.stderr());
		}
	});

	test('without allowed_origins a loopback listener accepts only its own origins', async () => {
		const cfg = writeConfig(makeTempDir('moat-http-own-origin-'), testingConfig({ audit: false }));
		const m = await startListener(cfg);
		try {
			for (const o of [`http://localhost:${m.port}`, `http://127.0.0.1:${m.port}`, `http://[::1]:${m.port}`]) {
				const r = await post(m.port, INIT(), { Origin: o, Host: `localhost:${m.port}` });
				assert.equal(r.status, 200, o);
				assert.equal(r.headers['access-control-allow-origin'], o);
			}
			for (const o of ['http://localhost', `http://localhost:${m.port + 1}`, `https://localhost:${m.port}`, 'null', 'http://evil.example.com']) {
				const r = await post(m.port, INIT(), { Origin: o });
				assert.equal(r.status, 403, o);
			}
		} finally {
			assert.equal((await m.stop()).code, 0, m.stderr());
		}
	});

	test('listen.metrics serves /metrics and /healthz only, on its own port', async () => {
		const cfg = writeConfig(makeTempDir('moat-http-metrics-'), testingConfig({ audit: false, listen: { metrics: '127.0.0.1:0' } }));
		const m = await startListener(cfg);
		try {
			const mm = /metrics on http:\/\/127\.0\.0\.1:(\d+)\/metrics/.exec(m.stderr());
			assert.ok(mm, m.stderr());
			const port = Number(mm[1]);
			const r = await request({ port, method: 'GET', path: '/metrics' });
			assert.equal(r.status, 200);
			assert.match(r.headers['content-type'], /^text\/plain; version=0\.0\.4/);
			assertSecurityHeaders(r);
			assert.equal((await request({ port, method: 'GET', path: '/healthz' })).status, 200);
			assert.equal((await post(port, INIT())).status, 404, 'no MCP on the metrics address');
			assert.equal((await request({ port: m.port, method: 'GET', path: '/metrics' })).status, 403, 'the local principal may not read metrics');
		} finally {
			assert.equal((await m.stop()).code, 0, m.stderr());
		}
	});

	test('TLS 1.2+ with the configured PEM files, and HSTS on every answer', async () => {
		const ca = makeTestCA();
		const cfg = writeConfig(
			makeTempDir('moat-http-tls-'),
			testingConfig({ audit: false, listen: { tls: { cert: path.join(ca.dir, 'server.pem'), key: path.join(ca.dir, 'server.key') } } }),
		);
		const m = await startListener(cfg);
		try {
			assert.equal(m.tls, true);
			const r = await post(m.port, INIT(), {}, { tls: true, ca: ca.ca });
			assert.equal(r.status, 200);
			assertSecurityHeaders(r, { tls: true });
			const h = await request({ port: m.port, method: 'GET', path: '/nope', tls: true, ca: ca.ca });
			assertSecurityHeaders(h, { tls: true });
			const https = await import('node:https');
			const old = await new Promise((resolve) => {
				const req = https.request(
					{ host: '127.0.0.1', port: m.port, method: 'GET', path: '/healthz', ca: ca.ca, maxVersion: 'TLSv1.1', minVersion: 'TLSv1', agent: false },
					(res) => resolve(`status ${res.statusCode}`),
				);
				req.on('error', (e) => resolve(`error ${e.code ?? e.message}`));
				req.end();
			});
			assert.match(old, /^error /, 'TLS 1.1 is refused');
			const plain = await request({ port: m.port, method: 'GET', path: '/healthz', timeoutMs: 3000 }).catch((e) => e);
			assert.ok(plain instanceof Error || plain.status >= 400, 'no plain HTTP on a TLS listener');
		} finally {
			assert.equal((await m.stop()).code, 0, m.stderr());
		}
		// A key that is no key (or not the certificate's) stops start-up, in check as in serve.
		const bad = path.join(ca.dir, 'bad.key');
		fs.writeFileSync(bad, '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n', { mode: 0o600 });
		const badCfg = writeConfig(
			makeTempDir('moat-http-tls-bad-'),
			testingConfig({ audit: false, listen: { http: '127.0.0.1:0', tls: { cert: path.join(ca.dir, 'server.pem'), key: bad } } }),
		);
		for (const cmd of ['check', 'serve']) {
			const r = runMoat([cmd, '--config', badCfg], { timeoutMs: 5000 });
			assert.equal(r.code, 3, `${cmd}: ${r.stderr}`);
			assert.match(r.stderr, /\/listen\/tls: the certificate and key are not a PEM pair/);
		}
	});

	test('start-up refuses an exposed listener without auth or without TLS', () => {
		const dir = makeTempDir('moat-http-refuse-');
		const plain = writeConfig(dir, testingConfig({ audit: false }), 'plain.json');
		const r1 = runMoat(['serve', '--config', plain, '--http', '0.0.0.0:0']);
		assert.equal(r1.code, 3);
		assert.match(r1.stderr, /http\.auth_required/);
		const proxy = writeConfig(dir, testingConfig({ audit: false, listen: { insecure_plaintext: true } }), 'proxy.json');
		const r2 = runMoat(['serve', '--config', proxy, '--http', '192.0.2.1:0']);
		assert.equal(r2.code, 3);
		assert.match(r2.stderr, /http\.auth_required/);
		const tokens = { tokens: [{ name: 'a', token: '${MOAT_T}', tools: ['*'] }] };
		const env = { env: { ...process.env, MOAT_T: 'f'.repeat(64) } };
		const authed = writeConfig(dir, testingConfig({ audit: false, auth: tokens }), 'authed.json');
		const r3 = runMoat(['check', '--config', authed, '--http', '192.0.2.1:443'], env);
		assert.equal(r3.code, 3);
		assert.match(r3.stderr, /http\.tls_required/);
		const r4 = runMoat(['serve', '--config', plain, '--http', 'example.com:80']);
		assert.equal(r4.code, 3);
		assert.match(r4.stderr, /ADDRESS:PORT/);
		const wild = writeConfig(dir, testingConfig({ audit: false, auth: tokens, listen: { http: '[::]:0', insecure_plaintext: true } }), 'wild.json');
		const r5 = runMoat(['check', '--config', wild], env);
		assert.equal(r5.code, 3, r5.stderr);
		assert.match(r5.stderr, /allowed_hosts/);
	});

	test('moat check prints the listener and the bind rule', () => {
		const cfg = writeConfig(
			makeTempDir('moat-http-check-'),
			testingConfig({ audit: false, listen: { http: '127.0.0.1:8765', allowed_origins: ['https://app.example'] } }),
		);
		const r = runMoat(['check', '--config', cfg]);
		assert.equal(r.code, 0, r.stderr);
		assert.match(r.stdout, /listener: Streamable HTTP/);
		assert.match(r.stdout, /address +http:\/\/127\.0\.0\.1:8765\/mcp \(loopback\)/);
		assert.match(r.stdout, /allowed hosts +localhost, 127\.0\.0\.1, \[::1\]/);
		assert.match(r.stdout, /allowed origins +https:\/\/app\.example/);
		if (/Landlock ABI ([4-9]|\d\d)/.test(r.stdout)) assert.match(r.stdout, /TCP +bind only on port 8765/);
	});

	test('SIGHUP reopens the audit file; the listener serves on', async () => {
		const dir = makeTempDir('moat-http-hup-');
		const auditDir = path.join(dir, 'audit');
		fs.mkdirSync(auditDir);
		const trailFile = path.join(auditDir, 'audit.jsonl');
		const cfg = writeConfig(dir, testingConfig({ audit: { file: trailFile } }));
		const m = await startListener(cfg);
		try {
			const s = await initialize(m.port);
			const call = (id) => post(m.port, { jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo', arguments: { text: 'x' } } }, s.headers);
			assert.equal((await call(2)).status, 200);
			await sleep(150);
			fs.renameSync(trailFile, trailFile + '.old');
			m.proc.kill('SIGHUP');
			await sleep(200);
			assert.equal((await call(3)).status, 200);
			await sleep(150);
			assert.ok(readTrail(trailFile).some((r) => r.kind === 'call' && r.id === 3), 'the new file has the later call');
			assert.ok(readTrail(trailFile + '.old').some((r) => r.kind === 'call' && r.id === 2));
		} finally {
			assert.equal((await m.stop()).code, 0, m.stderr());
		}
	});

	test('SIGTERM: calls in flight finish, longer ones are cancelled, exit 0 within the bound', async () => {
		const cfg = writeConfig(makeTempDir('moat-http-term-'), testingConfig({ audit: false, listen: { drain_s: 2 } }));
		const m = await startListener(cfg);
		const s = await initialize(m.port);
		const short = post(m.port, { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'slow', arguments: { ms: 600 } } }, s.headers);
		const long = post(m.port, { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'slow', arguments: { ms: 20000 } } }, s.headers).catch((e) => e);
		await sleep(200);
		const t0 = Date.now();
		const stopped = m.stop();
		const r = await short;
		assert.equal(r.status, 200);
		assert.equal(JSON.parse(r.body).result.content[0].text, 'done', 'the short call finished');
		const l = await long;
		assert.ok(l instanceof Error || l.status !== 200 || !/"done"/.test(l.body), 'the long call did not finish');
		const e = await stopped;
		assert.equal(e.code, 0, m.stderr());
		assert.ok(Date.now() - t0 < 5000, `stopped after ${Date.now() - t0} ms`);
		const after = await post(m.port, INIT(), {}, { timeoutMs: 1000 }).catch((x) => x);
		assert.ok(after instanceof Error, 'nothing listens any more');
	});
});
