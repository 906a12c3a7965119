// http_stateless.test.mjs - attacks on 2026-07-28 requests over HTTP: POSTs
// without a session, served one by one. Headers that disagree with the body
// (an intermediary routed on one, moat would act on the other): each mirror
// header mismatched or missing, sent twice, with odd case and whitespace;
// Mcp-Param-* against a tool's x-mcp-header arguments (when a fixture tool
// declares one); an unsupported revision (-32022 with the supported list);
// the methods this revision removed (404); a session id of another principal;
// two principals' requests never sharing what one declared; a client that
// goes away mid-call (its call is cancelled); CORS preflight for the new
// headers; and an audit record for every stateless request naming its
// principal.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { makeTempDir, writeConfig, testingConfig } from '../e2e/helpers.mjs';
import { ACCEPT_BOTH, assertSecurityHeaders, initialize, messageOf, post, request, startListener } from './http_fixture.mjs';

const ALICE = crypto.randomBytes(32).toString('hex');
const BOB = crypto.randomBytes(32).toString('hex');
const bearer = (t) => ({ Authorization: `Bearer ${t}` });
const V = '2026-07-28';

function meta(caps = {}) {
	return {
		'io.modelcontextprotocol/protocolVersion': V,
		'io.modelcontextprotocol/clientCapabilities': caps,
		'io.modelcontextprotocol/clientInfo': { name: 'attack', version: '1' },
	};
}

/** A stateless request body and the headers a good client sends with it. */
function req(id, method, params = {}, caps = {}) {
	const body = { jsonrpc: '2.0', id, method, params: { ...params, _meta: meta(caps) } };
	const h = { 'MCP-Protocol-Version': V, 'Mcp-Method': method };
	if (method === 'tools/call' || method === 'prompts/get') h['Mcp-Name'] = params.name;
	if (method === 'resources/read') h['Mcp-Name'] = params.uri;
	return { body, h };
}

function readTrail(file) {
	return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
}

async function trailWhen(file, pred, ok) {
	const until = Date.now() + 3000;
	for (;;) {
		const recs = readTrail(file).filter(pred);
		if (ok(recs) || Date.now() > until) return recs;
		await new Promise((r) => setTimeout(r, 25));
	}
}

const errOf = (r) => messageOf(r)?.error;

describe('HTTP listener: stateless (2026-07-28) requests', () => {
	let m, trail, tools;
	before(async () => {
		const dir = makeTempDir('moat-http-stateless-');
		trail = path.join(dir, 'audit.jsonl');
		const cfgOf = (testing, name) =>
			writeConfig(
				dir,
				testingConfig({
					testing,
					audit: { file: trail },
					auth: {
						tokens: [
							{ name: 'alice', token: '${MOAT_TOKEN_ALICE}', tools: ['echo', 'slow', 'test_*'] },
							{ name: 'bob', token: '${MOAT_TOKEN_BOB}', tools: ['*'] },
						],
					},
				}),
				name,
			);
		const env = { env: { MOAT_TOKEN_ALICE: ALICE, MOAT_TOKEN_BOB: BOB } };
		// The conformance fixtures (an x-mcp-header tool, test_missing_capability)
		// when this build has them.
		m = await startListener(cfgOf({ enabled: true, conformance: true }, 'moat.json'), env).catch(() =>
			startListener(cfgOf({ enabled: true }, 'plain.json'), env),
		);
		const { body, h } = req(1, 'tools/list');
		const r = await post(m.port, body, { ...bearer(BOB), ...h });
		assert.equal(r.status, 200, r.body);
		tools = messageOf(r).result.tools;
	});
	after(async () => {
		const e = await m.stop();
		assert.equal(e.code, 0, m.stderr());
		const text = fs.existsSync(trail) ? fs.readFileSync(trail, 'utf8') : '';
		assert.ok(!text.includes(ALICE) && !text.includes(BOB), 'no token in the audit trail');
	});

	test('a good stateless request is answered in JSON with its id, resultType and no session', async () => {
		const { body, h } = req(7, 'tools/call', { name: 'echo', arguments: { text: 'hi' } });
		const r = await post(m.port, body, { ...bearer(ALICE), ...h });
		assert.equal(r.status, 200, r.body);
		assert.match(r.headers['content-type'], /^application\/json/);
		assert.equal(r.headers['mcp-session-id'], undefined, 'no session is opened');
		assertSecurityHeaders(r);
		const msg = messageOf(r);
		assert.equal(msg.id, 7);
		assert.equal(msg.result.resultType, 'complete');
		assert.equal(msg.result.content[0].text, 'hi');
		// Header names in any case, values with spaces around them.
		const odd = await post(m.port, body, {
			...bearer(ALICE),
			'mcp-protocol-version': `  ${V} `,
			'MCP-METHOD': ' tools/call',
			'mcp-name': '\techo  ',
		});
		assert.equal(odd.status, 200, odd.body);
		assert.equal(messageOf(odd).result.content[0].text, 'hi');
	});

	test('each mirror header mismatched or missing: -32020 and 400, with the request id', async () => {
		const { body, h } = req(11, 'tools/call', { name: 'echo', arguments: { text: 'x' } });
		const cases = [
			['version differs', { ...h, 'MCP-Protocol-Version': '2025-11-25' }],
			['version missing', { 'Mcp-Method': h['Mcp-Method'], 'Mcp-Name': 'echo' }],
			['method differs', { ...h, 'Mcp-Method': 'tools/list' }],
			['method case differs', { ...h, 'Mcp-Method': 'TOOLS/CALL' }],
			['method missing', { 'MCP-Protocol-Version': V, 'Mcp-Name': 'echo' }],
			['name differs', { ...h, 'Mcp-Name': 'add' }],
			['name missing', { 'MCP-Protocol-Version': V, 'Mcp-Method': 'tools/call' }],
		];
		for (const [what, headers] of cases) {
			const r = await post(m.port, body, { ...bearer(ALICE), ...headers });
			assert.equal(r.status, 400, `${what}: ${r.status} ${r.body}`);
			const e = errOf(r);
			assert.equal(e?.code, -32020, `${what}: ${r.body}`);
			assert.equal(messageOf(r).id, 11, what);
			assertSecurityHeaders(r);
		}
		// tools/list has no name: only method and version are asked for.
		const l = req(12, 'tools/list');
		const bad = await post(m.port, l.body, { ...bearer(ALICE), ...l.h, 'Mcp-Method': 'prompts/list' });
		assert.equal(bad.status, 400);
		assert.equal(errOf(bad).code, -32020);
	});

	test('a mirror header sent twice is refused before the core (400 http.duplicate_header)', async () => {
		const { body, h } = req(13, 'tools/call', { name: 'echo', arguments: { text: 'x' } });
		for (const dup of [{ 'Mcp-Method': ['tools/call', 'tools/call'] }, { 'Mcp-Name': ['echo', 'add'] }, { 'Mcp-Param-Region': ['a', 'b'] }]) {
			const r = await post(m.port, body, { ...bearer(ALICE), ...h, ...dup });
			assert.equal(r.status, 400, JSON.stringify(dup));
			assert.equal(JSON.parse(r.body).error.data.rule, 'http.duplicate_header');
		}
		const many = {};
		for (let i = 0; i < 40; i++) many[`Mcp-Param-P${i}`] = 'x';
		const r = await post(m.port, body, { ...bearer(ALICE), ...h, ...many });
		assert.equal(r.status, 400);
		assert.equal(JSON.parse(r.body).error.data.rule, 'http.param_headers');
	});

	test('Mcp-Param-* must mirror the x-mcp-header arguments of the tool', async (t) => {
		const tool = tools.find((x) =>
			Object.values(x.inputSchema?.properties ?? {}).some((p) => p['x-mcp-header'] && p.type === 'string'),
		);
		if (!tool) return t.skip('no fixture tool declares x-mcp-header yet');
		const [pname, pdef] = Object.entries(tool.inputSchema.properties).find(([, p]) => p['x-mcp-header'] && p.type === 'string');
		const hname = `Mcp-Param-${pdef['x-mcp-header']}`;
		const base = {};
		for (const rp of tool.inputSchema.required ?? []) {
			if (rp === pname) continue;
			const d = tool.inputSchema.properties[rp];
			base[rp] = d.type === 'integer' || d.type === 'number' ? 0 : d.type === 'boolean' ? false : 'x';
		}
		const extraHeaders = {};
		for (const [k, d] of Object.entries(tool.inputSchema.properties)) {
			if (k !== pname && d['x-mcp-header'] && k in base) extraHeaders[`Mcp-Param-${d['x-mcp-header']}`] = String(base[k]);
		}
		const callWith = (value, headers) => {
			const { body, h } = req(21, 'tools/call', { name: tool.name, arguments: { ...base, [pname]: value } });
			return post(m.port, body, { ...bearer(BOB), ...h, ...extraHeaders, ...headers });
		};
		const ok = await callWith('Hello', { [hname]: 'Hello' });
		assert.ok(ok.status < 400 && !errOf(ok), `literal: ${ok.status} ${ok.body}`);
		const b64 = await callWith('Hello', { [hname.toLowerCase()]: '=?base64?SGVsbG8=?=' });
		assert.ok(b64.status < 400 && !errOf(b64), `base64: ${b64.body}`);
		for (const [what, value, headers] of [
			['missing', 'Hello', {}],
			['different', 'Hello', { [hname]: 'hello' }],
			['bad padding', 'Hello', { [hname]: '=?base64?SGVsbG8?=' }],
			['bad characters', 'Hello', { [hname]: '=?base64?SGVs!!!bG8=?=' }],
		]) {
			const r = await callWith(value, headers);
			assert.equal(r.status, 400, `${what}: ${r.body}`);
			assert.equal(errOf(r).code, -32020, what);
		}
	});

	test('an unsupported revision: -32022 and 400 with the supported list', async () => {
		const { body, h } = req(31, 'tools/list');
		body.params._meta['io.modelcontextprotocol/protocolVersion'] = '2099-01-01';
		const r = await post(m.port, body, { ...bearer(ALICE), ...h, 'MCP-Protocol-Version': '2099-01-01' });
		assert.equal(r.status, 400, r.body);
		const e = errOf(r);
		assert.equal(e.code, -32022);
		assert.ok(e.data.supported.includes(V), JSON.stringify(e.data));
		assert.equal(e.data.requested, '2099-01-01');
		assert.equal(messageOf(r).id, 31);
		// With a session the transport keeps refusing an unknown version itself.
		const s = await initialize(m.port, bearer(ALICE));
		const r2 = await post(m.port, { jsonrpc: '2.0', id: 32, method: 'ping' }, { ...s.headers, 'MCP-Protocol-Version': '2099-01-01' });
		assert.equal(r2.status, 400);
		assert.equal(JSON.parse(r2.body).error.data.rule, 'http.protocol_version');
		// ...and takes 2026-07-28 on a session's request.
		const d = req(33, 'server/discover');
		const r3 = await post(m.port, d.body, { ...s.headers, ...d.h });
		assert.equal(r3.status, 200, r3.body);
		assert.ok(messageOf(r3).result.supportedVersions.includes(V));
	});

	test('methods this revision removed, and unknown ones: -32601 and 404', async () => {
		for (const method of ['initialize', 'ping', 'logging/setLevel', 'resources/subscribe', 'resources/unsubscribe', 'no/such']) {
			const { body, h } = req(41, method);
			const r = await post(m.port, body, { ...bearer(ALICE), ...h });
			assert.equal(r.status, 404, `${method}: ${r.status} ${r.body}`);
			assert.equal(errOf(r).code, -32601, method);
			assert.equal(r.headers['mcp-session-id'], undefined, `${method} opens no session`);
		}
		// Malformed: parse error and batch are 400 with a JSON-RPC error.
		const pe = await post(m.port, '{"jsonrpc":', { ...bearer(ALICE), 'MCP-Protocol-Version': V });
		assert.equal(pe.status, 400);
		assert.equal(JSON.parse(pe.body).error.code, -32700);
		const batch = await post(m.port, [req(1, 'tools/list').body], { ...bearer(ALICE), 'MCP-Protocol-Version': V });
		assert.equal(batch.status, 400);
	});

	test("a request carrying another principal's session id finds nothing (404)", async () => {
		const s = await initialize(m.port, bearer(BOB));
		const { body, h } = req(51, 'tools/list');
		const r = await post(m.port, body, { ...bearer(ALICE), ...h, 'Mcp-Session-Id': s.sid });
		assert.equal(r.status, 404);
		assert.equal(JSON.parse(r.body).error.data.rule, 'http.session_unknown');
		// Bob's own stateless request beside his session works.
		const own = await post(m.port, body, { ...bearer(BOB), ...h });
		assert.equal(own.status, 200);
	});

	test("two principals' requests never share what one declared or may see", async () => {
		const { body, h } = req(61, 'tools/list');
		const [a, b] = await Promise.all([post(m.port, body, { ...bearer(ALICE), ...h }), post(m.port, body, { ...bearer(BOB), ...h })]);
		const an = messageOf(a).result.tools.map((t) => t.name);
		const bn = messageOf(b).result.tools.map((t) => t.name);
		assert.ok(!an.includes('add') && bn.includes('add'), `alice ${an} / bob ${bn}`);
		// A tool outside alice's policy is unknown to her, whatever headers say.
		const c = req(62, 'tools/call', { name: 'add', arguments: { a: 1, b: 2 } });
		const r = await post(m.port, c.body, { ...bearer(ALICE), ...c.h });
		const msg = messageOf(r);
		assert.ok(msg.error || msg.result?.isError, r.body);
		assert.ok(!JSON.stringify(msg).includes('"sum"'));
	});

	test('a client capability declared by one request is not there for the next', async (t) => {
		const tool = tools.find((x) => x.name === 'test_missing_capability');
		if (!tool) return t.skip('the fixture tool test_missing_capability is not in this build yet');
		// It asks the client for sampling: one request declares it, the next
		// (another principal's) does not and must not inherit it.
		const withCap = req(71, 'tools/call', { name: tool.name, arguments: {} }, { sampling: {} });
		const without = req(72, 'tools/call', { name: tool.name, arguments: {} }, {});
		const first = await post(m.port, withCap.body, { ...bearer(BOB), ...withCap.h });
		assert.equal(first.status, 200, first.body);
		assert.notEqual(errOf(first)?.code, -32021);
		const r = await post(m.port, without.body, { ...bearer(ALICE), ...without.h });
		assert.equal(r.status, 400, r.body);
		assert.equal(errOf(r).code, -32021);
	});

	test('a stateless client that goes away mid-call has its call cancelled', async () => {
		const { body, h } = req(81, 'tools/call', { name: 'slow', arguments: { ms: 20000 } });
		const text = JSON.stringify(body);
		await new Promise((resolve) => {
			const rq = http.request({
				host: '127.0.0.1',
				port: m.port,
				method: 'POST',
				path: '/mcp',
				headers: { 'Content-Type': 'application/json', Accept: ACCEPT_BOTH, 'Content-Length': Buffer.byteLength(text), ...bearer(ALICE), ...h },
				agent: false,
			});
			rq.on('error', () => resolve());
			rq.end(text);
			setTimeout(() => {
				rq.destroy();
				resolve();
			}, 300);
		});
		const recs = await trailWhen(
			trail,
			(r) => r.principal === 'alice' && r.tool === 'slow' && r.outcome === 'cancelled',
			(rs) => rs.length >= 1,
		);
		assert.equal(recs.length, 1, 'the call ended as cancelled within seconds, not after 20 s');
	});

	test('listen streams: bounded per principal, and a client that leaves frees its slot', async (t) => {
		/** Open a listen stream; resolves with { status, first, close } once
		 * the first bytes (or a whole refusal) are in. */
		const listen = (id) =>
			new Promise((resolve, reject) => {
				const { body, h } = req(id, 'subscriptions/listen', { notifications: { toolsListChanged: true } });
				const text = JSON.stringify(body);
				const rq = http.request(
					{
						host: '127.0.0.1',
						port: m.port,
						method: 'POST',
						path: '/mcp',
						headers: { 'Content-Type': 'application/json', Accept: ACCEPT_BOTH, 'Content-Length': Buffer.byteLength(text), ...bearer(ALICE), ...h },
						agent: false,
					},
					(res) => {
						let first = '';
						res.setEncoding('utf8');
						res.once('data', (c) => {
							first += c;
							resolve({ status: res.statusCode, first, close: () => rq.destroy() });
						});
						res.on('end', () => resolve({ status: res.statusCode, first, close: () => rq.destroy() }));
					},
				);
				rq.on('error', reject);
				rq.end(text);
			});
		const one = await listen(101);
		if (one.status !== 200 || !/subscriptions\/acknowledged/.test(one.first)) {
			one.close();
			return t.skip('subscriptions/listen is not in this build yet');
		}
		const open = [one];
		for (let i = 1; i < 4; i++) open.push(await listen(101 + i)); // listen.max_sse_streams_per_session: 4
		const over = await listen(110);
		assert.equal(over.status, 429, over.first);
		assert.match(over.first, /limits\.http_sse_streams/);
		// Bob has slots of his own.
		const { body, h } = req(111, 'tools/list');
		assert.equal((await post(m.port, body, { ...bearer(BOB), ...h })).status, 200);
		open.shift().close();
		let again;
		for (let i = 0; i < 40; i++) {
			await new Promise((r) => setTimeout(r, 100));
			again = await listen(120 + i);
			if (again.status === 200) break;
		}
		assert.equal(again.status, 200, 'the slot of the stream whose client left is free again');
		for (const o of [...open, again]) o.close();
	});

	test('CORS preflight allows the MCP headers for an allowed origin only', async () => {
		const origin = `http://localhost:${m.port}`;
		const pre = await request({
			port: m.port,
			method: 'OPTIONS',
			headers: {
				Origin: origin,
				'Access-Control-Request-Method': 'POST',
				'Access-Control-Request-Headers': 'content-type, mcp-method, mcp-name, mcp-param-region, x-evil',
			},
		});
		assert.equal(pre.status, 204);
		const allow = pre.headers['access-control-allow-headers'].toLowerCase();
		for (const h of ['mcp-method', 'mcp-name', 'mcp-protocol-version', 'mcp-param-region']) assert.ok(allow.includes(h), `${h} in ${allow}`);
		assert.ok(!allow.includes('x-evil'));
		const evil = await request({
			port: m.port,
			method: 'OPTIONS',
			headers: { Origin: 'http://evil.example', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'mcp-param-region' },
		});
		assert.equal(evil.status, 403);
		assert.equal(evil.headers['access-control-allow-headers'], undefined);
	});

	test('the audit trail records each stateless request with its principal', async () => {
		const a = req(91, 'tools/call', { name: 'echo', arguments: { text: 'from-alice' } });
		const b = req(92, 'tools/call', { name: 'echo', arguments: { text: 'from-bob' } });
		await post(m.port, a.body, { ...bearer(ALICE), ...a.h });
		await post(m.port, b.body, { ...bearer(BOB), ...b.h });
		const recs = await trailWhen(
			trail,
			(r) => r.tool === 'echo' && (r.principal === 'alice' || r.principal === 'bob'),
			(rs) => rs.some((r) => r.principal === 'alice') && rs.some((r) => r.principal === 'bob'),
		);
		assert.ok(recs.some((r) => r.principal === 'alice'), 'alice');
		assert.ok(recs.some((r) => r.principal === 'bob'), 'bob');
		assert.ok(!JSON.stringify(recs).includes('from-alice'), 'no argument values in the trail');
	});
});
