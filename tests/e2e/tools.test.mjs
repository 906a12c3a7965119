// tools.test.mjs - tools/list paging and tools/call through the official SDK
// client: results, argument validation, handler errors, output budget and
// schema, rate limits, concurrency and deadlines.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CallToolResultSchema, McpError } from '@modelcontextprotocol/sdk/types.js';
import {
	TEST_TOOLS,
	assertToolError,
	makeTempDir,
	resultText,
	testingConfig,
	withClient,
	writeConfig,
} from './helpers.mjs';

const dir = makeTempDir('moat-e2e-tools-');
let n = 0;
const config = (limits = {}, extra = {}) =>
	writeConfig(dir, testingConfig({ limits, ...extra }), `moat-${++n}.json`);

const baseCfg = config({ tools_page_size: 2, max_output_bytes: 4096 });

async function assertRpcError(promise, code, pattern) {
	await assert.rejects(promise, (e) => {
		assert.ok(e instanceof McpError, `expected McpError, got ${e}`);
		assert.equal(e.code, code, `error code of ${e.message}`);
		if (pattern) assert.match(e.message, pattern);
		return true;
	});
}

describe('tools/list', { concurrency: true }, () => {
	test('pages of tools_page_size=2 are followed to all 7 tools', async () => {
		await withClient(baseCfg, async (client) => {
			const pages = [];
			let cursor;
			do {
				const page = await client.listTools(cursor ? { cursor } : {});
				pages.push(page);
				cursor = page.nextCursor;
				assert.ok(pages.length <= 10, 'paging terminates');
			} while (cursor);
			assert.deepEqual(
				pages.map((p) => p.tools.length),
				[2, 2, 2, 1],
			);
			assert.equal(pages[3].nextCursor, undefined, 'the last page has no nextCursor');
			const tools = pages.flatMap((p) => p.tools);
			assert.deepEqual(
				tools.map((t) => t.name),
				TEST_TOOLS,
				'every tool once, in a stable order',
			);
			for (const t of tools) {
				assert.equal(typeof t.title, 'string', `${t.name} title`);
				assert.equal(typeof t.description, 'string');
				assert.equal(t.inputSchema.type, 'object');
				assert.deepEqual(
					{
						readOnlyHint: t.annotations.readOnlyHint,
						destructiveHint: t.annotations.destructiveHint,
						idempotentHint: t.annotations.idempotentHint,
						openWorldHint: t.annotations.openWorldHint,
					},
					{ readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
					`${t.name} annotations`,
				);
			}
			const byName = Object.fromEntries(tools.map((t) => [t.name, t]));
			assert.equal(byName.echo.title, 'Echo');
			assert.deepEqual(byName.echo.inputSchema.required, ['text']);
			assert.deepEqual(byName.add.outputSchema.required, ['sum']);
			assert.deepEqual(byName.bad_output.outputSchema.required, ['sum']);
			for (const name of ['echo', 'slow', 'fail', 'big']) {
				assert.equal(byName[name].outputSchema, undefined, `${name} has no outputSchema`);
			}
			// the same cursor gives the same page again (cursors are not one-shot)
			const again = await client.listTools({ cursor: pages[0].nextCursor });
			assert.deepEqual(again.tools, pages[1].tools);
		});
	});

	test('a bogus or stale cursor is -32602', async () => {
		await withClient(baseCfg, async (client) => {
			const first = await client.listTools();
			assert.equal(typeof first.nextCursor, 'string');
			for (const cursor of ['bogus', '', 'moat:99', 'moat:-1', 'moat:0', first.nextCursor + 'x']) {
				await assertRpcError(client.listTools({ cursor }), -32602, /cursor/);
			}
			// the session survives
			assert.equal((await client.listTools()).tools.length, 2);
		});
	});

	test('with the default page size the list is one page', async () => {
		await withClient(config(), async (client) => {
			const r = await client.listTools();
			assert.equal(r.tools.length, TEST_TOOLS.length);
			assert.equal(r.nextCursor, undefined);
		});
	});
});

describe('tools/call', { concurrency: true }, () => {
	test('echo and add answer; add carries structuredContent {sum}', async () => {
		await withClient(baseCfg, async (client) => {
			await client.listTools(); // caches add's outputSchema: the SDK validates against it
			const echo = await client.callTool({ name: 'echo', arguments: { text: 'héllo wörld ✓' } });
			assert.deepEqual(echo.content, [{ type: 'text', text: 'héllo wörld ✓' }]);
			assert.equal(echo.isError, false);
			assert.equal(echo.structuredContent, undefined);

			const add = await client.callTool({ name: 'add', arguments: { a: 1.5, b: -4 } });
			assert.equal(add.isError, false);
			assert.deepEqual(add.structuredContent, { sum: -2.5 });
			assert.equal(JSON.parse(resultText(add)).sum, -2.5, 'text mirror of the structured result');

			const slow = await client.callTool({ name: 'slow', arguments: { ms: 20 } });
			assert.equal(resultText(slow), 'done');
			const big = await client.callTool({ name: 'big', arguments: { bytes: 1000 } });
			assert.equal(resultText(big), 'x'.repeat(1000));
		});
	});

	test('an unknown tool is a JSON-RPC -32602 error', async () => {
		await withClient(baseCfg, async (client) => {
			await assertRpcError(client.callTool({ name: 'no_such_tool', arguments: {} }), -32602, /no_such_tool/);
			await assertRpcError(client.callTool({ name: '', arguments: {} }), -32602);
			assert.equal((await client.callTool({ name: 'echo', arguments: { text: 'ok' } })).isError, false);
		});
	});

	test('invalid arguments are isError results naming the pointer and keyword', async () => {
		await withClient(baseCfg, async (client) => {
			const cases = [
				['echo', {}, /^invalid arguments: \(root\): required: .*'text'/],
				['echo', { text: 5 }, /^invalid arguments: \/text: type: /],
				['echo', { text: 'a', extra: 1 }, /^invalid arguments: \(root\): additionalProperties: .*'extra'/],
				['echo', { text: 'x'.repeat(10001) }, /^invalid arguments: \/text: maxLength: /],
				['add', { a: '1', b: 2 }, /^invalid arguments: \/a: type: /],
				['slow', { ms: -1 }, /^invalid arguments: \/ms: minimum: /],
				['slow', { ms: 1.5 }, /^invalid arguments: \/ms: type: /],
				['big', { bytes: 67108865 }, /^invalid arguments: \/bytes: maximum: /],
				['fail', { x: 1 }, /^invalid arguments: \(root\): additionalProperties: /],
			];
			for (const [name, args, pattern] of cases) {
				const r = await client.callTool({ name, arguments: args });
				assertToolError(r, pattern);
			}
			// no arguments at all is validated as {}
			const none = await client.request({ method: 'tools/call', params: { name: 'echo' } }, CallToolResultSchema);
			assertToolError(none, /required/);
		});
	});

	test('malformed tools/call params are -32602', async () => {
		await withClient(baseCfg, async (client) => {
			const bad = [
				{ name: 5 },
				{ name: 'echo', arguments: ['x'] },
				{ name: 'echo', arguments: 'text=x' },
				{ name: 'echo', arguments: { text: 'x' }, _meta: { progressToken: { a: 1 } } },
			];
			for (const params of bad) {
				await assertRpcError(
					client.request({ method: 'tools/call', params }, CallToolResultSchema),
					-32602,
				);
			}
		});
	});

	test('fail is an isError result', async () => {
		await withClient(baseCfg, async (client) => {
			const r = await client.callTool({ name: 'fail', arguments: {} });
			assertToolError(r, /upstream failed/);
		});
	});

	test('big over limits.max_output_bytes is isError naming the limit', async () => {
		await withClient(baseCfg, async (client) => {
			const r = await client.callTool({ name: 'big', arguments: { bytes: 5000 } });
			const text = assertToolError(r, 'limits.max_output_bytes', '4096');
			assert.ok(text.length < 1000, 'the refused output is not included');
			// just under the budget (allowing for the envelope) still works
			const ok = await client.callTool({ name: 'big', arguments: { bytes: 3900 } });
			assert.equal(ok.isError, false);
		});
	});

	test('bad_output breaking its outputSchema is isError naming outputSchema', async () => {
		await withClient(baseCfg, async (client) => {
			await client.listTools();
			const r = await client.callTool({ name: 'bad_output', arguments: {} });
			assertToolError(r, 'outputSchema', /\/sum/);
			assert.equal(r.structuredContent, undefined, 'the broken result is not passed on');
		});
	});
});

describe('limits', { concurrency: true }, () => {
	test('limits.calls_per_minute=3: the 4th call is refused naming the limit', async () => {
		await withClient(config({ calls_per_minute: 3 }), async (client) => {
			for (let i = 0; i < 3; i++) {
				const r = await client.callTool({ name: 'echo', arguments: { text: `n${i}` } });
				assert.equal(r.isError, false, `call ${i + 1}`);
			}
			const fourth = await client.callTool({ name: 'add', arguments: { a: 1, b: 2 } });
			assertToolError(fourth, 'limits.calls_per_minute', '(3)');
			// only tool calls count: the session still answers
			await client.ping();
			assert.equal((await client.listTools()).tools.length, TEST_TOOLS.length);
		});
	});

	test('limits.tools.echo.calls_per_minute=2 limits echo only', async () => {
		await withClient(config({ tools: { echo: { calls_per_minute: 2 } } }), async (client) => {
			for (let i = 0; i < 2; i++) {
				assert.equal((await client.callTool({ name: 'echo', arguments: { text: 'x' } })).isError, false);
			}
			const third = await client.callTool({ name: 'echo', arguments: { text: 'x' } });
			assertToolError(third, /echo/, /calls.per.minute/i);
			for (let i = 0; i < 4; i++) {
				const add = await client.callTool({ name: 'add', arguments: { a: i, b: 1 } });
				assert.equal(add.isError, false, 'other tools are not limited');
			}
		});
	});

	test('limits.tool_calls_per_minute=2 applies to each tool separately', async () => {
		await withClient(config({ tool_calls_per_minute: 2 }), async (client) => {
			for (const name of ['echo', 'echo']) {
				assert.equal((await client.callTool({ name, arguments: { text: 'x' } })).isError, false);
			}
			assertToolError(await client.callTool({ name: 'echo', arguments: { text: 'x' } }), /echo/);
			for (let i = 0; i < 2; i++) {
				assert.equal((await client.callTool({ name: 'add', arguments: { a: 1, b: 1 } })).isError, false);
			}
			assertToolError(await client.callTool({ name: 'add', arguments: { a: 1, b: 1 } }), /add/);
		});
	});

	test('a per-tool override beats tool_calls_per_minute', async () => {
		const cfg = config({ tool_calls_per_minute: 1, tools: { echo: { calls_per_minute: 3 } } });
		await withClient(cfg, async (client) => {
			for (let i = 0; i < 3; i++) {
				assert.equal((await client.callTool({ name: 'echo', arguments: { text: 'x' } })).isError, false);
			}
			assertToolError(await client.callTool({ name: 'echo', arguments: { text: 'x' } }), /echo/);
			assert.equal((await client.callTool({ name: 'add', arguments: { a: 1, b: 1 } })).isError, false);
			assertToolError(await client.callTool({ name: 'add', arguments: { a: 1, b: 1 } }), /add/);
		});
	});

	test('max_concurrent_calls=1: a second call while one runs is refused', async () => {
		await withClient(config({ max_concurrent_calls: 1 }), async (client) => {
			const t0 = Date.now();
			const first = client.callTool({ name: 'slow', arguments: { ms: 1000 } });
			const second = await client.callTool({ name: 'echo', arguments: { text: 'x' } });
			assertToolError(second, 'limits.max_concurrent_calls', '(1)');
			assert.ok(Date.now() - t0 < 800, 'the refusal does not wait for the running call');
			const r = await first;
			assert.equal(resultText(r), 'done', 'the running call is not disturbed');
			// once it is done a new call is accepted
			assert.equal((await client.callTool({ name: 'echo', arguments: { text: 'y' } })).isError, false);
		});
	});

	test('call_timeout_ms=100: slow ms=2000 is isError naming call_timeout_ms', async () => {
		await withClient(config({ call_timeout_ms: 100 }), async (client) => {
			const t0 = Date.now();
			const r = await client.callTool({ name: 'slow', arguments: { ms: 2000 } });
			const took = Date.now() - t0;
			assertToolError(r, 'limits.call_timeout_ms', '100');
			assert.ok(took < 1500, `the deadline ended the call (took ${took} ms)`);
			assert.ok(took >= 90, `not before the deadline (took ${took} ms)`);
			// a quick call still succeeds
			assert.equal((await client.callTool({ name: 'slow', arguments: { ms: 10 } })).isError, false);
		});
	});
});
