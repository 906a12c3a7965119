// redis_down.test.mjs - Redis stopped in the middle of a run, then started
// again, under the default cluster.on_store_failure ("auto": local buckets
// for read-only calls, refusal for calls that may write).
//
// A global limit of 60 calls a minute across three replicas; a read-only
// declared API tool (GET) and a writing one (POST) against a counting
// upstream on 127.0.0.1. With Redis up, the shared bucket admits about 60
// calls. Redis stopped: read-only calls go on against each replica's own
// bucket scaled down to a third of the limit (so about 60 again in all, not
// 180), writes are refused naming limits.store_unavailable and never reach
// the upstream, every replica logs the outage once on stderr, and /metrics
// counts the fallbacks and refusals (moat_store_fallbacks_total,
// moat_store_refusals_total) and shows moat_store_up 0. Redis started again
// (empty, on its port): every replica reconnects (moat_store_up 1, a log
// line), the limit is shared again (a fresh bucket in Redis admits about 60
// in all; the fallback counters stop moving) and writes pass.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { LISTEN, metricSum, metricsText, newClient, startCluster, textOf } from './cluster.mjs';
import { send, startUpstream } from '../e2e/http_upstream.mjs';
import { sleep } from '../e2e/helpers.mjs';

const PER_MINUTE = 60;
let up, cluster, c;

const obj = (properties, required = []) => ({ type: 'object', properties, required, additionalProperties: false });

before(async () => {
	up = await startUpstream({
		routes: {
			'GET /item': (req, res) => send(res, 200, { ok: true }),
			'POST /item': (req, res) => send(res, 200, { ok: true }),
		},
	});
	cluster = await startCluster({
		limits: { calls_per_minute: PER_MINUTE, tool_calls_per_minute: 0, max_concurrent_calls: 64 },
		listen: LISTEN,
		http: {
			apis: {
				store: {
					base_url: up.origin,
					allow_http: true,
					allow_addresses: ['127.0.0.1'],
					cache: false,
					retries: { max: 0 },
					tools: [
						{ name: 'read_item', description: 'Read the item.', method: 'GET', path: '/item', input_schema: obj({ i: { type: 'integer' } }) },
						{ name: 'write_item', description: 'Write the item.', method: 'POST', path: '/item', body: { i: '{i}' }, input_schema: obj({ i: { type: 'integer' } }, ['i']) },
					],
				},
			},
		},
	});
	c = await newClient(cluster.url);
});

after(async () => {
	await c?.close();
	await cluster?.down();
	await up?.close();
});

/** Read-only calls 8 at a time until 24 in a row are refused by the rate
 * limit; returns how many were admitted. Any other failure throws. */
async function drain() {
	let admitted = 0;
	let inRow = 0;
	for (let i = 0; inRow < 24 && i < 2000; ) {
		const rs = await Promise.all(Array.from({ length: 8 }, () => c.client.callTool({ name: 'read_item', arguments: { i: i++ } })));
		for (const r of rs) {
			if (!r.isError) {
				admitted++;
				inRow = 0;
			} else if (/rate|calls_per_minute/.test(textOf(r))) inRow++;
			else throw new Error(`read_item failed: ${textOf(r)}`);
		}
	}
	return admitted;
}

const writes = () => up.hits((r) => r.method === 'POST').length;

async function allMetrics() {
	return Promise.all(cluster.replicas.map((r) => metricsText(r)));
}

test('Redis stopped: the configured fallback, logged and counted; limits shared again when it is back', async () => {
	// Redis up: one shared bucket.
	const a1 = await drain();
	assert.ok(a1 >= 50 && a1 <= 75, `with Redis, the shared bucket admitted ${a1} (about ${PER_MINUTE})`);
	assert.match(cluster.redis('--scan', '--pattern', 'moat:rl:*'), /moat:rl:global/, 'the global bucket lives in Redis');

	// Redis stopped.
	await cluster.stop('redis', 'TERM');
	const a2 = await drain();
	assert.ok(a2 >= 30, `read-only calls go on against local buckets while Redis is down (${a2} admitted)`);
	assert.ok(a2 <= 100, `the local buckets are scaled to a third each (${a2} admitted, not ${3 * PER_MINUTE})`);
	const w0 = writes();
	const w = await c.client.callTool({ name: 'write_item', arguments: { i: 1 } });
	assert.equal(w.isError, true, `a write is refused while Redis is down: ${textOf(w)}`);
	assert.match(textOf(w), /limits\.store_unavailable|store/, 'the refusal names the rule');
	assert.equal(writes(), w0, 'the refused write never reached the upstream');
	const down = await allMetrics();
	for (const [i, m] of down.entries()) {
		assert.ok(metricSum(m, 'moat_store_fallbacks_total') > 0, `replica ${i + 1} counts fallbacks`);
		assert.equal(metricSum(m, 'moat_store_up'), 0, `replica ${i + 1} shows the store down`);
		assert.match(cluster.log(i + 1), /cluster: the store does not answer/, `replica ${i + 1} logged the outage`);
		assert.equal(cluster.log(i + 1).match(/the store does not answer/g).length, 1, `replica ${i + 1} logged it once`);
	}
	assert.ok(down.some((m) => metricSum(m, 'moat_store_refusals_total') > 0), 'the refused write is counted');

	// Redis back (empty): every replica reconnects.
	await cluster.start('redis');
	const until = Date.now() + 20000;
	let ups = [];
	while (Date.now() < until) {
		ups = (await allMetrics()).map((m) => metricSum(m, 'moat_store_up'));
		if (ups.every((v) => v === 1)) break;
		await sleep(250);
	}
	assert.deepEqual(ups, [1, 1, 1], 'every replica reconnected to Redis');
	const w1 = await c.client.callTool({ name: 'write_item', arguments: { i: 2 } });
	assert.ok(!w1.isError, `writes pass again: ${textOf(w1)}`);
	assert.equal(writes(), w0 + 1);
	const before3 = (await allMetrics()).map((m) => metricSum(m, 'moat_store_fallbacks_total'));
	const a3 = await drain();
	assert.ok(a3 >= 45 && a3 <= 80, `the shared bucket (fresh in Redis) admitted ${a3}, about ${PER_MINUTE} in all`);
	const after3 = (await allMetrics()).map((m) => metricSum(m, 'moat_store_fallbacks_total'));
	assert.deepEqual(after3, before3, 'no fallback once Redis is back');
	assert.match(cluster.redis('--scan', '--pattern', 'moat:rl:*'), /moat:rl:global/, 'the bucket is in Redis again');
	for (let n = 1; n <= 3; n++) {
		assert.match(cluster.log(n), /cluster: the store answers again/, `replica ${n} logged the return`);
	}
	assert.deepEqual(c.errors.map(String), [], 'no SDK protocol errors');
});
