// state.test.mjs - a multi-round 2026-07-28 call whose rounds land on
// different replicas: the requestState one replica seals is opened by
// another (they share the cluster key), and a tampered, expired or spent
// one is refused by every replica.
//
// The call is write_file under `confirm: {fs: true}`: the first round is
// answered input_required (an elicitation form, a sealed requestState); the
// client asks the person and sends the call again with inputResponses and
// the requestState. The official 2.x client does that itself; a fetch of the
// test's own sends its first round to replica 1 and its second to replica 3.
// The refusals are driven with the same messages the client sent, POSTed to
// each replica directly: a requestState with one character changed
// (state.tampered), one past server.state_ttl_seconds (3 s here: state.expired,
// which only a replica that can open the state can tell), and one already
// spent on another replica (state.replayed: the spent confirmation is marked
// in Redis, so every replica knows it). Nothing refused writes a file.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { LISTEN, newClient, postStateless, startCluster } from './cluster.mjs';
import { makeTempDir, sleep, statelessMeta } from '../e2e/helpers.mjs';

const TTL_S = 3;
let cluster, rw;
const CAPS = { elicitation: { form: {} } };

before(async () => {
	rw = path.join(fs.realpathSync(makeTempDir('moat-cluster-rw-')), 'rw');
	fs.mkdirSync(rw);
	cluster = await startCluster({
		server: { state_ttl_seconds: TTL_S },
		roots: [{ path: rw, write: true }],
		confirm: { fs: true },
		listen: LISTEN,
	});
});

after(async () => {
	await cluster?.down();
});

/** Accept every elicitation, with every boolean of its form checked. */
const accept = (req) => {
	const props = (req.params ?? req).requestedSchema?.properties ?? {};
	const content = {};
	for (const [k, v] of Object.entries(props)) if (v.type === 'boolean') content[k] = true;
	return { action: 'accept', content };
};

const file = (name) => path.join(rw, name);
const writeArgs = (name) => ({ path: file(name), content: `written to ${name}\n` });
let nextId = 1;

/** The first round of write_file NAME, raw, on replica n: its result. */
async function firstRound(n, name) {
	const r = await postStateless(cluster.replicas[n - 1].url, {
		id: nextId++,
		method: 'tools/call',
		params: { name: 'write_file', arguments: writeArgs(name), _meta: statelessMeta(CAPS) },
	});
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.equal(r.body.result?.resultType, 'input_required', JSON.stringify(r.body));
	assert.ok(r.body.result.requestState, 'a requestState');
	return r.body.result;
}

/** The second round on replica n with requestState and the answers. */
function secondRound(n, name, requestState, inputResponses) {
	return postStateless(cluster.replicas[n - 1].url, {
		id: nextId++,
		method: 'tools/call',
		params: { name: 'write_file', arguments: writeArgs(name), inputResponses, requestState, _meta: statelessMeta(CAPS) },
	});
}

/** Assert a second round was refused with -32602 and a state.* rule. */
function assertRefused(r, rule, what) {
	const e = r.body?.error;
	assert.ok(e, `${what}: refused, got ${JSON.stringify(r.body).slice(0, 300)}`);
	assert.equal(e.code, -32602, `${what}: -32602`);
	assert.match(String(e.data?.rule), rule, `${what}: the rule (${e.data?.rule})`);
}

/** Change one character in the middle of a sealed token. */
function tamper(s) {
	const i = Math.floor(s.length / 2);
	const ch = s[i] === 'A' ? 'B' : 'A';
	return s.slice(0, i) + ch + s.slice(i + 1);
}

/** The answers to a first round's inputRequests, as the 2.x client gives
 * them: each elicitation accepted with its boxes checked. */
const answersTo = (first) =>
	Object.fromEntries(Object.entries(first.inputRequests ?? {}).map(([k, req]) => [k, accept(req)]));

test('a requestState issued by replica 1 completes on replica 3 (the official 2.x client)', async () => {
	const [r1, , r3] = cluster.replicas;
	const rounds = []; // [replica, body] of each tools/call
	const route = (url, init) => {
		let body = null;
		try {
			body = JSON.parse(init?.body ?? 'null');
		} catch {
			/* not JSON */
		}
		let target = r1.url;
		if (body?.method === 'tools/call') {
			target = rounds.length === 0 ? r1.url : r3.url;
			rounds.push([target === r1.url ? 1 : 3, body]);
		}
		return fetch(target, init);
	};
	let asked = 0;
	const c = await newClient(r1.url, {
		fetch: route,
		capabilities: CAPS,
		beforeConnect: (cl) => cl.setRequestHandler('elicitation/create', (req) => (asked++, accept(req))),
	});
	try {
		const r = await c.client.callTool({ name: 'write_file', arguments: writeArgs('a.txt') });
		assert.ok(!r.isError, JSON.stringify(r));
		assert.equal(asked, 1, 'the person was asked once');
		assert.deepEqual(rounds.map(([n]) => n), [1, 3], 'first round on replica 1, second on replica 3');
		const first = c.received.find((m) => m.result?.resultType === 'input_required');
		assert.ok(first?.result.requestState, 'replica 1 answered input_required with a requestState');
		assert.equal(rounds[1][1].params.requestState, first.result.requestState, 'replica 3 got that requestState');
		assert.deepEqual(rounds[1][1].params.inputResponses, answersTo(first.result), 'the client answered as answersTo does');
		assert.deepEqual(c.errors.map(String), []);
	} finally {
		await c.close();
	}
	assert.equal(fs.readFileSync(file('a.txt'), 'utf8'), 'written to a.txt\n');
});

test('a tampered requestState is refused on every replica; the real one completes on another; spent, it is refused everywhere', async () => {
	const first = await firstRound(1, 'b.txt');
	const answers = answersTo(first);
	for (const n of [1, 2, 3]) {
		assertRefused(await secondRound(n, 'b.txt', tamper(first.requestState), answers), /^state\.tampered$/, `tampered, replica ${n}`);
	}
	assert.equal(fs.existsSync(file('b.txt')), false, 'nothing written by a tampered state');
	const ok = await secondRound(3, 'b.txt', first.requestState, answers);
	assert.equal(ok.body.result?.isError ?? false, false, JSON.stringify(ok.body));
	assert.equal(ok.body.result?.resultType, 'complete', JSON.stringify(ok.body));
	assert.equal(fs.readFileSync(file('b.txt'), 'utf8'), 'written to b.txt\n');
	fs.rmSync(file('b.txt'));
	for (const n of [1, 2, 3]) {
		assertRefused(await secondRound(n, 'b.txt', first.requestState, answers), /^state\.replayed$/, `spent, replica ${n}`);
	}
	assert.equal(fs.existsSync(file('b.txt')), false, 'a spent confirmation wrote nothing');
});

test(`an expired requestState (server.state_ttl_seconds ${TTL_S}) is refused on every replica`, async () => {
	const first = await firstRound(2, 'c.txt');
	const answers = answersTo(first);
	await sleep(TTL_S * 1000 + 1500);
	for (const n of [1, 2, 3]) {
		assertRefused(await secondRound(n, 'c.txt', first.requestState, answers), /^state\.expired$/, `expired, replica ${n}`);
	}
	assert.equal(fs.existsSync(file('c.txt')), false, 'nothing written by an expired state');
});
