// http_api.test.mjs - declared API tools (config "http.apis") end to end
// through the official SDK client, against a local https upstream with a
// test CA made at test time (openssl) and "allow_addresses": ["127.0.0.1"]:
// path, query and JSON body templates; select (unselected fields never
// reach the client); output-schema validation; binary attachments typed
// from their bytes and checked against mime_allow and max_bytes; the rate
// limit; the cache (hits, expiry, cleared by a write); retries that honour
// Retry-After (never for a POST); timeouts, oversize and slow bodies;
// upstream 401/403/500; TLS without the test CA; and a plain http
// base_url refused at config load.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
	assertToolError,
	connectClient,
	makeTempDir,
	resultText,
	runMoat,
	withTimeout,
	writeConfig,
} from './helpers.mjs';
import {
	PDF,
	PNG,
	allText,
	drip,
	hang,
	makeTestCA,
	send,
	startUpstream,
	stream,
} from './http_upstream.mjs';

const TOKEN = `tok-${process.pid}-E2E-SECRET-TOKEN`;
const EMAIL = 'email-canary-4711@private.example';
const PHONE = '+1-555-CANARY-0042';

const CONTACTS = {
	7: { id: 7, name: 'Ada Lovelace', company: 'Analytical Engines', email: EMAIL, phone: PHONE },
	8: { id: 8, name: 'Grace Hopper', company: 'COBOL Works', email: EMAIL, phone: PHONE },
};

// Made when the file loads: without openssl the whole file fails (it is
// never skipped).
const ca = makeTestCA();
let up, dir, cfgPath, session, client;
const seen = []; // every result, for the canary checks
const flakyCount = new Map();
const dripRoute = drip(100);
// 32 MiB without Content-Length: far more than loopback's socket buffers
// hold (a few MiB), so a transfer moat cuts stops well short of the end
// even when a loaded machine lets the upstream fill those buffers first.
const chunked = stream(32 << 20);

async function call(name, args = {}) {
	const r = await client.callTool({ name, arguments: args });
	seen.push(r);
	return r;
}

const hitsUnder = (prefix) => up.hits((r) => r.path.startsWith(prefix));

function routes() {
	return {
		// ---- crm --------------------------------------------------------------
		'GET /crm/contacts': (req, res) => {
			const q = new URL(req.url, 'http://x').searchParams.get('q') ?? '';
			const data = Object.values(CONTACTS).filter((c) => c.name.toLowerCase().includes(q));
			send(res, 200, { data, total: data.length, cursor: EMAIL });
		},
		'GET /crm/contacts/*': (req, res, rec) => {
			const id = rec.path.split('/')[3];
			const c = CONTACTS[id];
			if (c) send(res, 200, { ...c, nested: { phone: PHONE } });
			else send(res, 404, { error: 'no such contact' });
		},
		'POST /crm/contacts/*': (req, res) => send(res, 201, { id: 99, ok: true, email: EMAIL }),
		'GET /crm/broken/*': (req, res) => send(res, 200, { id: 'seven', name: 5, email: EMAIL }),
		// the upstream says text/plain; the bytes are a PNG
		'GET /crm/files/card.png': (req, res) => send(res, 200, PNG, { 'content-type': 'text/plain' }),
		// the upstream says image/png; the bytes are a PDF
		'GET /crm/files/doc.png': (req, res) => send(res, 200, PDF, { 'content-type': 'image/png' }),
		'GET /crm/files/big.png': (req, res) =>
			send(res, 200, Buffer.concat([PNG, Buffer.alloc(4000)]), { 'content-type': 'image/png' }),
		'GET /crm/downgrade': (req, res) => {
			res.writeHead(302, { location: `http://127.0.0.1:${up.port}/crm/plain-target` });
			res.end();
		},
		'GET /crm/status/*': (req, res, rec) => {
			const code = Number(rec.path.split('/')[3]);
			if (code === 401 || code === 403) {
				// an upstream that echoes the credential it refused
				return send(res, code, `invalid credential: ${req.headers.authorization}`);
			}
			send(res, code, `E500-START ${'e'.repeat(3000)} E500-END`);
		},
		// ---- cache ------------------------------------------------------------
		'GET /c60/item/*': (req, res, rec) => send(res, 200, { item: rec.path, n: hitsUnder('/c60/').length }),
		// a cache of its own for the write test: a successful write clears the
		// whole API's cache, which would race the c60 test running beside it
		'GET /cw/item/*': (req, res, rec) => send(res, 200, { item: rec.path }),
		'POST /cw/item/*': (req, res) => send(res, 200, { ok: true }),
		'POST /cw/fail/*': (req, res) => send(res, 500, 'nope'),
		'GET /c1/item/*': (req, res, rec) => send(res, 200, { item: rec.path }),
		// ---- rate limit -------------------------------------------------------
		'GET /rl/ping': (req, res) => send(res, 200, { pong: true }),
		// ---- retries ----------------------------------------------------------
		'* /flaky/*': (req, res, rec) => {
			const n = (flakyCount.get(rec.path) ?? 0) + 1;
			flakyCount.set(rec.path, n);
			if (req.method === 'POST' || n === 1) {
				return send(res, 503, 'busy', { 'retry-after': '1' });
			}
			send(res, 200, { ok: true, attempt: n });
		},
		// ---- limits -----------------------------------------------------------
		'GET /slow/hang': hang,
		'GET /slow/drip': dripRoute.fn,
		'GET /slow/big': (req, res) => send(res, 200, JSON.stringify({ pad: 'y'.repeat(100000) }), { 'content-type': 'application/json' }),
		'GET /slow/chunked': chunked.fn,
	};
}

const tool = (name, method, p, extra = {}) => ({ name, description: `${name} tool`, method, path: p, ...extra });
const obj = (properties, required = []) => ({ type: 'object', properties, required, additionalProperties: false });
const CONTACT_SCHEMA = obj({ id: { type: 'integer' }, name: { type: 'string' }, company: { type: 'string' } }, ['id', 'name']);

function apiConfig(base) {
	const https = { ca_file: ca.caFile, allow_addresses: ['127.0.0.1'] };
	return {
		crm: {
			base_url: `${base}/crm/`,
			...https,
			headers: { Authorization: 'Bearer ${MOAT_E2E_CRM_TOKEN}', 'X-Client': 'moat-e2e' },
			cache: false,
			retries: { max: 0 },
			tools: [
				tool('get_contact', 'GET', '/contacts/{id}', {
					input_schema: obj({ id: { type: 'integer', minimum: 1 } }, ['id']),
					select: ['/id', '/name', '/company'],
					output_schema: CONTACT_SCHEMA,
				}),
				tool('get_contact_by_key', 'GET', '/contacts/{key}', {
					input_schema: obj({ key: { type: 'string' } }, ['key']),
					select: ['/id'],
				}),
				tool('search_contacts', 'GET', '/contacts', {
					input_schema: obj({ q: { type: 'string' }, limit: { type: 'integer' }, page: { type: 'integer' } }, ['q']),
					query: { q: '{q}', limit: '{limit}', page: '{page}', v: '2' },
					select: ['/data/*/id', '/data/*/name', '/total'],
				}),
				tool('add_note', 'POST', '/contacts/{id}/notes', {
					input_schema: obj(
						{
							id: { type: 'integer' },
							text: { type: 'string' },
							tags: { type: 'array', items: { type: 'string' } },
							priority: { type: 'integer' },
						},
						['id', 'text'],
					),
					body: { text: '{text}', tags: '{tags}', meta: { source: 'moat', priority: '{priority}', label: 'note for {id}' } },
					select: ['/id', '/ok'],
				}),
				tool('broken_contact', 'GET', '/broken/{id}', {
					input_schema: obj({ id: { type: 'integer' } }, ['id']),
					select: ['/id', '/name'],
					output_schema: CONTACT_SCHEMA,
				}),
				tool('get_file', 'GET', '/files/{name}', {
					input_schema: obj({ name: { type: 'string' } }, ['name']),
					response: 'binary',
					mime_allow: ['image/png'],
					max_bytes: 1024,
				}),
				tool('status', 'GET', '/status/{code}', { input_schema: obj({ code: { type: 'integer' } }, ['code']) }),
				tool('downgrade', 'GET', '/downgrade'),
			],
		},
		c60: {
			base_url: `${base}/c60`,
			...https,
			cache: { ttl_s: 60 },
			tools: [tool('c60_get', 'GET', '/item/{id}', { input_schema: obj({ id: { type: 'integer' } }, ['id']) })],
		},
		cw: {
			base_url: `${base}/cw`,
			...https,
			cache: { ttl_s: 60 },
			tools: [
				tool('cw_get', 'GET', '/item/{id}', { input_schema: obj({ id: { type: 'integer' } }, ['id']) }),
				tool('cw_put', 'POST', '/item/{id}', { input_schema: obj({ id: { type: 'integer' } }, ['id']), body: { id: '{id}' } }),
				tool('cw_fail', 'POST', '/fail/{id}', { input_schema: obj({ id: { type: 'integer' } }, ['id']), body: { id: '{id}' } }),
			],
		},
		c1: {
			base_url: `${base}/c1`,
			...https,
			cache: { ttl_s: 1 },
			tools: [tool('c1_get', 'GET', '/item/{id}', { input_schema: obj({ id: { type: 'integer' } }, ['id']) })],
		},
		rl: {
			base_url: `${base}/rl`,
			...https,
			cache: false,
			rate_limit: { per_minute: 2, burst: 3 },
			tools: [tool('rl_ping', 'GET', '/ping')],
		},
		flaky: {
			base_url: `${base}/flaky`,
			...https,
			cache: false,
			retries: { max: 2, base_ms: 50, max_ms: 200 },
			tools: [
				tool('flaky_get', 'GET', '/get/{key}', { input_schema: obj({ key: { type: 'string' } }, ['key']) }),
				tool('flaky_post', 'POST', '/post/{key}', { input_schema: obj({ key: { type: 'string' } }, ['key']), body: { key: '{key}' } }),
			],
		},
		slow: {
			base_url: `${base}/slow`,
			...https,
			cache: false,
			retries: { max: 0 },
			timeout_ms: 1000,
			max_response_bytes: 4096,
			tools: [
				tool('slow_hang', 'GET', '/hang'),
				tool('slow_drip', 'GET', '/drip', { response: 'text' }),
				tool('slow_big', 'GET', '/big'),
				tool('slow_chunked', 'GET', '/chunked'),
			],
		},
		// the same https upstream, without the test CA: the system bundle
		noca: {
			base_url: `${base}/noca`,
			allow_addresses: ['127.0.0.1'],
			tools: [tool('noca_get', 'GET', '/x')],
		},
	};
}

before(async () => {
	up = await startUpstream({ tls: { key: ca.key, cert: ca.cert }, routes: routes() });
	dir = makeTempDir('moat-e2e-http-api-');
	cfgPath = writeConfig(dir, {
		log: { level: 'debug' },
		limits: { max_concurrent_calls: 64, workers: 32 },
		http: { apis: apiConfig(up.origin) },
	});
	session = await connectClient(cfgPath, { env: { ...process.env, MOAT_E2E_CRM_TOKEN: TOKEN } });
	client = session.client;
	await client.listTools(); // the SDK checks structuredContent against the listed outputSchema
});

after(async () => {
	await session?.close();
	await up?.close();
});

describe('declared API tools', { concurrency: true }, () => {
	test('tools/list shows every declared tool with its schemas and hints', async () => {
		const { tools } = await client.listTools();
		const byName = Object.fromEntries(tools.map((t) => [t.name, t]));
		for (const n of ['get_contact', 'search_contacts', 'add_note', 'get_file', 'c60_get', 'rl_ping', 'flaky_post', 'slow_hang', 'noca_get']) {
			assert.ok(byName[n], `tool ${n} is listed`);
		}
		assert.deepEqual(byName.get_contact.outputSchema, CONTACT_SCHEMA);
		assert.deepEqual(byName.get_contact.inputSchema.required, ['id']);
		assert.equal(byName.get_contact.annotations.readOnlyHint, true);
		assert.equal(byName.add_note.annotations.readOnlyHint, false);
		assert.equal(byName.add_note.annotations.destructiveHint, true);
		assert.equal(byName.get_file.outputSchema, undefined, 'a binary tool has no outputSchema');
	});

	test('path template: {id} is filled and percent-encoded; the configured headers are sent', async () => {
		const r = await call('get_contact', { id: 7 });
		assert.notEqual(r.isError, true, resultText(r));
		assert.deepEqual(r.structuredContent, { id: 7, name: 'Ada Lovelace', company: 'Analytical Engines' });
		assert.deepEqual(JSON.parse(resultText(r)), r.structuredContent);
		const rec = up.hits((x) => x.path === '/crm/contacts/7').at(-1);
		assert.equal(rec.method, 'GET');
		assert.equal(rec.headers.authorization, `Bearer ${TOKEN}`, 'the ${ENV} header reached the upstream');
		assert.equal(rec.headers['x-client'], 'moat-e2e');
		// a string with a space and non-ASCII: one encoded segment
		const k = await call('get_contact_by_key', { key: 'a b/é?#' });
		assert.equal(k.isError, true, 'a / in a path value is refused');
		await call('get_contact_by_key', { key: 'a b é?#&' });
		assert.ok(
			up.hits((x) => x.url === '/crm/contacts/a%20b%20%C3%A9%3F%23%26').length === 1,
			`encoded path: ${JSON.stringify(hitsUnder('/crm/contacts/a').map((x) => x.url))}`,
		);
	});

	test('query template: optional parameters left out when absent, constants kept', async () => {
		const r1 = await call('search_contacts', { q: 'ada' });
		assert.notEqual(r1.isError, true, resultText(r1));
		assert.deepEqual(JSON.parse(resultText(r1)), { data: [{ id: 7, name: 'Ada Lovelace' }], total: 1 });
		const r2 = await call('search_contacts', { q: 'o p&q=1', limit: 5, page: 2 });
		assert.notEqual(r2.isError, true, resultText(r2));
		const urls = up.hits((x) => x.path === '/crm/contacts').map((x) => x.url);
		assert.ok(urls.includes('/crm/contacts?q=ada&v=2'), JSON.stringify(urls));
		assert.ok(urls.includes('/crm/contacts?q=o%20p%26q%3D1&limit=5&page=2&v=2'), JSON.stringify(urls));
	});

	test('JSON body template: values keep their JSON types; absent optional members are dropped', async () => {
		const full = await call('add_note', { id: 7, text: 'hi "there"\n', tags: ['a', 'b'], priority: 2 });
		assert.notEqual(full.isError, true, resultText(full));
		assert.deepEqual(JSON.parse(resultText(full)), { id: 99, ok: true });
		const bare = await call('add_note', { id: 8, text: 'short' });
		assert.notEqual(bare.isError, true, resultText(bare));
		const posts = up.hits((x) => x.method === 'POST' && x.path.startsWith('/crm/contacts/'));
		const b7 = posts.find((x) => x.path === '/crm/contacts/7/notes');
		const b8 = posts.find((x) => x.path === '/crm/contacts/8/notes');
		assert.ok(b7 && b8, 'both notes were posted');
		assert.equal(b7.headers['content-type'], 'application/json');
		assert.deepEqual(JSON.parse(b7.body), {
			text: 'hi "there"\n',
			tags: ['a', 'b'],
			meta: { source: 'moat', priority: 2, label: 'note for 7' },
		});
		assert.deepEqual(JSON.parse(b8.body), { text: 'short', meta: { source: 'moat', label: 'note for 8' } });
	});

	test('select: fields not selected never reach the client', async () => {
		const one = await call('get_contact', { id: 8 });
		const many = await call('search_contacts', { q: '' });
		assert.deepEqual(JSON.parse(resultText(many)), {
			data: [{ id: 7, name: 'Ada Lovelace' }, { id: 8, name: 'Grace Hopper' }],
			total: 2,
		});
		for (const r of [one, many]) {
			const s = JSON.stringify(r);
			assert.ok(!s.includes(EMAIL) && !s.includes(PHONE), `a canary reached the client: ${s}`);
		}
	});

	test('output schema: a mismatch is a clear tool error', async () => {
		const r = await call('broken_contact', { id: 7 });
		const text = assertToolError(r, /output schema/, /broken_contact/, /crm/);
		assert.ok(!text.includes(EMAIL));
		assert.equal(r.structuredContent, undefined);
	});

	test('binary: a png is an embedded resource typed from its bytes, whatever the upstream says', async () => {
		const r = await call('get_file', { name: 'card.png' });
		assert.notEqual(r.isError, true, JSON.stringify(r));
		assert.equal(r.content.length, 1);
		const block = r.content[0];
		assert.equal(block.type, 'resource');
		assert.equal(block.resource.mimeType, 'image/png', 'sniffed, not the upstream\'s text/plain');
		assert.equal(block.resource.blob, PNG.toString('base64'));
		assert.equal(block.resource.uri, `${up.origin}/crm/files/card.png`);
	});

	test('binary: content outside mime_allow is refused even when labelled image/png', async () => {
		const r = await call('get_file', { name: 'doc.png' });
		assertToolError(r, /application\/pdf/, /mime_allow/);
		assert.ok(!JSON.stringify(r).includes(PDF.toString('base64').slice(0, 20)));
	});

	test('binary: an attachment over max_bytes is refused', async () => {
		const r = await call('get_file', { name: 'big.png' });
		assertToolError(r, /max_bytes/, /1024/);
	});

	test('rate limit: per_minute 2 burst 3, the 4th call is refused and never sent', async () => {
		for (let i = 0; i < 3; i++) {
			const r = await call('rl_ping');
			assert.notEqual(r.isError, true, `call ${i + 1}: ${resultText(r)}`);
		}
		const r = await call('rl_ping');
		assertToolError(r, /rate limit/, /API rl/);
		assert.equal(hitsUnder('/rl/').length, 3, 'the refused call did not reach the upstream');
	});

	test('cache: a second identical GET is answered from the cache; other arguments are not', async () => {
		const a = await call('c60_get', { id: 1 });
		const b = await call('c60_get', { id: 1 });
		assert.notEqual(a.isError, true, resultText(a));
		assert.equal(resultText(b), resultText(a));
		assert.equal(up.hits((x) => x.path === '/c60/item/1').length, 1, 'one request for two calls');
		await call('c60_get', { id: 2 });
		assert.equal(up.hits((x) => x.path === '/c60/item/2').length, 1);
	});

	test('cache: entries expire after ttl_s (1 s)', async () => {
		await call('c1_get', { id: 1 });
		await call('c1_get', { id: 1 });
		assert.equal(hitsUnder('/c1/').length, 1, 'the second call was a hit');
		await new Promise((r) => setTimeout(r, 1300));
		const r = await call('c1_get', { id: 1 });
		assert.notEqual(r.isError, true, resultText(r));
		assert.equal(hitsUnder('/c1/').length, 2, 'after ttl_s the request is sent again');
	});

	test('cache: a successful write clears the API\'s cache; a failed one does not', async () => {
		const count = () => up.hits((x) => x.method === 'GET' && x.path === '/cw/item/5').length;
		await call('cw_get', { id: 5 });
		await call('cw_get', { id: 5 });
		assert.equal(count(), 1);
		const bad = await call('cw_fail', { id: 6 });
		assertToolError(bad, /HTTP 500/);
		await call('cw_get', { id: 5 });
		assert.equal(count(), 1, 'a failed POST leaves the cache');
		const w = await call('cw_put', { id: 6 }); // another item: the whole API's cache goes
		assert.notEqual(w.isError, true, resultText(w));
		await call('cw_get', { id: 5 });
		assert.equal(count(), 2, 'the GET after a successful POST went upstream');
	});

	test('retries: 503 with Retry-After: 1, then 200; the second request waits about 1 s', async () => {
		const t0 = Date.now();
		const r = await call('flaky_get', { key: 'once' });
		assert.notEqual(r.isError, true, resultText(r));
		assert.deepEqual(JSON.parse(resultText(r)), { ok: true, attempt: 2 });
		const reqs = up.hits((x) => x.path === '/flaky/get/once');
		assert.equal(reqs.length, 2);
		const gap = reqs[1].at - reqs[0].at;
		assert.ok(gap >= 900, `the retry came ${gap} ms after the first request`);
		assert.ok(Date.now() - t0 < 5000);
	});

	test('retries: a POST is never retried', async () => {
		const r = await call('flaky_post', { key: 'p' });
		assertToolError(r, /HTTP 503/);
		await new Promise((res) => setTimeout(res, 1300)); // a retry would have come by now
		assert.equal(up.hits((x) => x.path === '/flaky/post/p').length, 1);
	});

	test('timeout: an upstream that never answers fails with a timeout after about timeout_ms', async () => {
		const t0 = Date.now();
		const r = await call('slow_hang');
		const ms = Date.now() - t0;
		assertToolError(r, /timeout/i, /1000 ms/);
		assert.ok(ms >= 900 && ms < 3000, `took ${ms} ms`);
	});

	test('slow body: a byte a second is cut at the deadline', async () => {
		const t0 = Date.now();
		const r = await call('slow_drip');
		const ms = Date.now() - t0;
		assertToolError(r, /timeout/i);
		assert.ok(ms >= 900 && ms < 3000, `took ${ms} ms`);
		// fail, not hang, when the request never reached the upstream (a
		// TLS handshake slower than timeout_ms on a loaded machine)
		assert.ok(hitsUnder('/slow/drip').length > 0, 'the drip route was never reached');
		await withTimeout(dripRoute.stats.closed, 10000, 'the drip connection to close');
		assert.ok(dripRoute.stats.closedAt - t0 < 3000, 'moat hung up on the upstream');
		assert.ok(dripRoute.stats.sent < 5, `${dripRoute.stats.sent} bytes were dripped`);
	});

	test('oversize: a response over max_response_bytes is a limit error (with and without Content-Length)', async () => {
		assertToolError(await call('slow_big'), /max_response_bytes/, /4096/);
		assertToolError(await call('slow_chunked'), /max_response_bytes/, /4096/);
		await chunked.stats.closed;
		assert.ok(chunked.stats.sent < 16 << 20, `the transfer was cut, not read to the end (${chunked.stats.sent} bytes sent)`);
	});

	test('upstream 401/403: "rejected the credentials", and the token never appears', async () => {
		for (const code of [401, 403]) {
			const r = await call('status', { code });
			const text = assertToolError(r, /rejected the credentials/, new RegExp(`HTTP ${code}`));
			assert.ok(!text.includes(TOKEN), 'the token leaked into the error');
		}
	});

	test('upstream 500: the status and a bounded excerpt of the body', async () => {
		const r = await call('status', { code: 500 });
		const text = assertToolError(r, /HTTP 500/, /E500-START/);
		assert.ok(!text.includes('E500-END'), 'the excerpt is bounded');
		assert.ok(text.length < 600, `excerpt of ${text.length} chars`);
	});

	test('a redirect from https to http is refused', async () => {
		const r = await call('downgrade');
		assertToolError(r, /refused/, /plain http is not allowed/);
		assert.equal(up.hits((x) => x.path === '/crm/downgrade').length, 1);
		assert.equal(up.hits((x) => x.path === '/crm/plain-target').length, 0);
	});

	test('https without ca_file: the system bundle does not trust the test CA', async () => {
		const r = await call('noca_get');
		assertToolError(r, /TLS/, /127\.0\.0\.1/, /ca_file/);
		assert.equal(hitsUnder('/noca').length, 0, 'no request was sent over the unverified connection');
	});
});

describe('config load', { concurrency: true }, () => {
	const plain = (extra = {}) => ({
		http: {
			apis: {
				plain: {
					base_url: 'http://127.0.0.1:9/api',
					allow_addresses: ['127.0.0.1'],
					...extra,
					tools: [tool('plain_get', 'GET', '/x')],
				},
			},
		},
	});

	test('a plain http base_url without allow_http: check and serve exit 3', () => {
		const p = writeConfig(dir, plain(), 'plain.json');
		for (const args of [['check', '--config', p], ['serve', '--config', p]]) {
			const r = runMoat(args);
			assert.equal(r.code, 3, `moat ${args[0]}: ${r.stdout}${r.stderr}`);
			assert.match(r.stdout + r.stderr, /API plain: base_url must be https/);
		}
		const ok = runMoat(['check', '--config', writeConfig(dir, plain({ allow_http: true }), 'plain-ok.json')]);
		assert.equal(ok.code, 0, ok.stderr);
	});

	test('a ${NAME} header whose variable is not set is refused at load', () => {
		const p = writeConfig(
			dir,
			{ http: { apis: { crm: { base_url: 'https://127.0.0.1:9', headers: { Authorization: 'Bearer ${MOAT_E2E_UNSET_VAR}' }, tools: [tool('t', 'GET', '/x')] } } } },
			'unset.json',
		);
		const env = { ...process.env };
		delete env.MOAT_E2E_UNSET_VAR;
		const r = runMoat(['check', '--config', p], { env });
		assert.equal(r.code, 3);
		assert.match(r.stdout + r.stderr, /MOAT_E2E_UNSET_VAR is not set/);
	});
});

describe('nothing leaked', () => {
	test('the token and the canaries appear in no response and not on stderr', async () => {
		await session.close();
		const all = allText([...seen, session.stderr()]);
		assert.ok(seen.length > 20, 'the calls above ran');
		assert.match(session.stderr(), /http: api crm: GET -> HTTP 200/, 'debug logging was on');
		for (const secret of [TOKEN, EMAIL, PHONE]) {
			assert.ok(!all.includes(secret), `${secret} leaked`);
		}
		// the upstream did see the token (the check above could fail)
		assert.ok(up.requests.some((r) => r.headers.authorization === `Bearer ${TOKEN}`));
	});
});
