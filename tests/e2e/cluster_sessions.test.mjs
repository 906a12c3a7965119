// cluster_sessions.test.mjs - sealed state across two replicas (issue 14):
// a real redis-server on a free loopback port and two `moat serve --http
// 127.0.0.1:0` processes sharing one cluster config (the same Redis, the
// same cluster key). The official 1.x SDK client initializes a session on
// replica A and, with the same Mcp-Session-Id, calls tools on replica B,
// which adopts the session; a DELETE on A ends it on B too; a changed id is
// 404 on both; a confirmation's requestState issued on A completes on B
// once and is refused as replayed on either afterwards.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { makeTempDir, sleep, statelessMeta, testingConfig, withTimeout, writeConfig } from './helpers.mjs';
import { messageOf, post, startListener } from '../attack/http_fixture.mjs';
import { freePort } from './redis_server.mjs';

const KEY = crypto.randomBytes(32).toString('hex');
const PREFIX = `moat-e2e-${process.pid}`;
// HTTPD_END_CHECK_MS: how often a replica holding a copy asks whether a
// DELETE elsewhere ended it (src/transport/http/httpd_int.h).
const END_CHECK_MS = 1000;

/** redis-server on a free loopback port in dir, nothing saved; killed at exit. */
async function startRedis(dir) {
	for (let attempt = 0; ; attempt++) {
		const port = await freePort();
		const proc = spawn(
			'redis-server',
			['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
			{ stdio: ['ignore', 'pipe', 'pipe'] },
		);
		const killAtExit = () => proc.kill('SIGKILL');
		process.on('exit', killAtExit);
		let out = '';
		const ready = await withTimeout(
			new Promise((resolve) => {
				proc.stdout.setEncoding('utf8');
				proc.stdout.on('data', (c) => {
					out += c;
					if (/Ready to accept connections/.test(out)) resolve(true);
				});
				proc.on('close', () => resolve(false));
			}),
			10000,
			'redis-server to start',
		);
		if (ready) {
			return {
				port,
				async stop() {
					const closed = new Promise((r) => proc.on('close', r));
					proc.kill('SIGTERM');
					await withTimeout(closed, 5000, 'redis-server to stop');
					process.off('exit', killAtExit);
				},
			};
		}
		process.off('exit', killAtExit);
		if (attempt >= 4) throw new Error(`redis-server did not start:\n${out}`);
	}
}

/** nginx in front of ports, hashing Mcp-Session-Id (docs/deploy.md), in dir; killed at exit. */
async function startNginx(dir, ports) {
	const port = await freePort();
	const conf = path.join(dir, 'nginx.conf');
	fs.writeFileSync(
		conf,
		`daemon off;
master_process off;
worker_processes 1;
error_log ${dir}/nginx-error.log info;
pid ${dir}/nginx.pid;
events { worker_connections 256; }
http {
	access_log off;
	client_body_temp_path ${dir}/nginx-body;
	proxy_temp_path ${dir}/nginx-proxy;
	fastcgi_temp_path ${dir}/nginx-fastcgi;
	uwsgi_temp_path ${dir}/nginx-uwsgi;
	scgi_temp_path ${dir}/nginx-scgi;
	upstream moat {
		hash $http_mcp_session_id consistent;
${ports.map((p) => `		server 127.0.0.1:${p};`).join('\n')}
		keepalive 8;
	}
	server {
		listen 127.0.0.1:${port};
		location /mcp {
			proxy_pass http://moat;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
			proxy_set_header Host $http_host;
			proxy_buffering off;
			proxy_read_timeout 300s;
		}
	}
}
`,
	);
	const proc = spawn('nginx', ['-p', dir, '-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
	const killAtExit = () => proc.kill('SIGKILL');
	process.on('exit', killAtExit);
	let err = '';
	proc.stderr.setEncoding('utf8');
	proc.stderr.on('data', (c) => (err += c));
	const exited = new Promise((r) => proc.on('close', (code, signal) => r({ code, signal })));
	// Listening once a TCP connect succeeds.
	for (const until = Date.now() + 8000; ; ) {
		const up = await new Promise((resolve) => {
			const c = net.connect(port, '127.0.0.1', () => (c.destroy(), resolve(true)));
			c.on('error', () => resolve(false));
		});
		if (up) break;
		if (proc.exitCode !== null || Date.now() > until) throw new Error(`nginx did not start: ${err}`);
		await sleep(50);
	}
	return {
		port,
		async stop() {
			proc.kill('SIGQUIT');
			await withTimeout(exited, 5000, 'nginx to stop');
			process.off('exit', killAtExit);
		},
	};
}

/** The 1.x SDK client on url; with sessionId, it joins that session (no initialize). */
async function sdkClient(url, sessionId) {
	const transport = new StreamableHTTPClientTransport(new URL(url), sessionId ? { sessionId } : {});
	const client = new Client({ name: 'moat-cluster-e2e', version: '1.0.0' }, { capabilities: { elicitation: {} } });
	client.onerror = () => {}; // the GET stream's end at DELETE is not the test's concern
	await withTimeout(client.connect(transport), 8000, 'the SDK client to connect');
	return { client, transport };
}

const textOf = (r) => r.content?.map((c) => c.text).join('') ?? '';
const ruleOf = (res) => messageOf(res)?.error?.data?.rule;
const ping = (port, sid, id = 9) =>
	post(port, { jsonrpc: '2.0', id, method: 'ping' }, { 'Mcp-Session-Id': sid, 'MCP-Protocol-Version': '2025-11-25' });

describe('sessions and confirmations across two replicas sharing Redis', () => {
	let dir, redis, a, b, rw;
	before(async () => {
		dir = fs.realpathSync(makeTempDir('moat-cluster-sessions-'));
		rw = path.join(dir, 'rw');
		fs.mkdirSync(rw);
		redis = await startRedis(dir);
		const cfg = writeConfig(
			dir,
			testingConfig({
				audit: false,
				roots: [{ path: rw, write: true }],
				confirm: { fs: true },
				cluster: { redis: `redis://127.0.0.1:${redis.port}/0`, key: '${MOAT_CLUSTER_KEY}', prefix: PREFIX },
				// Through nginx the Host is nginx's address (any port of 127.0.0.1).
				listen: { allowed_hosts: ['127.0.0.1'] },
			}),
		);
		const env = { MOAT_CLUSTER_KEY: KEY };
		a = await startListener(cfg, { env });
		b = await startListener(cfg, { env });
	});
	after(async () => {
		const ea = await a?.stop();
		const eb = await b?.stop();
		await redis?.stop();
		assert.equal(ea?.code, 0, `${JSON.stringify(ea)} ${a?.stderr()}`);
		assert.equal(eb?.code, 0, `${JSON.stringify(eb)} ${b?.stderr()}`);
	});

	test('a session initialized on A works on B; a DELETE on A ends it on B too', async () => {
		const onA = await sdkClient(`${a.base}/mcp`);
		const sid = onA.transport.sessionId;
		// The id as a proxy sees it: one header value of visible ASCII, bounded.
		assert.match(sid, /^[A-Za-z0-9_-]+$/);
		assert.ok(sid.length <= 1024, `${sid.length} characters`);
		assert.equal(textOf(await onA.client.callTool({ name: 'echo', arguments: { text: 'on A' } })), 'on A');
		const onB = await sdkClient(`${b.base}/mcp`, sid);
		assert.equal(onB.transport.sessionId, sid);
		const r = await onB.client.callTool({ name: 'echo', arguments: { text: 'on B' } });
		assert.equal(textOf(r), 'on B', JSON.stringify(r));
		const tools = await onB.client.listTools();
		assert.ok(tools.tools.some((t) => t.name === 'echo'));
		assert.match(b.stderr(), /adopted/);
		// Both copies serve.
		assert.equal(textOf(await onA.client.callTool({ name: 'echo', arguments: { text: 'A again' } })), 'A again');
		assert.equal((await ping(b.port, sid)).status, 200);
		// DELETE on A: A forgets it at once, B within END_CHECK_MS.
		await onA.transport.terminateSession();
		const onAAfter = await ping(a.port, sid);
		assert.equal(onAAfter.status, 404);
		assert.equal(ruleOf(onAAfter), 'http.session_unknown');
		await sleep(END_CHECK_MS + 200);
		const onBAfter = await ping(b.port, sid);
		assert.equal(onBAfter.status, 404, onBAfter.body);
		assert.equal(ruleOf(onBAfter), 'http.session_unknown');
		await assert.rejects(onB.client.callTool({ name: 'echo', arguments: { text: 'too late' } }));
		await onB.client.close().catch(() => {});
		await onA.client.close().catch(() => {});
	});

	test('a session DELETEd on A before B saw it is never adopted by B', async () => {
		const onA = await sdkClient(`${a.base}/mcp`);
		const sid = onA.transport.sessionId;
		await onA.transport.terminateSession();
		await onA.client.close().catch(() => {});
		const r = await ping(b.port, sid);
		assert.equal(r.status, 404, r.body);
		assert.equal(ruleOf(r), 'http.session_unknown');
	});

	test('a changed, cut or extended id is 404 on both replicas; the real one works on both', async () => {
		const onA = await sdkClient(`${a.base}/mcp`);
		const sid = onA.transport.sessionId;
		const mid = Math.floor(sid.length / 2);
		const flipped = sid.slice(0, mid) + (sid[mid] === 'A' ? 'B' : 'A') + sid.slice(mid + 1);
		for (const bad of [flipped, sid.slice(0, -1), sid + 'AA', sid.slice(0, -4) + 'AAAA']) {
			for (const m of [a, b]) {
				const r = await ping(m.port, bad);
				assert.equal(r.status, 404, `${bad.length} characters on ${m.port}`);
				assert.equal(ruleOf(r), 'http.session_unknown');
			}
		}
		for (const m of [a, b]) assert.equal((await ping(m.port, sid)).status, 200);
		assert.ok(!a.stderr().includes(sid) && !b.stderr().includes(sid), 'no session id in the logs');
		await onA.transport.terminateSession();
		await onA.client.close().catch(() => {});
	});

	test('a confirmation requestState issued on A completes on B once, and is refused as replayed on either', async () => {
		const target = path.join(rw, 'once.txt');
		const call = (port, id, extra = {}) =>
			post(
				port,
				{
					jsonrpc: '2.0',
					id,
					method: 'tools/call',
					params: {
						name: 'write_file',
						arguments: { path: target, content: 'hi\n' },
						...extra,
						_meta: statelessMeta({ elicitation: { form: {} } }),
					},
				},
				{ 'MCP-Protocol-Version': '2026-07-28', 'Mcp-Method': 'tools/call', 'Mcp-Name': 'write_file' },
			);
		const first = messageOf(await call(a.port, 1));
		assert.equal(first.result?.resultType, 'input_required', JSON.stringify(first));
		assert.ok(first.result.inputRequests?.moat_confirm, JSON.stringify(first.result));
		const requestState = first.result.requestState;
		assert.equal(fs.existsSync(target), false);
		const accept = { inputResponses: { moat_confirm: { action: 'accept', content: { confirm: true } } }, requestState };
		const done = messageOf(await call(b.port, 2, accept));
		assert.equal(done.result?.resultType, 'complete', JSON.stringify(done));
		assert.ok(!done.result.isError, JSON.stringify(done));
		assert.equal(fs.readFileSync(target, 'utf8'), 'hi\n');
		fs.rmSync(target);
		for (const [m, id] of [
			[a, 3],
			[b, 4],
		]) {
			const res = await call(m.port, id, accept);
			const again = messageOf(res);
			assert.equal(again.error?.data?.rule, 'state.replayed', JSON.stringify(again));
			assert.equal(again.error.code, -32602);
		}
		assert.equal(fs.existsSync(target), false, 'the replays wrote nothing');
	});

	test('through nginx hashing Mcp-Session-Id: the id passes unchanged, a session moves at most once (after initialize)', async () => {
		const ngx = await startNginx(dir, [a.port, b.port]);
		const adoptions = () => (a.stderr().match(/adopted/g) ?? []).length + (b.stderr().match(/adopted/g) ?? []).length;
		const before = adoptions();
		try {
			const clients = [];
			for (let i = 0; i < 6; i++) clients.push(await sdkClient(`http://127.0.0.1:${ngx.port}/mcp`));
			for (let round = 0; round < 5; round++) {
				for (const [i, c] of clients.entries()) {
					const r = await c.client.callTool({ name: 'echo', arguments: { text: `c${i} r${round}` } });
					assert.equal(textOf(r), `c${i} r${round}`, JSON.stringify(r));
				}
			}
			// The id nginx handed through works on the replica directly too.
			const sid = clients[0].transport.sessionId;
			assert.match(sid, /^[A-Za-z0-9_-]{100,1024}$/);
			const direct = [await ping(a.port, sid), await ping(b.port, sid)];
			assert.ok(direct.some((r) => r.status === 200), direct.map((r) => r.status).join());
			for (const c of clients) {
				await c.transport.terminateSession();
				await c.client.close().catch(() => {});
			}
		} finally {
			await ngx.stop();
		}
		// initialize has no id to hash, so it lands on either replica; the
		// id's hash then picks the replica every later request goes to,
		// which adopts the session if it is the other one: at most once a
		// session, plus the one adoption the direct ping above may cause.
		assert.ok(adoptions() - before <= 6 + 1, `${adoptions() - before} adoptions behind nginx`);
	});

	test('DELETE and the replicas leave only marks in Redis, named by kind and internal id', async () => {
		const onA = await sdkClient(`${a.base}/mcp`);
		const sid = onA.transport.sessionId;
		await onA.transport.terminateSession();
		await onA.client.close().catch(() => {});
		const { spawnSync } = await import('node:child_process');
		const keys = spawnSync('redis-cli', ['-p', String(redis.port), '--scan', '--pattern', `${PREFIX}:m:session:*`], { encoding: 'utf8' });
		assert.equal(keys.status, 0, keys.stderr);
		const names = keys.stdout.split('\n').filter(Boolean);
		assert.ok(names.length >= 2, names.join('\n'));
		for (const n of names) {
			assert.match(n, new RegExp(`^${PREFIX}:m:session:[0-9a-f]{48}$`));
			assert.ok(!sid.includes(n.slice(n.lastIndexOf(':') + 1)), 'the internal id is not readable in the sealed one');
		}
		const ttl = spawnSync('redis-cli', ['-p', String(redis.port), 'TTL', names[0]], { encoding: 'utf8' });
		const seconds = Number(ttl.stdout.trim());
		assert.ok(seconds > 80000 && seconds <= 86400, `TTL ${ttl.stdout}`);
	});
});
