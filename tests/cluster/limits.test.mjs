// limits.test.mjs - one global limit of 600 calls a minute
// (limits.calls_per_minute) across three replicas sharing Redis, against
// three replicas without Redis (each its own 600), in the same minute.
//
// What is measured, and why this way: a token bucket starts full, with a
// minute's worth of tokens (600) as its burst, and refills at 10 a second.
// From a cold start a minute of load would therefore admit about 1,200
// calls (600 of burst and 600 refilled), which says nothing about whether
// the replicas share the bucket. So each cluster is first drained: calls as
// fast as they come back until 30 in a row are refused (the shared bucket
// gives about 600 of them, the three separate ones about 1,800). Then
// one minute of paced load, 50 calls a second through nginx (3,000 offered:
// more than either cluster can admit, spread round robin over the
// replicas, so each separate replica is offered ~17 a second against its
// refill of 10). What is admitted in that minute is the refill alone:
// about 600 when the three replicas take from one bucket in Redis, about
// 1,800 when each has its own. The calls are counted by when they were
// sent; the admitted ones are those not refused by the rate limit.
// Both clusters run at the same time, so the test costs one minute.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { LISTEN, newClient, startCluster, textOf } from './cluster.mjs';
import { sleep } from '../e2e/helpers.mjs';

const PER_MINUTE = 600;
const RATE = 50; // calls offered a second in the measured minute
const WINDOW_MS = 60000;

const config = () => ({
	testing: { enabled: true },
	limits: { calls_per_minute: PER_MINUTE, tool_calls_per_minute: 0, max_concurrent_calls: 64 },
	listen: LISTEN,
});

let shared, separate;

before(async () => {
	[shared, separate] = await Promise.all([startCluster(config()), startCluster(config(), { noRedis: true })]);
});

after(async () => {
	await Promise.all([shared?.down(), separate?.down()]);
});

/** One call; 'ok', 'limited' (refused by the rate limit) or throws. */
async function once(c, i) {
	const r = await c.client.callTool({ name: 'echo', arguments: { text: `n${i}` } });
	if (!r.isError) return 'ok';
	const t = textOf(r);
	if (/rate|calls_per_minute|limits\./i.test(t)) return 'limited';
	throw new Error(`unexpected error result: ${t}`);
}

/** Drain: calls 16 at a time until 30 in a row were refused; returns how
 * many were admitted. */
async function drain(c) {
	let admitted = 0;
	let refusedInRow = 0;
	let i = 0;
	while (refusedInRow < 30 && i < 5000) {
		const batch = await Promise.all(Array.from({ length: 16 }, () => once(c, i++)));
		for (const b of batch) {
			if (b === 'ok') {
				admitted++;
				refusedInRow = 0;
			} else refusedInRow++;
		}
	}
	return admitted;
}

/** RATE calls a second for WINDOW_MS, each sent on its own schedule (not
 * waiting for the one before); returns { offered, admitted, limited, errors }. */
async function paced(c) {
	const out = { offered: 0, admitted: 0, limited: 0, errors: [] };
	const start = Date.now();
	const pending = [];
	for (let i = 0; ; i++) {
		const due = start + (i * 1000) / RATE;
		if (due >= start + WINDOW_MS) break;
		const wait = due - Date.now();
		if (wait > 0) await sleep(wait);
		out.offered++;
		pending.push(
			once(c, 100000 + i).then(
				(r) => (r === 'ok' ? out.admitted++ : out.limited++),
				(e) => out.errors.push(e.message),
			),
		);
	}
	await Promise.all(pending);
	return out;
}

test(`a global limit of ${PER_MINUTE}/min: about ${PER_MINUTE} a minute across three replicas with Redis, about ${3 * PER_MINUTE} without`, async () => {
	const a = await newClient(shared.url);
	const b = await newClient(separate.url);
	try {
		const [burstShared, burstSeparate] = await Promise.all([drain(a), drain(b)]);
		console.log(`# drained: ${burstShared} admitted with Redis, ${burstSeparate} without`);
		const [withRedis, without] = await Promise.all([paced(a), paced(b)]);
		console.log(`# one minute at ${RATE}/s: with Redis ${JSON.stringify({ ...withRedis, errors: withRedis.errors.length })}`);
		console.log(`# one minute at ${RATE}/s: without ${JSON.stringify({ ...without, errors: without.errors.length })}`);
		assert.deepEqual(withRedis.errors.slice(0, 5), [], 'no call failed (with Redis)');
		assert.deepEqual(without.errors.slice(0, 5), [], 'no call failed (without Redis)');
		// The load really was more than either could admit.
		assert.ok(withRedis.offered >= 0.95 * RATE * 60 && without.offered >= 0.95 * RATE * 60, 'the load was offered');
		assert.ok(
			withRedis.admitted >= 570 && withRedis.admitted <= 630,
			`three replicas sharing one bucket admitted ${withRedis.admitted} in a minute (570-630)`,
		);
		assert.ok(
			without.admitted >= 1710 && without.admitted <= 1890,
			`three separate replicas admitted ${without.admitted} in a minute (about 1,800: 1,710-1,890)`,
		);
		// The burst shows the same: one bucket of 600 against three.
		assert.ok(burstShared <= 700, `the shared burst was one bucket (${burstShared})`);
		assert.ok(burstSeparate >= 1600, `the separate bursts were three buckets (${burstSeparate})`);
		assert.deepEqual(a.errors.concat(b.errors).map(String), [], 'no SDK protocol errors');
	} finally {
		await a.close();
		await b.close();
	}
});
