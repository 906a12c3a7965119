// drain.test.mjs - a replica fit for an orchestrator (issue 14, part 2):
// GET /readyz beside /healthz, and SIGTERM that drains. On SIGTERM moat
// must turn /readyz to 503 at once (the load balancer stops sending it
// traffic), refuse new connections, let a call in flight finish within
// listen.drain_s (here longer than the old fixed 2 s) and exit 0; with
// nothing in flight it must exit at once, whatever drain_s says.
// Real sockets with node:http against `moat serve --http 127.0.0.1:0`,
// probes on both the MCP listener and the listen.metrics one (which keeps
// answering while the drain runs, so a probe can see it).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { makeTempDir, sleep, testingConfig, writeConfig } from './helpers.mjs';
import { initialize, messageOf, post, request, startListener } from '../attack/http_fixture.mjs';

/** The metrics listener's port, from its start-up line. */
function metricsPort(m) {
	const found = /metrics on http:\/\/127\.0\.0\.1:(\d+)\/metrics/.exec(m.stderr());
	assert.ok(found, `no metrics line:\n${m.stderr()}`);
	return Number(found[1]);
}

const probe = (port, path, method = 'GET') =>
	request({ port, method, path, headers: { Host: `127.0.0.1:${port}` }, timeoutMs: 3000 });

async function listener(listen) {
	const cfg = writeConfig(makeTempDir('moat-drain-'), testingConfig({ audit: false, listen }));
	return startListener(cfg);
}

describe('GET /readyz', () => {
	test('ready: 200 {"status":"ready"} on GET and HEAD, without auth or an allowed Host; 405 otherwise', async () => {
		const m = await listener({ metrics: '127.0.0.1:0' });
		try {
			const mp = metricsPort(m);
			for (const port of [m.port, mp]) {
				const r = await probe(port, '/readyz');
				assert.equal(r.status, 200, r.body);
				assert.deepEqual(JSON.parse(r.body), { status: 'ready' });
				assert.match(r.headers['content-type'], /^application\/json/);
				const h = await probe(port, '/readyz', 'HEAD');
				assert.equal(h.status, 200);
				assert.equal(h.body, '');
			}
			// A Kubernetes probe names the pod's address as Host: the
			// allowlist that guards /mcp does not apply to the probes.
			const other = await request({ port: m.port, method: 'GET', path: '/readyz', headers: { Host: '10.1.2.3:8080' } });
			assert.equal(other.status, 200, other.body);
			const guarded = await request({ port: m.port, method: 'GET', path: '/mcp', headers: { Host: '10.1.2.3:8080' } });
			assert.equal(guarded.status, 403, 'the allowlist still guards /mcp');
			const p = await probe(m.port, '/readyz', 'POST');
			assert.equal(p.status, 405);
			assert.equal(p.headers.allow, 'GET, HEAD');
			assert.equal(messageOf(p).error.data.rule, 'http.method');
		} finally {
			assert.equal((await m.stop()).code, 0, m.stderr());
		}
	});
});

describe('SIGTERM drains', () => {
	test('calls in flight (both eras) finish past the old 2 s bound; /readyz is 503 at once; new connections are refused; exit 0', async () => {
		const m = await listener({ metrics: '127.0.0.1:0', drain_s: 8 });
		const mp = metricsPort(m);
		const s = await initialize(m.port);
		const started = Date.now();
		const call = post(
			m.port,
			{ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'slow', arguments: { ms: 3500 } } },
			s.headers,
			{ timeoutMs: 15000 },
		);
		// And one of the 2026-07-28 era, without a session (the listener's
		// stateless server drains too).
		const V = '2026-07-28';
		const stateless = post(
			m.port,
			{
				jsonrpc: '2.0',
				id: 7,
				method: 'tools/call',
				params: {
					name: 'slow',
					arguments: { ms: 3000 },
					_meta: { 'io.modelcontextprotocol/protocolVersion': V, 'io.modelcontextprotocol/clientCapabilities': {} },
				},
			},
			{ 'MCP-Protocol-Version': V, 'Mcp-Method': 'tools/call', 'Mcp-Name': 'slow' },
			{ timeoutMs: 15000 },
		);
		await sleep(300);
		assert.equal((await probe(mp, '/readyz')).status, 200, 'ready before SIGTERM');
		const t0 = Date.now();
		m.proc.kill('SIGTERM');
		// Ready no more, at once (well before the call ends).
		let r;
		for (;;) {
			r = await probe(mp, '/readyz');
			if (r.status === 503 || Date.now() - t0 > 3000) break;
			await sleep(25);
		}
		assert.equal(r.status, 503, `still ${r.status} ${r.body} ${Date.now() - t0} ms after SIGTERM`);
		assert.deepEqual(JSON.parse(r.body), { status: 'draining' });
		assert.ok(Number(r.headers['retry-after']) > 0, 'Retry-After on 503');
		assert.ok(Date.now() - t0 < 2000, `readyz turned 503 after ${Date.now() - t0} ms (the call runs ~3.2 s more)`);
		const live = await probe(mp, '/healthz');
		assert.equal(live.status, 200, 'still alive while draining');
		// The MCP port takes no new connection.
		const fresh = await probe(m.port, '/healthz').catch((e) => e);
		assert.ok(fresh instanceof Error, `a new connection was accepted while draining: ${fresh.status}`);
		assert.match(String(fresh.code ?? fresh.message), /ECONNREFUSED|ECONNRESET/);
		// The call in flight runs to its end and answers.
		const done = await call;
		assert.equal(done.status, 200, done.body);
		const msg = messageOf(done);
		assert.equal(msg.result?.content?.[0]?.text, 'done', `the call finished: ${done.body}`);
		assert.ok(Date.now() - t0 > 2500, 'the call outlived the old 2 s drain');
		const sdone = await stateless;
		assert.equal(sdone.status, 200, sdone.body);
		assert.equal(messageOf(sdone).result?.content?.[0]?.text, 'done', `the stateless call finished: ${sdone.body}`);
		const e = await m.exited;
		assert.deepEqual(e, { code: 0, signal: null }, m.stderr());
		const total = Date.now() - t0;
		assert.ok(total < 6000, `exited ${total} ms after SIGTERM (the call needed ~${3500 - (t0 - started)} ms)`);
		assert.match(m.stderr(), /SIGTERM, draining/);
	});

	test('nothing in flight: exit at once, whatever drain_s', async () => {
		const m = await listener({ drain_s: 300 });
		const s = await initialize(m.port);
		await post(m.port, { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'echo', arguments: { text: 'x' } } }, s.headers);
		const t0 = Date.now();
		const e = await m.stop();
		assert.equal(e.code, 0, m.stderr());
		assert.ok(Date.now() - t0 < 3000, `stopped after ${Date.now() - t0} ms with nothing in flight (drain_s is 300 s)`);
	});

	test('a call longer than drain_s is cancelled at the bound, answered, exit 0', async () => {
		const m = await listener({ drain_s: 1 });
		const s = await initialize(m.port);
		const call = post(
			m.port,
			{ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'slow', arguments: { ms: 30000 } } },
			s.headers,
			{ timeoutMs: 10000 },
		).catch((x) => x);
		await sleep(300);
		const t0 = Date.now();
		m.proc.kill('SIGTERM');
		const r = await call;
		const e = await m.exited;
		const took = Date.now() - t0;
		assert.equal(e.code, 0, m.stderr());
		assert.ok(took >= 900 && took < 4000, `stopped ${took} ms after SIGTERM with drain_s 1`);
		assert.ok(r instanceof Error || !/"done"/.test(r.body), 'the long call did not run to its end');
	});

	test('drain_s outside 1..300 is refused at start-up', async () => {
		for (const bad of [0, 301]) {
			const cfg = writeConfig(makeTempDir('moat-drain-'), testingConfig({ audit: false, listen: { drain_s: bad } }));
			const r = await startListener(cfg).then(
				(m) => m.stop().then(() => null),
				(err) => err,
			);
			assert.ok(r instanceof Error, `drain_s ${bad} was accepted`);
			assert.match(r.message, /drain_s/);
		}
	});
});
