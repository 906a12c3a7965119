// stateless_ids.test.mjs - over HTTP, one server core serves every
// 2026-07-28 client of a listener, and a JSON-RPC id means something only
// within its own request: two clients' calls with the same id run side by
// side (both SDKs count their ids from 0, so this is the common case), and a
// notifications/cancelled POSTed by one client never cancels another's call.
// (The cluster tests met the first as "a request with this id is still
// running" under load.)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { STATE_HOME, newConfig, spawnListener, statelessMeta } from './helpers.mjs';
import { getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';

let m;

before(async () => {
	const cfg = newConfig({ limits: { max_concurrent_calls: 8 } });
	m = await spawnListener(['serve', '--config', cfg, '--http', '127.0.0.1:0'], {
		...getDefaultEnvironment(),
		XDG_STATE_HOME: STATE_HOME,
	});
});

after(async () => {
	m?.proc.kill('SIGTERM');
	await m?.exited;
});

function post(msg) {
	const headers = {
		'Content-Type': 'application/json',
		Accept: 'application/json, text/event-stream',
		'MCP-Protocol-Version': '2026-07-28',
		'Mcp-Method': msg.method,
	};
	if (msg.params?.name) headers['Mcp-Name'] = msg.params.name;
	return fetch(m.url, { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', ...msg }) });
}

async function body(res) {
	const text = await res.text();
	const data = text.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trim()).filter(Boolean);
	return data.length ? JSON.parse(data.at(-1)) : JSON.parse(text);
}

const slowCall = (id) => ({
	id,
	method: 'tools/call',
	params: { name: 'slow', arguments: { ms: 600, steps: 2 }, _meta: statelessMeta() },
});

test('two stateless calls with the same id from different clients both run; a foreign cancel touches neither', async () => {
	const a = post(slowCall(0));
	const b = post(slowCall(0));
	await new Promise((r) => setTimeout(r, 200));
	const cancel = await post({ method: 'notifications/cancelled', params: { requestId: 0, _meta: statelessMeta() } });
	assert.ok(cancel.status < 500, `the cancel was answered (${cancel.status})`);
	const [ra, rb] = await Promise.all([a, b]);
	for (const [what, r] of [['first', ra], ['second', rb]]) {
		assert.equal(r.status, 200, what);
		const msg = await body(r);
		assert.equal(msg.id, 0, what);
		assert.ok(msg.result, `${what}: a result, got ${JSON.stringify(msg).slice(0, 300)}`);
		assert.notEqual(msg.result.isError, true, `${what}: ran to the end, got ${JSON.stringify(msg.result).slice(0, 300)}`);
	}
});
