// http_fixture.mjs - a moat HTTP listener for the attack tests, and raw
// requests to it.
//
// startListener() spawns `moat serve --config F --http 127.0.0.1:0` (an
// ephemeral port; moat prints the address it bound on stderr) and waits
// until it listens. request() sends one HTTP request with node:http(s),
// with every header exactly as given (Host included: setHost is off), and
// resolves with {status, headers, body}. raw() writes bytes to a fresh TCP
// connection and returns what came back before the server closed it or the
// timeout passed: for requests no well-behaved client would send
// (smuggling shapes, broken headers). initialize() opens an MCP session.
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { STATE_HOME, assertNoSanitizerReport, spawnListener, withTimeout } from '../e2e/helpers.mjs';

export const ACCEPT_BOTH = 'application/json, text/event-stream';

/** The headers every moat response carries (issue 12, item 3). */
export const SECURITY_HEADERS = {
	'x-content-type-options': 'nosniff',
	'cache-control': 'no-store',
	'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
	'referrer-policy': 'no-referrer',
};

/**
 * Start moat on an ephemeral loopback port. opts: { args (replace the
 * --http flag and address), env, addr ('127.0.0.1:0') }. Resolves with
 * { port, host, base, proc, stderr(), stop() }; stop() sends SIGTERM and
 * resolves with the exit code, asserting no sanitizer report.
 */
export async function startListener(configPath, opts = {}) {
	const args = ['serve', '--config', configPath, ...(opts.args ?? ['--http', opts.addr ?? '127.0.0.1:0'])];
	const l = await spawnListener(args, { ...process.env, XDG_STATE_HOME: STATE_HOME, ...(opts.env ?? {}) });
	const { proc, exited } = l;
	const hostport = l.hostport;
	const port = Number(hostport.slice(hostport.lastIndexOf(':') + 1));
	return {
		port,
		host: hostport,
		tls: l.scheme === 'https',
		base: `${l.scheme}://${hostport}`,
		proc,
		exited,
		stdout: l.stdout,
		stderr: l.stderr,
		async stop() {
			if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
			const e = await withTimeout(exited, 8000, 'moat to exit on SIGTERM');
			assertNoSanitizerReport(l.stderr());
			return e;
		},
	};
}

/**
 * One request. o: { port, method='POST', path='/mcp', headers, body (string,
 * Buffer or object sent as JSON), tls, ca, timeoutMs }. Host defaults to
 * 127.0.0.1:port unless headers set it (set it to null to send none).
 */
export function request(o) {
	const headers = { ...(o.headers ?? {}) };
	const hostKey = Object.keys(headers).find((k) => k.toLowerCase() === 'host');
	if (!hostKey) headers.Host = `127.0.0.1:${o.port}`;
	else if (headers[hostKey] === null) delete headers[hostKey];
	let body = o.body;
	if (body !== undefined && typeof body !== 'string' && !Buffer.isBuffer(body)) body = JSON.stringify(body);
	const mod = o.tls ? https : http;
	return withTimeout(
		new Promise((resolve, reject) => {
			const req = mod.request(
				{
					host: '127.0.0.1',
					port: o.port,
					method: o.method ?? 'POST',
					path: o.path ?? '/mcp',
					headers,
					setHost: false,
					ca: o.ca,
					agent: false,
				},
				(res) => {
					const chunks = [];
					res.on('data', (c) => chunks.push(c));
					res.on('end', () =>
						resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
					);
					res.on('error', reject);
				},
			);
			req.on('error', reject);
			if (body !== undefined) req.end(body);
			else req.end();
		}),
		o.timeoutMs ?? 8000,
		`${o.method ?? 'POST'} ${o.path ?? '/mcp'}`,
	);
}

/** A JSON-RPC POST with the headers a good client sends, plus extra. */
export function post(port, msg, extra = {}, o = {}) {
	return request({
		port,
		body: msg,
		headers: { 'Content-Type': 'application/json', Accept: ACCEPT_BOTH, ...extra },
		...o,
	});
}

export const INIT = (id = 1, version = '2025-11-25') => ({
	jsonrpc: '2.0',
	id,
	method: 'initialize',
	params: { protocolVersion: version, capabilities: {}, clientInfo: { name: 'attack', version: '1' } },
});

/** Parse a response body: JSON, or the data of the SSE event that holds the response. */
export function messageOf(res) {
	if ((res.headers['content-type'] ?? '').startsWith('text/event-stream')) {
		const datas = res.body
			.split(/\n\n/)
			.map((ev) => ev.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trim()).join('\n'))
			.filter(Boolean)
			.map((d) => JSON.parse(d));
		return datas.find((m) => Array.isArray(m) || 'result' in m || 'error' in m) ?? datas.at(-1);
	}
	return res.body ? JSON.parse(res.body) : null;
}

/** Open a session (initialize + initialized); returns { sid, version, headers }. */
export async function initialize(port, extra = {}, version = '2025-11-25', o = {}) {
	const r = await post(port, INIT(1, version), extra, o);
	assert.equal(r.status, 200, `initialize: ${r.status} ${r.body}`);
	const sid = r.headers['mcp-session-id'];
	assert.ok(sid, 'initialize answers with Mcp-Session-Id');
	const h = { ...extra, 'Mcp-Session-Id': sid, 'MCP-Protocol-Version': version };
	const n = await post(port, { jsonrpc: '2.0', method: 'notifications/initialized' }, h, o);
	assert.equal(n.status, 202, `initialized: ${n.status} ${n.body}`);
	return { sid, version, headers: h };
}

/** Call a tool in a session; resolves with the parsed JSON-RPC response. */
export async function callTool(port, headers, name, args = {}, id = 2, o = {}) {
	const r = await post(port, { jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } }, headers, o);
	assert.equal(r.status, 200, `tools/call ${name}: ${r.status} ${r.body}`);
	return messageOf(r);
}

/**
 * Write bytes on a new connection; resolve with everything read until the
 * server closes it or timeoutMs passes ({ text, closed }).
 */
export function raw(port, bytes, timeoutMs = 3000) {
	return new Promise((resolve) => {
		const s = net.connect(port, '127.0.0.1');
		const chunks = [];
		let done = false;
		const finish = (closed) => {
			if (done) return;
			done = true;
			clearTimeout(t);
			s.destroy();
			resolve({ text: Buffer.concat(chunks).toString('latin1'), closed });
		};
		const t = setTimeout(() => finish(false), timeoutMs);
		s.on('data', (c) => chunks.push(c));
		s.on('end', () => finish(true));
		s.on('close', () => finish(true));
		s.on('error', () => finish(true));
		s.write(bytes);
	});
}

/** The status codes of every response in a raw reply, in order. */
export function statuses(text) {
	return [...text.matchAll(/^HTTP\/1\.[01] (\d{3})/gm)].map((m) => Number(m[1]));
}

/** Assert the security headers on a response (node:http lower-cases names). */
export function assertSecurityHeaders(res, { tls = false } = {}) {
	for (const [k, v] of Object.entries(SECURITY_HEADERS)) {
		assert.equal(res.headers[k], v, `${k} on a ${res.status}`);
	}
	if (tls) assert.match(res.headers['strict-transport-security'] ?? '', /max-age=\d+/);
	else assert.equal(res.headers['strict-transport-security'], undefined);
}
