// lifecycle.test.mjs - initialize and version negotiation, pre-initialize
// requests, re-initialize, and JSON-RPC batches (2025-03-26 only).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
	LATEST_VERSION,
	SUPPORTED_VERSIONS,
	TEST_TOOLS,
	makeTempDir,
	RawSession,
	runMoat,
	resultText,
	withClient,
	withRaw,
	writeConfig,
	testingConfig,
} from './helpers.mjs';

const dir = makeTempDir('moat-e2e-lifecycle-');
const INSTRUCTIONS = 'Use echo to repeat text; add to add numbers.';
const cfg = writeConfig(dir, testingConfig({ server: { instructions: INSTRUCTIONS } }));
const atLeast = (v, min) => v >= min; // ISO dates compare as strings

// The version moat reports on the command line is the one serverInfo must carry.
const cliVersion = (() => {
	const r = runMoat(['version']);
	const m = /^moat (\S+)/.exec(r.stdout);
	assert.ok(m, `moat version printed ${JSON.stringify(r.stdout)}`);
	return m[1];
})();

describe('initialize under each supported revision', { concurrency: true }, () => {
	for (const v of SUPPORTED_VERSIONS) {
		test(`protocol ${v}: result, tool list and tools/call shapes`, async () => {
			await withRaw(cfg, null, async (s) => {
				const init = await s.initialize(v);
				assert.equal(init.protocolVersion, v, 'a supported version is echoed');
				assert.equal(typeof init.capabilities.tools, 'object');
				assert.equal(typeof init.capabilities.logging, 'object');
				assert.equal(init.serverInfo.name, 'moat');
				assert.equal(init.serverInfo.version, cliVersion);
				assert.equal(init.instructions, INSTRUCTIONS);
				if (atLeast(v, '2025-06-18')) {
					assert.equal(typeof init.serverInfo.title, 'string', 'title from 2025-06-18');
					assert.ok(init.serverInfo.title.length > 0);
				} else {
					assert.equal('title' in init.serverInfo, false, `no serverInfo.title under ${v}`);
				}

				const list = await s.call('tools/list', {});
				assert.deepEqual(list.tools.map((t) => t.name).sort(), [...TEST_TOOLS].sort());
				assert.equal(list.nextCursor, undefined, 'one page with the default page size');
				for (const t of list.tools) {
					assert.equal(typeof t.description, 'string');
					assert.equal(t.inputSchema.type, 'object');
					if (v === '2024-11-05') {
						assert.equal('annotations' in t, false, `no annotations under ${v}: ${t.name}`);
					} else {
						assert.equal(t.annotations.readOnlyHint, true, `${t.name} annotations`);
						assert.equal(t.annotations.destructiveHint, false);
					}
					if (v === '2025-03-26') {
						// no top-level title yet: 2025-03-26 carries it in annotations
						assert.equal(typeof t.annotations.title, 'string', `${t.name} annotations.title`);
					}
					if (atLeast(v, '2025-06-18')) {
						assert.equal(typeof t.title, 'string', `${t.name} has a title under ${v}`);
					} else {
						assert.equal('title' in t, false, `no top-level title under ${v}: ${t.name}`);
					}
					const hasOutput = t.name === 'add' || t.name === 'bad_output';
					if (atLeast(v, '2025-06-18') && hasOutput) {
						assert.equal(t.outputSchema.type, 'object', `${t.name} outputSchema`);
					} else {
						assert.equal('outputSchema' in t, false, `no outputSchema under ${v}: ${t.name}`);
					}
				}

				const add = await s.callTool('add', { a: 2, b: 40 });
				assert.equal(add.isError, false);
				assert.equal(JSON.parse(resultText(add)).sum, 42, 'text content carries the result');
				if (atLeast(v, '2025-06-18')) {
					assert.deepEqual(add.structuredContent, { sum: 42 });
				} else {
					assert.equal('structuredContent' in add, false, `no structuredContent under ${v}`);
				}
				const echo = await s.callTool('echo', { text: `hello ${v}` });
				assert.deepEqual(echo.content, [{ type: 'text', text: `hello ${v}` }]);
				assert.equal(echo.isError, false);
			});
		});
	}

	test('an unsupported version is answered with the newest one', async () => {
		await withRaw(cfg, null, async (s) => {
			const init = await s.initialize('1999-01-01');
			assert.equal(init.protocolVersion, LATEST_VERSION);
			// and the session then behaves as the newest revision
			const add = await s.callTool('add', { a: 1, b: 1 });
			assert.deepEqual(add.structuredContent, { sum: 2 });
		});
	});

	test('initialize with malformed params is -32602 and the session stays uninitialized', async () => {
		await withRaw(cfg, null, async (s) => {
			const bad = await s.request('initialize', { protocolVersion: 20250618 });
			assert.equal(bad.error?.code, -32602);
			const noInfo = await s.request('initialize', { protocolVersion: LATEST_VERSION, capabilities: {} });
			assert.equal(noInfo.error?.code, -32602);
			const early = await s.request('tools/list', {});
			assert.equal(early.error?.code, -32600, 'still not initialized');
			const init = await s.initialize(LATEST_VERSION);
			assert.equal(init.protocolVersion, LATEST_VERSION);
		});
	});
});

describe('SDK client', { concurrency: true }, () => {
	test('connects and reads the server version, capabilities and instructions', async () => {
		await withClient(cfg, async (client) => {
			const info = client.getServerVersion();
			assert.equal(info.name, 'moat');
			assert.equal(info.version, cliVersion);
			assert.equal(typeof info.title, 'string', 'the SDK negotiates 2025-11-25: title present');
			const caps = client.getServerCapabilities();
			assert.ok(caps.tools, 'tools capability');
			assert.ok(caps.logging, 'logging capability');
			assert.equal(caps.resources, undefined, 'no resources capability yet');
			assert.equal(client.getInstructions(), INSTRUCTIONS);
			assert.deepEqual(await client.ping(), {});
		});
	});
});

describe('before and after initialize', { concurrency: true }, () => {
	test('requests before initialize are refused with -32600; ping works', async () => {
		await withRaw(cfg, null, async (s) => {
			const pong = await s.request('ping');
			assert.deepEqual(pong.result, {}, 'ping works before initialize');
			for (const [method, params] of [
				['tools/list', {}],
				['tools/call', { name: 'echo', arguments: { text: 'x' } }],
				['logging/setLevel', { level: 'debug' }],
				['no/such/method', {}],
			]) {
				const r = await s.request(method, params);
				assert.equal(r.error?.code, -32600, `${method} before initialize: ${JSON.stringify(r)}`);
				assert.match(r.error.message, /initiali[sz]e/i, 'the error says to initialize first');
			}
			// notifications before initialize get no answer at all
			s.notify('notifications/cancelled', { requestId: 1 });
			const init = await s.initialize(LATEST_VERSION);
			assert.equal(init.protocolVersion, LATEST_VERSION);
			const list = await s.call('tools/list', {});
			assert.equal(list.tools.length, TEST_TOOLS.length);
			await s.expectNone((m) => !Array.isArray(m), 100, 'an answer to a notification');
		});
	});

	test('a second initialize is refused and the first negotiation stands', async () => {
		await withRaw(cfg, '2024-11-05', async (s) => {
			const again = await s.request('initialize', {
				protocolVersion: LATEST_VERSION,
				capabilities: {},
				clientInfo: { name: 'again' },
			});
			assert.equal(again.error?.code, -32600);
			assert.match(again.error.message, /already initiali[sz]ed/);
			// still 2024-11-05: no annotations in the tool list
			const list = await s.call('tools/list', {});
			assert.ok(list.tools.every((t) => !('annotations' in t)));
		});
	});
});

describe('JSON-RPC batches', { concurrency: true }, () => {
	const batch = [
		{ jsonrpc: '2.0', id: 1, method: 'ping' },
		{ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'echo', arguments: { text: 'in a batch' } } },
		{ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'add', arguments: { a: 1, b: 2 } } },
		{ jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'slow', arguments: { ms: 50, steps: 2 } } },
		{ jsonrpc: '2.0', method: 'notifications/initialized' },
	];

	test('accepted under 2025-03-26 and answered as one array', async () => {
		await withRaw(cfg, '2025-03-26', async (s) => {
			s.send(batch);
			const arr = await s.waitFor((m) => Array.isArray(m), undefined, 'a batch response');
			assert.equal(arr.length, 4, 'one response per request, none for the notification');
			const byId = new Map(arr.map((r) => [r.id, r]));
			assert.deepEqual([...byId.keys()].sort(), [1, 2, 3, 4]);
			assert.deepEqual(byId.get(1).result, {});
			assert.equal(resultText(byId.get(2).result), 'in a batch');
			assert.equal(JSON.parse(resultText(byId.get(3).result)).sum, 3);
			assert.equal(resultText(byId.get(4).result), 'done');
			// nothing was sent outside the array
			await s.expectNone((m) => !Array.isArray(m), 50, 'a response outside the batch array');
		});
	});

	test('under 2025-03-26: bad elements and initialize get errors inside the array', async () => {
		await withRaw(cfg, '2025-03-26', async (s) => {
			s.send([
				{ jsonrpc: '2.0', id: 7, method: 'initialize', params: { protocolVersion: '2025-03-26', capabilities: {}, clientInfo: { name: 'x' } } },
				1,
				{ jsonrpc: '2.0', id: 8, method: 'ping' },
				{ jsonrpc: '1.0', id: 9, method: 'ping' },
			]);
			const arr = await s.waitFor((m) => Array.isArray(m), undefined, 'a batch response');
			assert.equal(arr.length, 4);
			const init = arr.find((r) => r.id === 7);
			assert.equal(init.error?.code, -32600, 'initialize inside a batch is refused');
			assert.match(init.error.message, /batch/);
			assert.equal(arr.find((r) => r.id === 8).result !== undefined, true);
			assert.equal(arr.find((r) => r.id === 9).error?.code, -32600);
			const nulls = arr.filter((r) => r.id === null);
			assert.equal(nulls.length, 1);
			assert.equal(nulls[0].error.code, -32600);
		});
	});

	test('under 2025-03-26: a batch of notifications only gets no answer', async () => {
		await withRaw(cfg, '2025-03-26', async (s) => {
			s.send([
				{ jsonrpc: '2.0', method: 'notifications/initialized' },
				{ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 77 } },
			]);
			await s.assertAlive();
			await s.expectNone(() => true, 100, 'any answer to a notification-only batch');
		});
	});

	for (const v of ['2024-11-05', '2025-06-18', '2025-11-25']) {
		test(`refused with -32600 under ${v}`, async () => {
			await withRaw(cfg, v, async (s) => {
				s.send(batch);
				const err = await s.nullIdError();
				assert.equal(err.error.code, -32600);
				assert.match(err.error.message, /2025-03-26/, 'the error says where batches are allowed');
				// none of the batch ran
				await s.expectNone((m) => m.id !== null, 150, 'a response to a refused batch');
				await s.assertAlive();
			});
		});
	}

	test('an empty batch is -32600', async () => {
		await withRaw(cfg, '2025-03-26', async (s) => {
			s.send('[]');
			const err = await s.nullIdError();
			assert.equal(err.error.code, -32600);
			assert.match(err.error.message, /empty batch/);
			await s.assertAlive();
		});
	});

	test('initialize inside a batch before initialize is refused', async () => {
		await withRaw(cfg, null, async (s) => {
			s.send([
				{
					jsonrpc: '2.0',
					id: 1,
					method: 'initialize',
					params: { protocolVersion: '2025-03-26', capabilities: {}, clientInfo: { name: 'x' } },
				},
			]);
			const err = await s.nullIdError();
			assert.equal(err.error.code, -32600);
			// the session is still uninitialized ...
			const early = await s.request('tools/list', {});
			assert.equal(early.error?.code, -32600);
			// ... and a proper initialize still works
			const init = await s.initialize('2025-03-26');
			assert.equal(init.protocolVersion, '2025-03-26');
		});
	});
});

test('stdout carries protocol only even when stdin is closed right away', async () => {
	const s = new RawSession(cfg);
	const r = await s.close();
	assert.equal(r.code, 0);
	assert.deepEqual(s.lines, [], 'nothing on stdout without input');
	assert.match(r.stderr, /serving over stdio/, 'logs go to stderr');
});
