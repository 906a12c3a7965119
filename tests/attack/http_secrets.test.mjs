// http_secrets.test.mjs - no secret and no canary from the environment, a
// request or a response reaches stderr (at debug level), the audit file or
// an error message of the http family.
//
// Planted: an API key in the environment (sent as a header through a
// ${NAME} reference); canaries in argument values (query and path) and in
// URL query strings and user info; canaries in response fields the tool
// does not select, in a 401 body that echoes the credential, in redirect
// URLs. Then every call that can fail does: credentials rejected, 404,
// output schema mismatch, refused redirects, CR/LF in values, timeouts,
// egress refusals. Each test first proves the channel it greps was really
// written to (the audit file has one line per call, stderr has the debug
// lines), so an empty file cannot pass.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import {
	MOAT_BIN,
	RawSession,
	assertNoSanitizerReport,
	makeTempDir,
	resultText,
	withTimeout,
	writeConfig,
} from '../e2e/helpers.mjs';
import { allText, hang, send, startOnOnePort } from '../e2e/http_upstream.mjs';

const rnd = `${process.pid}-${Date.now()}`;
const SECRETS = {
	key: `env-key-${rnd}-SECRET`,
	arg: `arg-canary-${rnd}`,
	query: `query-canary-${rnd}`,
	userinfo: `userinfo-canary-${rnd}`,
	resp: `resp-canary-${rnd}`,
	echoed: `echoed-canary-${rnd}`,
};

let up, internal, P, dir, cfg, audit, s;
const seen = [];

const obj = (properties, required = []) => ({ type: 'object', properties, required, additionalProperties: false });

before(async () => {
	[up, internal] = await startOnOnePort([
		{
			host: '127.0.0.2',
			routes: {
				'GET /api/contact/*': (req, res) =>
					send(res, 200, { id: 1, name: 'N', email: SECRETS.resp, nested: { token: SECRETS.resp } }),
				'GET /api/shape/*': (req, res) => send(res, 200, { id: 'not-a-number', email: SECRETS.resp }),
				// echoes the credential and the query it got, like careless upstreams do
				'GET /api/auth': (req, res) => send(res, 401, `bad ${req.headers.authorization} ${req.url} ${SECRETS.echoed}`),
				'GET /api/missing': (req, res) => send(res, 404, 'not found'),
				'GET /api/hang': hang,
				'GET /api/jump': (req, res) => {
					res.writeHead(302, { location: `http://127.0.0.1:${P}/x?token=${SECRETS.query}` });
					res.end();
				},
				'GET /page': (req, res) => send(res, 404, 'nothing here'),
				'GET /slow': hang,
			},
		},
		{ host: '127.0.0.1', fallback: (req, res) => send(res, 200, 'internal') },
	]);
	P = up.port;
	dir = makeTempDir('moat-attack-secrets-');
	audit = path.join(dir, 'audit.jsonl');
	cfg = writeConfig(dir, {
		log: { level: 'debug', audit_file: audit },
		http: {
			fetch: { allow_addresses: ['127.0.0.2'], ports: [P], timeout_ms: 800 },
			apis: {
				crm: {
					base_url: `http://127.0.0.2:${P}/api`,
					allow_http: true,
					allow_addresses: ['127.0.0.2'],
					headers: { Authorization: 'Bearer ${MOAT_LEAK_KEY}', 'X-Key': 'k=${MOAT_LEAK_KEY}' },
					timeout_ms: 800,
					retries: { max: 0 },
					cache: false,
					tools: [
						{
							name: 'contact',
							description: 'a contact',
							method: 'GET',
							path: '/contact/{id}',
							query: { q: '{q}' },
							select: ['/id', '/name'],
							input_schema: obj({ id: { type: 'string' }, q: { type: 'string' } }, ['id']),
						},
						{
							name: 'shape',
							description: 'a contact that does not match its schema',
							method: 'GET',
							path: '/shape/{id}',
							select: ['/id'],
							output_schema: obj({ id: { type: 'integer' } }, ['id']),
							input_schema: obj({ id: { type: 'string' } }, ['id']),
						},
						{ name: 'auth', description: '401', method: 'GET', path: '/auth', query: { q: '{q}' }, input_schema: obj({ q: { type: 'string' } }) },
						{ name: 'missing', description: '404', method: 'GET', path: '/missing', query: { q: '{q}' }, input_schema: obj({ q: { type: 'string' } }) },
						{ name: 'hang', description: 'never answers', method: 'GET', path: '/hang', query: { q: '{q}' }, input_schema: obj({ q: { type: 'string' } }) },
						{ name: 'jump', description: 'redirects inside', method: 'GET', path: '/jump' },
					],
				},
			},
		},
	});
	s = new RawSession(cfg, { env: { MOAT_LEAK_KEY: SECRETS.key } });
	await s.initialize();
});

after(async () => {
	s?.kill();
	await up?.close();
	await internal?.close();
});

/** Run moat with args without blocking the event loop (the upstreams live
 * in this process); returns { code, stdout, stderr }. */
async function runMoat(args, env) {
	const p = spawn(MOAT_BIN, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
	let stdout = '';
	let stderr = '';
	p.stdout.on('data', (c) => (stdout += c));
	p.stderr.on('data', (c) => (stderr += c));
	const code = await withTimeout(new Promise((r) => p.on('close', r)), 15000, `moat ${args[0]}`);
	assertNoSanitizerReport(stderr);
	return { code, stdout, stderr };
}

async function call(name, args) {
	const r = await s.callTool(name, args, { timeoutMs: 10000 });
	seen.push(r);
	return r;
}

describe('secrets and canaries stay out of logs, audit and errors', () => {
	test('every failure path of the http family', async () => {
		const ok = await call('contact', { id: '1', q: SECRETS.arg });
		assert.notEqual(ok.isError, true, resultText(ok));
		assert.deepEqual(JSON.parse(resultText(ok)), { id: 1, name: 'N' });
		const errors = [
			await call('auth', { q: SECRETS.arg }),
			await call('missing', { q: SECRETS.arg }),
			await call('hang', { q: SECRETS.arg }),
			await call('shape', { id: SECRETS.arg }),
			await call('jump', {}),
			await call('contact', { id: `${SECRETS.arg}\r\nX-Evil: 1` }),
			await call('contact', { id: '1', q: `${SECRETS.arg}\n` }),
			await call('contact', { id: `../${SECRETS.arg}` }),
			await call('fetch', { url: `http://127.0.0.2:${P}/page?token=${SECRETS.query}` }),
			await call('fetch', { url: `http://127.0.0.2:${P}/slow?token=${SECRETS.query}` }),
			await call('fetch', { url: `http://127.0.0.1:${P}/?token=${SECRETS.query}` }),
			await call('fetch', { url: `http://user:${SECRETS.userinfo}@127.0.0.2:${P}/page` }),
			await call('fetch', { url: `http://${SECRETS.userinfo}@127.0.0.1:${P}/` }),
			await call('fetch', { url: `http://127.0.0.2:${P}/page#${SECRETS.query}` }),
		];
		for (const r of errors) assert.equal(r.isError, true, `expected an error: ${JSON.stringify(r).slice(0, 200)}`);
		assert.match(resultText(errors[0]), /rejected the credentials/);
		assert.match(resultText(errors[1]), /HTTP 404/);
		assert.match(resultText(errors[2]), /timeout/i);
		assert.match(resultText(errors[3]), /output schema/);
		assert.match(resultText(errors[4]), /refused/);
		// the upstream did get the key and the argument canary (so these checks can fail)
		const auth = up.hits((r) => r.path === '/api/auth')[0];
		assert.equal(auth.headers.authorization, `Bearer ${SECRETS.key}`);
		assert.ok(auth.url.includes(SECRETS.arg));
		assert.equal(internal.requests.length, 0, 'the internal service was reached');
	});

	test('stderr (debug), the audit file and every response are clean', async () => {
		await s.assertAlive();
		const { stderr } = await s.close(8000);
		const auditText = fs.readFileSync(audit, 'utf8');
		assert.ok(/http: api crm: GET -> HTTP 401/.test(stderr), 'stderr has the debug lines');
		const lines = auditText.trim().split('\n');
		assert.equal(lines.length, seen.length, 'one audit line per call');
		assert.ok(lines.every((l) => JSON.parse(l).tool), 'audit lines are JSON records');
		for (const [where, text] of Object.entries({ stderr, audit: auditText, responses: allText(seen) })) {
			for (const [what, secret] of Object.entries(SECRETS)) {
				assert.ok(!text.includes(secret), `the ${what} secret is in ${where}:\n${text.slice(0, 2000)}`);
			}
		}
	});

	test('moat check and moat call print no secret either', async () => {
		const env = { ...process.env, MOAT_LEAK_KEY: SECRETS.key };
		const check = await runMoat(['check', '--config', cfg], env);
		assert.equal(check.code, 0, check.stderr);
		assert.match(check.stdout, /secrets from \$\{NAME\} references: 1/);
		const calls = [
			await runMoat(['call', 'auth', `q=${SECRETS.arg}`, '--config', cfg], env),
			await runMoat(['call', 'contact', 'id=1', `q=${SECRETS.arg}`, '--config', cfg, '--log-level', 'debug'], env),
		];
		assert.equal(calls[0].code, 1, 'the 401 is a tool error');
		assert.match(calls[0].stdout + calls[0].stderr, /rejected the credentials/);
		assert.equal(calls[1].code, 0, calls[1].stderr);
		for (const r of [check, ...calls]) {
			const text = r.stdout + r.stderr;
			for (const [what, secret] of Object.entries(SECRETS)) {
				if (what === 'arg') continue; // given on the command line by us
				assert.ok(!text.includes(secret), `the ${what} secret is in moat's output:\n${text}`);
			}
		}
	});
});
