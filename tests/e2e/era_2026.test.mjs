// era_2026.test.mjs - the same tools under both eras of MCP: the official
// SDK 1.x client (initialize, a session, 2025-11-25) and the official 2.x
// client (@modelcontextprotocol/client pinned to 2026-07-28: server/discover,
// no initialize, params._meta on every request) against one config with
// the testing, fs, sql and git families. Their answers must be equal up to
// the era's own fields (resultType, ttlMs and cacheScope under 2026-07-28
// only); the error paths of the new era; a client that switches era between
// connections (stdio processes in sequence, and one HTTP listener serving
// 1.x, 2.x and 1.x again, sessions and stateless requests side by side).
// The rules the SDK never breaks (missing _meta fields, an unsupported
// version, the removed methods, resultType on every result, an old-era
// session and stateless requests interleaved on one stdio connection) are
// sent as raw JSON lines.
//
// Over MOAT_E2E_TRANSPORT=http the client tests run again over the
// listener; the raw-stdio and explicit-transport tests run in the stdio
// pass only.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import {
	LATEST_VERSION,
	STATELESS_VERSION,
	SUPPORTED_VERSIONS,
	TRANSPORT,
	assertToolError,
	connectClient,
	connectClient2,
	makeTempDir,
	resultText,
	spawnListener,
	statelessMeta,
	withRaw,
	writeConfig,
	STATE_HOME,
	elicitationAnswer,
} from './helpers.mjs';
import { buildMain, newBase } from './git_fixture.mjs';

function sqlite(file, sql) {
	const r = spawnSync('sqlite3', [file], { input: sql, encoding: 'utf8' });
	assert.equal(r.status, 0, `sqlite3 failed: ${r.stderr}`);
}

const STDIO_ONLY = TRANSPORT === 'http' ? 'stdio pass only' : false;

let dir, root, cfg, c1, c2;

before(async () => {
	dir = fs.realpathSync(makeTempDir('moat-era-'));
	root = path.join(dir, 'root');
	fs.mkdirSync(path.join(root, 'sub'), { recursive: true });
	fs.writeFileSync(path.join(root, 'a.txt'), 'alpha\nbeta\ngamma\n');
	fs.writeFileSync(path.join(root, 'sub', 'b.md'), '# bee\n');
	sqlite(path.join(dir, 'lib.db'), "CREATE TABLE book(id INTEGER PRIMARY KEY, title TEXT);\n" +
		"INSERT INTO book VALUES (1, 'Earthsea'), (2, 'Ficciones');\n");
	const base = newBase('moat-era-git-');
	buildMain(base);
	cfg = writeConfig(dir, {
		testing: { enabled: true },
		roots: [root],
		databases: { lib: { type: 'sqlite', path: path.join(dir, 'lib.db') } },
		git: { repositories: [{ path: path.join(base, 'main'), name: 'main' }] },
		limits: { call_timeout_ms: 20000 },
	});
	c1 = await connectClient(cfg);
	c2 = await connectClient2(cfg);
});

after(async () => {
	await c1?.close();
	await c2?.close();
});

/** Read-only calls of every family, each answered the same in both eras. */
const CALLS = () => [
	['echo', { text: 'same in both eras' }],
	['add', { a: 2, b: 40 }],
	['read_text_file', { path: path.join(root, 'a.txt') }],
	['list_directory', { path: root }],
	['get_file_info', { path: path.join(root, 'sub', 'b.md') }],
	['list_allowed_directories', {}],
	['list_databases', {}],
	['list_tables', { database: 'lib' }],
	['read_query', { database: 'lib', query: 'SELECT id, title FROM book ORDER BY id' }],
	['git_log', { repo_path: 'main', max_count: 3 }],
	['git_status', { repo_path: 'main' }],
	['git_branch', { repo_path: 'main', branch_type: 'local' }],
];

/** A result without the fields that differ by nature between two calls. */
function comparable(r) {
	const { resultType, ttlMs, cacheScope, _meta, ...rest } = r;
	void resultType, ttlMs, cacheScope, _meta;
	// get_file_info reports the access time, which the first read changes.
	return JSON.parse(JSON.stringify(rest).replace(/accessed: [^"\\]*/g, 'accessed: X'));
}

describe('the same tools under both eras', () => {
	test('the 2.x client negotiated 2026-07-28 without initialize', async () => {
		assert.equal(c2.client.getNegotiatedProtocolVersion(), STATELESS_VERSION);
		assert.equal(c1.client.getServerVersion().name, c2.client.getServerVersion().name);
	});

	test('tools/list: the same tools and schemas; cache hints and resultType in the new era only', async () => {
		const a = await c1.client.listTools();
		const b = await c2.client.listTools();
		assert.deepEqual(b.tools, a.tools);
		assert.ok(!('resultType' in a) && !('ttlMs' in a), 'the 1.x result has no new-era fields');
		const raw = c2.raw('tools/list');
		assert.equal(raw.result.resultType, 'complete');
		assert.ok(Number.isInteger(raw.result.ttlMs) && raw.result.ttlMs >= 0, 'ttlMs');
		assert.ok(['public', 'private'].includes(raw.result.cacheScope), 'cacheScope');
	});

	for (const [name, args] of CALLS()) {
		test(`tools/call ${name}: equal answers, resultType only under 2026-07-28`, async () => {
			const a = await c1.client.callTool({ name, arguments: args });
			const b = await c2.client.callTool({ name, arguments: args });
			assert.ok(!a.isError, `${name} (1.x): ${JSON.stringify(a).slice(0, 300)}`);
			assert.deepEqual(comparable(b), comparable(a));
			assert.ok(!('resultType' in a), 'no resultType in the initialize era');
			const raw = c2.raw('tools/call');
			assert.equal(raw.result.resultType, 'complete');
			assert.ok(!('ttlMs' in raw.result), 'a tool result carries no cache hint');
		});
	}

	test('every request of the 2.x client carried the _meta envelope', () => {
		assert.ok(c2.sent.length > 0);
		for (const m of c2.sent.filter((x) => 'method' in x && 'id' in x)) {
			const meta = m.params?._meta ?? {};
			assert.equal(meta['io.modelcontextprotocol/protocolVersion'], STATELESS_VERSION, m.method);
			assert.equal(typeof meta['io.modelcontextprotocol/clientCapabilities'], 'object', m.method);
		}
		assert.ok(!c2.sent.some((m) => m.method === 'initialize'), 'no initialize');
	});

	test('resources: the same list and contents in both eras', async () => {
		const a = await c1.client.listResources();
		const b = await c2.client.listResources();
		assert.deepEqual(b.resources, a.resources);
		const uri = `file://${path.join(root, 'a.txt')}`;
		const ra = await c1.client.readResource({ uri });
		const rb = await c2.client.readResource({ uri });
		assert.deepEqual(rb.contents, ra.contents);
		const raw = c2.raw('resources/read');
		assert.equal(raw.result.resultType, 'complete');
		assert.ok(Number.isInteger(raw.result.ttlMs), 'resources/read carries ttlMs');
		assert.ok(['public', 'private'].includes(raw.result.cacheScope), 'and cacheScope');
	});
});

describe('server/discover through the 2.x client', () => {
	test('supported versions, capabilities, serverInfo in _meta, cache hints', async () => {
		const d = await c2.client.discover();
		assert.deepEqual([...d.supportedVersions].sort(), [...SUPPORTED_VERSIONS, STATELESS_VERSION].sort());
		assert.ok(d.capabilities.tools, 'tools capability');
		assert.ok(d.capabilities.resources, 'resources capability (roots and databases configured)');
		const info = d._meta?.['io.modelcontextprotocol/serverInfo'];
		assert.equal(info?.name, 'moat');
		const raw = c2.raw('server/discover');
		assert.equal(raw.result.resultType, 'complete');
		assert.ok(Number.isInteger(raw.result.ttlMs));
	});

	test("mode 'auto' picks the new era against moat", async () => {
		const c = await connectClient2(cfg, { mode: 'auto' });
		try {
			assert.equal(c.client.getNegotiatedProtocolVersion(), STATELESS_VERSION);
			const r = await c.client.callTool({ name: 'echo', arguments: { text: 'auto' } });
			assert.equal(resultText(r), 'auto');
		} finally {
			await c.close();
		}
	});
});

describe('error paths under 2026-07-28', () => {
	test('an unknown tool: -32602', async () => {
		await assert.rejects(c2.client.callTool({ name: 'no_such_tool', arguments: {} }), (e) => {
			assert.equal(e.code, -32602);
			assert.match(e.message, /no_such_tool/);
			return true;
		});
	});

	test('invalid arguments: an isError result, as in the old era', async () => {
		const args = { a: 'two', b: 1 };
		const a = await c1.client.callTool({ name: 'add', arguments: args });
		const b = await c2.client.callTool({ name: 'add', arguments: args });
		assertToolError(a);
		assertToolError(b);
		assert.deepEqual(comparable(b), comparable(a));
		assert.equal(c2.raw('tools/call').result.resultType, 'complete');
	});

	test('a failing tool: isError, resultType complete', async () => {
		const b = await c2.client.callTool({ name: 'fail', arguments: {} });
		assertToolError(b);
	});

	test('a resource that does not exist: -32602 with data.uri', async () => {
		const uri = `file://${path.join(root, 'missing.txt')}`;
		await assert.rejects(c2.client.readResource({ uri }), (e) => {
			assert.equal(e.code, -32602, e.message);
			assert.equal(e.data?.uri, uri);
			return true;
		});
	});
});

describe('a client that switches era between connections', () => {
	test('stdio: 1.x, 2.x, 1.x processes in sequence answer alike', { skip: STDIO_ONLY }, async () => {
		const answers = [];
		for (const v2 of [false, true, false]) {
			const c = v2 ? await connectClient2(cfg) : await connectClient(cfg);
			try {
				const r = await c.client.callTool({ name: 'read_query', arguments: { database: 'lib', query: 'SELECT title FROM book' } });
				answers.push(comparable(r));
				if (v2) assert.equal(c.raw('tools/call').result.resultType, 'complete');
				else assert.ok(!('resultType' in r));
			} finally {
				await c.close();
			}
		}
		assert.deepEqual(answers[1], answers[0]);
		assert.deepEqual(answers[2], answers[0]);
	});

	test('HTTP: 1.x, 2.x, 1.x against one listener, a session open throughout', { skip: STDIO_ONLY }, async () => {
		const m = await spawnListener(['serve', '--config', cfg, '--http', '127.0.0.1:0'], {
			...process.env,
			XDG_STATE_HOME: STATE_HOME,
		});
		const held = [];
		try {
			const old = await connectClient(cfg, { url: m.url });
			held.push(old);
			const want = comparable(await old.client.callTool({ name: 'git_log', arguments: { repo_path: 'main', max_count: 2 } }));
			const v2 = await connectClient2(cfg, { url: m.url });
			held.push(v2);
			assert.equal(v2.transport.sessionId, undefined, 'no session in the new era');
			const got = await v2.client.callTool({ name: 'git_log', arguments: { repo_path: 'main', max_count: 2 } });
			assert.deepEqual(comparable(got), want);
			assert.equal(v2.raw('tools/call').result.resultType, 'complete');
			// The old session still works after stateless requests went by.
			const again = await old.client.callTool({ name: 'echo', arguments: { text: 'still here' } });
			assert.equal(resultText(again), 'still here');
			assert.ok(!('resultType' in again));
			await v2.close();
			await old.close();
			const third = await connectClient(cfg, { url: m.url });
			held.push(third);
			const r = await third.client.callTool({ name: 'git_log', arguments: { repo_path: 'main', max_count: 2 } });
			assert.deepEqual(comparable(r), want);
			await third.close();
		} finally {
			for (const c of held) await c.close().catch(() => {});
			m.proc.kill('SIGTERM');
			const e = await m.exited;
			assert.deepEqual(e, { code: 0, signal: null }, m.stderr());
		}
	});
});

describe('raw 2026-07-28 requests on stdio', { skip: STDIO_ONLY }, () => {
	const err = (r, code, rule) => {
		assert.ok('error' in r, `expected an error, got ${JSON.stringify(r).slice(0, 300)}`);
		assert.equal(r.error.code, code, JSON.stringify(r.error));
		if (rule) assert.equal(r.error.data?.rule, rule, JSON.stringify(r.error));
		return r.error;
	};
	const V = 'io.modelcontextprotocol/protocolVersion';
	const CAPS = 'io.modelcontextprotocol/clientCapabilities';

	test('missing or malformed _meta fields: -32602 naming the field', async () => {
		await withRaw(cfg, null, async (s) => {
			let e = err(await s.request('tools/list', { _meta: { [V]: STATELESS_VERSION } }), -32602, 'protocol.meta_missing');
			assert.match(e.message, /clientCapabilities/);
			e = err(await s.request('tools/list', { _meta: { [V]: 20260728, [CAPS]: {} } }), -32602, 'protocol.meta_missing');
			assert.match(e.message, /protocolVersion/);
			err(await s.request('tools/list', { _meta: { [V]: STATELESS_VERSION, [CAPS]: [] } }), -32602, 'protocol.meta_missing');
			err(await s.request('server/discover', {}), -32602, 'protocol.meta_missing');
			err(await s.request('server/discover'), -32602, 'protocol.meta_missing');
			err(await s.stateless('tools/list', { _meta: { 'io.modelcontextprotocol/clientInfo': { version: '1' } } }), -32602, 'protocol.meta_invalid');
			err(await s.stateless('tools/list', { _meta: { 'io.modelcontextprotocol/logLevel': 'loud' } }), -32602, 'protocol.meta_invalid');
			// Each was refused on its own: the next request is served.
			const ok = await s.stateless('tools/list');
			assert.ok(Array.isArray(ok.result?.tools));
		});
	});

	test('an unsupported version: -32022 with the supported list and the requested one', async () => {
		await withRaw(cfg, null, async (s) => {
			for (const v of ['2099-01-01', LATEST_VERSION, '']) {
				const e = err(await s.stateless('tools/list', { _meta: { [V]: v } }), -32022);
				assert.deepEqual(e.data.supported, [STATELESS_VERSION]);
				assert.equal(e.data.requested, v);
			}
		});
	});

	test('the methods 2026-07-28 removed, and unknown ones: -32601', async () => {
		await withRaw(cfg, null, async (s) => {
			for (const m of ['initialize', 'ping', 'logging/setLevel', 'resources/subscribe', 'resources/unsubscribe']) {
				const e = err(await s.stateless(m, { uri: `file://${root}/a.txt`, level: 'info' }), -32601, 'protocol.method_not_found');
				assert.match(e.message, /not part of protocol 2026-07-28/, m);
			}
			err(await s.stateless('no/such/method'), -32601);
			err(await s.stateless('tasks/list'), -32601);
		});
	});

	test('resultType on every result; cache hints on lists and reads', async () => {
		await withRaw(cfg, null, async (s) => {
			const cases = [
				['server/discover', {}, true],
				['tools/list', {}, true],
				['tools/call', { name: 'echo', arguments: { text: 'x' } }, false],
				['tools/call', { name: 'fail', arguments: {} }, false],
				['resources/list', {}, true],
				['resources/templates/list', {}, true],
				['resources/read', { uri: `file://${root}/a.txt` }, true],
				['resources/read', { uri: 'sql://lib/tables' }, true],
			];
			for (const [method, params, hinted] of cases) {
				const r = await s.stateless(method, params);
				assert.ok('result' in r, `${method}: ${JSON.stringify(r).slice(0, 300)}`);
				assert.equal(r.result.resultType, 'complete', `${method} ${JSON.stringify(params)}`);
				if (hinted) {
					assert.ok(Number.isInteger(r.result.ttlMs) && r.result.ttlMs >= 0, `${method}: ttlMs`);
					assert.ok(['public', 'private'].includes(r.result.cacheScope), `${method}: cacheScope`);
				}
			}
		});
	});

	test('list order is deterministic across requests', async () => {
		await withRaw(cfg, null, async (s) => {
			for (const method of ['tools/list', 'resources/list', 'resources/templates/list']) {
				const a = await s.stateless(method);
				const b = await s.stateless(method);
				assert.deepEqual(b.result, a.result, method);
			}
		});
	});

	test('a stateless request needs no initialize; an old-era one still does', async () => {
		await withRaw(cfg, null, async (s) => {
			const r = await s.stateless('tools/call', { name: 'echo', arguments: { text: 'first' } });
			assert.equal(resultText(r.result), 'first');
			const o = await s.request('tools/call', { name: 'echo', arguments: { text: 'old' } });
			assert.ok('error' in o, 'the initialize era still needs initialize');
		});
	});

	test('an old-era session and stateless requests interleaved on one connection', async () => {
		await withRaw(cfg, LATEST_VERSION, async (s) => {
			const a = await s.callTool('echo', { text: 'old 1' });
			assert.ok(!('resultType' in a));
			const b = await s.stateless('tools/call', { name: 'echo', arguments: { text: 'new 1' } });
			assert.equal(b.result.resultType, 'complete');
			assert.equal(resultText(b.result), 'new 1');
			// ping is gone in the new era, alive in the session.
			err(await s.stateless('ping'), -32601);
			await s.assertAlive();
			// A stateless tools/list carries hints; the session's does not.
			const lt = await s.stateless('tools/list');
			const lo = await s.call('tools/list', {});
			assert.ok('ttlMs' in lt.result && !('ttlMs' in lo));
			assert.deepEqual(lo.tools, lt.result.tools);
			// A stateless initialize does not reset the session.
			err(await s.stateless('initialize', { protocolVersion: LATEST_VERSION, capabilities: {}, clientInfo: { name: 'x', version: '1' } }), -32601);
			const c = await s.callTool('echo', { text: 'old 2' });
			assert.equal(resultText(c), 'old 2');
			assert.ok(!('resultType' in c));
			// A stateless logLevel does not change the session's.
			const d = await s.stateless('tools/call', {
				name: 'echo',
				arguments: { text: 'new 2' },
				_meta: { 'io.modelcontextprotocol/logLevel': 'debug' },
			});
			assert.equal(resultText(d.result), 'new 2');
			await s.expectNone((m) => m.method === 'notifications/message', 200, 'a log message in the session');
		});
	});

	test("a stateless request gets 2026-07-28's features whatever the session negotiated", async () => {
		await withRaw(cfg, '2024-11-05', async (s) => {
			const lo = await s.call('tools/list', {});
			const lt = (await s.stateless('tools/list')).result;
			const ro = (t) => t.tools.find((x) => x.name === 'read_query');
			assert.equal(ro(lo).outputSchema, undefined, 'the 2024-11-05 session sees no outputSchema');
			assert.ok(ro(lt).outputSchema, 'a 2026-07-28 request does');
			assert.ok(ro(lt).annotations && ro(lt).title, 'with annotations and title');
			const args = { name: 'read_query', arguments: { database: 'lib', query: 'SELECT id FROM book ORDER BY id' } };
			const co = await s.call('tools/call', args);
			const ct = (await s.stateless('tools/call', args)).result;
			assert.equal(co.structuredContent, undefined, 'no structuredContent in the 2024-11-05 session');
			assert.ok(ct.structuredContent, 'structuredContent under 2026-07-28 on the same connection');
			assert.deepEqual(ct.content, co.content);
		});
	});

	test('a batch of 2026-07-28 requests is refused whole (-32600), the connection goes on', async () => {
		await withRaw(cfg, null, async (s) => {
			s.send([
				{ jsonrpc: '2.0', id: 'b1', method: 'tools/list', params: { _meta: statelessMeta() } },
				{ jsonrpc: '2.0', id: 'b2', method: 'server/discover', params: { _meta: statelessMeta() } },
			]);
			const r = await s.next();
			assert.equal(r.error?.code, -32600, JSON.stringify(r));
			assert.match(r.error.message, /batch/);
			const again = await s.stateless('server/discover');
			assert.equal(again.result.resultType, 'complete');
		});
	});
});

describe('a confirmation in both eras (confirm: fs)', () => {
	let wdir, wcfg;
	before(() => {
		wdir = fs.realpathSync(makeTempDir('moat-era-w-'));
		fs.mkdirSync(path.join(wdir, 'rw'));
		wcfg = writeConfig(wdir, {
			roots: [{ path: path.join(wdir, 'rw'), write: true }],
			confirm: { fs: true },
		});
	});
	const target = (name) => path.join(wdir, 'rw', name);
	const answer = elicitationAnswer;
	const write = (c, name) => c.client.callTool({ name: 'write_file', arguments: { path: target(name), content: 'hi\n' } });

	test('2026-07-28 without the elicitation capability: -32021 with requiredCapabilities, nothing written', async () => {
		const c = await connectClient2(wcfg);
		try {
			await assert.rejects(write(c, 'a.txt'), (e) => {
				assert.equal(e.code, -32021, e.message);
				assert.ok(e.data?.requiredCapabilities?.elicitation, JSON.stringify(e.data));
				return true;
			});
		} finally {
			await c.close();
		}
		assert.equal(fs.existsSync(target('a.txt')), false);
	});

	test('2026-07-28 with elicitation: input_required, the 2.x client asks and retries; accepted, written', async () => {
		let asked = 0;
		const c = await connectClient2(wcfg, {
			capabilities: { elicitation: { form: {} } },
			beforeConnect: (cl) => cl.setRequestHandler('elicitation/create', (req) => (asked++, answer(true)(req))),
		});
		try {
			const r = await write(c, 'b.txt');
			assert.ok(!r.isError, JSON.stringify(r));
			assert.equal(asked, 1);
			const first = c.received.find((m) => m.result?.resultType === 'input_required');
			assert.ok(first?.result.requestState, 'the first answer was input_required with a requestState');
			assert.equal(c.raw('tools/call').result.resultType, 'complete');
		} finally {
			await c.close();
		}
		assert.equal(fs.readFileSync(target('b.txt'), 'utf8'), 'hi\n');
	});

	test('2026-07-28 declined: not written', async () => {
		const c = await connectClient2(wcfg, {
			capabilities: { elicitation: { form: {} } },
			beforeConnect: (cl) => cl.setRequestHandler('elicitation/create', answer(false)),
		});
		try {
			const r = await write(c, 'c.txt').catch((e) => ({ rejected: e }));
			assert.ok(r.rejected || r.isError, JSON.stringify(r));
		} finally {
			await c.close();
		}
		assert.equal(fs.existsSync(target('c.txt')), false);
	});

	test('initialize era: without elicitation isError, with it the 1.x client is asked; written once accepted', async () => {
		const plain = await connectClient(wcfg);
		try {
			assertToolError(await write(plain, 'd.txt'), /confirm|elicitation/i);
		} finally {
			await plain.close();
		}
		assert.equal(fs.existsSync(target('d.txt')), false);
		const { ElicitRequestSchema } = await import('@modelcontextprotocol/sdk/types.js');
		const c = await connectClient(wcfg, { capabilities: { elicitation: {} } });
		try {
			c.client.setRequestHandler(ElicitRequestSchema, answer(true));
			const r = await write(c, 'e.txt');
			assert.ok(!r.isError, JSON.stringify(r));
			assert.ok(!('resultType' in r));
		} finally {
			await c.close();
		}
		assert.equal(fs.readFileSync(target('e.txt'), 'utf8'), 'hi\n');
	});
});
