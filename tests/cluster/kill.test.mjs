// kill.test.mjs - one replica killed with SIGKILL in the middle of a run of
// writes, then restarted.
//
// The write is a declared API tool (http.apis, POST) against a counter
// upstream written here (Node, 127.0.0.1, allowed by allow_addresses and
// allow_http): it records the nonce each request carries, then answers
// after 300 ms, so that at any moment several writes are in flight on every
// replica. Clients of both eras call it through nginx with a fresh nonce
// each time. Replica 2 is killed (SIGKILL) after 3 s; the run goes on for 5
// s more. Then:
//   - the calls that were in flight on replica 2 failed with a clear error
//     (nginx's JSON-RPC answer: the replica did not answer, the request may
//     or may not have run), and no other call failed;
//   - every call sent after the kill succeeded, on replicas 1 and 3 (the
//     old-era sessions that lived on replica 2 are taken over by the replica
//     their id now hashes to);
//   - no nonce reached the upstream twice (nginx never resends a POST that
//     reached a replica, and neither SDK retries one), and every call that
//     succeeded wrote exactly once;
//   - replica 2, started again, is back in nginx's rotation and serves calls.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { LISTEN, newClient, oldClient, startCluster, textOf } from './cluster.mjs';
import { send, startUpstream } from '../e2e/http_upstream.mjs';
import { sleep } from '../e2e/helpers.mjs';

const NEW = 12;
const OLD = 6;
const KILL_AT_MS = 3000;
const AFTER_MS = 5000;

let up, cluster;
const nonces = []; // every nonce the upstream received, in order

before(async () => {
	up = await startUpstream({
		routes: {
			'POST /write': (req, res, rec) => {
				let nonce = null;
				try {
					nonce = JSON.parse(rec.body).nonce;
				} catch {
					/* counted as null */
				}
				nonces.push(nonce);
				setTimeout(() => send(res, 200, { ok: true, n: nonces.length }), 300);
			},
		},
	});
	cluster = await startCluster({
		limits: { calls_per_minute: 0, tool_calls_per_minute: 0, max_concurrent_calls: 64, workers: 32 },
		listen: LISTEN,
		http: {
			apis: {
				counter: {
					base_url: up.origin,
					allow_http: true,
					allow_addresses: ['127.0.0.1'],
					cache: false,
					retries: { max: 0 },
					timeout_ms: 5000,
					tools: [
						{
							name: 'record_write',
							description: 'Write one record to the counter.',
							method: 'POST',
							path: '/write',
							body: { nonce: '{nonce}' },
							input_schema: {
								type: 'object',
								properties: { nonce: { type: 'string', maxLength: 80 } },
								required: ['nonce'],
								additionalProperties: false,
							},
						},
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

const CLEAR = /replica serving this request did not answer/;

test('SIGKILL of one replica mid-run: its calls in flight fail clearly, later calls succeed elsewhere, nothing is written twice, it rejoins', async () => {
	const clients = [
		...(await Promise.all(Array.from({ length: NEW }, () => newClient(cluster.url)))).map((c) => ['new', c]),
		...(await Promise.all(Array.from({ length: OLD }, () => oldClient(cluster.url)))).map((c) => ['old', c]),
	];
	const calls = []; // { era, nonce, start, end, ok, error, result }
	const start = Date.now();
	const stopAt = start + KILL_AT_MS + AFTER_MS;
	let killedAt = Infinity; // cluster.sh stop has returned: replica 2 is gone
	let killing0 = Infinity; // cluster.sh stop was started
	const killing = (async () => {
		await sleep(KILL_AT_MS);
		killing0 = Date.now();
		await cluster.stop('replica2', 'KILL');
		killedAt = Date.now();
	})();
	await Promise.all(
		clients.map(async ([era, c], k) => {
			for (let i = 0; Date.now() < stopAt; i++) {
				const nonce = `${era}-${k}-${i}-${randomBytes(6).toString('hex')}`;
				const rec = { era, k, nonce, start: Date.now() };
				calls.push(rec);
				try {
					const r = await c.client.callTool({ name: 'record_write', arguments: { nonce } });
					rec.ok = !r.isError;
					rec.result = textOf(r);
				} catch (e) {
					rec.ok = false;
					rec.error = e.message;
				}
				rec.end = Date.now();
				if (!rec.ok) await sleep(50);
			}
		}),
	);
	await killing;
	const failed = calls.filter((x) => !x.ok);
	const before = calls.filter((x) => x.start < killedAt);
	const later = calls.filter((x) => x.start >= killedAt);
	console.log(`# ${calls.length} calls, ${failed.length} failed, ${later.length} sent after the kill`);

	// The calls in flight on replica 2 failed, with a clear error, and only those.
	assert.ok(failed.length >= 1, 'some calls were in flight on the killed replica');
	for (const f of failed) {
		assert.ok(f.start < killedAt, `a call sent after the kill failed: ${f.era} ${f.error ?? f.result}`);
		assert.ok(f.end >= killing0, `a call failed before the kill: ${f.error ?? f.result}`);
		assert.match(f.error ?? f.result ?? '', CLEAR, `a clear error (${f.era} era)`);
	}
	// Every later call succeeded, on the other replicas.
	assert.ok(later.length >= clients.length, `calls went on after the kill (${later.length})`);
	assert.deepEqual(later.filter((x) => !x.ok).map((x) => x.error ?? x.result), [], 'every call after the kill succeeded');
	// Nothing written twice; every success written once.
	const seen = new Map();
	for (const n of nonces) seen.set(n, (seen.get(n) ?? 0) + 1);
	const twice = [...seen].filter(([, v]) => v > 1);
	assert.deepEqual(twice, [], 'no nonce reached the upstream twice');
	for (const x of calls.filter((c) => c.ok)) assert.equal(seen.get(x.nonce), 1, `the successful write ${x.nonce} is recorded once`);
	assert.ok(before.filter((x) => x.ok).length > 0, 'writes succeeded before the kill');

	// Replica 2 comes back and nginx sends it work again (after fail_timeout).
	await cluster.start('replica2');
	const r2 = cluster.replicas[1];
	const direct = await newClient(r2.url);
	try {
		const r = await direct.client.callTool({ name: 'record_write', arguments: { nonce: 'direct-after-restart' } });
		assert.ok(!r.isError, `the restarted replica serves calls: ${textOf(r)}`);
	} finally {
		await direct.close();
	}
	const [, probe] = clients[0];
	let back = false;
	const until = Date.now() + 15000;
	for (let i = 0; !back && Date.now() < until; i++) {
		const before2 = probe.upstreams.length;
		const r = await probe.client.callTool({ name: 'record_write', arguments: { nonce: `rejoin-${i}` } });
		assert.ok(!r.isError, `call after the restart: ${textOf(r)}`);
		back = probe.upstreams.slice(before2).some((u) => cluster.replicaAt(u) === 2);
		if (!back) await sleep(100);
	}
	assert.ok(back, 'nginx sends calls to the restarted replica 2 again');
	await Promise.all(clients.map(([, c]) => c.close().catch(() => {})));
});
