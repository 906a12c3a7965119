// load.test.mjs - 100 clients at once for 20 s through nginx in front of
// three replicas sharing one Redis, both eras mixed: 50 official 1.x SDK
// clients (each an initialize-era session, which nginx keeps on one replica
// by hashing Mcp-Session-Id) and 50 official 2.x clients pinned to
// 2026-07-28 (no session: nginx spreads their requests round robin), calling
// echo and, every fifth call, a 50 ms one (so calls overlap). Every
// call must be answered correctly, neither SDK may report a protocol error,
// each session must have stayed on its replica, the sessionless requests
// must have reached all three, and every session must still work at the end.
// A session's initialize has no session id to hash, so nginx sends it
// anywhere; the replica its id hashes to takes the session over (adopts it
// from the sealed id) at its next request, and serves it from then on.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { LISTEN, newClient, oldClient, startCluster, textOf } from './cluster.mjs';

const SECONDS = 20;
const OLD = 50;
const NEW = 50;

let cluster;

before(async () => {
	cluster = await startCluster({
		testing: { enabled: true },
		limits: { calls_per_minute: 0, tool_calls_per_minute: 0, max_concurrent_calls: 128, workers: 16 },
		listen: LISTEN,
	});
});

after(async () => {
	await cluster?.down();
});

/** Connect count clients with make, ten at a time (no connection storm). */
async function connectAll(count, make) {
	const out = [];
	for (let i = 0; i < count; i += 10) {
		out.push(...(await Promise.all(Array.from({ length: Math.min(10, count - i) }, () => make(cluster.url)))));
	}
	return out;
}

test(`${OLD + NEW} clients of both eras for ${SECONDS} s through nginx: no protocol error, sessions stay put and keep working`, async () => {
	const olds = await connectAll(OLD, oldClient);
	const news = await connectAll(NEW, newClient);
	const all = [...olds.map((c) => ['old', c]), ...news.map((c) => ['new', c])];
	const failures = [];
	let calls = 0;
	const deadline = Date.now() + SECONDS * 1000;
	await Promise.all(
		all.map(async ([era, c], k) => {
			for (let i = 0; Date.now() < deadline; i++) {
				const text = `${era}-${k}-${i}`;
				// Every fifth call a slow one (50 ms), so calls of different
				// clients overlap, with the same ids (each SDK counts from 0).
				const slow = i % 5 === 4;
				try {
					const r = slow
						? await c.client.callTool({ name: 'slow', arguments: { ms: 50, steps: 1 } })
						: await c.client.callTool({ name: 'echo', arguments: { text } });
					if (r.isError || (!slow && !textOf(r).includes(text))) {
						failures.push(`${era} client ${k}: ${JSON.stringify(r).slice(0, 200)}`);
					}
					calls++;
				} catch (e) {
					failures.push(`${era} client ${k}: ${e.message}`);
				}
			}
		}),
	);
	assert.deepEqual(failures.slice(0, 10), [], `${failures.length} of ${calls} calls failed`);
	assert.ok(calls >= OLD + NEW, `at least one call per client (${calls})`);

	// Each session's requests (POSTs and its GET stream) went to one replica.
	// Not its initialize: that POST has no session id yet, so nginx sends it
	// anywhere; the replica the id hashes to adopts the session from its
	// sealed id at the next request.
	for (const [k, c] of olds.entries()) {
		const where = new Set(c.upstreams.slice(1));
		assert.equal(where.size, 1, `session ${k} was served by ${[...where].join(', ')}`);
	}
	// Sessions landed on every replica, and so did the sessionless requests.
	const sessionHomes = new Set(olds.map((c) => cluster.replicaAt(c.upstreams.at(-1))));
	assert.equal(sessionHomes.size, 3, `sessions on replicas ${[...sessionHomes]}`);
	const stateless = new Set(news.flatMap((c) => c.upstreams.map((u) => cluster.replicaAt(u))));
	assert.deepEqual([...stateless].sort(), [1, 2, 3], 'sessionless requests reached every replica');

	// Every old-era session still works after the load.
	await Promise.all(
		olds.map(async (c, k) => {
			const r = await c.client.callTool({ name: 'echo', arguments: { text: `after-${k}` } });
			assert.ok(textOf(r).includes(`after-${k}`), `session ${k} answers after the load`);
			await c.client.ping();
		}),
	);
	for (const [era, c] of all) {
		assert.deepEqual(c.errors.map((e) => String(e?.message ?? e)), [], `${era}-era SDK protocol errors`);
	}
	await Promise.all(all.map(([, c]) => c.close()));
	for (const [era, c] of all) {
		assert.deepEqual(c.errors.map((e) => String(e?.message ?? e)), [], `${era}-era SDK errors at close`);
	}
	console.log(`# ${calls} calls in ${SECONDS} s by ${OLD + NEW} clients`);
});
