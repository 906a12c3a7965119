// http_hosts.test.mjs - one host, many spellings: fetch's deny_hosts and a
// declared API's "credentials stay on its own host" compare canonical hosts
// (src/providers/http/hostname.h), and an upstream error body cut for an
// error message never shows part of a secret.
//
// The scene, on one TCP port P:
//   127.0.0.2:P  the allowed upstream (fetch and the API "crm"), which
//                redirects wherever it is asked to and answers 500 with the
//                API key planted at a chosen offset of the body;
//   127.0.0.1:P  the canary (and [::1]:P when the machine has ::1).
// fetch allows every IPv4 loopback address ("allow_addresses":
// 127.0.0.0/8), so that only deny_hosts stands between a spelling of
// localhost or 127.0.0.1 and the canary: a spelling that slipped through
// the canonicalisation would reach it. deny_hosts is written in odd
// spellings too (LocalHost., an upper-case IDN, a wildcard with a trailing
// dot). The config schema allows no IPv6 entry in deny_hosts; IPv6
// spellings of ::1 meet the address guard instead.
//
// Every test ends with proof that the canary received nothing; the last
// one checks that the API key reached no error, no audit line and not
// stderr, and that the audit trail recorded canonical hosts with the rule
// ids of the refusals.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { makeTempDir, writeConfig, RawSession, resultText, runMoat } from '../e2e/helpers.mjs';
import { haveIPv6Loopback, send, startOnOnePort } from '../e2e/http_upstream.mjs';

const KEY = `hosts-key-${process.pid}-${Date.now()}-DO-NOT-SHOW`;
const CUT = 300; // api.c's excerpt of an upstream error body

let allowed, canary, canary6, P, s, dir, audit;
const seen = [];

function redirectTo(req, res) {
	const to = new URL(req.url, 'http://x').searchParams.get('to');
	res.writeHead(302, { location: to });
	res.end();
}

// 500 with the key at byte n of the body (n from the path), filler around it
function errorAt(req, res, rec) {
	const n = Number(rec.path.split('/').at(-1));
	send(res, 500, `${'.'.repeat(n)}${KEY}${'.'.repeat(400)}`);
}

async function call(name, args) {
	const r = await s.callTool(name, args, { timeoutMs: 20000 });
	seen.push(r);
	return r;
}

async function refused(name, args, ...patterns) {
	const r = await call(name, args);
	assert.equal(r.isError, true, `${name} ${JSON.stringify(args)} was not refused: ${JSON.stringify(r).slice(0, 300)}`);
	const text = resultText(r);
	for (const p of patterns) assert.match(text, p, `${JSON.stringify(args)}: ${text}`);
	return text;
}

function assertCanaryUntouched() {
	const got = [...canary.requests, ...(canary6?.requests ?? [])];
	assert.deepEqual(got.map((r) => `${r.method} ${r.url}`), [], 'the canary received a request');
}

/** Every run of 8 bytes of KEY that shows in text (the unit tests check
 * runs of 4; here "host", which the key begins with, is in every audit
 * line). The key begins with a word on purpose: a message that ends in
 * "deny_hosts" must not be mistaken for the start of the key. */
function keyFragments(text) {
	const found = [];
	for (let i = 0; i + 8 <= KEY.length; i++) if (text.includes(KEY.slice(i, i + 8))) found.push(KEY.slice(i, i + 8));
	return found;
}

const obj = (properties, required = []) => ({ type: 'object', properties, required, additionalProperties: false });

before(async () => {
	const v6 = await haveIPv6Loopback();
	const specs = [
		{
			host: '127.0.0.2',
			routes: {
				'GET /ok': (req, res) => send(res, 200, 'allowed upstream'),
				'GET /redir': redirectTo,
				'GET /api/err/*': errorAt,
				'GET /api/ok': (req, res) => send(res, 200, { ok: true }),
				'GET /api/jump': redirectTo,
				'GET /api/keyed/*': (req, res) => send(res, 500, 'nope'),
			},
		},
		{ host: '127.0.0.1', fallback: (req, res) => send(res, 200, 'canary') },
	];
	if (v6) specs.push({ host: '::1', fallback: (req, res) => send(res, 200, 'canary') });
	[allowed, canary, canary6] = await startOnOnePort(specs);
	P = allowed.port;
	dir = makeTempDir('moat-attack-hosts-');
	audit = path.join(dir, 'audit.jsonl');
	const cfg = writeConfig(dir, {
		log: { level: 'debug', audit_file: audit },
		limits: { max_concurrent_calls: 16 },
		http: {
			fetch: {
				allow_addresses: ['127.0.0.0/8'],
				ports: [P],
				timeout_ms: 5000,
				deny_hosts: ['LocalHost.', '127.0.0.1', 'XN--BCHER-KVA.example', '*.Internal.Example.'],
			},
			apis: {
				crm: {
					base_url: `http://127.0.0.2:${P}/api`,
					allow_http: true,
					allow_addresses: ['127.0.0.2'],
					headers: { Authorization: 'Bearer ${MOAT_HOSTS_KEY}' },
					cache: false,
					retries: { max: 0 },
					timeout_ms: 5000,
					tools: [
						{
							name: 'err_at',
							description: 'HTTP 500 with the key at byte n of the body',
							method: 'GET',
							path: '/err/{n}',
							query: { q: '{q}' },
							input_schema: obj({ n: { type: 'integer' }, q: { type: 'string' } }, ['n']),
						},
						{ name: 'ok', description: 'fine', method: 'GET', path: '/ok' },
						// some APIs take the key in the path (Telegram's /bot<token>/...)
						{ name: 'keyed', description: 'the key in the path template', method: 'GET', path: '/keyed/${MOAT_HOSTS_KEY}/x' },
						{
							name: 'jump',
							description: 'follows a redirect',
							method: 'GET',
							path: '/jump',
							query: { to: '{to}' },
							input_schema: obj({ to: { type: 'string' } }, ['to']),
						},
					],
				},
			},
		},
	});
	s = new RawSession(cfg, { env: { MOAT_HOSTS_KEY: KEY } });
	await s.initialize();
});

after(async () => {
	s?.kill();
	for (const u of [allowed, canary, canary6]) await u?.close();
});

const LOOPBACK_SPELLINGS = [
	'localhost',
	'LOCALHOST',
	'localhost.',
	'LocalHost.',
	'LOCALHOST.',
	'127.0.0.1',
	'127.0.0.1.',
	'2130706433',
	'2130706433.',
	'0x7f000001',
	'0X7F000001',
	'0x7f.1',
	'127.1',
	'0177.0.0.1',
	'0177.0.0.01.',
];
const V6_SPELLINGS = ['[::1]', '[0:0:0:0:0:0:0:1]', '[0000::0001]', '[::ffff:127.0.0.1]', '[::FFFF:7F00:1]'];

describe('deny_hosts holds against every spelling', () => {
	test('positive control: the allowed upstream on the canary\'s port is fetched', async () => {
		const r = await call('fetch', { url: `http://127.0.0.2:${P}/ok` });
		assert.notEqual(r.isError, true, resultText(r));
		assert.ok(resultText(r).endsWith('allowed upstream'));
	});

	test('spellings of localhost and 127.0.0.1 are refused by deny_hosts', async () => {
		for (const h of LOOPBACK_SPELLINGS) {
			await refused('fetch', { url: `http://${h}:${P}/x?token=t` }, /refused/, /deny_hosts/);
		}
		for (const h of V6_SPELLINGS) {
			await refused('fetch', { url: `http://${h}:${P}/x?token=t` }, /refused/, /loopback/);
		}
		assertCanaryUntouched();
	});

	test('malformed spellings, user info and non-ASCII are refused before any request', async () => {
		const cases = {
			'localhost..': [`http://localhost..:${P}/`, /empty label|malformed/],
			'.localhost': [`http://.localhost:${P}/`, /empty label|malformed/],
			'user info': [`http://user@localhost.:${P}/`, /user info/],
			'user info naming the allowed host': [`http://127.0.0.2:${P}@LOCALHOST.:${P}/`, /user info|deny_hosts/],
			'non-ASCII': [`http://b\u00fccher.example:${P}/`, /refused/],
			'upper-case non-ASCII': [`http://B\u00dcCHER.EXAMPLE:${P}/`, /refused/],
			'percent-encoded': [`http://local%68ost:${P}/`, /refused/],
			'zone id': [`http://[fe80::1%25lo]:${P}/`, /refused/],
		};
		for (const [what, [url, why]] of Object.entries(cases)) {
			const text = await refused('fetch', { url }, /refused/, why);
			assert.ok(!text.includes('canary'), what);
		}
		assertCanaryUntouched();
	});

	test('an upper-case IDN and a wildcard with a trailing dot match without any lookup', async () => {
		for (const h of ['xn--bcher-kva.example', 'XN--BCHER-KVA.EXAMPLE.', 'a.internal.example', 'A.B.INTERNAL.EXAMPLE.']) {
			// no DNS knows these names: only a refusal before resolving says "deny_hosts"
			await refused('fetch', { url: `http://${h}:${P}/` }, /deny_hosts/);
		}
		// the wildcard's base itself is not denied (it does not resolve: a DNS error, not deny_hosts)
		const base = await refused('fetch', { url: `http://internal.example.:${P}/` }, /refused|resolve/);
		assert.doesNotMatch(base, /deny_hosts/);
	});

	test('a redirect from the allowed upstream to any spelling is refused too', async () => {
		for (const h of ['LOCALHOST.', 'localhost.', '127.0.0.1.', '0x7f000001', '127.1']) {
			const to = `http://${h}:${P}/from-redirect`;
			await refused('fetch', { url: `http://127.0.0.2:${P}/redir?to=${encodeURIComponent(to)}` }, /refused/, /deny_hosts/);
		}
		assert.ok(allowed.hits((r) => r.path === '/redir').length >= 5);
		assertCanaryUntouched();
	});
});

describe('a declared API', () => {
	test('its key never follows a redirect to another spelling of another host', async () => {
		const r = await call('jump', { to: `http://LOCALHOST.:${P}/x` });
		assert.equal(r.isError, true);
		assert.match(resultText(r), /loopback/); // the API allows only 127.0.0.2
		assertCanaryUntouched();
	});

	test('an error body cut at 300 bytes shows no part of the key, wherever the key lies', async () => {
		const offsets = [];
		for (let n = CUT - KEY.length - 3; n <= CUT + 3; n++) offsets.push(n);
		offsets.push(0, 1, 100, 1000);
		for (const n of offsets) {
			const text = await refused('err_at', { n, q: 'query-value' }, /API crm answered HTTP 500 to GET \/err\/\{n\}/);
			assert.deepEqual(keyFragments(text), [], `key at byte ${n}: ${text}`);
			// the error names the path template, never the filled path or the query
			assert.ok(!text.includes('query-value') && !text.includes(`/err/${n}`), text);
		}
		// the upstream did get the key each time (so the checks above could fail)
		const got = allowed.hits((r) => r.path.startsWith('/api/err/'));
		assert.equal(got.length, offsets.length);
		assert.ok(got.every((r) => r.headers.authorization === `Bearer ${KEY}`));
		assertCanaryUntouched();
	});
});

describe('a key in the path template', () => {
	test('is sent, and masked in the error that names the template', async () => {
		const text = await refused('keyed', {}, /API crm answered HTTP 500 to GET \/keyed\/\*\*\*\*\/x: nope/);
		assert.deepEqual(keyFragments(text), []);
		assert.equal(allowed.hits((r) => r.path === `/api/keyed/${KEY}/x`).length, 1);
	});
});

describe('afterwards', () => {
	test('no part of the key in stderr, the audit trail or any answer; the audit has canonical hosts and rule ids', async () => {
		await s.assertAlive();
		const { stderr } = await s.close(8000);
		const auditText = fs.readFileSync(audit, 'utf8');
		const lines = auditText.trim().split('\n').map((l) => JSON.parse(l));
		assert.equal(lines.filter((l) => l.tool).length, seen.length, 'one audit line per call');
		for (const [where, text] of Object.entries({ stderr, audit: auditText, answers: JSON.stringify(seen) })) {
			assert.ok(!text.includes(KEY), `the key is in ${where}`);
			assert.deepEqual(keyFragments(text), [], `part of the key is in ${where}`);
		}
		const denied = lines.filter((l) => l.rule === 'egress.denied_host');
		assert.ok(denied.length >= LOOPBACK_SPELLINGS.length + 4 + 5, `${denied.length} denied_host lines`);
		// "host" is the host the call asked for (the first hop): 127.0.0.2
		// for the redirects refused on their second hop
		const canonical = new Set(['127.0.0.2', 'localhost', '127.0.0.1', 'xn--bcher-kva.example', 'a.internal.example', 'a.b.internal.example']);
		for (const l of denied) {
			assert.equal(l.tool, 'fetch');
			assert.ok(canonical.has(l.touched?.host), `audit host ${JSON.stringify(l.touched)}`);
		}
		for (const l of lines.filter((x) => x.touched?.host)) {
			assert.doesNotMatch(l.touched.host, /[A-Z]|\.$|^\[/, `not canonical: ${l.touched.host}`);
		}
		assert.ok(lines.some((l) => l.rule === 'egress.userinfo'));
		assert.ok(lines.some((l) => l.rule === 'egress.bad_host'));
		const keyed = lines.find((l) => l.tool === 'keyed');
		assert.deepEqual(keyed.touched, { api: 'crm', method: 'GET', path: '/keyed/****/x', host: '127.0.0.2' });
		const api = lines.filter((l) => l.tool === 'err_at');
		assert.ok(api.length > 0);
		for (const l of api) {
			assert.deepEqual(l.touched, { api: 'crm', method: 'GET', path: '/err/{n}', host: '127.0.0.2' });
		}
		assertCanaryUntouched();
	});
});

describe('check and serve agree on hosts in the config', { concurrency: true }, () => {
	const tool = { name: 't', description: 't', method: 'GET', path: '/x' };
	const api = (base, extra = {}) => ({ http: { apis: { a: { base_url: base, allow_http: true, tools: [tool], ...extra } } } });
	const broken = {
		'a loopback base_url': [api('http://127.0.0.1:9/api'), /API a: base_url refused: the host 127\.0\.0\.1 is a loopback address/],
		'localhost. as base_url': [api('http://LOCALHOST.:9/api'), /API a: base_url refused: localhost resolves to .*loopback/],
		'a hex loopback base_url': [api('http://0x7f000001:9/'), /API a: base_url refused: the host 127\.0\.0\.1 is a loopback/],
		'the metadata address': [api('http://169.254.169.254/'), /link-local/],
		'an empty label': [api('http://localhost..:9/'), /API a: base_url .*(empty label|malformed)/],
		'a zone id': [api('http://[fe80::1%25lo]:9/'), /API a: base_url refused/],
		'a port outside the ones allowed': [api('http://127.0.0.2:0/', { allow_addresses: ['127.0.0.2'] }), /API a: base_url/],
		'a bad deny_hosts entry': [{ http: { fetch: { deny_hosts: ['localhost', 'localhost..'] } } }, /\/http\/fetch\/deny_hosts\/1: refused: the host 'localhost\.\.' has an empty label/],
		'a wildcard over an address': [{ http: { fetch: { allow_hosts: ['*.127.0.0.1'] } } }, /\/http\/fetch\/allow_hosts\/0: refused: the host '\*\.127\.0\.0\.1' is a wildcard over an address/],
	};
	for (const [what, [cfg, why]] of Object.entries(broken)) {
		test(`${what}: check and serve both exit 3 with the same message`, () => {
			const p = writeConfig(dir, cfg, `broken-${what.replace(/\W+/g, '-')}.json`);
			const out = [];
			for (const cmd of ['check', 'serve']) {
				const r = runMoat([cmd, '--config', p]);
				assert.equal(r.code, 3, `moat ${cmd} (${what}): ${r.stdout}${r.stderr}`);
				assert.match(r.stdout + r.stderr, why, `moat ${cmd}`);
				out.push((r.stdout + r.stderr).split('\n').find((l) => why.test(l)));
			}
			assert.equal(out[0], out[1], 'check and serve word it alike');
		});
	}

	test('a base_url whose name does not resolve at start-up is a warning, not a failure', () => {
		const p = writeConfig(dir, api('http://moat-test.invalid:9/api'), 'unresolvable.json');
		const r = runMoat(['check', '--config', p], { timeoutMs: 60000 });
		assert.equal(r.code, 0, r.stdout + r.stderr);
		assert.match(r.stderr, /API a: cannot vet base_url now .*; every call will vet it/);
	});

	test('the allowed spellings still start', () => {
		const p = writeConfig(dir, api(`http://LOCALHOST.:9/api`, { allow_addresses: ['127.0.0.1', '::1'] }), 'ok.json');
		const r = runMoat(['check', '--config', p]);
		assert.equal(r.code, 0, r.stdout + r.stderr);
	});
});
