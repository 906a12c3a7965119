// subscriptions.test.mjs - attacks on change notifications: more watches
// than fs.max_watches, a watched file swapped for a symlink that leaves the
// root (the watch must not follow it), a flood of subscriptions/listen
// streams past their bound, and a principal whose policy does not cover the
// resources subscribing anyway (HTTP, static tokens).
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { RawSession, makeTempDir, writeConfig, testingConfig, sleep, withTimeout, assertNoSanitizerReport } from '../e2e/helpers.mjs';
import { startListener, initialize, post, messageOf } from './http_fixture.mjs';

let base, root, outside;
const uri = (p) => 'file://' + p;
const META = {
	'io.modelcontextprotocol/protocolVersion': '2026-07-28',
	'io.modelcontextprotocol/clientCapabilities': {},
};

before(() => {
	base = fs.realpathSync(makeTempDir('moat-attack-subs-'));
	root = path.join(base, 'root');
	outside = path.join(base, 'outside');
	fs.mkdirSync(root);
	fs.mkdirSync(outside);
	for (let i = 0; i < 5; i++) fs.writeFileSync(path.join(root, `f${i}.txt`), `${i}\n`);
	fs.writeFileSync(path.join(outside, 'secret.txt'), 'TOP-SECRET-SUBS\n');
});

async function session(cfg) {
	const s = new RawSession(cfg);
	await s.initialize('2025-06-18');
	return s;
}

async function end(s) {
	s.proc.stdin.end();
	const e = await withTimeout(s.exited, 8000, 'moat to exit');
	assert.equal(e.code, 0, s.stderrText);
	assertNoSanitizerReport(s.stderrText);
	assert.ok(!s.stderrText.includes('TOP-SECRET-SUBS'));
}

describe('subscription attacks (stdio)', () => {
	test('more than fs.max_watches files: refused with limits.watches; shared and freed watches', async () => {
		const cfg = writeConfig(makeTempDir('moat-attack-subs-cfg-'), { roots: [root], fs: { max_watches: 3 } });
		const s = await session(cfg);
		try {
			for (let i = 0; i < 3; i++) await s.call('resources/subscribe', { uri: uri(path.join(root, `f${i}.txt`)) });
			const over = uri(path.join(root, 'f3.txt'));
			const r = await s.request('resources/subscribe', { uri: over });
			assert.equal(r.error.code, -32000, JSON.stringify(r));
			assert.equal(r.error.data.rule, 'limits.watches');
			assert.equal(r.error.data.uri, over);
			// A stateless listen on an already watched file shares its watch.
			const l = await s.request('subscriptions/listen', {
				_meta: META,
				notifications: { resourceSubscriptions: [uri(path.join(root, 'f0.txt')), over] },
			}, { timeoutMs: 1 }).catch(() => null);
			assert.equal(l, null, 'a listen is never answered while open');
			const ack = await s.waitFor((m) => m.method === 'notifications/subscriptions/acknowledged');
			assert.deepEqual(ack.params.notifications.resourceSubscriptions, [uri(path.join(root, 'f0.txt'))]);
			// Unsubscribing frees a watch.
			await s.call('resources/unsubscribe', { uri: uri(path.join(root, 'f1.txt')) });
			await s.call('resources/subscribe', { uri: over });
		} finally {
			await end(s);
		}
	});

	test('a watched file swapped for a symlink out of the root: the watch does not follow it', async () => {
		const cfg = writeConfig(makeTempDir('moat-attack-subs-cfg-'), { roots: [root] });
		const s = await session(cfg);
		try {
			const w = path.join(root, 'f4.txt');
			await s.call('resources/subscribe', { uri: uri(w) });
			fs.unlinkSync(w);
			fs.symlinkSync(path.join(outside, 'secret.txt'), w);
			// The delete itself is a change worth saying.
			await s.waitFor((m) => m.method === 'notifications/resources/updated');
			await sleep(1500); // past a re-resolution attempt
			for (let i = 0; i < 5; i++) {
				fs.appendFileSync(path.join(outside, 'secret.txt'), `x${i}\n`);
				await sleep(50);
			}
			await s.expectNone((m) => m.method === 'notifications/resources/updated', 1500, 'an update from outside the root');
			const r = await s.request('resources/read', { uri: uri(w) });
			assert.ok(r.error, 'the symlink is not readable either');
			// The file comes back as a regular file: watched again.
			fs.unlinkSync(w);
			fs.writeFileSync(w, 'back\n');
			await s.waitFor((m) => m.method === 'notifications/resources/updated', 4000, 'the file back');
		} finally {
			await end(s);
		}
	});

	test('a flood of listen streams stops at the bound (limits.subscriptions)', async () => {
		const cfg = writeConfig(makeTempDir('moat-attack-subs-cfg-'), { roots: [root] });
		const s = new RawSession(cfg);
		try {
			for (let i = 0; i < 40; i++)
				s.send({ jsonrpc: '2.0', id: `L${i}`, method: 'subscriptions/listen', params: { _meta: META, notifications: { toolsListChanged: true } } });
			const refused = [];
			for (let i = 16; i < 40; i++) refused.push(await s.waitFor((m) => m.id === `L${i}`));
			for (const r of refused) {
				assert.equal(r.error.code, -32000);
				assert.equal(r.error.data.rule, 'limits.subscriptions');
			}
			for (let i = 0; i < 16; i++) await s.waitFor((m) => m.params?._meta?.['io.modelcontextprotocol/subscriptionId'] === `L${i}`);
			// Too many URIs in one filter.
			const many = Array.from({ length: 65 }, (_, i) => uri(path.join(root, `n${i}`)));
			s.notify('notifications/cancelled', { requestId: 'L0' });
			const r = await s.request('subscriptions/listen', { _meta: META, notifications: { resourceSubscriptions: many } });
			assert.equal(r.error.code, -32602);
			// One cancelled: one more may open.
			s.send({ jsonrpc: '2.0', id: 'again', method: 'subscriptions/listen', params: { _meta: META, notifications: {} } });
			const ack = await s.waitFor((m) => m.params?._meta?.['io.modelcontextprotocol/subscriptionId'] === 'again');
			assert.equal(ack.method, 'notifications/subscriptions/acknowledged');
		} finally {
			await end(s);
		}
	});
});

describe('subscription attacks (HTTP, a principal without the resources)', () => {
	test('resources/subscribe by a principal whose policy lacks read_text_file: refused', async () => {
		const ALICE = crypto.randomBytes(32).toString('hex');
		const BOB = crypto.randomBytes(32).toString('hex');
		const dir = makeTempDir('moat-attack-subs-http-');
		const cfg = writeConfig(
			dir,
			testingConfig({
				roots: [root],
				auth: {
					tokens: [
						{ name: 'alice', token: '${MOAT_TOKEN_ALICE}', tools: ['echo'] },
						{ name: 'bob', token: '${MOAT_TOKEN_BOB}', tools: ['*'] },
					],
				},
			}),
		);
		const m = await startListener(cfg, { env: { MOAT_TOKEN_ALICE: ALICE, MOAT_TOKEN_BOB: BOB } });
		try {
			const f = uri(path.join(root, 'f0.txt'));
			const a = await initialize(m.port, { Authorization: `Bearer ${ALICE}` });
			const r = messageOf(await post(m.port, { jsonrpc: '2.0', id: 2, method: 'resources/subscribe', params: { uri: f } }, a.headers));
			assert.equal(r.error.code, -32602, JSON.stringify(r));
			assert.equal(r.error.data.rule, 'policy.resource_not_allowed');
			const b = await initialize(m.port, { Authorization: `Bearer ${BOB}` });
			const ok = messageOf(await post(m.port, { jsonrpc: '2.0', id: 2, method: 'resources/subscribe', params: { uri: f } }, b.headers));
			assert.deepEqual(ok.result, {});
		} finally {
			const e = await m.stop();
			assert.equal(e.code, 0, m.stderr());
			assert.ok(!m.stderr().includes(ALICE) && !m.stderr().includes(BOB));
		}
	});
});
