// helpers.mjs - shared helpers for moat's end-to-end tests.
//
// MOAT_BIN (required) names the moat binary under test:
//   MOAT_BIN=/path/to/moat node --test tests/e2e/
//
// Three ways to talk to a server:
//   connectClient()  the official SDK 1.x Client (the initialize era) over
//                    StdioClientTransport, or, with MOAT_E2E_TRANSPORT=http,
//                    over StreamableHTTPClientTransport to `moat serve --http
//                    127.0.0.1:0` (the same tests, the other transport);
//   connectClient2() the official 2.x Client (@modelcontextprotocol/client),
//                    pinned to 2026-07-28 (per-request _meta, no initialize,
//                    no session), over the same two transports;
//   RawSession       raw newline-delimited stdio, for malformed input, batches,
//                    old protocol revisions and requests before initialize.
// Both collect stderr so tests can assert on it, and both check at close that
// stdout carried JSON-RPC 2.0 messages only.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport, getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Client as Client2, StreamableHTTPClientTransport as StreamableHTTPClientTransport2 } from '@modelcontextprotocol/client';
import { StdioClientTransport as StdioClientTransport2 } from '@modelcontextprotocol/client/stdio';

// ---- the binary ----------------------------------------------------------

function resolveBin() {
	const bin = process.env.MOAT_BIN;
	if (!bin) {
		throw new Error('MOAT_BIN is not set: run as MOAT_BIN=/path/to/moat node --test tests/e2e/');
	}
	const abs = path.resolve(bin);
	try {
		fs.accessSync(abs, fs.constants.X_OK);
	} catch {
		throw new Error(`MOAT_BIN=${bin} is not an executable file`);
	}
	return abs;
}

export const MOAT_BIN = resolveBin();

/** The transport connectClient() uses: 'stdio' (default) or 'http'. */
export const TRANSPORT = process.env.MOAT_E2E_TRANSPORT === 'http' ? 'http' : 'stdio';

export const SUPPORTED_VERSIONS = ['2024-11-05', '2025-03-26', '2025-06-18', '2025-11-25'];
export const LATEST_VERSION = '2025-11-25';
/** The stateless revision: named in every request's _meta, never initialized. */
export const STATELESS_VERSION = '2026-07-28';
export const TEST_TOOLS = ['echo', 'add', 'slow', 'stall', 'fail', 'big', 'bad_output'];

// ASan/UBSan builds start and run slower; scale waits a little for them.
export const DEFAULT_WAIT_MS = 5000;

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- temp dirs and configs ----------------------------------------------

const tempDirs = [];
process.on('exit', () => {
	for (const d of tempDirs) {
		try {
			fs.rmSync(d, { recursive: true, force: true });
		} catch {
			/* best effort */
		}
	}
});

/** A fresh temp dir, removed when the test process exits. */
export function makeTempDir(prefix = 'moat-e2e-') {
	const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
	tempDirs.push(d);
	return d;
}

// The audit trail is on by default, under $XDG_STATE_HOME/moat/: every moat
// a test spawns writes there, never into the real home. Tests that read the
// trail set "audit": {"file": ...} or their own XDG_STATE_HOME.
// MOAT_E2E_STATE_HOME=DIR keeps the run's trail there (`moat audit summary`).
export const STATE_HOME = process.env.MOAT_E2E_STATE_HOME || makeTempDir('moat-e2e-state-');
process.env.XDG_STATE_HOME = STATE_HOME;

/** Write obj (or a raw string) as a config file in dir; returns its path. */
export function writeConfig(dir, obj, name = 'moat.json') {
	const p = path.join(dir, name);
	fs.writeFileSync(p, typeof obj === 'string' ? obj : JSON.stringify(obj, null, 2));
	return p;
}

/** Config with the test-only tools enabled, plus extra top-level sections. */
export function testingConfig(extra = {}) {
	return { testing: { enabled: true }, ...extra };
}

/** Write a testing config into a new temp dir; returns its path. */
export function newConfig(extra = {}, prefix) {
	return writeConfig(makeTempDir(prefix), testingConfig(extra));
}

// ---- JSON-RPC shape checks ------------------------------------------------

function isId(v) {
	return typeof v === 'string' || (typeof v === 'number' && Number.isInteger(v));
}

/** Throws unless msg is one JSON-RPC 2.0 request, notification or response. */
export function assertJsonRpcMessage(msg, where = '') {
	assert.ok(msg && typeof msg === 'object' && !Array.isArray(msg), `${where}: not an object`);
	assert.equal(msg.jsonrpc, '2.0', `${where}: jsonrpc must be "2.0"`);
	if ('method' in msg) {
		assert.equal(typeof msg.method, 'string', `${where}: method must be a string`);
		if ('id' in msg) assert.ok(isId(msg.id), `${where}: bad request id`);
		if ('params' in msg) assert.equal(typeof msg.params, 'object', `${where}: bad params`);
		return;
	}
	assert.ok('id' in msg, `${where}: a response needs an id`);
	assert.ok(msg.id === null || isId(msg.id), `${where}: bad response id`);
	assert.ok(('result' in msg) !== ('error' in msg), `${where}: exactly one of result/error`);
	if ('error' in msg) {
		assert.ok(Number.isInteger(msg.error.code), `${where}: error.code must be an integer`);
		assert.equal(typeof msg.error.message, 'string', `${where}: error.message must be a string`);
	} else {
		assert.ok(msg.result && typeof msg.result === 'object', `${where}: result must be an object`);
	}
}

/** Throws unless every stdout line is a JSON-RPC message or a batch of them. */
export function assertProtocolOnly(lines) {
	lines.forEach((line, i) => {
		const where = `stdout line ${i + 1} ${JSON.stringify(line.slice(0, 200))}`;
		let v;
		try {
			v = JSON.parse(line);
		} catch (e) {
			assert.fail(`${where}: not JSON (${e.message})`);
		}
		if (Array.isArray(v)) {
			assert.ok(v.length > 0, `${where}: empty batch response`);
			v.forEach((m, j) => assertJsonRpcMessage(m, `${where}[${j}]`));
		} else {
			assertJsonRpcMessage(v, where);
		}
	});
}

// ---- raw stdio harness -------------------------------------------------------

/** Races p against a timer; a hung server fails the test instead of hanging it. */
export function withTimeout(p, ms, what) {
	let t;
	const timer = new Promise((_, rej) => {
		t = setTimeout(() => rej(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
	});
	return Promise.race([p, timer]).finally(() => clearTimeout(t));
}

export class RawSession {
	/**
	 * Spawn `moat serve --config configPath` (or custom args) with raw pipes.
	 * opts: { args, env, cwd }
	 */
	constructor(configPath, opts = {}) {
		const args = opts.args ?? ['serve', '--config', configPath];
		this.proc = spawn(MOAT_BIN, args, {
			stdio: ['pipe', 'pipe', 'pipe'],
			env: { ...process.env, ...(opts.env ?? {}) },
			cwd: opts.cwd,
		});
		this.lines = []; // every stdout line, as text
		this.messages = []; // parsed stdout lines (objects or arrays), in order
		this.consumed = new Set(); // indexes of messages handed out already
		this.waiters = [];
		this.stderrText = '';
		this.nextId = 1000;
		this.exitInfo = null;
		this.closed = false;
		this._buf = '';
		this.proc.stdout.setEncoding('utf8');
		this.proc.stdout.on('data', (chunk) => this._onData(chunk));
		this.proc.stderr.setEncoding('utf8');
		this.proc.stderr.on('data', (c) => {
			this.stderrText += c;
		});
		this.proc.stdin.on('error', () => {
			/* EPIPE after the server exits: reported via the exit checks */
		});
		this.exited = new Promise((resolve) => {
			this.proc.on('close', (code, signal) => {
				if (this._buf.length) {
					this.lines.push(this._buf); // unterminated tail still counts
					this._buf = '';
				}
				this.exitInfo = { code, signal, at: Date.now() };
				this._wake();
				resolve(this.exitInfo);
			});
		});
	}

	_onData(chunk) {
		this._buf += chunk;
		let nl;
		while ((nl = this._buf.indexOf('\n')) >= 0) {
			const line = this._buf.slice(0, nl);
			this._buf = this._buf.slice(nl + 1);
			this.lines.push(line);
			let v;
			try {
				v = JSON.parse(line);
			} catch {
				continue; // reported by assertProtocolOnly at close
			}
			this.messages.push(v);
		}
		this._wake();
	}

	_wake() {
		const ws = this.waiters;
		this.waiters = [];
		for (const w of ws) w();
	}

	/** Write a message: an object (JSON-encoded), a string or a Buffer. A newline is added
	 * to objects and strings that lack one; Buffers are written as they are. */
	send(msg) {
		let data;
		if (Buffer.isBuffer(msg)) data = msg;
		else if (typeof msg === 'string') data = msg.endsWith('\n') ? msg : msg + '\n';
		else data = JSON.stringify(msg) + '\n';
		this.proc.stdin.write(data);
	}

	/** Wait for the first not-yet-consumed message matching pred; consume and return it. */
	async waitFor(pred, timeoutMs = DEFAULT_WAIT_MS, what = 'a matching message') {
		const deadline = Date.now() + timeoutMs;
		for (;;) {
			for (let i = 0; i < this.messages.length; i++) {
				if (!this.consumed.has(i) && pred(this.messages[i])) {
					this.consumed.add(i);
					return this.messages[i];
				}
			}
			if (this.exitInfo) {
				throw new Error(
					`server exited (code ${this.exitInfo.code}, signal ${this.exitInfo.signal}) ` +
						`while waiting for ${what}; stderr:\n${this.stderrText}`,
				);
			}
			const left = deadline - Date.now();
			if (left <= 0) {
				throw new Error(
					`timed out after ${timeoutMs} ms waiting for ${what}; stdout so far:\n` +
						this.lines.slice(-10).join('\n'),
				);
			}
			await new Promise((resolve) => {
				const t = setTimeout(resolve, left);
				this.waiters.push(() => {
					clearTimeout(t);
					resolve();
				});
			});
		}
	}

	/** Wait for the (non-batch) response with this id. */
	response(id, timeoutMs) {
		return this.waitFor(
			(m) => !Array.isArray(m) && m.id === id && !('method' in m),
			timeoutMs,
			`the response to id ${JSON.stringify(id)}`,
		);
	}

	/** Wait for the next not-yet-consumed message whatever it is. */
	next(timeoutMs) {
		return this.waitFor(() => true, timeoutMs, 'any message');
	}

	/** Wait for an error response with id null (what malformed input gets). */
	/** The error response carrying id (null: an error no id could be read for). */
	errorFor(id, timeoutMs) {
		return this.waitFor(
			(m) => !Array.isArray(m) && m.id === id && 'error' in m,
			timeoutMs,
			`an error response with id ${JSON.stringify(id)}`,
		);
	}

	nullIdError(timeoutMs) {
		return this.waitFor(
			(m) => !Array.isArray(m) && m.id === null && 'error' in m,
			timeoutMs,
			'an error response with id null',
		);
	}

	/** Assert that no unconsumed message matching pred arrives within ms. */
	async expectNone(pred, ms, what = 'an unexpected message') {
		await sleep(ms);
		const hit = this.messages.find((m, i) => !this.consumed.has(i) && pred(m));
		assert.equal(hit, undefined, `did not expect ${what}, got ${JSON.stringify(hit)}`);
	}

	/** Send a request and return its response. */
	async request(method, params, opts = {}) {
		const id = opts.id ?? this.nextId++;
		const msg = { jsonrpc: '2.0', id, method };
		if (params !== undefined) msg.params = params;
		this.send(msg);
		return this.response(id, opts.timeoutMs);
	}

	notify(method, params) {
		const msg = { jsonrpc: '2.0', method };
		if (params !== undefined) msg.params = params;
		this.send(msg);
	}

	/** Send a request and return its result; fail if it answered with an error. */
	async call(method, params, opts) {
		const r = await this.request(method, params, opts);
		assert.ok('result' in r, `${method} failed: ${JSON.stringify(r.error)}`);
		return r.result;
	}

	/** initialize + notifications/initialized; returns the initialize result. */
	async initialize(protocolVersion = LATEST_VERSION, extra = {}) {
		const result = await this.call('initialize', {
			protocolVersion,
			capabilities: {},
			clientInfo: { name: 'moat-e2e-raw', version: '0.0.1' },
			...extra,
		});
		this.notify('notifications/initialized');
		return result;
	}

	/** A 2026-07-28 request (params._meta from statelessMeta(opts.caps), any
	 * _meta of params' own on top); returns the whole response. */
	stateless(method, params = {}, opts = {}) {
		const meta = { ...statelessMeta(opts.caps ?? {}), ...(params._meta ?? {}) };
		return this.request(method, { ...params, _meta: meta }, opts);
	}

	/** tools/call helper: returns the result object (isError or not). */
	callTool(name, args, opts = {}) {
		const params = { name, arguments: args };
		if (opts.meta) params._meta = opts.meta;
		return this.call('tools/call', params, opts);
	}

	/** Assert the server answers a ping (the session is alive). */
	async assertAlive(timeoutMs) {
		const r = await this.request('ping', undefined, { timeoutMs });
		assert.deepEqual(r.result, {}, `ping failed: ${JSON.stringify(r)}`);
	}

	/** Wait for the process to exit (without closing stdin). */
	async waitExit(timeoutMs = DEFAULT_WAIT_MS) {
		return withTimeout(this.exited, timeoutMs, 'the server to exit');
	}

	/**
	 * End stdin, wait for exit (SIGKILL after timeoutMs), then assert stdout carried
	 * protocol only. Returns { code, signal, stderr }.
	 */
	async close(timeoutMs = DEFAULT_WAIT_MS) {
		if (!this.closed) {
			this.closed = true;
			this.proc.stdin.end();
		}
		let info;
		try {
			info = await withTimeout(this.exited, timeoutMs, 'the server to exit after EOF');
		} catch (e) {
			this.proc.kill('SIGKILL');
			await this.exited;
			throw e;
		}
		assertProtocolOnly(this.lines);
		assertNoSanitizerReport(this.stderrText);
		return { ...info, stderr: this.stderrText };
	}

	/** Kill without checks (for cleanup in finally blocks). */
	kill() {
		if (!this.exitInfo) this.proc.kill('SIGKILL');
	}
}

/** Spawn a raw session and initialize it (unless version is null). */
export async function openRaw(configPath, version = LATEST_VERSION, opts = {}) {
	const s = new RawSession(configPath, opts);
	if (version) await s.initialize(version);
	return s;
}

/** Run fn with a raw session that is always closed (and checked) afterwards. */
export async function withRaw(configPath, version, fn, opts) {
	const s = await openRaw(configPath, version, opts);
	try {
		await fn(s);
	} catch (e) {
		s.kill();
		throw e;
	}
	return s.close();
}

// ---- sanitizer output ----------------------------------------------------

/** ASan/UBSan builds report on stderr; any report fails the test. */
export function assertNoSanitizerReport(stderr) {
	const m = /(ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|ThreadSanitizer)/.exec(stderr);
	assert.equal(m, null, `sanitizer report on stderr:\n${stderr}`);
}

// ---- the SDK client ----------------------------------------------------------

/**
 * Connect the official SDK client to `moat serve --config configPath`.
 * Returns { client, transport, stderr(), errors, close() }. close() asserts that the
 * SDK saw no protocol errors (for instance a response to an unknown or cancelled id,
 * or a stdout line that is not JSON-RPC) and that there is no sanitizer report.
 * opts: { args, env, capabilities, allowErrors: RegExp of SDK errors to tolerate,
 *         transport: 'stdio' | 'http' (default TRANSPORT), url: an HTTP listener
 *         already running (spawnListener) to connect to instead of starting one }
 */
export async function connectClient(configPath, opts = {}) {
	if ((opts.transport ?? (opts.url ? 'http' : TRANSPORT)) === 'http') return connectHttpClient(configPath, opts);
	const transport = new StdioClientTransport({
		command: MOAT_BIN,
		args: opts.args ?? ['serve', '--config', configPath],
		// The SDK passes only a few variables by default (HOME, PATH ...).
		env: { XDG_STATE_HOME: STATE_HOME, ...(opts.env ?? {}) },
		stderr: 'pipe',
	});
	let stderrText = '';
	transport.stderr.setEncoding('utf8');
	transport.stderr.on('data', (c) => {
		stderrText += c;
	});
	const client = new Client(
		{ name: 'moat-e2e', version: '0.0.1' },
		{ capabilities: opts.capabilities ?? {} },
	);
	const errors = [];
	client.onerror = (e) => errors.push(e);
	await withTimeout(client.connect(transport), DEFAULT_WAIT_MS, 'the SDK client to connect');
	let closed = false;
	return {
		client,
		transport,
		errors,
		stderr: () => stderrText,
		async close() {
			if (closed) return;
			closed = true;
			await withTimeout(client.close(), 8000, 'the SDK client to close');
			await sleep(20); // let the stderr pipe drain
			const allow = opts.allowErrors;
			assert.deepEqual(
				errors.map((e) => String(e?.message ?? e)).filter((m) => !(allow && allow.test(m))),
				[],
				'the SDK client reported protocol errors',
			);
			assertNoSanitizerReport(stderrText);
		},
	};
}

/**
 * connectClient() over HTTP: spawn `moat serve ... --http 127.0.0.1:0`,
 * read the address it prints on stderr, connect the SDK's
 * StreamableHTTPClientTransport. Same return shape (transport.pid is the
 * server's pid); close() ends the session (DELETE), closes the client and
 * stops the server with SIGTERM, which must exit 0. With opts.url the
 * client joins a listener the test started (and stops) itself.
 */
async function connectHttpClient(configPath, opts = {}) {
	if (opts.url) return joinHttpListener(opts);
	const m = await startHttp(configPath, opts);
	const { proc, url, exited } = m;
	const transport = new StreamableHTTPClientTransport(new URL(url));
	transport.pid = proc.pid;
	const client = new Client(
		{ name: 'moat-e2e', version: '0.0.1' },
		{ capabilities: opts.capabilities ?? {} },
	);
	const errors = [];
	let closed = false;
	client.onerror = (e) => {
		if (!(closed && ownCloseNoise(e))) errors.push(e);
	};
	try {
		await withTimeout(client.connect(transport), DEFAULT_WAIT_MS, 'the SDK client to connect');
	} catch (e) {
		proc.kill('SIGKILL');
		throw e;
	}
	return {
		client,
		transport,
		errors,
		url,
		proc,
		stderr: m.stderr,
		async close() {
			if (closed) return;
			closed = true;
			try {
				await withTimeout(transport.terminateSession(), 8000, 'the session to end (DELETE)');
			} finally {
				await withTimeout(client.close(), 8000, 'the SDK client to close');
				if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
			}
			const e = await withTimeout(exited, 8000, 'moat to exit on SIGTERM');
			assert.equal(m.stdout(), '', 'nothing on stdout over HTTP');
			assert.deepEqual(e, { code: 0, signal: null }, `moat exits 0 on SIGTERM:\n${m.stderr()}`);
			const allow = opts.allowErrors;
			assert.deepEqual(
				errors.map((x) => String(x?.message ?? x)).filter((m) => !(allow && allow.test(m))),
				[],
				'the SDK client reported protocol errors',
			);
			assertNoSanitizerReport(m.stderr());
		},
	};
}

/**
 * What the 1.x SDK reports of our own close of an HTTP session, which is
 * not a protocol error: closing aborts the open GET stream ("SSE stream
 * disconnected: AbortError"), and a GET the SDK starts (or restarts) after
 * our DELETE finds the session gone (404, "Failed to open SSE stream: Not
 * Found"; the SDK opens its GET stream asynchronously after initialize, so
 * on a slow machine it may come after the DELETE of a short test).
 */
function ownCloseNoise(e) {
	return /AbortError|aborted|Failed to open SSE stream: Not Found/.test(String(e?.message ?? e));
}

/** `moat serve --config configPath --http 127.0.0.1:0` (or opts.args) via spawnListener. */
function startHttp(configPath, opts = {}) {
	const args = [...(opts.args ?? ['serve', '--config', configPath])];
	if (!args.includes('--http')) args.push('--http', '127.0.0.1:0');
	return spawnListener(args, { ...getDefaultEnvironment(), XDG_STATE_HOME: STATE_HOME, ...(opts.env ?? {}) });
}

/** connectHttpClient() against a listener already running at opts.url:
 * close() ends the session (DELETE) and closes the client, the listener
 * stays up. */
async function joinHttpListener(opts) {
	const transport = new StreamableHTTPClientTransport(new URL(opts.url));
	const client = new Client({ name: 'moat-e2e', version: '0.0.1' }, { capabilities: opts.capabilities ?? {} });
	const errors = [];
	let closed = false;
	client.onerror = (e) => {
		if (!(closed && ownCloseNoise(e))) errors.push(e);
	};
	await withTimeout(client.connect(transport), DEFAULT_WAIT_MS, 'the SDK client to connect');
	return {
		client,
		transport,
		errors,
		url: opts.url,
		async close() {
			if (closed) return;
			closed = true;
			try {
				await withTimeout(transport.terminateSession(), 8000, 'the session to end (DELETE)');
			} finally {
				await withTimeout(client.close(), 8000, 'the SDK client to close');
			}
			assert.deepEqual(errors.map((x) => String(x?.message ?? x)), [], 'the SDK client reported protocol errors');
		},
	};
}

/**
 * Spawn `moat ARGS` serving HTTP with env (the whole environment) and wait
 * until it prints the address it bound (`moat: listening on URL`). Resolves
 * with { proc, exited (a promise of {code, signal}), url, scheme, hostport,
 * stdout(), stderr() }; rejects with its stderr if it exits first.
 */
export async function spawnListener(args, env) {
	const proc = spawn(MOAT_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
	let err = '';
	let out = '';
	proc.stdout.setEncoding('utf8');
	proc.stdout.on('data', (c) => (out += c));
	proc.stderr.setEncoding('utf8');
	const exited = new Promise((r) => proc.on('close', (code, signal) => r({ code, signal })));
	const m = await withTimeout(
		new Promise((resolve, reject) => {
			proc.stderr.on('data', (c) => {
				err += c;
				const found = /listening on (https?):\/\/([^\s/]+)\/mcp/.exec(err);
				if (found) resolve(found);
			});
			exited.then((e) => reject(new Error(`moat exited (${JSON.stringify(e)}) before listening:\n${err}`)));
		}),
		DEFAULT_WAIT_MS + 3000,
		'moat to listen',
	);
	return {
		proc,
		exited,
		url: `${m[1]}://${m[2]}/mcp`,
		scheme: m[1],
		hostport: m[2],
		stdout: () => out,
		stderr: () => err,
	};
}

/** Run fn with a client connect(configPath, opts) made, always closed afterwards. */
async function withConnected(connect, configPath, fn, opts) {
	const c = await connect(configPath, opts);
	try {
		await fn(c.client, c);
	} catch (e) {
		try {
			await c.client.close();
		} catch {
			/* already failing */
		}
		c.proc?.kill('SIGKILL');
		throw e;
	}
	await c.close();
	return c;
}

// ---- the 2.x client (2026-07-28) -------------------------------------------

/**
 * Connect the official 2.x client (@modelcontextprotocol/client) to moat,
 * pinned to 2026-07-28: server/discover at connect, no initialize, no
 * session, and every request carrying params._meta (protocol version,
 * client info, client capabilities). Over stdio or HTTP like connectClient()
 * (TRANSPORT, opts.transport, or opts.url to join a running listener).
 * Returns connectClient()'s shape plus the wire: sent (every message the
 * client sent after connect) and received (every message moat sent), and
 * raw(method), moat's last response to that method as it came (the
 * client's methods hand back results without resultType and the cache
 * hints; the tests read those here).
 * opts: { args, env, capabilities, mode (versionNegotiation mode, default
 *         { pin: '2026-07-28' }), inputRequired, transport, url, allowErrors,
 *         beforeConnect(client): e.g. to set request handlers (elicitation) }
 */
export async function connectClient2(configPath, opts = {}) {
	const overHttp = (opts.transport ?? (opts.url ? 'http' : TRANSPORT)) === 'http';
	let transport, m = null, stderrText = '';
	if (overHttp) {
		m = opts.url ? null : await startHttp(configPath, opts);
		transport = new StreamableHTTPClientTransport2(new URL(opts.url ?? m.url));
	} else {
		transport = new StdioClientTransport2({
			command: MOAT_BIN,
			args: opts.args ?? ['serve', '--config', configPath],
			env: { XDG_STATE_HOME: STATE_HOME, ...(opts.env ?? {}) },
			stderr: 'pipe',
		});
		transport.stderr.setEncoding('utf8');
		transport.stderr.on('data', (c) => {
			stderrText += c;
		});
	}
	const client = new Client2(
		{ name: 'moat-e2e-v2', version: '0.0.1' },
		{
			capabilities: opts.capabilities ?? {},
			versionNegotiation: { mode: opts.mode ?? { pin: STATELESS_VERSION } },
			...(opts.inputRequired ? { inputRequired: opts.inputRequired } : {}),
		},
	);
	const errors = [];
	let closed = false;
	client.onerror = (e) => {
		if (!(closed && /AbortError|aborted/.test(String(e?.message ?? e)))) errors.push(e);
	};
	opts.beforeConnect?.(client);
	try {
		await withTimeout(client.connect(transport), DEFAULT_WAIT_MS, 'the 2.x client to connect');
	} catch (e) {
		m?.proc.kill('SIGKILL');
		throw e;
	}
	const sent = [];
	const received = [];
	const send = transport.send.bind(transport);
	transport.send = (msg, o) => {
		sent.push(msg);
		return send(msg, o);
	};
	const inner = transport.onmessage;
	transport.onmessage = (msg, extra) => {
		received.push(msg);
		inner?.call(transport, msg, extra);
	};
	return {
		client,
		transport,
		errors,
		sent,
		received,
		url: opts.url ?? m?.url,
		proc: m?.proc,
		stderr: () => (m ? m.stderr() : stderrText),
		raw(method) {
			for (let i = sent.length - 1; i >= 0; i--) {
				if (sent[i].method !== method || !('id' in sent[i])) continue;
				const r = received.find((x) => x.id === sent[i].id && !('method' in x));
				if (r) return r;
			}
			assert.fail(`no response to ${method} on the wire`);
		},
		async close() {
			if (closed) return;
			closed = true;
			await withTimeout(client.close(), 8000, 'the 2.x client to close');
			if (m) {
				if (m.proc.exitCode === null && m.proc.signalCode === null) m.proc.kill('SIGTERM');
				const e = await withTimeout(m.exited, 8000, 'moat to exit on SIGTERM');
				assert.equal(m.stdout(), '', 'nothing on stdout over HTTP');
				assert.deepEqual(e, { code: 0, signal: null }, `moat exits 0 on SIGTERM:\n${m.stderr()}`);
			} else {
				await sleep(20); // let the stderr pipe drain
			}
			const allow = opts.allowErrors;
			assert.deepEqual(
				errors.map((x) => String(x?.message ?? x)).filter((t) => !(allow && allow.test(t))),
				[],
				'the 2.x client reported protocol errors',
			);
			assertNoSanitizerReport(this.stderr());
		},
	};
}

/** Run fn with a connected 1.x SDK client that is always closed afterwards. */
export const withClient = (configPath, fn, opts) => withConnected(connectClient, configPath, fn, opts);

/** Run fn with a connected 2.x client that is always closed afterwards. */
export const withClient2 = (configPath, fn, opts) => withConnected(connectClient2, configPath, fn, opts);

/** The params._meta of a 2026-07-28 request from a client with caps. */
export function statelessMeta(caps = {}, extra = {}) {
	return {
		'io.modelcontextprotocol/protocolVersion': STATELESS_VERSION,
		'io.modelcontextprotocol/clientCapabilities': caps,
		'io.modelcontextprotocol/clientInfo': { name: 'moat-e2e-raw', version: '0.0.1' },
		...extra,
	};
}

// ---- one-shot CLI runs ---------------------------------------------------

/** Run moat with args; returns { code, signal, stdout, stderr }. */
export function runMoat(args, opts = {}) {
	const r = spawnSync(MOAT_BIN, args, {
		encoding: 'utf8',
		timeout: opts.timeoutMs ?? 15000,
		env: { XDG_STATE_HOME: STATE_HOME, ...(opts.env ?? process.env) },
		cwd: opts.cwd,
		input: opts.input ?? '',
	});
	if (r.error) throw r.error;
	assertNoSanitizerReport(r.stderr);
	return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** The text of a tools/call result's first text block. */
/**
 * elicitationAnswer(accept) - a handler for elicitation/create that answers
 * as a person would: accept with every boolean of the form checked (moat's
 * confirmation box), or decline.
 */
export const elicitationAnswer = (accept) => (req) => {
	if (!accept) return { action: 'decline' };
	const props = (req.params ?? req).requestedSchema?.properties ?? {};
	const content = {};
	for (const [k, v] of Object.entries(props)) if (v.type === 'boolean') content[k] = true;
	return { action: 'accept', content };
};

export function resultText(res) {
	assert.ok(Array.isArray(res?.content), `result has no content array: ${JSON.stringify(res)}`);
	const block = res.content.find((b) => b.type === 'text');
	assert.ok(block, `result has no text block: ${JSON.stringify(res)}`);
	return block.text;
}

/** Assert res is an isError result whose text matches every pattern. */
export function assertToolError(res, ...patterns) {
	assert.equal(res.isError, true, `expected isError, got ${JSON.stringify(res).slice(0, 300)}`);
	const text = resultText(res);
	for (const p of patterns) {
		if (p instanceof RegExp) assert.match(text, p);
		else assert.ok(text.includes(p), `error text ${JSON.stringify(text)} does not name ${p}`);
	}
	return text;
}
