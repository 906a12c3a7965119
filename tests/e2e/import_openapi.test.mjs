// import_openapi.test.mjs - `moat import openapi` end to end: the demo
// CRM's description (examples/crm.openapi.yaml) imported for a recording
// upstream this file starts on a free loopback port, the section merged
// into a config with --into, served by `moat serve --config`, and driven
// by the official SDK clients:
//   - a GET with path, query and header parameters (crm_list_notes);
//   - a binary attachment (crm_get_contact_card: the PNG comes back as an
//     embedded resource whose base64 is the upstream's bytes);
//   - a write imported with --allow-writes (crm_add_note, "confirm": true):
//     declined, the upstream sees nothing; accepted, it sees the POST once;
//     in the initialize era (1.x client) and in 2026-07-28 (2.x client);
// then the upstream's log is compared with exactly the requests expected:
// the API key from the environment in X-Demo-Key on each, no other
// credential, no MCP bearer token (a listener with a token of its own
// serves one of the runs). Also: without --allow-writes no write tool
// exists; the grouped import (crm_operations, crm_operation_schema,
// crm_call) works end to end and refuses bad arguments before sending.
//
// Over MOAT_E2E_TRANSPORT=http the client tests run over the listener too.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
	STATE_HOME,
	assertToolError,
	connectClient,
	connectClient2,
	makeTempDir,
	resultText,
	runMoat,
	spawnListener,
	withTimeout,
	writeConfig,
} from './helpers.mjs';
import { PNG, send, startUpstream } from './http_upstream.mjs';

const SPEC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../examples/crm.openapi.yaml');
const KEY = `crm-key-${crypto.randomBytes(8).toString('hex')}`;
const MCP_TOKEN = crypto.randomBytes(32).toString('hex');
const ENV = { CRM_API_KEY: KEY };

const CONTACTS = {
	7: { id: 7, name: 'Ada Lovelace', company: 'Analytical Engines', email: 'ada@private.example' },
	8: { id: 8, name: 'Grace Hopper', company: 'COBOL Works', email: 'grace@private.example' },
};

// The headers an upstream request may carry: what curl sends, the API's
// key, the imported header parameter, and the body's type and length.
const ALLOWED_HEADERS = new Set([
	'host',
	'user-agent',
	'accept',
	'accept-encoding',
	'x-demo-key',
	'x-request-id',
	'content-type',
	'content-length',
]);

let up;
function routes() {
	const notes = [];
	return {
		'GET /contacts': (req, res, rec) => {
			const q = new URLSearchParams(rec.query).get('q') ?? '';
			const data = Object.values(CONTACTS).filter((c) => c.name.toLowerCase().includes(q.toLowerCase()));
			send(res, 200, { data, total: data.length });
		},
		'GET /contacts/*': (req, res, rec) => {
			const [, , id, sub] = rec.path.split('/');
			if (!CONTACTS[id]) return send(res, 404, { error: 'no such contact' });
			if (sub === 'card') return send(res, 200, PNG, { 'content-type': 'image/png' });
			if (sub === 'notes') {
				const data = notes.filter((n) => n.contact === Number(id));
				return send(res, 200, { data, total: data.length });
			}
			send(res, 200, CONTACTS[id]);
		},
		'POST /contacts/*': (req, res, rec) => {
			const note = { ...JSON.parse(rec.body || '{}'), id: notes.length + 1, contact: Number(rec.path.split('/')[2]) };
			notes.push(note);
			send(res, 201, note);
		},
		'DELETE /contacts/*': (req, res) => {
			res.writeHead(204);
			res.end();
		},
	};
}

/** `moat import openapi SPEC --name crm ...args` in dir; asserts exit 0. */
function importOk(dir, args) {
	const r = runMoat(['import', 'openapi', SPEC, '--name', 'crm', '--base-url', up.origin, '--allow-address', '127.0.0.1', ...args], {
		cwd: dir,
	});
	assert.equal(r.code, 0, `import failed:\n${r.stderr}`);
	return r;
}

/** A config holding only the log level, the section merged in with --into. */
function importedConfig(args, extra = {}) {
	const dir = makeTempDir('moat-import-e2e-');
	const cfg = writeConfig(dir, { log: { level: 'warning' }, ...extra });
	importOk(dir, ['--into', cfg, ...args]);
	const doc = JSON.parse(fs.readFileSync(cfg, 'utf8'));
	assert.deepEqual(fs.readdirSync(dir).sort(), ['moat.json'], 'nothing but the config was written');
	return { dir, cfg, api: doc.http.apis.crm, doc };
}

/** Every upstream request, checked for credentials: the key from the
 * environment in X-Demo-Key and nowhere else, no header outside
 * ALLOWED_HEADERS, no MCP token anywhere. */
function assertCleanRequests(reqs) {
	for (const r of reqs) {
		const where = `${r.method} ${r.url}`;
		assert.equal(r.headers['x-demo-key'], KEY, `${where}: the API key from the environment`);
		for (const h of Object.keys(r.headers)) assert.ok(ALLOWED_HEADERS.has(h), `${where}: unexpected header ${h}`);
		const all = JSON.stringify(r.rawHeaders) + r.url + r.body;
		assert.ok(!all.includes(MCP_TOKEN), `${where}: the MCP bearer token reached the upstream`);
		assert.equal(all.split(KEY).length - 1, 1, `${where}: the key appears once, in X-Demo-Key`);
	}
}

/** The elicitation answer: accept with every boolean checked, or decline. */
const answer = (accept) => (req) => {
	if (!accept) return { action: 'decline' };
	const props = (req.params ?? req).requestedSchema?.properties ?? {};
	const content = {};
	for (const [k, v] of Object.entries(props)) if (v.type === 'boolean') content[k] = true;
	return { action: 'accept', content };
};

before(async () => {
	up = await startUpstream({ routes: routes() });
});
after(async () => {
	await up?.close();
});

describe('import openapi: the generated section', () => {
	test('read-only by default: four GET tools, writes named as skipped, the key as a placeholder', () => {
		const { api } = importedConfig([]);
		assert.equal(api.base_url, up.origin);
		assert.deepEqual(api.allow_addresses, ['127.0.0.1']);
		assert.deepEqual(api.headers, { 'X-Demo-Key': '${CRM_API_KEY}' });
		const names = api.tools.map((t) => t.name).sort();
		assert.deepEqual(names, ['crm_get_contact', 'crm_get_contact_card', 'crm_list_notes', 'crm_search_contacts']);
		for (const t of api.tools) {
			assert.equal(t.method, 'GET', t.name);
			assert.deepEqual(t.annotations, { readOnlyHint: true, openWorldHint: true }, t.name);
			assert.equal(t.confirm, undefined, t.name);
		}
		const comments = [api.$comment].flat().join('\n');
		assert.match(comments, /CRM_API_KEY/);
		assert.match(comments, /X-Demo-Key/);
		assert.match(comments, /--allow-writes/);
		assert.ok(!JSON.stringify(api).includes(KEY));
	});

	test('the same spec gives byte-identical output; check accepts it and names the variable', () => {
		const dir = makeTempDir('moat-import-e2e-');
		const a = importOk(dir, ['--allow-writes']).stdout;
		const b = importOk(dir, ['--allow-writes']).stdout;
		assert.ok(a.length > 100);
		assert.equal(a, b);
		const { cfg } = importedConfig(['--allow-writes']);
		const r = runMoat(['check', '--config', cfg], { env: { ...process.env, ...ENV } });
		assert.equal(r.code, 0, r.stderr);
		assert.match(r.stdout, /CRM_API_KEY/);
		assert.match(r.stdout, /crm_add_note/);
		assert.ok(!r.stdout.includes(KEY) && !r.stderr.includes(KEY), 'check never prints the key');
	});
});

describe('import openapi: three imported tools against the upstream', () => {
	let cfg;
	before(() => {
		cfg = importedConfig(['--allow-writes']).cfg;
	});

	test('a GET with path, query and header parameters; a PNG attachment; a confirmed write (1.x client)', async () => {
		up.reset();
		const c = await connectClient(cfg, { env: ENV, capabilities: { elicitation: {} } });
		let asks = 0;
		let accept = false;
		c.client.setRequestHandler(ElicitRequestSchema, (req) => (asks++, answer(accept)(req)));
		try {
			const { tools } = await c.client.listTools();
			const byName = Object.fromEntries(tools.map((t) => [t.name, t]));
			assert.deepEqual(Object.keys(byName).sort(), [
				'crm_add_note',
				'crm_delete_note',
				'crm_get_contact',
				'crm_get_contact_card',
				'crm_list_notes',
				'crm_search_contacts',
			]);
			assert.equal(byName.crm_add_note.annotations.readOnlyHint, false);
			assert.equal(byName.crm_delete_note.annotations.destructiveHint, true);
			assert.deepEqual(byName.crm_list_notes.inputSchema.required, ['id']);

			// 1. path + query + header parameters
			let r = await c.client.callTool({ name: 'crm_list_notes', arguments: { id: 7, limit: 5, x_request_id: 'req-42' } });
			assert.notEqual(r.isError, true, JSON.stringify(r));
			assert.deepEqual(JSON.parse(resultText(r)), { data: [], total: 0 });

			// 2. the binary attachment
			r = await c.client.callTool({ name: 'crm_get_contact_card', arguments: { id: 8 } });
			assert.notEqual(r.isError, true, JSON.stringify(r));
			const block = r.content.find((b) => b.type === 'resource');
			assert.ok(block, JSON.stringify(r));
			assert.equal(block.resource.mimeType, 'image/png');
			assert.equal(block.resource.blob, PNG.toString('base64'));

			// 3. the write: declined, nothing sent; accepted, sent once
			const note = { id: 7, body: { text: 'Met at the conference', pinned: true } };
			r = await c.client.callTool({ name: 'crm_add_note', arguments: note });
			assertToolError(r, /did not allow/);
			assert.equal(asks, 1);
			assert.equal(up.hits((q) => q.method === 'POST').length, 0, 'declined: the upstream saw nothing');
			accept = true;
			r = await c.client.callTool({ name: 'crm_add_note', arguments: note });
			assert.notEqual(r.isError, true, JSON.stringify(r));
			assert.equal(asks, 2);
			assert.deepEqual(JSON.parse(resultText(r)), { text: 'Met at the conference', pinned: true, id: 1, contact: 7 });
		} finally {
			await c.close();
		}

		const seen = up.requests.map((q) => ({ method: q.method, path: q.path, query: q.query, body: q.body }));
		assert.deepEqual(seen, [
			{ method: 'GET', path: '/contacts/7/notes', query: '?limit=5', body: '' },
			{ method: 'GET', path: '/contacts/8/card', query: '', body: '' },
			{ method: 'POST', path: '/contacts/7/notes', query: '', body: seen[2]?.body },
		]);
		assert.deepEqual(JSON.parse(seen[2].body), { text: 'Met at the conference', pinned: true });
		assert.equal(up.requests[0].headers['x-request-id'], 'req-42');
		assert.equal(up.requests[1].headers['x-request-id'], undefined, 'an absent argument drops the header');
		assert.match(up.requests[2].headers['content-type'], /^application\/json/);
		assertCleanRequests(up.requests);
	});

	test('2026-07-28 (2.x client): declined sends nothing, accepted sends the POST once', async () => {
		up.reset();
		for (const accept of [false, true]) {
			let asks = 0;
			const c = await connectClient2(cfg, {
				env: ENV,
				capabilities: { elicitation: { form: {} } },
				beforeConnect: (cl) => cl.setRequestHandler('elicitation/create', (req) => (asks++, answer(accept)(req))),
			});
			try {
				const r = await c.client
					.callTool({ name: 'crm_add_note', arguments: { id: 8, body: { text: `era 2026 ${accept}` } } })
					.catch((e) => ({ rejected: e }));
				assert.equal(asks, 1);
				if (accept) assert.notEqual(r.isError, true, JSON.stringify(r));
				else assert.ok(r.rejected || r.isError, JSON.stringify(r));
			} finally {
				await c.close();
			}
		}
		assert.deepEqual(
			up.requests.map((q) => [q.method, q.path, q.body && JSON.parse(q.body)]),
			[['POST', '/contacts/8/notes', { text: 'era 2026 true' }]],
		);
		assertCleanRequests(up.requests);
	});

	test('bad arguments are refused before anything is sent', async () => {
		up.reset();
		const c = await connectClient(cfg, { env: ENV });
		try {
			for (const [name, args] of [
				['crm_list_notes', { id: 'seven' }],
				['crm_list_notes', { id: 7, limit: 500 }],
				['crm_list_notes', { id: 7, x_request_id: 'a\r\nX-Evil: 1' }],
				['crm_get_contact', {}],
				['crm_get_contact', { id: 7, extra: 1 }],
			]) {
				const r = await c.client.callTool({ name, arguments: args });
				assert.equal(r.isError, true, `${name} ${JSON.stringify(args)}: ${JSON.stringify(r)}`);
			}
		} finally {
			await c.close();
		}
		assert.deepEqual(up.requests, []);
	});

	test('over an HTTP listener with its own bearer token: the token never reaches the upstream', async () => {
		up.reset();
		const dir = makeTempDir('moat-import-e2e-');
		const authed = writeConfig(dir, {
			...JSON.parse(fs.readFileSync(cfg, 'utf8')),
			auth: { tokens: [{ name: 'e2e', token: '${MOAT_E2E_TOKEN}', tools: ['*'] }] },
		});
		const l = await spawnListener(['serve', '--config', authed, '--http', '127.0.0.1:0'], {
			...process.env,
			XDG_STATE_HOME: STATE_HOME,
			MOAT_E2E_TOKEN: MCP_TOKEN,
			...ENV,
		});
		try {
			const transport = new StreamableHTTPClientTransport(new URL(l.url), {
				requestInit: { headers: { Authorization: `Bearer ${MCP_TOKEN}` } },
			});
			const client = new Client({ name: 'moat-e2e', version: '0.0.1' }, { capabilities: {} });
			await withTimeout(client.connect(transport), 5000, 'the client to connect');
			const r = await client.callTool({ name: 'crm_search_contacts', arguments: { q: 'ada', limit: 1 } });
			assert.notEqual(r.isError, true, JSON.stringify(r));
			assert.equal(JSON.parse(resultText(r)).data[0].name, 'Ada Lovelace');
			await transport.terminateSession().catch(() => {});
			await client.close();
		} finally {
			l.proc.kill('SIGTERM');
			await withTimeout(l.exited, 8000, 'moat to exit');
		}
		assert.deepEqual(
			up.requests.map((q) => [q.method, q.path, new URLSearchParams(q.query).toString()]),
			[['GET', '/contacts', 'q=ada&limit=1']],
		);
		assertCleanRequests(up.requests);
		assert.ok(!l.stderr().includes(KEY) && !l.stderr().includes(MCP_TOKEN), 'no secret on stderr');
	});
});

describe('import openapi: grouped', () => {
	test('crm_operations, crm_operation_schema, crm_call end to end; writes only through crm_call_write', async () => {
		const { cfg, api } = importedConfig(['--grouped']);
		assert.equal(api.tools, undefined);
		assert.equal(api.operations.length, 4, 'the four reads');
		up.reset();
		const c = await connectClient(cfg, { env: ENV });
		try {
			const { tools } = await c.client.listTools();
			assert.deepEqual(tools.map((t) => t.name).sort(), ['crm_call', 'crm_operation_schema', 'crm_operations']);

			// search: every operation is named; a query narrows it
			let r = await c.client.callTool({ name: 'crm_operations', arguments: {} });
			assert.notEqual(r.isError, true, JSON.stringify(r));
			const all = resultText(r);
			const opName = /"?([a-z0-9_]*get_contact)"?/.exec(all.replace(/get_contact_card/g, ''))?.[1];
			assert.ok(opName, `no get_contact operation in ${all}`);
			for (const t of api.operations) assert.ok(all.includes(t.name), `${t.name} listed`);
			r = await c.client.callTool({ name: 'crm_operations', arguments: { query: 'card' } });
			assert.match(resultText(r), /card/);
			assert.ok(!resultText(r).includes('search_contacts'), 'a query narrows the list');

			// the schema of one operation
			r = await c.client.callTool({ name: 'crm_operation_schema', arguments: { operation: opName } });
			assert.notEqual(r.isError, true, JSON.stringify(r));
			assert.match(resultText(r), /"id"/);

			// a call: bad arguments refused before sending, good ones sent
			r = await c.client.callTool({ name: 'crm_call', arguments: { operation: opName, arguments: { id: 'x' } } });
			assert.equal(r.isError, true, JSON.stringify(r));
			r = await c.client.callTool({ name: 'crm_call', arguments: { operation: 'crm_no_such', arguments: {} } });
			assert.equal(r.isError, true, JSON.stringify(r));
			assert.equal(up.requests.length, 0, 'nothing sent for refused calls');
			r = await c.client.callTool({ name: 'crm_call', arguments: { operation: opName, arguments: { id: 8 } } });
			assert.notEqual(r.isError, true, JSON.stringify(r));
			assert.equal(JSON.parse(resultText(r)).name, 'Grace Hopper');
		} finally {
			await c.close();
		}
		assert.deepEqual(
			up.requests.map((q) => [q.method, q.url]),
			[['GET', '/contacts/8']],
		);
		assertCleanRequests(up.requests);
	});

	test('grouped with --allow-writes: crm_call_write asks first; crm_call refuses a write', async () => {
		const { cfg, api } = importedConfig(['--grouped', '--allow-writes']);
		assert.equal(api.operations.length, 6);
		const write = api.operations.find((o) => o.method === 'POST');
		assert.equal(write.confirm, true);
		up.reset();
		let accept = false;
		const c = await connectClient(cfg, { env: ENV, capabilities: { elicitation: {} } });
		c.client.setRequestHandler(ElicitRequestSchema, (req) => answer(accept)(req));
		try {
			const { tools } = await c.client.listTools();
			const byName = Object.fromEntries(tools.map((t) => [t.name, t]));
			assert.deepEqual(Object.keys(byName).sort(), ['crm_call', 'crm_call_write', 'crm_operation_schema', 'crm_operations']);
			assert.equal(byName.crm_call_write.annotations.destructiveHint, true);
			const args = { operation: write.name, arguments: { id: 7, body: { text: 'grouped' } } };
			let r = await c.client.callTool({ name: 'crm_call', arguments: args });
			assert.equal(r.isError, true, 'crm_call serves reads only');
			r = await c.client.callTool({ name: 'crm_call_write', arguments: args });
			assertToolError(r, /did not allow/);
			assert.equal(up.requests.length, 0);
			accept = true;
			r = await c.client.callTool({ name: 'crm_call_write', arguments: args });
			assert.notEqual(r.isError, true, JSON.stringify(r));
		} finally {
			await c.close();
		}
		assert.deepEqual(
			up.requests.map((q) => [q.method, q.path, JSON.parse(q.body)]),
			[['POST', '/contacts/7/notes', { text: 'grouped' }]],
		);
		assertCleanRequests(up.requests);
	});
});
