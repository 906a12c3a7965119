// cache.test.mjs - the shared response cache of a declared API tool
// (`"cache": {"ttl_s": 60, "shared": true}`) across replicas, and what Redis
// holds of it.
//
// The upstream (Node, 127.0.0.1) counts its requests and answers with a
// canary: a random marker in a contact's email, which the tool's answer
// carries. A call on replica 1 fills the cache (one upstream request); the
// same call on replica 2 is a hit: the same answer and the counter did not
// move. Then every key in Redis (`redis-cli --scan`) and every value
// (GET, or the whole structure for other types) is read: the canary, the
// contact's name and the call's argument appear nowhere, so an entry is
// ciphertext under a name that says nothing (an HMAC). A write through the
// API (POST) clears the namespace on every replica: the next GET on replica
// 3 goes to the upstream again.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { LISTEN, metricSum, metricsText, newClient, startCluster, textOf } from './cluster.mjs';
import { send, startUpstream } from '../e2e/http_upstream.mjs';

const CANARY = `canary-${randomBytes(8).toString('hex')}`;
const NAME = 'Hedy Lamarr';
const ID = 73519;
let up, cluster;

const obj = (properties, required = []) => ({ type: 'object', properties, required, additionalProperties: false });

before(async () => {
	up = await startUpstream({
		routes: {
			'GET /contacts/*': (req, res, rec) =>
				send(res, 200, { id: Number(rec.path.split('/')[2]), name: NAME, email: `${CANARY}@example.com` }),
			'POST /contacts/*': (req, res) => send(res, 200, { ok: true }),
		},
	});
	cluster = await startCluster({
		limits: { calls_per_minute: 0, tool_calls_per_minute: 0 },
		listen: LISTEN,
		http: {
			apis: {
				crm: {
					base_url: up.origin,
					allow_http: true,
					allow_addresses: ['127.0.0.1'],
					retries: { max: 0 },
					cache: { ttl_s: 60, shared: true },
					tools: [
						{ name: 'get_contact', description: 'One contact.', method: 'GET', path: '/contacts/{id}', input_schema: obj({ id: { type: 'integer' } }, ['id']) },
						{ name: 'touch_contact', description: 'Touch a contact.', method: 'POST', path: '/contacts/{id}', body: { id: '{id}' }, input_schema: obj({ id: { type: 'integer' } }, ['id']) },
					],
				},
			},
		},
	});
});

after(async () => {
	await cluster?.down();
	await up?.close();
});

const gets = () => up.hits((r) => r.method === 'GET').length;

/** One call of tool on replica n (1-based), through the 2.x client. */
async function callOn(n, tool, args) {
	const c = await newClient(cluster.replicas[n - 1].url);
	try {
		const r = await c.client.callTool({ name: tool, arguments: args });
		assert.ok(!r.isError, `${tool} on replica ${n}: ${textOf(r)}`);
		assert.deepEqual(c.errors.map(String), []);
		return r;
	} finally {
		await c.close();
	}
}

/** Every key in Redis with its value (GET for strings, the whole structure
 * for the other types), as one text. */
function redisDump() {
	const keys = cluster.redis('--scan').split('\n').filter(Boolean);
	let text = '';
	for (const k of keys) {
		const type = cluster.redis('TYPE', k).trim();
		const read = {
			string: ['GET', k],
			hash: ['HGETALL', k],
			zset: ['ZRANGE', k, '0', '-1', 'WITHSCORES'],
			list: ['LRANGE', k, '0', '-1'],
			set: ['SMEMBERS', k],
		}[type];
		text += `${k}\n${read ? cluster.redis('--no-raw', ...read) : `(${type})`}\n`;
	}
	return { keys, text };
}

test('a hit on replica 2 for an entry filled on replica 1; Redis holds only ciphertext', async () => {
	const r1 = await callOn(1, 'get_contact', { id: ID });
	assert.match(textOf(r1), new RegExp(CANARY), 'the answer carries the canary');
	assert.equal(gets(), 1, 'replica 1 asked the upstream');
	const r2 = await callOn(2, 'get_contact', { id: ID });
	assert.equal(gets(), 1, 'replica 2 answered from the shared cache: the upstream counter did not move');
	assert.deepEqual(r2.content, r1.content, 'the same answer');
	const m2 = await metricsText(cluster.replicas[1]);
	assert.ok(metricSum(m2, 'moat_store_cache_hits_total') >= 1, 'replica 2 counts a shared cache hit');

	const { keys, text } = redisDump();
	const cacheKeys = keys.filter((k) => k.startsWith('moat:c:'));
	assert.ok(cacheKeys.length >= 1, `a cache entry is in Redis (keys: ${keys.join(' ')})`);
	for (const secret of [CANARY, NAME, 'Lamarr', String(ID), 'example.com', 'get_contact', 'contacts']) {
		assert.ok(!text.includes(secret), `Redis holds no ${JSON.stringify(secret)}`);
	}
	// An entry's value is bytes that do not parse as JSON (short values,
	// such as a namespace's generation number, aside).
	const bodies = cacheKeys
		.filter((k) => cluster.redis('TYPE', k).trim() === 'string')
		.map((k) => cluster.redis('GET', k).trim())
		.filter((v) => v.length > 16);
	assert.ok(bodies.length >= 1, 'a cache entry with a body');
	for (const v of bodies) assert.throws(() => JSON.parse(v), 'an entry is not readable JSON');
});

test('a write through the API clears the shared entry for every replica', async () => {
	const before = gets();
	await callOn(1, 'touch_contact', { id: ID });
	await callOn(3, 'get_contact', { id: ID });
	assert.equal(gets(), before + 1, 'after the write, replica 3 asked the upstream again');
	await callOn(2, 'get_contact', { id: ID });
	assert.equal(gets(), before + 1, 'and replica 2 then hits the refilled entry');
});
