// subscriptions.test.mjs - change notifications in both eras: the SDK 1.x
// client subscribes to a file and hears of its changes (stdio, or HTTP with
// MOAT_E2E_TRANSPORT=http: the same bodies), refusals name the URI and the
// rule; the 2026-07-28 subscriptions/listen stream over raw stdio (ack first,
// subscriptionId on every notification, the filter honoured, cancellation
// ends it, shutdown announces its end). Over HTTP the listen stream is the
// transport's: see the test at the end.
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import {
	TRANSPORT,
	RawSession,
	connectClient,
	makeTempDir,
	writeConfig,
	sleep,
	withTimeout,
	assertNoSanitizerReport,
} from './helpers.mjs';

let base, root, outside, cfg;
const uri = (p) => 'file://' + p;
const META = {
	'io.modelcontextprotocol/protocolVersion': '2026-07-28',
	'io.modelcontextprotocol/clientCapabilities': {},
	'io.modelcontextprotocol/clientInfo': { name: 'moat-e2e-subs', version: '0.0.1' },
};
const SUB = 'io.modelcontextprotocol/subscriptionId';

before(() => {
	base = fs.realpathSync(makeTempDir('moat-e2e-subs-'));
	root = path.join(base, 'root');
	outside = path.join(base, 'outside');
	fs.mkdirSync(path.join(root, 'dir'), { recursive: true });
	fs.mkdirSync(outside);
	for (const n of ['a.txt', 'b.txt', 'c.txt']) fs.writeFileSync(path.join(root, n), `${n}\n`);
	fs.writeFileSync(path.join(outside, 'secret.txt'), 'secret\n');
	cfg = writeConfig(base, { roots: [root] });
});

// Collect notifications/resources/updated through the SDK client.
function collectUpdates(client) {
	const seen = [];
	client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
		seen.push(n.params.uri);
	});
	return seen;
}

async function waitUntil(pred, ms, what) {
	const end = Date.now() + ms;
	while (!pred()) {
		if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
		await sleep(20);
	}
}

describe(`resources/subscribe (initialize era, ${TRANSPORT})`, () => {
	test('subscribe, change on disk, updated; unsubscribe, change, nothing', async () => {
		const c = await connectClient(cfg);
		try {
			const caps = c.client.getServerCapabilities();
			assert.equal(caps.resources.subscribe, true);
			const seen = collectUpdates(c.client);
			const a = path.join(root, 'a.txt');
			assert.deepEqual(await c.client.subscribeResource({ uri: uri(a) }), {});
			fs.appendFileSync(a, 'one\n');
			await waitUntil(() => seen.length >= 1, 5000, 'notifications/resources/updated');
			assert.equal(seen[0], uri(a));
			// Many writes at once: coalesced, not one update each.
			await sleep(200);
			seen.length = 0;
			for (let i = 0; i < 30; i++) fs.appendFileSync(a, `${i}\n`);
			await sleep(400);
			// (At most one per 100 ms window: a handful even when a busy
			// machine spreads the 30 writes out; 30 would be none coalesced.)
			assert.ok(seen.length >= 1 && seen.length <= 6, `coalesced updates, got ${seen.length}`);
			assert.deepEqual(await c.client.unsubscribeResource({ uri: uri(a) }), {});
			seen.length = 0;
			fs.appendFileSync(a, 'two\n');
			await sleep(400);
			assert.deepEqual(seen, [], 'no update after unsubscribe');
		} finally {
			await c.close();
		}
	});

	test('a file replaced by rename is still watched (the path is resolved again)', async () => {
		const c = await connectClient(cfg);
		try {
			const seen = collectUpdates(c.client);
			const b = path.join(root, 'b.txt');
			await c.client.subscribeResource({ uri: uri(b) });
			const tmp = path.join(root, '.b.tmp');
			fs.writeFileSync(tmp, 'new b\n');
			fs.renameSync(tmp, b);
			await waitUntil(() => seen.length >= 1, 5000, 'an update for the replaced file');
			await sleep(1500); // re-armed on the new inode
			seen.length = 0;
			fs.appendFileSync(b, 'more\n');
			await waitUntil(() => seen.length >= 1, 5000, 'an update for the new inode');
			assert.equal(seen[0], uri(b));
		} finally {
			await c.close();
		}
	});

	test('refused: outside the roots, unknown scheme, missing file, directory, bad params', async () => {
		const c = await connectClient(cfg);
		try {
			const cases = [
				[uri(path.join(outside, 'secret.txt')), 'fs.outside_root'],
				['sql://main/users', 'resources.not_subscribable'],
				['nope:thing', 'resources.not_subscribable'],
				[uri(path.join(root, 'missing.txt')), null],
				[uri(path.join(root, 'dir')), null],
			];
			for (const [u, rule] of cases) {
				await assert.rejects(c.client.subscribeResource({ uri: u }), (e) => {
					assert.equal(e.code, -32602, `${u}: ${e.message}`);
					assert.equal(e.data?.uri, u);
					if (rule) assert.equal(e.data?.rule, rule);
					assert.ok(!e.message.includes('secret'), 'the message does not echo the path');
					return true;
				});
			}
			await assert.rejects(
				c.client.request({ method: 'resources/subscribe', params: { uri: 7 } }, ResourceUpdatedNotificationSchema.passthrough()),
				(e) => e.code === -32602,
			);
		} finally {
			await c.close();
		}
	});
});

// ---- the stateless era over stdio ------------------------------------------

const listenReq = (id, notifications) => ({
	jsonrpc: '2.0',
	id,
	method: 'subscriptions/listen',
	params: { _meta: META, notifications },
});
const subOf = (m) => m?.params?._meta?.[SUB];

describe('subscriptions/listen over stdio (2026-07-28)', { skip: TRANSPORT === 'http' && 'raw stdio only' }, () => {
	test('ack first, subscriptionId on every notification, filter honoured, cancel ends it', async () => {
		const s = new RawSession(cfg);
		try {
			const a = uri(path.join(root, 'a.txt'));
			const c = uri(path.join(root, 'c.txt'));
			s.send(
				listenReq('L-a', {
					toolsListChanged: true,
					resourcesListChanged: true,
					resourceSubscriptions: [a, uri(path.join(outside, 'secret.txt')), 'nope:x'],
				}),
			);
			const ackA = await s.waitFor((m) => subOf(m) === 'L-a');
			assert.equal(ackA.method, 'notifications/subscriptions/acknowledged', 'the first message of the stream');
			// What we agreed to: tools, and the one URI we can watch; no
			// resource list changes (not announced), no URI outside the roots.
			assert.deepEqual(ackA.params.notifications, { toolsListChanged: true, resourceSubscriptions: [a] });
			s.send(listenReq(42, { resourceSubscriptions: [c] }));
			const ack42 = await s.waitFor((m) => subOf(m) === 42);
			assert.equal(ack42.method, 'notifications/subscriptions/acknowledged');
			s.send(listenReq('L-tools', { toolsListChanged: true }));
			await s.waitFor((m) => subOf(m) === 'L-tools');

			fs.appendFileSync(path.join(root, 'a.txt'), 'listen\n');
			const upd = await s.waitFor((m) => m.method === 'notifications/resources/updated');
			assert.equal(subOf(upd), 'L-a');
			assert.equal(upd.params.uri, a);
			// (A second update of a.txt on L-a may come: an append is a
			// write and a close, which a slow machine spreads past the
			// 100 ms coalescing window. Only another stream is wrong.)
			await s.expectNone(
				(m) => m.method === 'notifications/resources/updated' && subOf(m) !== 'L-a',
				300,
				'an update for another stream',
			);

			fs.appendFileSync(path.join(root, 'c.txt'), 'listen\n');
			const upd42 = await s.waitFor((m) => m.method === 'notifications/resources/updated' && m.params.uri !== a);
			assert.equal(subOf(upd42), 42);
			assert.equal(upd42.params.uri, c);

			// Cancelled: nothing more on it, and no response to it. (What
			// the earlier append may still have sent, before the cancel,
			// is set aside first.)
			s.notify('notifications/cancelled', { requestId: 42 });
			await sleep(300);
			s.messages.forEach((m, i) => {
				if (subOf(m) === 42 || subOf(m) === 'L-a') s.consumed.add(i);
			});
			fs.appendFileSync(path.join(root, 'c.txt'), 'after\n');
			await s.expectNone((m) => subOf(m) === 42 || m.id === 42, 400, 'a message on a cancelled stream');

			// Other requests are answered meanwhile, with resultType.
			const r = await s.request('resources/read', { _meta: META, uri: a });
			assert.equal(r.result.resultType, 'complete');
			assert.equal(r.result.cacheScope, 'private');
			// SEP-2164: a resource that does not exist is -32602 with data.uri.
			const missing = uri(path.join(root, 'missing.txt'));
			const nf = await s.request('resources/read', { _meta: META, uri: missing });
			assert.equal(nf.error.code, -32602);
			assert.equal(nf.error.data.uri, missing);
			const t = await s.request('resources/templates/list', { _meta: META });
			assert.equal(t.result.resultType, 'complete');
			assert.equal(t.result.cacheScope, 'public');
			assert.equal(typeof t.result.ttlMs, 'number');

			// Malformed filters are refused.
			for (const bad of [undefined, { toolsListChanged: 'yes' }, { resourceSubscriptions: 'x' }]) {
				const e = await s.request('subscriptions/listen', { _meta: META, notifications: bad });
				assert.equal(e.error.code, -32602, JSON.stringify(bad));
			}
			// resources/subscribe is gone in this era.
			const gone = await s.request('resources/subscribe', { _meta: META, uri: a });
			assert.equal(gone.error.code, -32601);

			// At the end of input the server tears the open streams down and
			// says so (stdio: notifications/cancelled naming each).
			s.proc.stdin.end();
			const ends = [];
			for (let i = 0; i < 2; i++)
				ends.push((await s.waitFor((m) => m.method === 'notifications/cancelled')).params.requestId);
			assert.deepEqual(ends.sort(), ['L-a', 'L-tools']);
			const e = await withTimeout(s.exited, 8000, 'moat to exit');
			assert.equal(e.code, 0);
		} finally {
			s.proc.kill('SIGKILL');
			await s.exited;
			assertNoSanitizerReport(s.stderrText);
		}
	});
});

// ---- the stateless era over HTTP --------------------------------------------

// The HTTP transport keeps a listen's route open as an SSE stream (the http
// helper's part): run with MOAT_E2E_TRANSPORT=http once it has landed.
describe('subscriptions/listen over HTTP (2026-07-28)', { skip: TRANSPORT !== 'http' && 'HTTP only' }, () => {
	test('ack first on the stream, updates tagged, closing the stream ends it', async () => {
		const { spawnListener, STATE_HOME } = await import('./helpers.mjs');
		const l = await spawnListener(['serve', '--config', cfg, '--http', '127.0.0.1:0'], {
			...process.env,
			XDG_STATE_HOME: STATE_HOME,
		});
		try {
			const a = uri(path.join(root, 'a.txt'));
			const body = listenReq(7, { toolsListChanged: true, resourceSubscriptions: [a] });
			const ctl = new AbortController();
			const res = await fetch(l.url, {
				method: 'POST',
				headers: {
					'Content-Type': 'application/json',
					Accept: 'application/json, text/event-stream',
					'MCP-Protocol-Version': '2026-07-28',
					'Mcp-Method': 'subscriptions/listen',
				},
				body: JSON.stringify(body),
				signal: ctl.signal,
			});
			assert.equal(res.status, 200);
			const reader = res.body.getReader();
			const dec = new TextDecoder();
			const frames = [];
			let buf = '';
			const next = async () => {
				while (!frames.length) {
					const { value, done } = await reader.read();
					if (done) throw new Error('stream ended');
					buf += dec.decode(value, { stream: true });
					const lines = buf.split(/\r?\n/);
					buf = lines.pop();
					for (const line of lines) if (line.startsWith('data:')) frames.push(JSON.parse(line.slice(5)));
				}
				return frames.shift();
			};
			const ack = await withTimeout(next(), 5000, 'the ack');
			assert.equal(ack.method, 'notifications/subscriptions/acknowledged');
			assert.equal(subOf(ack), 7);
			fs.appendFileSync(path.join(root, 'a.txt'), 'http\n');
			const upd = await withTimeout(next(), 5000, 'an update');
			assert.equal(upd.method, 'notifications/resources/updated');
			assert.equal(subOf(upd), 7);
			ctl.abort();
		} finally {
			l.proc.kill('SIGTERM');
			const e = await withTimeout(l.exited, 8000, 'moat to exit');
			assert.equal(e.code, 0, l.stderr());
			assertNoSanitizerReport(l.stderr());
		}
	});
});
