// http_browser.test.mjs - the browser attacks on moat's HTTP listener:
// DNS rebinding (a foreign Host), cross-site requests (a foreign Origin),
// form-post CSRF (a Content-Type a form can send), content sniffing and
// framing (security headers on every response), and header injection
// through values that reach responses. Each refused request must not have
// run anything: the audit trail shows no call, and the listener keeps
// serving the legitimate client.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { makeTempDir, writeConfig, testingConfig, sleep } from '../e2e/helpers.mjs';
import {
	ACCEPT_BOTH,
	INIT,
	assertSecurityHeaders,
	callTool,
	initialize,
	post,
	raw,
	request,
	startListener,
	statuses,
} from './http_fixture.mjs';

describe('HTTP listener: browser attacks', () => {
	let m, dir, trail;
	before(async () => {
		dir = makeTempDir('moat-http-browser-');
		trail = path.join(dir, 'audit.jsonl');
		const cfg = writeConfig(
			dir,
			testingConfig({
				audit: { file: trail },
				listen: { allowed_origins: ['https://app.example'] },
			}),
		);
		m = await startListener(cfg);
	});
	after(async () => {
		const e = await m.stop();
		assert.equal(e.code, 0, m.stderr());
	});

	const callsInTrail = () =>
		fs.existsSync(trail)
			? fs.readFileSync(trail, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)).filter((r) => r.kind === 'call')
			: [];

	test('a foreign Host is refused with 403 (DNS rebinding), before anything runs', async () => {
		const hosts = [
			'evil.example',
			'localhost.evil.example',
			'127.0.0.1.nip.io',
			`127.0.0.1.nip.io:${m.port}`,
			'evil.example:80',
			`localhost:${m.port}.evil.example`,
			'0x7f.0.0.1',
			'2130706433',
			'127.1',
			'0177.0.0.1',
			'[::ffff:127.0.0.1]',
			'[0:0:0:0:0:0:0:1]',
			'localhost.',
			'127.0.0.2',
			'',
		];
		for (const host of hosts) {
			const r = await post(m.port, INIT(), { Host: host });
			assert.equal(r.status, 403, `Host ${JSON.stringify(host)}: ${r.status} ${r.body}`);
			assert.equal(r.headers['mcp-session-id'], undefined, `no session for Host ${host}`);
			assertSecurityHeaders(r);
			assert.match(r.body, /host/i, 'the refusal names the rule');
			assert.ok(!r.body.includes(host) || host === '', 'the Host is not reflected');
		}
		// No Host header at all (HTTP/1.0 style) is refused too.
		const none = await raw(m.port, `POST /mcp HTTP/1.0\r\nContent-Type: application/json\r\nAccept: ${ACCEPT_BOTH}\r\nContent-Length: 2\r\n\r\n{}`);
		assert.ok([400, 403].includes(statuses(none.text)[0]), none.text.slice(0, 200));
	});

	test('the allowed Host names work, with or without the port', async () => {
		for (const host of [`127.0.0.1:${m.port}`, `localhost:${m.port}`, 'localhost', '127.0.0.1', 'LOCALHOST:' + m.port]) {
			const r = await post(m.port, INIT(), { Host: host });
			assert.equal(r.status, 200, `Host ${host}: ${r.status} ${r.body}`);
		}
	});

	test('a foreign Origin is refused with 403 and gets no CORS headers', async () => {
		for (const origin of [
			'https://evil.example',
			'null',
			'http://localhost.evil.example',
			'https://app.example.evil.example',
			'https://app.example:8443',
			'http://app.example',
			'file://',
		]) {
			const r = await post(m.port, INIT(), { Origin: origin });
			assert.equal(r.status, 403, `Origin ${origin}: ${r.status}`);
			assert.equal(r.headers['access-control-allow-origin'], undefined);
			assert.equal(r.headers['mcp-session-id'], undefined);
			assertSecurityHeaders(r);
			assert.match(r.body, /origin/i);
		}
		// A preflight from a foreign origin is refused as well.
		const pre = await request({
			port: m.port,
			method: 'OPTIONS',
			headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'POST' },
		});
		assert.equal(pre.status, 403);
		assert.equal(pre.headers['access-control-allow-origin'], undefined);
	});

	test('the allowed Origin gets exactly its own CORS grant; no Origin gets none', async () => {
		const r = await post(m.port, INIT(), { Origin: 'https://app.example' });
		assert.equal(r.status, 200, r.body);
		assert.equal(r.headers['access-control-allow-origin'], 'https://app.example');
		assert.match(r.headers.vary ?? '', /origin/i);
		const plain = await post(m.port, INIT());
		assert.equal(plain.status, 200);
		assert.equal(plain.headers['access-control-allow-origin'], undefined);
		const pre = await request({
			port: m.port,
			method: 'OPTIONS',
			headers: { Origin: 'https://app.example', 'Access-Control-Request-Method': 'POST' },
		});
		assert.ok([200, 204].includes(pre.status), `preflight: ${pre.status}`);
		assert.equal(pre.headers['access-control-allow-origin'], 'https://app.example');
	});

	test('what a form can post is refused (CSRF), and so is a wrong Accept', async () => {
		const before = callsInTrail().length;
		const s = await initialize(m.port);
		const call = { jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'echo', arguments: { text: 'x' } } };
		for (const ct of ['application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'text/plain', 'application/jsonx', 'text/json']) {
			const r = await post(m.port, call, { ...s.headers, 'Content-Type': ct });
			assert.equal(r.status, 415, `Content-Type ${ct}: ${r.status}`);
			assertSecurityHeaders(r);
		}
		const noCt = await request({ port: m.port, body: JSON.stringify(call), headers: { ...s.headers, Accept: ACCEPT_BOTH } });
		assert.equal(noCt.status, 415);
		for (const acc of ['text/html', 'application/json', 'text/event-stream', '*/*;q=0']) {
			const r = await post(m.port, call, { ...s.headers, Accept: acc });
			assert.equal(r.status, 406, `Accept ${acc}: ${r.status}`);
		}
		assert.equal(callsInTrail().length, before, 'no refused request ran a tool');
		// The legitimate request still works, once.
		const ok = await callTool(m.port, s.headers, 'echo', { text: 'fine' }, 10);
		assert.equal(ok.result.isError, false);
		await sleep(150); // a successful call's record is written within 50 ms of its answer
		assert.equal(callsInTrail().length, before + 1);
	});

	test('every kind of response carries the security headers', async () => {
		const s = await initialize(m.port);
		const responses = [
			await post(m.port, INIT()), // 200 JSON
			await post(m.port, { jsonrpc: '2.0', method: 'notifications/initialized' }, s.headers), // 202
			await post(m.port, { jsonrpc: '2.0', id: 3, method: 'ping' }, { 'Mcp-Session-Id': 'f'.repeat(32) }), // 404
			await post(m.port, '{not json', s.headers), // 400 parse error
			await request({ port: m.port, method: 'GET', path: '/nope' }), // 404
			await request({ port: m.port, method: 'GET', path: '/healthz' }), // 200
			await request({ port: m.port, method: 'PUT', path: '/mcp', headers: s.headers }), // 405
		];
		for (const r of responses) assertSecurityHeaders(r);
		assert.deepEqual(responses.map((r) => r.status).slice(4, 6), [404, 200]);
	});

	test('nothing a client sends is reflected into response headers', async () => {
		// CR/LF cannot pass node's client; send them raw. A bare CR inside a
		// value, an obs-fold, and a session id that tries to add a header.
		const shapes = [
			`POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:${m.port}\r\nContent-Type: application/json\r\nAccept: ${ACCEPT_BOTH}\r\nMcp-Session-Id: abc\rSet-Cookie: pwned=1\r\nContent-Length: 2\r\n\r\n{}`,
			`POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:${m.port}\r\nContent-Type: application/json\r\nAccept: ${ACCEPT_BOTH}\r\nMcp-Session-Id: abc\r\n Set-Cookie: pwned=1\r\nContent-Length: 2\r\n\r\n{}`,
			`POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:${m.port}\r\nContent-Type: application/json\r\nAccept: ${ACCEPT_BOTH}\r\nMCP-Protocol-Version: 2025-06-18%0d%0aSet-Cookie:%20pwned=1\r\nContent-Length: 2\r\n\r\n{}`,
			`GET /mcp%0d%0aSet-Cookie:%20pwned=1 HTTP/1.1\r\nHost: 127.0.0.1:${m.port}\r\n\r\n`,
		];
		for (const text of shapes) {
			const r = await raw(m.port, text);
			const head = r.text.split('\r\n\r\n')[0];
			assert.ok(statuses(r.text).length >= 1 || r.closed, 'answered or closed');
			assert.ok(!/^set-cookie/im.test(head), `injected header in:\n${head}`);
			assert.ok(!head.includes('pwned'), `reflected value in:\n${head}`);
		}
		// And the listener still serves.
		const ok = await post(m.port, INIT());
		assert.equal(ok.status, 200);
	});
});
