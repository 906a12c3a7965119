// http_api_import_features.test.mjs - what the http family gained to serve
// what `moat import openapi` writes, end to end through the official SDK
// clients against local upstreams on loopback that record every request:
// tool "headers" filled from arguments (absent ones dropped, CR/LF refused
// before anything is sent, reserved names refused at load); the API's
// "query" credential on every request, masked in `moat check`, never in an
// error or the audit trail, and never carried to another origin by a
// redirect (a second upstream on another port proves it); form bodies;
// repeated query parameters; "confirm" on a POST tool in both eras; and
// the grouped form (NAME_operations paging and search, NAME_operation_schema,
// NAME_call and NAME_call_write with confirmation, arguments checked against
// the operation's schema before anything is sent).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import {
	assertToolError,
	connectClient,
	connectClient2,
	makeTempDir,
	resultText,
	runMoat,
	writeConfig,
	elicitationAnswer,
} from './helpers.mjs';
import { allText, send, startUpstream } from './http_upstream.mjs';

const QKEY = `qk-${process.pid}-QUERY-CREDENTIAL`;
const HKEY = `hk-${process.pid}-HEADER-CREDENTIAL`;
const ENV = { ...process.env, MOAT_E2E_QKEY: QKEY, MOAT_E2E_HKEY: HKEY };
const FILLER = 60; // grouped report operations, for paging

let up, other, dir, cfgPath, auditFile, session, client;
const seen = []; // every result and message, for the leak checks

async function call(name, args = {}, c = client) {
	const r = await c.callTool({ name, arguments: args });
	seen.push(r);
	return r;
}

const obj = (properties, required = []) => ({ type: 'object', properties, required, additionalProperties: false });
const tool = (name, method, p, extra = {}) => ({ name, description: `${name} tool`, method, path: p, ...extra });
const hits = (u, prefix) => u.hits((r) => r.path.startsWith(prefix));

function routes() {
	return {
		'GET /api/contacts/*': (req, res, rec) => send(res, 200, { id: Number(rec.path.split('/')[3]) }),
		'GET /api/search': (req, res) => send(res, 200, { ok: true }),
		'POST /api/form': (req, res) => send(res, 200, { ok: true }),
		'POST /api/notes/*': (req, res) => send(res, 201, { created: true }),
		// a redirect within the API's origin, without the query
		'GET /api/moved': (req, res) => {
			res.writeHead(301, { location: '/api/search?moved=1' });
			res.end();
		},
		// an upstream that copies the whole query, credential included, into
		// a redirect to another origin
		'GET /api/away': (req, res, rec) => {
			res.writeHead(302, { location: `${other.origin}/landing${rec.query}&moved=1` });
			res.end();
		},
		// one that moves the credential into the path
		'GET /api/away-path': (req, res) => {
			const key = new URL(req.url, 'http://x').searchParams.get('api_key');
			res.writeHead(302, { location: `${other.origin}/landing/${key}` });
			res.end();
		},
		// one that echoes the request line in its error body
		'GET /api/fail': (req, res) => send(res, 500, `cannot serve ${req.url} for ${req.headers['x-api-key']}`),
		'GET /grp/things': (req, res) => send(res, 200, { things: [1, 2] }),
		'GET /grp/things/*': (req, res, rec) => send(res, 200, { id: rec.path.split('/')[3] }),
		'POST /grp/things': (req, res) => send(res, 201, { created: true }),
		'DELETE /grp/things/*': (req, res) => send(res, 204, ''),
		'GET /grp/reports/*': (req, res) => send(res, 200, { report: true }),
		'GET /gc/items/*': (req, res, rec) => send(res, 200, { item: rec.path.split('/')[3], secret: 'UNSELECTED-CANARY' }),
		'POST /gc/items': (req, res) => send(res, 200, { ok: true }),
	};
}

function apis() {
	const loop = { allow_http: true, allow_addresses: ['127.0.0.1'], cache: false, retries: { max: 0 } };
	const reports = Array.from({ length: FILLER }, (_, i) =>
		tool(`report_${String(i).padStart(2, '0')}`, 'GET', `/reports/${i}`, {
			title: `Quarterly report ${i}`,
			tags: ['reports'],
		}),
	);
	return {
		crm: {
			$comment: ['Set MOAT_E2E_QKEY in the environment: the API key sent as query parameter api_key.'],
			base_url: `${up.origin}/api`,
			...loop,
			headers: { 'X-Api-Key': '${MOAT_E2E_HKEY}' },
			query: { api_key: '${MOAT_E2E_QKEY}' },
			tools: [
				tool('get_contact', 'GET', '/contacts/{id}', {
					headers: { 'X-Request-Id': '{x_request_id}', 'X-Tags': '{tags}' },
					input_schema: obj({ id: { type: 'integer' }, x_request_id: { type: 'string' }, tags: { type: 'array', items: { type: 'string' } } }, ['id']),
					tags: ['contacts'],
				}),
				tool('search', 'GET', '/search', {
					query: { ids: '{ids}', q: '{q}' },
					input_schema: obj({ ids: { type: 'array', items: { type: 'integer' } }, q: { type: 'string' } }),
				}),
				tool('upload_form', 'POST', '/form', {
					body: '{body}',
					body_format: 'form',
					input_schema: obj({ body: { type: 'object' } }, ['body']),
				}),
				tool('create_note', 'POST', '/notes/{id}', {
					body: '{body}',
					confirm: true,
					input_schema: obj({ id: { type: 'integer' }, body: { type: 'object' } }, ['id', 'body']),
				}),
				tool('moved', 'GET', '/moved'),
				tool('away', 'GET', '/away'),
				tool('away_path', 'GET', '/away-path'),
				tool('fail', 'GET', '/fail'),
			],
		},
		// the other origin is an API of its own (so the sandbox lets moat
		// connect to its port): a redirect there is still another origin
		landing: { base_url: `${other.origin}/landing`, ...loop, tools: [tool('landing_get', 'GET', '/')] },
		// grouped, with the cache and a selection: per operation as for a tool
		gc: {
			base_url: `${up.origin}/gc`,
			allow_http: true,
			allow_addresses: ['127.0.0.1'],
			cache: { ttl_s: 60 },
			rate_limit: { per_minute: 1, burst: 2 },
			operations: [
				tool('get_item', 'GET', '/items/{id}', { input_schema: obj({ id: { type: 'integer' } }, ['id']), select: ['/item'] }),
				tool('add_item', 'POST', '/items', { body: { n: 1 } }),
			],
		},
		grp: {
			base_url: `${up.origin}/grp`,
			...loop,
			query: { api_key: '${MOAT_E2E_QKEY}' },
			operations: [
				tool('list_things', 'GET', '/things', {
					title: 'List things',
					tags: ['things'],
					query: { limit: '{limit}' },
					input_schema: obj({ limit: { type: 'integer', minimum: 1, maximum: 100 } }),
				}),
				tool('get_thing', 'GET', '/things/{id}', {
					title: 'Get a thing',
					description: 'Fetch one Widget by its id',
					tags: ['things'],
					input_schema: obj({ id: { type: 'integer', minimum: 1 } }, ['id']),
				}),
				...reports,
				tool('create_thing', 'POST', '/things', {
					tags: ['things'],
					body: '{body}',
					confirm: true,
					input_schema: obj({ body: obj({ name: { type: 'string' } }, ['name']) }, ['body']),
				}),
				tool('delete_thing', 'DELETE', '/things/{id}', {
					tags: ['things'],
					input_schema: obj({ id: { type: 'integer' } }, ['id']),
				}),
			],
		},
	};
}

const answer = elicitationAnswer;

async function elicitingClient(accept) {
	const c = await connectClient(cfgPath, { env: ENV, capabilities: { elicitation: {} } });
	c.client.setRequestHandler(ElicitRequestSchema, answer(accept));
	return c;
}

before(async () => {
	other = await startUpstream({
		routes: {
			'GET /landing': (req, res) => send(res, 200, { landed: true }),
			'GET /landing/*': (req, res) => send(res, 200, { landed: true }),
		},
	});
	up = await startUpstream({ routes: routes() });
	dir = makeTempDir('moat-e2e-http-import-');
	auditFile = path.join(dir, 'trail', 'audit.jsonl');
	fs.mkdirSync(path.dirname(auditFile), { mode: 0o700 });
	cfgPath = writeConfig(dir, {
		log: { level: 'debug' },
		audit: { file: 'trail/audit.jsonl' },
		http: { apis: apis() },
	});
	const chk = runMoat(['check', '--config', cfgPath], { env: ENV });
	assert.equal(chk.code, 0, `moat check: ${chk.stderr}`);
	session = await connectClient(cfgPath, { env: ENV });
	client = session.client;
});

after(async () => {
	await session?.close();
	await up?.close();
	await other?.close();
});

describe('tool headers, query credentials, forms, arrays', () => {
	test('headers from arguments reach the upstream; absent ones are dropped; arrays join with ","', async () => {
		let r = await call('get_contact', { id: 7, x_request_id: 'req-42', tags: ['a', 'b'] });
		assert.notEqual(r.isError, true, resultText(r));
		let rec = hits(up, '/api/contacts/7').at(-1);
		assert.equal(rec.headers['x-request-id'], 'req-42');
		assert.equal(rec.headers['x-tags'], 'a,b');
		assert.equal(rec.headers['x-api-key'], HKEY, 'the API header is still sent');
		r = await call('get_contact', { id: 8 });
		assert.notEqual(r.isError, true, resultText(r));
		rec = hits(up, '/api/contacts/8').at(-1);
		assert.equal(rec.headers['x-request-id'], undefined);
		assert.equal(rec.headers['x-tags'], undefined);
	});

	test('a header value with CR/LF (or another control byte) is refused and nothing is sent', async () => {
		const before = up.requests.length;
		for (const v of ['x\r\nAuthorization: Bearer evil', 'x\nHost: evil.example', 'x\r\n\r\nGET /smuggled HTTP/1.1', 'x\tevil', 'x\u007fevil']) {
			const r = await call('get_contact', { id: 9, x_request_id: v });
			const text = assertToolError(r, /control characters/, /x_request_id/);
			assert.ok(!text.includes('evil') && !text.includes('smuggled'), text);
		}
		// NUL: the core refuses it before the handler runs
		assertToolError(await call('get_contact', { id: 9, x_request_id: 'x\u0000evil' }), /NUL/);
		const r = await call('get_contact', { id: 9, tags: ['ok', 'a\r\nX-Evil: 1'] });
		assertToolError(r, /control characters/);
		assert.equal(up.requests.length, before, 'the upstream saw nothing');
	});

	test('the API query credential goes with every request, after the tool query', async () => {
		const r = await call('search', { ids: [1, 2, 3], q: 'a b' });
		assert.notEqual(r.isError, true, resultText(r));
		const rec = hits(up, '/api/search').at(-1);
		assert.equal(rec.url, `/api/search?ids=1&ids=2&ids=3&q=a%20b&api_key=${QKEY}`);
		await call('search', {});
		assert.equal(hits(up, '/api/search').at(-1).url, `/api/search?api_key=${QKEY}`);
		for (const x of up.requests.filter((x) => x.path.startsWith('/api/'))) {
			assert.equal(new URL(x.url, 'http://x').searchParams.get('api_key'), QKEY, x.url);
		}
	});

	test('form body: application/x-www-form-urlencoded from an object of scalars and arrays', async () => {
		const r = await call('upload_form', { body: { name: 'Ann Lee', n: 2, ok: true, tag: ['a&b', 'c'], skip: null } });
		assert.notEqual(r.isError, true, resultText(r));
		const rec = hits(up, '/api/form').at(-1);
		assert.equal(rec.headers['content-type'], 'application/x-www-form-urlencoded');
		assert.equal(rec.body, 'name=Ann%20Lee&n=2&ok=true&tag=a%26b&tag=c');
		const before = up.requests.length;
		const bad = await call('upload_form', { body: { nested: { secret: 'NESTED-CANARY' } } });
		const text = assertToolError(bad, /form field 'nested'/);
		assert.ok(!text.includes('NESTED-CANARY'));
		assert.equal(up.requests.length, before, 'a nested form value sends nothing');
	});

	test('a redirect within the origin gets the query credential and the headers again', async () => {
		const r = await call('moved');
		assert.notEqual(r.isError, true, resultText(r));
		const rec = hits(up, '/api/search').at(-1);
		assert.equal(rec.url, `/api/search?moved=1&api_key=${QKEY}`);
		assert.equal(rec.headers['x-api-key'], HKEY);
	});

	test('a redirect to another origin gets neither the query credential nor the API headers', async () => {
		const r = await call('away');
		assert.notEqual(r.isError, true, resultText(r));
		const landed = hits(other, '/landing').at(-1);
		assert.ok(landed, 'the redirect was followed');
		assert.equal(landed.url, '/landing?moved=1', 'api_key was taken out of the URL');
		assert.equal(landed.headers['x-api-key'], undefined);
		assert.ok(!JSON.stringify(other.requests).includes(QKEY) && !JSON.stringify(other.requests).includes(HKEY));
	});

	test('a redirect that moves the credential into the path is refused before it is followed', async () => {
		const n = other.requests.length;
		const r = await call('away_path');
		const text = assertToolError(r, /refused/, /query credential/);
		assert.ok(!text.includes(QKEY));
		assert.equal(other.requests.length, n, 'the other origin saw nothing');
	});

	test('an upstream error that echoes the URL and the header shows neither credential', async () => {
		const r = await call('fail');
		const text = assertToolError(r, /HTTP 500/, /cannot serve/);
		assert.ok(!text.includes(QKEY) && !text.includes(HKEY), text);
	});
});

describe('confirm on a POST tool', () => {
	test('a client that cannot ask: refused, nothing sent', async () => {
		const n = hits(up, '/api/notes/').length;
		assertToolError(await call('create_note', { id: 1, body: { text: 'x' } }), /confirm|elicitation/i);
		assert.equal(hits(up, '/api/notes/').length, n);
	});

	test('initialize era: declined sends nothing; accepted sends the note', async () => {
		const n = hits(up, '/api/notes/').length;
		const no = await elicitingClient(false);
		try {
			const r = await call('create_note', { id: 2, body: { text: 'x' } }, no.client).catch((e) => ({ rejected: e }));
			assert.ok(r.rejected || r.isError, JSON.stringify(r));
		} finally {
			await no.close();
		}
		assert.equal(hits(up, '/api/notes/').length, n);
		const yes = await elicitingClient(true);
		try {
			const r = await call('create_note', { id: 3, body: { text: 'x' } }, yes.client);
			assert.notEqual(r.isError, true, resultText(r));
		} finally {
			await yes.close();
		}
		assert.deepEqual(JSON.parse(hits(up, '/api/notes/3').at(-1).body), { text: 'x' });
	});

	test('2026-07-28: the 2.x client is asked, accepts, the note is sent once', async () => {
		let asked = 0;
		const c = await connectClient2(cfgPath, {
			env: ENV,
			capabilities: { elicitation: { form: {} } },
			beforeConnect: (cl) => cl.setRequestHandler('elicitation/create', (req) => (asked++, answer(true)(req))),
		});
		try {
			const r = await call('create_note', { id: 4, body: { text: 'y' } }, c.client);
			assert.notEqual(r.isError, true, JSON.stringify(r));
			assert.equal(asked, 1);
		} finally {
			await c.close();
		}
		assert.equal(hits(up, '/api/notes/4').length, 1);
	});
});

describe('grouped operations', () => {
	test('tools/list: four tools with their annotations, no per-operation tools', async () => {
		const { tools } = await client.listTools();
		const byName = Object.fromEntries(tools.map((t) => [t.name, t]));
		for (const n of ['grp_operations', 'grp_operation_schema', 'grp_call']) {
			assert.equal(byName[n]?.annotations?.readOnlyHint, true, n);
		}
		assert.equal(byName.grp_call_write.annotations.readOnlyHint, false);
		assert.equal(byName.grp_call_write.annotations.destructiveHint, true);
		assert.equal(byName.grp_call.annotations.openWorldHint, true);
		assert.ok(!tools.some((t) => t.name === 'get_thing' || t.name === 'grp_get_thing'));
	});

	test('grp_operations pages through every operation; tag and query filter', async () => {
		const names = [];
		let cursor;
		let pages = 0;
		do {
			const r = await call('grp_operations', cursor ? { cursor } : {});
			assert.notEqual(r.isError, true, resultText(r));
			const page = r.structuredContent;
			assert.equal(page.total, FILLER + 4);
			assert.ok(page.operations.length <= 50);
			names.push(...page.operations.map((o) => o.name));
			cursor = page.nextCursor;
			pages++;
		} while (cursor);
		assert.equal(pages, 2);
		assert.equal(new Set(names).size, FILLER + 4);
		const first = (await call('grp_operations', {})).structuredContent.operations[0];
		assert.deepEqual(first, { name: 'list_things', title: 'List things', method: 'GET', path: '/things', tags: ['things'], write: false });
		const tagged = (await call('grp_operations', { tag: 'things' })).structuredContent;
		assert.deepEqual(tagged.operations.map((o) => [o.name, o.write]), [
			['list_things', false], ['get_thing', false], ['create_thing', true], ['delete_thing', true],
		]);
		assert.equal(tagged.nextCursor, undefined);
		// case-insensitive, over the description too
		const q = (await call('grp_operations', { query: 'wIDGET' })).structuredContent;
		assert.deepEqual(q.operations.map((o) => o.name), ['get_thing']);
		const byPath = (await call('grp_operations', { query: '/reports/5', tag: 'reports' })).structuredContent;
		assert.deepEqual(byPath.operations.map((o) => o.name).sort(), ['report_05', 'report_50', 'report_51', 'report_52', 'report_53', 'report_54', 'report_55', 'report_56', 'report_57', 'report_58', 'report_59']);
		assertToolError(await call('grp_operations', { cursor: 'zzz' }), /cursor/);
	});

	test('grp_operation_schema: the input schema and how to call it; unknown names get a hint', async () => {
		const r = await call('grp_operation_schema', { operation: 'create_thing' });
		assert.notEqual(r.isError, true, resultText(r));
		const s = r.structuredContent;
		assert.equal(s.method, 'POST');
		assert.equal(s.path, '/things');
		assert.equal(s.write, true);
		assert.equal(s.confirm, true);
		assert.equal(s.call_with, 'grp_call_write');
		assert.deepEqual(s.input_schema.required, ['body']);
		assertToolError(await call('grp_operation_schema', { operation: 'nope' }), /no operation 'nope'/, /grp_operations/);
	});

	test('grp_call runs a read operation (with the query credential); bad arguments send nothing', async () => {
		let r = await call('grp_call', { operation: 'get_thing', arguments: { id: 5 } });
		assert.notEqual(r.isError, true, resultText(r));
		assert.deepEqual(JSON.parse(resultText(r)), { id: '5' });
		assert.equal(hits(up, '/grp/things/5').at(-1).url, `/grp/things/5?api_key=${QKEY}`);
		r = await call('grp_call', { operation: 'list_things', arguments: { limit: 3 } });
		assert.notEqual(r.isError, true, resultText(r));
		assert.equal(hits(up, '/grp/things').at(-1).url, `/grp/things?limit=3&api_key=${QKEY}`);
		const n = up.requests.length;
		assertToolError(await call('grp_call', { operation: 'get_thing', arguments: { id: 'five' } }), /get_thing/, /\/id/, /nothing was sent/);
		assertToolError(await call('grp_call', { operation: 'get_thing', arguments: {} }), /required/);
		assertToolError(await call('grp_call', { operation: 'get_thing' }), /required/);
		assertToolError(await call('grp_call', { operation: 'list_things', arguments: { limit: 0 } }), /\/limit/);
		assertToolError(await call('grp_call', { operation: 'get_thing', arguments: { id: 1, extra: 'x' } }), /extra/);
		assertToolError(await call('grp_call', { operation: 'no_such_op', arguments: {} }), /no operation 'no_such_op'/, /grp_operations/);
		assertToolError(await call('grp_call', { operation: 'Bad Name!\r\n', arguments: {} }), /no operation of that name/);
		assertToolError(await call('grp_call', { operation: 'create_thing', arguments: { body: { name: 'x' } } }), /writes/, /grp_call_write/);
		assert.equal(up.requests.length, n, 'the upstream saw nothing');
	});

	test('grp_call_write: refused without a way to confirm; accepted, it reaches the upstream', async () => {
		const n = up.requests.length;
		assertToolError(await call('grp_call_write', { operation: 'create_thing', arguments: { body: { name: 'w' } } }), /confirm|elicitation/i);
		assert.equal(up.requests.length, n);
		const c = await elicitingClient(true);
		try {
			assertToolError(await call('grp_call_write', { operation: 'get_thing', arguments: { id: 1 } }, c.client), /only reads/, /grp_call\b/);
			assert.equal(up.requests.length, n);
			let r = await call('grp_call_write', { operation: 'create_thing', arguments: { body: { name: 'w' } } }, c.client);
			assert.notEqual(r.isError, true, resultText(r));
			r = await call('grp_call_write', { operation: 'create_thing', arguments: { body: {} } }, c.client);
			assertToolError(r, /create_thing/, /name/);
			r = await call('grp_call_write', { operation: 'delete_thing', arguments: { id: 6 } }, c.client);
			assert.notEqual(r.isError, true, resultText(r));
		} finally {
			await c.close();
		}
		const posts = up.hits((x) => x.method === 'POST' && x.path === '/grp/things');
		assert.equal(posts.length, 1);
		assert.deepEqual(JSON.parse(posts[0].body), { name: 'w' });
		assert.equal(posts[0].url, `/grp/things?api_key=${QKEY}`);
		assert.equal(up.hits((x) => x.method === 'DELETE' && x.path === '/grp/things/6').length, 1);
	});

	test('grp_call_write: a wrong operation or bad arguments are refused before the person is asked; the question shows the operation and its arguments', async () => {
		const asked = [];
		const c = await connectClient(cfgPath, { env: ENV, capabilities: { elicitation: {} } });
		c.client.setRequestHandler(ElicitRequestSchema, (req) => {
			asked.push(req.params.message);
			return elicitationAnswer(true)(req);
		});
		const n = up.requests.length;
		try {
			assertToolError(await call('grp_call_write', { operation: 'get_thing', arguments: { id: 1 } }, c.client), /only reads/);
			assertToolError(await call('grp_call_write', { operation: 'create_thing', arguments: { body: {} } }, c.client), /create_thing/, /name/);
			assertToolError(await call('grp_call_write', { operation: 'no_such_thing', arguments: {} }, c.client), /grp_operations/);
			assert.equal(asked.length, 0, 'asked before the arguments were checked');
			assert.equal(up.requests.length, n);
			const r = await call('grp_call_write', { operation: 'delete_thing', arguments: { id: 7 } }, c.client);
			assert.notEqual(r.isError, true, resultText(r));
			assert.equal(asked.length, 1);
			assert.match(asked[0], /grp_call_write/);
			assert.match(asked[0], /- operation: "delete_thing"/);
			assert.match(asked[0], /- arguments\.id: 7/);
		} finally {
			await c.close();
		}
	});
});

describe('grouped operations share the declared tools\' machinery', () => {
	test('cache (a write clears it), select and the rate limit apply per operation', async () => {
		const get = () => call('gc_call', { operation: 'get_item', arguments: { id: 1 } });
		let r = await get();
		assert.notEqual(r.isError, true, resultText(r));
		assert.deepEqual(JSON.parse(resultText(r)), { item: '1' }, 'only the selected field');
		r = await get();
		assert.deepEqual(JSON.parse(resultText(r)), { item: '1' });
		assert.equal(hits(up, '/gc/items/1').length, 1, 'the second call came from the cache');
		// refusals on the cached API's fast path too (nothing sent, no token spent)
		assertToolError(await call('gc_call', { operation: 'add_item', arguments: {} }), /gc_call_write/);
		assertToolError(await call('gc_call', { operation: 'nope', arguments: {} }), /no operation 'nope'/);
		assertToolError(await call('gc_call', { operation: 'get_item', arguments: { id: 'x' } }), /\/id/);
		r = await call('gc_call_write', { operation: 'add_item', arguments: {} });
		assert.notEqual(r.isError, true, resultText(r));
		r = await get(); // the write cleared the cache: a third request, and the bucket is empty
		assertToolError(r, /rate limit/, /API gc/);
		assert.equal(hits(up, '/gc/items/1').length, 1);
	});
});

describe('moat check, config load, the audit trail', () => {
	test('moat check explains each API and never prints a credential', () => {
		const r = runMoat(['check', '--config', cfgPath], { env: ENV });
		assert.equal(r.code, 0, r.stderr);
		const out = r.stdout + r.stderr;
		assert.ok(!out.includes(QKEY) && !out.includes(HKEY), 'a credential was printed');
		assert.match(out, /environment: MOAT_E2E_HKEY \(header X-Api-Key\)/);
		assert.match(out, /environment: MOAT_E2E_QKEY \(query api_key\)/);
		assert.match(out, /query credentials: api_key \(values not shown/);
		assert.match(out, /contacts 127\.0\.0\.1 port \d+/);
		assert.match(out, /tool create_note +POST +\/notes\/\{id\} +\(writes, confirm\)/);
		assert.match(out, /tool get_contact +GET +\/contacts\/\{id\}\n/);
		assert.match(out, /tools: grp_operations, grp_operation_schema, grp_call, grp_call_write \(confirm\)/);
		assert.match(out, /operation delete_thing +DELETE +\/things\/\{id\} +\(writes\)/);
		assert.match(out, /writes: allowed, 2 operations write, 1 of them confirmed/);
		assert.match(out, /note: Set MOAT_E2E_QKEY in the environment/);
	});

	test('config errors name the rule: reserved headers, bad names, confirm on GET, a reused query name', () => {
		const cases = [
			[{ headers: { Authorization: '{v}' } }, /may not set the header Authorization.*http\.header_reserved/],
			[{ headers: { host: '{v}' } }, /header host.*http\.header_reserved/],
			[{ headers: { Cookie: '{v}' } }, /Cookie.*http\.header_reserved/],
			[{ headers: { 'Content-Length': '{v}' } }, /Content-Length.*http\.header_reserved/],
			[{ headers: { 'Transfer-Encoding': '{v}' } }, /Transfer-Encoding.*http\.header_reserved/],
			[{ headers: { 'Proxy-Authorization': '{v}' } }, /Proxy-Authorization.*http\.header_reserved/],
			[{ headers: { 'x-api-key': '{v}' } }, /the API's own "headers" set it/],
			[{ headers: { 'Bad Name': '{v}' } }, /propertyNames|Bad Name/],
			[{ headers: { 'X-A': 'a\r\nb' } }, /control character/],
			[{ confirm: true, method: 'GET' }, /"confirm" is for tools that write.*http\.confirm_read/],
			[{ query: { api_key: '{v}' } }, /http\.query_reserved/],
			[{ body_format: 'form' }, /http\.body_format/],
			// a path template's own text may not climb out of base_url's path
			[{ path: '/x/../admin' }, /'\.\.' segment could take requests out of base_url's path.*http\.path_template/],
			[{ path: '/./x' }, /http\.path_template/],
			[{ path: '/x/%2e%2E/admin' }, /percent-encoded.*http\.path_template/],
			[{ path: '/x%2Fy' }, /percent-encoded.*http\.path_template/],
			[{ path: '/x%5cy' }, /percent-encoded.*http\.path_template/],
			[{ path: '/x\\y' }, /http\.path_template/],
			[{ path: '/x?admin=1' }, /parameters go in "query".*http\.path_template/],
		];
		cases.forEach(([extra, want], i) => {
			const t = { ...tool('t_x', 'POST', '/x'), input_schema: obj({ v: { type: 'string' } }), ...extra };
			const p = writeConfig(dir, {
				http: {
					apis: {
						x: {
							base_url: 'http://127.0.0.1:9', allow_http: true, allow_addresses: ['127.0.0.1'],
							headers: { 'X-Api-Key': 'k' }, query: { api_key: '${MOAT_E2E_QKEY}' }, tools: [t],
						},
					},
				},
			}, `bad-${i}.json`);
			const r = runMoat(['check', '--config', p], { env: ENV });
			assert.equal(r.code, 3, `case ${i}: ${r.stdout}${r.stderr}`);
			assert.match(r.stderr, want, `case ${i}`);
			assert.ok(!r.stderr.includes(QKEY));
		});
		// a query credential written into the file (it would not be masked)
		let lit = runMoat(['check', '--config', writeConfig(dir, { http: { apis: { x: {
			base_url: 'http://127.0.0.1:9', allow_http: true, allow_addresses: ['127.0.0.1'],
			query: { api_key: 'LITERAL-KEY-1234' }, tools: [tool('a', 'GET', '/a')] } } } }, 'literal.json')]);
		assert.equal(lit.code, 3, lit.stderr);
		assert.match(lit.stderr, /query api_key is written in the config.*http\.query_literal/);
		assert.ok(!lit.stderr.includes('LITERAL-KEY-1234'));
		// both tools and operations, or duplicate operation names
		const base = { base_url: 'http://127.0.0.1:9', allow_http: true, allow_addresses: ['127.0.0.1'] };
		let r = runMoat(['check', '--config', writeConfig(dir, { http: { apis: { x: { ...base, tools: [tool('a', 'GET', '/a')], operations: [tool('b', 'GET', '/b')] } } } }, 'both.json')]);
		assert.equal(r.code, 3, r.stderr);
		assert.match(r.stderr, /API x has both "tools" and "operations": keep one.*http\.api_tools/);
		r = runMoat(['check', '--config', writeConfig(dir, { http: { apis: { x: { ...base } } } }, 'neither.json')]);
		assert.equal(r.code, 3, r.stderr);
		assert.match(r.stderr, /API x has neither "tools" nor "operations": add one.*http\.api_tools/);
		r = runMoat(['check', '--config', writeConfig(dir, { http: { apis: { x: { ...base, operations: [tool('b', 'GET', '/b'), tool('b', 'GET', '/c')] } } } }, 'dup.json')]);
		assert.equal(r.code, 3, r.stderr);
		assert.match(r.stderr, /named twice.*http\.operation_name/);
		r = runMoat(['check', '--config', writeConfig(dir, { http: { apis: { x: { ...base, operations: [tool('Bad-Name', 'GET', '/b')] } } } }, 'opname.json')]);
		assert.equal(r.code, 3, r.stderr);
	});

	test('the audit trail records path templates and operations, never the credential', async () => {
		// the trail is written as calls end; the calls above have all ended
		const text = fs.readFileSync(auditFile, 'utf8');
		assert.ok(!text.includes(QKEY) && !text.includes(HKEY), 'a credential reached the audit trail');
		const lines = text.split('\n').filter((l) => l.endsWith('}')).map((l) => JSON.parse(l));
		const get = lines.find((l) => l.tool === 'get_contact' && l.touched?.path);
		assert.equal(get.touched.path, '/contacts/{id}');
		const op = lines.find((l) => l.tool === 'grp_call' && l.touched?.operation === 'get_thing');
		assert.ok(op, JSON.stringify(lines.filter((l) => l.tool === 'grp_call').slice(0, 2)));
		assert.equal(op.touched.path, '/things/{id}');
		assert.equal(op.touched.api, 'grp');
	});

	test('no credential in any result or on stderr', async () => {
		await session.close();
		const all = allText([...seen, session.stderr()]);
		assert.ok(seen.length > 30, 'the calls above ran');
		assert.ok(!all.includes(QKEY) && !all.includes(HKEY), 'a credential leaked');
	});
});
