// http_ssrf.test.mjs - server-side request forgery against the http family
// (fetch and a declared API tool), each attack ending with proof that an
// internal canary service received no request at all.
//
// The scene, on one TCP port P:
//   127.0.0.2:P  the allowed upstream ("allow_addresses": ["127.0.0.2"]),
//                which also redirects wherever it is asked to;
//   127.0.0.3:P  a second allowed host (declared API only) that records the
//                headers it receives;
//   127.0.0.1:P  the canary: an internal service nothing may reach (and
//   [::1]:P      its IPv6 twin, when the machine has ::1).
// Sharing the port matters: the kernel sandbox grants moat TCP ports, not
// addresses, so the canary's port is open to moat and only the egress guard
// stands between it and the canary. A positive control fetches the allowed
// upstream on the same port.
//
// Attacks: loopback in every spelling (127.0.0.1, localhost, [::1],
// 0.0.0.0, decimal, hex, octal, short, IPv4-mapped IPv6), the cloud
// metadata address, file:// and gopher://, user info; redirects from the
// allowed upstream to all of those; CR/LF and NUL in templated path and
// query values; path values that try to climb (../admin, a/b, %2e%2e);
// the API key following a redirect to another host; a 1 GiB response
// (capped, and moat's peak memory stays bounded).
//
// Not here: "the DNS answer changes between vetting and connect" (DNS
// rebinding). That needs a resolver that answers differently on the second
// lookup, which real DNS in CI cannot provide and which we will not fake
// here; tests/unit/test_egress.c covers it through the resolver hook, and
// http_client.c pins the vetted addresses (CURLOPT_RESOLVE) and re-checks
// each socket's address before connect (CURLOPT_OPENSOCKETFUNCTION).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import { makeTempDir, writeConfig, RawSession, resultText } from '../e2e/helpers.mjs';
import { haveIPv6Loopback, send, startOnOnePort, startUpstream, stream } from '../e2e/http_upstream.mjs';

const KEY = `ssrf-api-key-${process.pid}-DO-NOT-FORWARD`;
const ADMIN = 'admin-canary-never-served';

let allowed, second, canary, canary6, P, s;
const seen = [];
const huge = stream(1 << 30); // 1 GiB, chunked
const hugeCL = stream(1 << 30, { contentLength: true });
const hugeFetch = stream(1 << 30, { type: 'text/plain' });

function redirectTo(req, res) {
	const to = new URL(req.url, 'http://x').searchParams.get('to');
	res.writeHead(Number(new URL(req.url, 'http://x').searchParams.get('code') ?? 302), { location: to });
	res.end();
}

const allowedRoutes = {
	'GET /ok': (req, res) => send(res, 200, 'allowed upstream'),
	'GET /redir': redirectTo,
	'GET /huge': hugeFetch.fn,
	// answers with the raw path segment it received
	'GET /api/items/*': (req, res, rec) => send(res, 200, { item: rec.url.split('?')[0].slice('/api/items/'.length) }),
	'GET /api/admin': (req, res) => send(res, 200, { secret: ADMIN }),
	'GET /api/jump': redirectTo,
	'GET /api/huge': huge.fn,
	'GET /api/huge-cl': hugeCL.fn,
};

const canaryRoute = (req, res) => send(res, 200, 'canary: you reached an internal service');

/** Call a tool, record the result. */
async function call(name, args) {
	const r = await s.callTool(name, args, { timeoutMs: 20000 });
	seen.push(r);
	return r;
}

async function refused(name, args, ...patterns) {
	const r = await call(name, args);
	assert.equal(r.isError, true, `${name} ${JSON.stringify(args)} was not refused: ${JSON.stringify(r).slice(0, 300)}`);
	const text = resultText(r);
	for (const p of patterns) assert.match(text, p, `${JSON.stringify(args)}`);
	return text;
}

function assertCanaryUntouched() {
	const got = [...canary.requests, ...(canary6?.requests ?? [])];
	assert.deepEqual(
		got.map((r) => `${r.method} ${r.url}`),
		[],
		'the internal canary service received a request',
	);
}

const obj = (properties, required = []) => ({ type: 'object', properties, required, additionalProperties: false });

before(async () => {
	const v6 = await haveIPv6Loopback();
	const specs = [
		{ host: '127.0.0.2', routes: allowedRoutes },
		{ host: '127.0.0.3', fallback: (req, res) => send(res, 200, { landed: true }) },
		{ host: '127.0.0.1', fallback: canaryRoute },
	];
	if (v6) specs.push({ host: '::1', fallback: canaryRoute });
	[allowed, second, canary, canary6] = await startOnOnePort(specs);
	P = allowed.port;
	// The canary is really there: a request from the test itself reaches it.
	await new Promise((resolve, reject) => {
		http.get(`${canary.origin}/probe`, (res) => res.resume().on('end', resolve)).on('error', reject);
	});
	assert.equal(canary.requests.length, 1);
	canary.reset();

	const dir = makeTempDir('moat-attack-ssrf-');
	const cfg = writeConfig(dir, {
		limits: { max_concurrent_calls: 64, workers: 16 },
		http: {
			fetch: { allow_addresses: ['127.0.0.2'], ports: [P, 80], timeout_ms: 10000 },
			apis: {
				victim: {
					base_url: `http://127.0.0.2:${P}/api`,
					allow_http: true,
					allow_addresses: ['127.0.0.2', '127.0.0.3'],
					headers: { Authorization: 'Bearer ${MOAT_SSRF_KEY}', 'X-Api-Key': '${MOAT_SSRF_KEY}' },
					cache: false,
					retries: { max: 0 },
					timeout_ms: 15000,
					tools: [
						{
							name: 'get_item',
							description: 'one item',
							method: 'GET',
							path: '/items/{id}',
							query: { q: '{q}' },
							input_schema: obj({ id: { type: 'string' }, q: { type: 'string' } }, ['id']),
						},
						{
							name: 'jump',
							description: 'follows a redirect',
							method: 'GET',
							path: '/jump',
							query: { to: '{to}' },
							input_schema: obj({ to: { type: 'string' } }, ['to']),
						},
						{ name: 'huge', description: '1 GiB, chunked', method: 'GET', path: '/huge' },
						{ name: 'huge_cl', description: '1 GiB, with Content-Length', method: 'GET', path: '/huge-cl' },
					],
				},
			},
		},
	});
	s = new RawSession(cfg, { env: { MOAT_SSRF_KEY: KEY } });
	await s.initialize();
	const { tools } = await s.call('tools/list', {});
	for (const n of ['fetch', 'get_item', 'jump', 'huge', 'huge_cl']) {
		assert.ok(tools.some((t) => t.name === n), `tool ${n} is not registered`);
	}
});

after(async () => {
	s?.kill();
	for (const u of [allowed, second, canary, canary6]) await u?.close();
});

describe('SSRF through fetch', { concurrency: true }, () => {
	test('positive control: the allowed upstream on the canary\'s port is fetched', async () => {
		const r = await call('fetch', { url: `http://127.0.0.2:${P}/ok` });
		assert.notEqual(r.isError, true, resultText(r));
		assert.ok(resultText(r).endsWith('allowed upstream'));
	});

	test('loopback in every spelling, the metadata address, other schemes, user info', async () => {
		const attacks = {
			'127.0.0.1': [`http://127.0.0.1:${P}/`, /loopback/],
			localhost: [`http://localhost:${P}/`, /loopback/],
			'[::1]': [`http://[::1]:${P}/`, /loopback/],
			'0.0.0.0': [`http://0.0.0.0:${P}/`, /unspecified/],
			'[::]': [`http://[::]:${P}/`, /unspecified/],
			decimal: [`http://2130706433:${P}/`, /127\.0\.0\.1 is a loopback/],
			hex: [`http://0x7f000001:${P}/`, /127\.0\.0\.1 is a loopback/],
			octal: [`http://0177.0.0.1:${P}/`, /127\.0\.0\.1 is a loopback/],
			short: [`http://127.1:${P}/`, /127\.0\.0\.1 is a loopback/],
			'mixed hex': [`http://0x7f.0.0.1:${P}/`, /127\.0\.0\.1 is a loopback/],
			'IPv4-mapped': [`http://[::ffff:127.0.0.1]:${P}/`, /IPv4-mapped loopback/],
			'IPv4-mapped hex': [`http://[::ffff:7f00:1]:${P}/`, /IPv4-mapped loopback/],
			'upper-case scheme': [`HTTP://127.0.0.1:${P}/`, /loopback/],
			metadata: ['http://169.254.169.254/latest/meta-data/', /link-local/],
			file: ['file:///etc/passwd', /scheme 'file'/],
			gopher: [`gopher://127.0.0.1:${P}/_GET%20/%20HTTP/1.0`, /scheme 'gopher'/],
			dict: [`dict://127.0.0.1:${P}/`, /scheme 'dict'/],
			'user info': [`http://allowed@127.0.0.1:${P}/`, /user info/],
			'user info naming the allowed host': [`http://127.0.0.2:${P}@127.0.0.1:${P}/`, /user info|loopback/],
		};
		for (const [what, [url, why]] of Object.entries(attacks)) {
			const text = await refused('fetch', { url }, /refused/, why);
			assert.ok(!text.includes('root:'), `${what}: /etc/passwd was read`);
		}
		assertCanaryUntouched();
	});

	test('redirects from the allowed upstream to the canary, file:// and gopher:// are refused', async () => {
		const targets = {
			canary: [`http://127.0.0.1:${P}/from-redirect`, /loopback/],
			localhost: [`http://localhost:${P}/from-redirect`, /loopback/],
			'[::1]': [`http://[::1]:${P}/from-redirect`, /loopback/],
			decimal: [`http://2130706433:${P}/from-redirect`, /loopback/],
			'0.0.0.0': [`http://0.0.0.0:${P}/from-redirect`, /unspecified/],
			'IPv4-mapped': [`http://[::ffff:127.0.0.1]:${P}/from-redirect`, /loopback/],
			'scheme-relative': [`//127.0.0.1:${P}/from-redirect`, /loopback/],
			metadata: ['http://169.254.169.254/latest/meta-data/', /link-local/],
			file: ['file:///etc/passwd', /scheme 'file'/],
			gopher: [`gopher://127.0.0.1:${P}/_x`, /scheme 'gopher'/],
		};
		for (const code of [301, 302, 307, 308]) {
			for (const [what, [to, why]] of Object.entries(targets)) {
				const url = `http://127.0.0.2:${P}/redir?code=${code}&to=${encodeURIComponent(to)}`;
				const text = await refused('fetch', { url }, /refused/, why);
				assert.ok(!text.includes('root:'), `${code} ${what}: /etc/passwd was read`);
			}
		}
		// the redirects were really served by the allowed upstream
		assert.ok(allowed.hits((r) => r.path === '/redir').length >= 40);
		assertCanaryUntouched();
	});
});

describe('SSRF through a declared API tool', { concurrency: true }, () => {
	test('CR/LF and NUL in templated path and query values are refused before any request', async () => {
		// the other tests run alongside: count only what these calls could send
		const sent = () => allowed.hits((r) => r.url.startsWith('/api/items/1')).length;
		const before = sent();
		const evil = [
			'1\r\nX-Injected: yes',
			'1\nX-Injected: yes',
			'1\rX-Injected: yes',
			'1\r\n\r\nGET /api/admin HTTP/1.1\r\nHost: 127.0.0.2',
			'1\u007f',
			'1\u001b[2J',
		];
		for (const v of evil) {
			const t1 = await refused('get_item', { id: v }, /refused|control/i);
			const t2 = await refused('get_item', { id: '1', q: v }, /refused|control/i);
			for (const t of [t1, t2]) assert.ok(!t.includes('X-Injected'), `the value was echoed: ${t}`);
		}
		// NUL never gets that far: moat refuses it by name before the handler runs
		for (const args of [{ id: '1\u0000admin' }, { id: '1', q: '1\u0000admin' }]) {
			const rid = `nul-${args.q ? 'q' : 'id'}`;
			s.send(JSON.stringify({ jsonrpc: '2.0', id: rid, method: 'tools/call', params: { name: 'get_item', arguments: args } }));
			const r = await s.response(rid);
			assert.equal(r.result.isError, true);
			assert.match(r.result.content[0].text, /contains a NUL byte/);
		}
		assert.equal(sent(), before, 'a refused call reached the upstream');
		// percent-encoded CR/LF is data, sent encoded: no header is injected
		const enc = await call('get_item', { id: '%0d%0aX-Injected: yes', q: '%0d%0aX-Injected:%20yes' });
		assert.notEqual(enc.isError, true, resultText(enc));
		for (const r of allowed.requests) {
			assert.equal(r.headers['x-injected'], undefined, `header injected into ${r.url}`);
			assert.notEqual(r.path, '/api/admin');
		}
		assertCanaryUntouched();
	});

	test('path values ../admin, a/b, %2e%2e never reach another path on the upstream', async () => {
		const climbing = ['../admin', 'a/b', '..', '.', '../../admin', '..\\admin', 'a\\..\\..\\admin', '/admin'];
		for (const id of climbing) await refused('get_item', { id }, /refused/, /'id'/);
		const data = ['%2e%2e', '%2e%2e%2fadmin', '..%2fadmin', '%2fadmin', '.%2e', '...', 'admin'];
		for (const id of data) {
			const r = await call('get_item', { id });
			assert.notEqual(r.isError, true, resultText(r));
			// the upstream got exactly this one segment, percent-encoded
			const seg = JSON.parse(resultText(r)).item;
			assert.ok(!seg.includes('/'), seg);
			assert.equal(decodeURIComponent(seg), id, `the upstream saw ${seg} for ${id}`);
		}
		for (const r of allowed.requests.filter((x) => x.url.startsWith('/api/'))) {
			// as the upstream would read it, and as a normalising proxy would
			const norm = new URL(r.url, 'http://x').pathname;
			assert.match(r.url, /^\/api\/(items\/[^/?]+|jump|huge|huge-cl)(\?|$)/, `request to ${r.url}`);
			assert.ok(norm.startsWith('/api/items/') || /^\/api\/(jump|huge|huge-cl)$/.test(norm), `${r.url} normalises to ${norm}`);
		}
		assert.equal(allowed.hits((x) => x.path === '/api/admin').length, 0);
		assert.ok(!JSON.stringify(seen).includes(ADMIN), 'the admin route answered');
		assertCanaryUntouched();
	});

	test('the API key does not follow a redirect to another host', async () => {
		const landing = `http://127.0.0.3:${P}/landing`;
		const r = await call('jump', { to: landing });
		assert.notEqual(r.isError, true, resultText(r));
		assert.deepEqual(JSON.parse(resultText(r)), { landed: true });
		const first = allowed.hits((x) => x.path === '/api/jump' && x.query.includes('127.0.0.3')).at(-1);
		assert.equal(first.headers.authorization, `Bearer ${KEY}`, 'the first hop carried the key');
		assert.equal(first.headers['x-api-key'], KEY);
		const got = second.hits((x) => x.path === '/landing');
		assert.equal(got.length, 1, 'the redirect was followed to the second host');
		assert.equal(got[0].headers.authorization, undefined);
		assert.equal(got[0].headers['x-api-key'], undefined);
		assert.ok(!got[0].rawHeaders.join('\n').includes(KEY), 'the key reached the second host');
		// a redirect within the origin keeps the key
		const same = await call('jump', { to: '/api/items/kept' });
		assert.notEqual(same.isError, true, resultText(same));
		const kept = allowed.hits((x) => x.path === '/api/items/kept').at(-1);
		assert.equal(kept.headers.authorization, `Bearer ${KEY}`);
		// a redirect to the canary is refused
		for (const to of [`http://127.0.0.1:${P}/x`, `http://localhost:${P}/x`, `http://2130706433:${P}/x`, 'file:///etc/passwd']) {
			await refused('jump', { to }, /refused/);
		}
		assertCanaryUntouched();
	});

	test('a 1 GiB response is capped with a limit error, and moat\'s memory stays bounded', async (t) => {
		await refused('huge', {}, /exceeds its limit of 1048576 bytes/, /max_response_bytes/);
		await refused('huge_cl', {}, /exceeds its limit of 1048576 bytes/, /max_response_bytes/);
		await refused('fetch', { url: `http://127.0.0.2:${P}/huge` }, /exceeds its limit of 5242880 bytes/);
		await Promise.all([huge.stats.closed, hugeCL.stats.closed, hugeFetch.stats.closed]);
		for (const st of [huge.stats, hugeCL.stats, hugeFetch.stats]) {
			assert.ok(st.sent < 64 << 20, `the upstream wrote ${st.sent} bytes before moat hung up`);
		}
		const status = fs.readFileSync(`/proc/${s.proc.pid}/status`, 'utf8');
		const hwm = Number(/^VmHWM:\s+(\d+) kB$/m.exec(status)[1]) * 1024;
		t.diagnostic(`VmHWM ${(hwm / 1048576).toFixed(1)} MiB; upstream wrote ${[huge, hugeCL, hugeFetch].map((h) => h.stats.sent).join(', ')} bytes`);
		// A 1 GiB body held in memory would blow either bound. ASan builds carry
		// shadow memory and a quarantine of freed blocks: they get twice as much.
		const asan = fs.readFileSync(`/proc/${s.proc.pid}/maps`, 'utf8').includes('libasan');
		const bound = (asan ? 128 : 64) << 20;
		assert.ok(hwm > 0 && hwm < bound, `moat's peak resident memory was ${(hwm / 1048576).toFixed(1)} MiB`);
		await s.assertAlive();
		assertCanaryUntouched();
	});
});

describe('afterwards', () => {
	test('the session is alive, stdout is protocol only, nothing reached the canary', async () => {
		await s.assertAlive();
		const { stderr } = await s.close(8000);
		assert.ok(seen.length > 60, `${seen.length} calls ran`);
		const all = JSON.stringify(seen) + stderr;
		assert.ok(!all.includes(KEY), 'the API key leaked');
		assert.ok(!all.includes(ADMIN));
		assertCanaryUntouched();
	});
});
