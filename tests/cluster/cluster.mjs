// cluster.mjs - what the cluster tests share: a local cluster started with
// scripts/cluster.sh (Redis, three replicas of MOAT_BIN, nginx in front, all
// on 127.0.0.1 in one temp dir), the official SDK clients pointed at it, and
// small readers of what the cluster shows (metrics, Redis, logs).
//
// startCluster(config, opts) runs `scripts/cluster.sh up` with CONFIG (the
// test's config, written into a temp dir; paths in it absolute) and reads
// cluster.env for the URLs, ports and pids. Every cluster started is taken
// down when the test process exits, fails or is stopped, so no Redis, moat
// or nginx outlives a run.
//
// Clients: oldClient(url) is the 1.x SDK (initialize, an Mcp-Session-Id,
// 2025-11-25) over StreamableHTTPClientTransport; newClient(url) the 2.x
// client pinned to 2026-07-28. Both record, per HTTP response, which replica
// answered (nginx's X-Moat-Upstream header), and both may be given a fetch
// of the test's own (to route one request to a chosen replica).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Client as Client2, StreamableHTTPClientTransport as StreamableHTTPClientTransport2 } from '@modelcontextprotocol/client';
import { MOAT_BIN, STATELESS_VERSION, makeTempDir, withTimeout } from '../e2e/helpers.mjs';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SCRIPT = path.join(ROOT, 'scripts/cluster.sh');

const running = new Set(); // cluster dirs to take down at exit

function downSync(dir) {
	if (!running.delete(dir)) return;
	spawnSync(SCRIPT, ['down', dir], { stdio: 'ignore', timeout: 30000 });
}
process.on('exit', () => {
	for (const d of [...running]) downSync(d);
});
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
	process.on(sig, () => {
		for (const d of [...running]) downSync(d);
		process.exit(1);
	});
}

/** Run scripts/cluster.sh ARGS with env; resolves { code, stdout, stderr }. */
export function clusterSh(args, env = {}, timeoutMs = 60000) {
	return withTimeout(
		new Promise((resolve) => {
			const p = spawn(SCRIPT, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
			let out = '';
			let err = '';
			p.stdout.on('data', (c) => (out += c));
			p.stderr.on('data', (c) => (err += c));
			p.on('close', (code) => resolve({ code, stdout: out, stderr: err }));
		}),
		timeoutMs,
		`scripts/cluster.sh ${args.join(' ')}`,
	);
}

function readEnv(dir) {
	const env = {};
	for (const line of fs.readFileSync(path.join(dir, 'cluster.env'), 'utf8').split('\n')) {
		const i = line.indexOf('=');
		if (i > 0) env[line.slice(0, i)] = line.slice(i + 1);
	}
	return env;
}

/**
 * Start a cluster serving config (an object) through scripts/cluster.sh.
 * opts: { noRedis, replicas (default 3) }. Resolves with a cluster:
 *   url (nginx), replicas: [{ n, url, port, metrics, pid }], redisPort,
 *   dir, env() (cluster.env, re-read), log(n) (replica n's stderr so far),
 *   stop(part, signal), start(part) (part: 'redis', 'nginx', 'replicaN'),
 *   redis(...args) (redis-cli against the cluster's Redis), down().
 */
export async function startCluster(config, opts = {}) {
	const base = makeTempDir('moat-cluster-test-');
	const cfg = path.join(base, 'moat.json');
	fs.writeFileSync(cfg, JSON.stringify(config, null, 2));
	const dir = path.join(base, 'cluster');
	const env = {
		MOAT: MOAT_BIN,
		CONFIG: cfg,
		CLUSTER_DIR: dir,
		REPLICAS: String(opts.replicas ?? 3),
		NO_REDIS: opts.noRedis ? '1' : '',
	};
	running.add(dir);
	const r = await clusterSh(['up'], env, 90000);
	if (r.code !== 0) {
		let logs = '';
		for (let n = 1; n <= 3; n++) {
			try {
				logs += `\n--- replica${n}.log\n` + fs.readFileSync(path.join(dir, `replica${n}.log`), 'utf8').slice(-1500);
			} catch {
				/* not started */
			}
		}
		downSync(dir);
		throw new Error(`scripts/cluster.sh up failed (${r.code}):\n${r.stdout}${r.stderr}${logs}`);
	}
	const c = {
		dir,
		stdout: r.stdout,
		env: () => readEnv(dir),
		get url() {
			return this.env().URL;
		},
		get redisPort() {
			return Number(this.env().REDIS_PORT);
		},
		get replicas() {
			const e = this.env();
			const list = [];
			for (let n = 1; n <= Number(e.REPLICAS); n++) {
				list.push({
					n,
					url: e[`REPLICA${n}_URL`],
					port: Number(e[`REPLICA${n}_PORT`]),
					metrics: e[`REPLICA${n}_METRICS`],
					pid: Number(e[`REPLICA${n}_PID`]),
				});
			}
			return list;
		},
		/** Which replica (1-based) listens on host:port, or 0. */
		replicaAt(hostport) {
			const port = Number(String(hostport ?? '').split(':').pop());
			return this.replicas.find((x) => x.port === port)?.n ?? 0;
		},
		log(n) {
			return fs.readFileSync(path.join(dir, `replica${n}.log`), 'utf8');
		},
		async stop(part, signal = 'TERM') {
			const x = await clusterSh(['stop', part, signal], { CLUSTER_DIR: dir });
			if (x.code !== 0) throw new Error(`cluster.sh stop ${part}: ${x.stderr}`);
		},
		async start(part) {
			const x = await clusterSh(['start', part], { CLUSTER_DIR: dir });
			if (x.code !== 0) throw new Error(`cluster.sh start ${part}: ${x.stdout}${x.stderr}`);
		},
		redis(...args) {
			const x = spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(this.redisPort), ...args], {
				encoding: 'utf8',
				timeout: 10000,
			});
			if (x.status !== 0) throw new Error(`redis-cli ${args.join(' ')}: ${x.stderr}`);
			return x.stdout;
		},
		async down() {
			const d = dir;
			if (!running.has(d)) return;
			running.delete(d);
			await clusterSh(['down', d]);
		},
	};
	return c;
}

/** GET a replica's /metrics; resolves with the text. */
export async function metricsText(replica) {
	const r = await fetch(replica.metrics);
	if (!r.ok) throw new Error(`GET ${replica.metrics}: ${r.status}`);
	return r.text();
}

/** The sum of every sample of metric name (any labels) in Prometheus text, or
 * null when there is none. */
export function metricSum(text, name) {
	let sum = null;
	const re = new RegExp(`^${name}(\\{[^}]*\\})? ([0-9.eE+-]+)$`, 'gm');
	for (const m of text.matchAll(re)) sum = (sum ?? 0) + Number(m[2]);
	return sum;
}

/** A fetch that records which replica answered each response (nginx's
 * X-Moat-Upstream), calling through inner (default: the global fetch). */
function recordingFetch(seen, inner = fetch) {
	return async (url, init) => {
		const res = await inner(url, init);
		const up = res.headers.get('x-moat-upstream');
		if (up) seen.push(up);
		return res;
	};
}

/**
 * The 1.x SDK client (initialize era, a session) at url. Resolves with
 * { client, transport, errors (what client.onerror saw), upstreams (the
 * X-Moat-Upstream of every answer), close() }.
 */
export async function oldClient(url, opts = {}) {
	const upstreams = [];
	const transport = new StreamableHTTPClientTransport(new URL(url), {
		fetch: recordingFetch(upstreams, opts.fetch),
	});
	const client = new Client({ name: 'moat-cluster-old', version: '0.0.1' }, { capabilities: opts.capabilities ?? {} });
	const errors = [];
	let closing = false;
	client.onerror = (e) => {
		// Our own close aborts the GET stream; a GET after our DELETE finds no session.
		if (closing && /AbortError|aborted|Failed to open SSE stream: Not Found/.test(String(e?.message ?? e))) return;
		errors.push(e);
	};
	await withTimeout(client.connect(transport), 15000, 'the 1.x client to connect through the cluster');
	return {
		client,
		transport,
		errors,
		upstreams,
		async close() {
			closing = true;
			try {
				await withTimeout(transport.terminateSession(), 8000, 'DELETE of the session');
			} finally {
				await withTimeout(client.close(), 8000, 'the 1.x client to close');
			}
		},
	};
}

/**
 * The 2.x client pinned to 2026-07-28 at url (no session: nginx spreads its
 * requests over the replicas). Same shape as oldClient, plus sent (every
 * message it sent) and received (every message it got).
 * opts: { capabilities, fetch, beforeConnect(client) }
 */
export async function newClient(url, opts = {}) {
	const upstreams = [];
	const transport = new StreamableHTTPClientTransport2(new URL(url), {
		fetch: recordingFetch(upstreams, opts.fetch),
	});
	const client = new Client2(
		{ name: 'moat-cluster-new', version: '0.0.1' },
		{ capabilities: opts.capabilities ?? {}, versionNegotiation: { mode: { pin: STATELESS_VERSION } } },
	);
	const errors = [];
	let closing = false;
	client.onerror = (e) => {
		if (closing && /AbortError|aborted/.test(String(e?.message ?? e))) return;
		errors.push(e);
	};
	opts.beforeConnect?.(client);
	await withTimeout(client.connect(transport), 15000, 'the 2.x client to connect through the cluster');
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
		upstreams,
		sent,
		received,
		async close() {
			closing = true;
			await withTimeout(client.close(), 8000, 'the 2.x client to close');
		},
	};
}

/** POST one 2026-07-28 request (msg: {id, method, params}) to url as a raw
 * client would, with the headers the revision requires. Resolves with
 * { status, body (parsed), upstream }. */
export async function postStateless(url, msg) {
	const headers = {
		'Content-Type': 'application/json',
		Accept: 'application/json, text/event-stream',
		'MCP-Protocol-Version': STATELESS_VERSION,
		'Mcp-Method': msg.method,
	};
	if (msg.params?.name) headers['Mcp-Name'] = msg.params.name;
	const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', ...msg }) });
	const text = await res.text();
	let body = text;
	const ct = res.headers.get('content-type') ?? '';
	if (ct.includes('event-stream')) {
		const data = text.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trim()).filter(Boolean);
		body = data.length ? JSON.parse(data[data.length - 1]) : null;
	} else if (ct.includes('json')) {
		body = JSON.parse(text);
	}
	return { status: res.status, body, upstream: res.headers.get('x-moat-upstream') };
}

/** The listener settings every test config wants behind nginx: sessions and
 * connections for 100 clients, all from nginx's one address. */
export const LISTEN = {
	max_sessions: 1000,
	max_sessions_per_principal: 1000,
	max_connections: 1024,
	max_connections_per_ip: 1024,
	requests_per_second_per_ip: 0,
};

/** The text of a result's first text block ('' when none). */
export function textOf(res) {
	return res?.content?.find?.((b) => b.type === 'text')?.text ?? '';
}
