// cluster_limits_cache.test.mjs - two moat replicas (stdio, each its own
// process) sharing one real redis-server (started here on a free loopback
// port in a temporary directory, killed on exit): a tool's limit and a
// declared API's rate limit are counted across both replicas (the refusals keep their rules and messages); a declared API
// with "cache": {"shared": true} answers a GET fetched by one replica from
// the other without asking the upstream again, holds nothing readable in
// Redis (no body, no URL: sealed values under HMAC names), and a write
// through either replica clears it for both. With Redis killed, the
// default cluster.on_store_failure ("auto") still serves read-only calls
// (a shared API's GET from the replica's own cache) and refuses a tool
// that may write, naming limits.store_unavailable (in the audit trail
// too); a declared API's own bucket does the same for its POST on a
// replica without global or tool limits. A missing redis-server fails the
// test; it is never skipped.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { assertToolError, connectClient, makeTempDir, resultText, writeConfig } from './helpers.mjs';
import { send, startUpstream } from './http_upstream.mjs';
import { redisServer } from './redis_server.mjs';

const KEY = '3e'.repeat(32);
const CANARY = 'shared-cache-canary-5d1f';
const dir = makeTempDir('moat-e2e-cluster-limits-');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const redis = await redisServer({ dir, db: 3 });
const { port, cli } = redis;
const startRedis = () => redis.start();
const stopRedis = () => redis.kill();

let up;
const hits = (p) => up.requests.filter((r) => r.method === 'GET' && r.path.startsWith(p)).length;

const obj = (properties, required = []) => ({ type: 'object', properties, required, additionalProperties: false });
const idSchema = obj({ id: { type: 'integer' } }, ['id']);

function config(audit, limits = { calls_per_minute: 40, tools: { echo: { calls_per_minute: 5 } } }) {
	const base = `http://127.0.0.1:${up.port}`;
	const api = (p, extra) => ({
		base_url: `${base}${p}`,
		allow_http: true,
		allow_addresses: ['127.0.0.1'],
		retries: { max: 0 },
		...extra,
	});
	return {
		testing: { enabled: true },
		audit: { file: audit },
		limits,
		cluster: {
			redis: `redis://127.0.0.1:${port}/3`,
			key: '${MOAT_CLUSTER_KEY}',
			prefix: 'e2el',
			timeout_ms: 200,
			replicas: 2,
		},
		http: {
			apis: {
				shared: api('/s', {
					cache: { ttl_s: 60, shared: true },
					tools: [
						{ name: 's_get', description: 'get', method: 'GET', path: '/item/{id}', input_schema: idSchema },
						{ name: 's_put', description: 'put', method: 'POST', path: '/item/{id}', input_schema: idSchema, body: { id: '{id}' } },
					],
				}),
				limited: api('/rl', {
					cache: false,
					rate_limit: { per_minute: 1, burst: 3 },
					tools: [
						{ name: 'rl_ping', description: 'ping', method: 'GET', path: '/ping' },
						{ name: 'rl_post', description: 'post', method: 'POST', path: '/post', body: { x: 1 } },
					],
				}),
			},
		},
	};
}

const auditA = path.join(dir, 'audit-a.jsonl');
let a, b, c;

before(async () => {
	await startRedis();
	up = await startUpstream({
		routes: {
			'GET /s/item/*': (req, res, rec) =>
				send(res, 200, { item: rec.path, secret: CANARY, fetch: hits('/s/item/') }),
			'POST /s/item/*': (req, res) => send(res, 200, { ok: true }),
			'GET /rl/ping': (req, res) => send(res, 200, { pong: true }),
			'POST /rl/post': (req, res) => send(res, 200, { ok: true }),
		},
	});
	const env = { MOAT_CLUSTER_KEY: KEY };
	a = await connectClient(writeConfig(dir, config(auditA), 'a.json'), { env });
	b = await connectClient(writeConfig(dir, config(path.join(dir, 'audit-b.jsonl')), 'b.json'), { env });
	// A third replica without global or tool limits: only the declared
	// API's own bucket applies to its calls.
	const free = { calls_per_minute: 0, tool_calls_per_minute: 0 };
	c = await connectClient(writeConfig(dir, config(path.join(dir, 'audit-c.jsonl'), free), 'c.json'), { env });
});

// Each close asserts the replica said nothing of protocol errors or
// sanitizer reports; Redis and the upstream go whatever they say.
after(async () => {
	const closed = await Promise.allSettled([a, b, c].map((r) => r?.close()));
	await up?.close();
	await stopRedis();
	for (const r of closed) if (r.status === 'rejected') throw r.reason;
});

const call = (r, name, args = {}) => r.client.callTool({ name, arguments: args });

describe('limits shared by two replicas', () => {
	test('a tool limit of 5 a minute allows 5 calls across both, then refuses on either', async () => {
		const got = [];
		for (let i = 0; i < 7; i++) got.push(await call(i % 2 ? b : a, 'echo', { text: `x${i}` }));
		assert.equal(got.filter((r) => !r.isError).length, 5);
		for (const r of got.slice(5)) {
			assertToolError(r, 'rate limit: limits.tools.echo.calls_per_minute (default limits.tool_calls_per_minute) reached; retry later');
		}
		assert.ok(cli('--scan', '--pattern', 'e2el:*')?.length > 0, 'the buckets live in Redis');
	});

	test("a declared API's burst of 3 is shared: the fourth request on either replica is refused", async () => {
		const got = [];
		for (let i = 0; i < 4; i++) got.push(await call(i % 2 ? b : a, 'rl_ping'));
		assert.equal(got.filter((r) => !r.isError).length, 3);
		assertToolError(got[3], /rate limit: API limited allows 1 requests a minute \(burst 3\); retry in/);
		assert.equal(hits('/rl/ping'), 3);
	});
});

describe('the shared response cache', () => {
	test("one replica's GET answers the other's without the upstream", async () => {
		const r1 = await call(a, 's_get', { id: 1 });
		assert.notEqual(r1.isError, true, JSON.stringify(r1));
		assert.equal(hits('/s/item/'), 1);
		const r2 = await call(b, 's_get', { id: 1 });
		assert.equal(resultText(r2), resultText(r1));
		assert.equal(hits('/s/item/'), 1, 'the second replica asked the upstream again');
	});

	test('Redis holds neither the body nor the URL', () => {
		const keys = (cli('--scan', '--pattern', 'e2el:*') ?? '').split('\n').filter(Boolean);
		assert.ok(keys.length > 0);
		let values = 0;
		for (const k of keys) {
			assert.ok(!k.includes('item') && !k.includes(CANARY), `key ${k} names the request`);
			const type = cli('TYPE', k)?.trim();
			const dump = type === 'string' ? cli('GET', k) : cli('DUMP', k);
			if (type === 'string') values++;
			assert.ok(dump !== null);
			assert.ok(!dump.includes(CANARY) && !dump.includes('/s/item'), `${k} holds plaintext`);
		}
		assert.ok(values > 0, 'no cache entry found in Redis');
	});

	test('a write through one replica clears the entry for both', async () => {
		await call(b, 's_get', { id: 2 }); // cached by b
		const before = hits('/s/item/');
		const w = await call(b, 's_put', { id: 1 });
		assert.notEqual(w.isError, true, JSON.stringify(w));
		await call(a, 's_get', { id: 1 }); // a's own copy is stale: the shared miss wins
		assert.equal(hits('/s/item/'), before + 1);
		await call(b, 's_get', { id: 2 });
		assert.equal(hits('/s/item/'), before + 2);
		await call(b, 's_get', { id: 1 }); // fetched by a after the write: shared again
		assert.equal(hits('/s/item/'), before + 2);
	});
});

describe('Redis down (cluster.on_store_failure "auto")', () => {
	test('read-only calls go on; a call that may write is refused with limits.store_unavailable', async () => {
		await stopRedis();
		const before = hits('/s/item/');
		const r = await call(a, 's_get', { id: 1 }); // a holds it in its own cache
		assert.notEqual(r.isError, true, JSON.stringify(r));
		assert.equal(hits('/s/item/'), before, 'served from the replica\'s own cache');
		const w = await call(a, 's_put', { id: 1 });
		assertToolError(
			w,
			'the shared limit store does not answer',
			'cluster.on_store_failure is "auto"',
			'retry later',
		);
		const posts = up.requests.filter((q) => q.method === 'POST' && q.path.startsWith('/s/'));
		assert.equal(posts.length, 1, 'the refused write reached the upstream');
		let rec = null;
		for (let i = 0; i < 50 && !rec; i++) {
			const lines = fs.existsSync(auditA) ? fs.readFileSync(auditA, 'utf8').split('\n') : [];
			rec = lines.filter(Boolean).map((l) => JSON.parse(l)).find((e) => e.rule === 'limits.store_unavailable');
			if (!rec) await sleep(50);
		}
		assert.ok(rec, 'no audit record names limits.store_unavailable');
		assert.equal(rec.tool, 's_put');
		assert.equal(rec.outcome, 'limit');
	});

	test("a declared API's own limit: its GET falls back, its POST is refused before the upstream", async () => {
		const p = await call(c, 'rl_ping');
		assert.notEqual(p.isError, true, JSON.stringify(p));
		const w = await call(c, 'rl_post');
		assertToolError(w, 'the shared limit store does not answer', 'cluster.on_store_failure is "auto"');
		assert.equal(up.requests.filter((q) => q.path === '/rl/post').length, 0);
	});
});
