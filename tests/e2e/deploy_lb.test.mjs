// deploy_lb.test.mjs - deploy/'s nginx and HAProxy configurations do what
// docs/deploy.md says, with the real programs in front of three real moat
// replicas:
//   - every request carrying one Mcp-Session-Id (POSTs and the GET stream)
//     reaches one and the same replica. Shown without a shared store, so a
//     replica serves only the sessions it opened itself (no adoption):
//     sessions are opened on each replica directly, then used through the
//     balancer; each session's requests must all succeed or all fail (404
//     from the replica its id hashes to), never a mix, and some succeed. A
//     copy of the nginx file without the hash line mixes them (the hash is
//     what keeps a session together);
//   - requests without the header (2026-07-28, initialize) spread over
//     all replicas;
//   - Host reaches moat as the client sent it (the replicas allow only
//     mcp.example.com, as the examples configure).
// The test copies each file and changes only what a test must: the listen
// address (a free loopback port), the replicas' addresses and the
// certificate (made with openssl for the run); HAProxy runs with a lower
// maxconn (-n) than the file's, which needs more open files than a test
// machine allows. nginx and haproxy are
// required (scripts/install-deps.sh): absent, the test fails. Every
// process is stopped when the test ends.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { STATELESS_VERSION, makeTempDir, sleep, statelessMeta, testingConfig, withTimeout, writeConfig } from './helpers.mjs';
import { ACCEPT_BOTH, INIT, messageOf, request, startListener } from '../attack/http_fixture.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const HOST = 'mcp.example.com';
const NREPLICAS = 3;
const SBIN = `${process.env.PATH}:/usr/sbin:/sbin`;

function which(prog) {
	try {
		return execFileSync('sh', ['-c', `command -v ${prog}`], { env: { ...process.env, PATH: SBIN } }).toString().trim();
	} catch {
		return null;
	}
}

async function freePort() {
	const s = net.createServer();
	await new Promise((r) => s.listen(0, '127.0.0.1', r));
	const { port } = s.address();
	await new Promise((r) => s.close(r));
	return port;
}

/** A certificate for mcp.example.com and 127.0.0.1, valid one day. */
function makeCert(dir) {
	const key = path.join(dir, 'lb.key');
	const crt = path.join(dir, 'lb.crt');
	execFileSync('openssl', [
		'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
		'-subj', `/CN=${HOST}`, '-addext', `subjectAltName=DNS:${HOST},IP:127.0.0.1`, '-keyout', key, '-out', crt,
	], { stdio: 'ignore' });
	const pem = path.join(dir, 'lb.pem');
	fs.writeFileSync(pem, fs.readFileSync(crt, 'utf8') + fs.readFileSync(key, 'utf8'));
	return { key, crt, pem, ca: fs.readFileSync(crt) };
}

/** Start prog args; resolves once port accepts connections. */
async function startProxy(prog, args, port, logFile) {
	const out = fs.openSync(logFile, 'a');
	const p = spawn(which(prog), args, { stdio: ['ignore', out, out] });
	const exited = new Promise((r) => p.on('close', (code, signal) => r({ code, signal })));
	const t0 = Date.now();
	for (;;) {
		if (p.exitCode !== null) throw new Error(`${prog} exited: ${fs.readFileSync(logFile, 'utf8')}`);
		const ok = await new Promise((r) => {
			const c = net.connect(port, '127.0.0.1', () => {
				c.destroy();
				r(true);
			});
			c.on('error', () => r(false));
		});
		if (ok) break;
		if (Date.now() - t0 > 8000) {
			p.kill('SIGKILL');
			throw new Error(`${prog} does not listen: ${fs.readFileSync(logFile, 'utf8')}`);
		}
		await sleep(50);
	}
	return {
		proc: p,
		async stop() {
			if (p.exitCode === null && p.signalCode === null) p.kill('SIGTERM');
			const e = await withTimeout(exited, 8000, `${prog} to stop`).catch(() => {
				p.kill('SIGKILL');
				return null;
			});
			return e;
		},
	};
}

/** deploy/nginx/moat.conf, adapted: port, replicas, certificate. */
function nginxConf(dir, port, replicas, cert, { dropHash = false } = {}) {
	let conf = fs.readFileSync(path.join(ROOT, 'deploy/nginx/moat.conf'), 'utf8');
	conf = conf.replace(/^\s*server 10\.0\.1\.\d+:8080.*\n/gm, '');
	conf = conf.replace(/(hash \$http_mcp_session_id consistent;\n)/, `$1${replicas.map((r) => `    server 127.0.0.1:${r.port} max_fails=2 fail_timeout=10s;\n`).join('')}`);
	if (dropHash) conf = conf.replace(/^\s*hash \$http_mcp_session_id consistent;\n/m, '');
	conf = conf.replace(/^\s*listen \[::\]:443 ssl;\n/m, '').replace(/listen 443 ssl;/, `listen 127.0.0.1:${port} ssl;`);
	conf = conf.replace('/etc/nginx/tls/mcp.example.com.crt', cert.crt).replace('/etc/nginx/tls/mcp.example.com.key', cert.key);
	assert.ok(conf.includes(`127.0.0.1:${replicas[0].port}`) && conf.includes(`listen 127.0.0.1:${port} ssl;`), 'the adaptation took');
	assert.equal(/hash \$http_mcp_session_id consistent;/.test(conf), !dropHash);
	fs.writeFileSync(path.join(dir, 'moat.conf'), conf);
	const main = path.join(dir, 'nginx.conf');
	fs.writeFileSync(
		main,
		`pid ${dir}/nginx.pid;\nerror_log ${dir}/error.log;\nevents {}\nhttp {\n    access_log ${dir}/access.log;\n` +
			`    client_body_temp_path ${dir}/body;\n    proxy_temp_path ${dir}/proxy;\n    include ${dir}/moat.conf;\n}\n`,
	);
	return ['-p', `${dir}/`, '-e', `${dir}/error.log`, '-c', main, '-g', 'daemon off; master_process on; worker_processes 1;' + (process.getuid() === 0 ? ' user root;' : '')];
}

/** deploy/haproxy/haproxy.cfg, adapted the same way. */
function haproxyCfg(dir, port, replicas, cert) {
	let cfg = fs.readFileSync(path.join(ROOT, 'deploy/haproxy/haproxy.cfg'), 'utf8');
	cfg = cfg.replace(/^\s*server moat\d 10\.0\.1\.\d+:8080\n/gm, '');
	cfg = cfg.replace(/(default-server [^\n]*\n)/, `$1${replicas.map((r, i) => `    server moat${i + 1} 127.0.0.1:${r.port}\n`).join('')}`);
	cfg = cfg.replace(/bind :443 ssl crt \S+/, `bind 127.0.0.1:${port} ssl crt ${cert.pem}`);
	assert.ok(cfg.includes(`bind 127.0.0.1:${port}`) && cfg.includes(`127.0.0.1:${replicas[2].port}`), 'the adaptation took');
	const file = path.join(dir, 'haproxy.cfg');
	fs.writeFileSync(file, cfg);
	// -n: the file's maxconn (20000) needs twice as many open files as
	// this machine's hard limit allows; the test needs a few.
	return ['-db', '-n', '1000', '-f', file];
}

/** A JSON-RPC POST through the balancer (TLS, Host mcp.example.com). */
const lbPost = (lb, body, headers = {}) =>
	request({
		port: lb.port,
		tls: true,
		ca: lb.ca,
		body,
		headers: { Host: HOST, 'Content-Type': 'application/json', Accept: ACCEPT_BOTH, ...headers },
	});

/** Open an old-era session on replica r directly (not through the balancer). */
async function openDirect(r, i) {
	const init = await request({ port: r.port, body: INIT(1, '2025-11-25'), headers: { Host: HOST, 'Content-Type': 'application/json', Accept: ACCEPT_BOTH } });
	assert.equal(init.status, 200, init.body);
	const sid = init.headers['mcp-session-id'];
	const h = { 'Mcp-Session-Id': sid, 'MCP-Protocol-Version': '2025-11-25' };
	const n = await request({ port: r.port, body: { jsonrpc: '2.0', method: 'notifications/initialized' }, headers: { Host: HOST, 'Content-Type': 'application/json', Accept: ACCEPT_BOTH, ...h } });
	assert.equal(n.status, 202, n.body);
	return { sid, i, headers: h };
}

/** A GET stream through the balancer: its status (200 with an event stream, or the refusal's). */
async function getStream(lb, s) {
	const { default: https } = await import('node:https');
	return new Promise((resolve) => {
		const req = https.request(
			{ host: '127.0.0.1', port: lb.port, path: '/mcp', method: 'GET', ca: lb.ca, agent: false, headers: { Host: HOST, Accept: 'text/event-stream', ...s.headers } },
			(res) => {
				const ok = res.statusCode === 200 && (res.headers['content-type'] ?? '').startsWith('text/event-stream');
				resolve(ok ? 'ok' : String(res.statusCode));
				req.destroy();
			},
		);
		req.on('error', (e) => resolve(`error ${e.code ?? e.message}`));
		req.setTimeout(5000, () => req.destroy(new Error('timeout')));
		req.end();
	});
}

/** Three calls and a GET stream of session s through the balancer: each 'ok' or its status. */
async function useSession(lb, s) {
	const out = [];
	for (let k = 0; k < 3; k++) {
		const text = `${s.i}-${k}`;
		const r = await lbPost(lb, { jsonrpc: '2.0', id: 2 + k, method: 'tools/call', params: { name: 'echo', arguments: { text } } }, s.headers);
		out.push(r.status === 200 && messageOf(r).result?.content?.[0]?.text === text ? 'ok' : String(r.status));
	}
	out.push(await getStream(lb, s));
	return out;
}

/** Sessions opened on each replica in turn (n in all). */
async function openMany(replicas, n) {
	const out = [];
	for (let i = 0; i < n; i++) out.push(await openDirect(replicas[i % replicas.length], i));
	return out;
}

/** Which replica answers a 2026-07-28 request without a session. */
async function discover(lb, id) {
	const r = await lbPost(
		lb,
		{ jsonrpc: '2.0', id, method: 'server/discover', params: { _meta: statelessMeta() } },
		{ 'MCP-Protocol-Version': STATELESS_VERSION, 'Mcp-Method': 'server/discover' },
	);
	assert.equal(r.status, 200, r.body);
	return messageOf(r).result.serverInfo.name;
}

describe('deploy/ load balancers in front of three replicas', () => {
	const replicas = [];
	let dir;
	let cert;
	before(async () => {
		for (const prog of ['nginx', 'haproxy', 'openssl']) assert.ok(which(prog), `${prog} is not installed (scripts/install-deps.sh)`);
		dir = makeTempDir('moat-deploy-lb-');
		cert = makeCert(dir);
		for (let i = 1; i <= NREPLICAS; i++) {
			const cfg = writeConfig(dir, testingConfig({ audit: false, server: { name: `replica-${i}` }, listen: { allowed_hosts: [HOST] } }), `r${i}.json`);
			replicas.push(await startListener(cfg));
		}
	});
	after(async () => {
		for (const r of replicas) assert.equal((await r.stop()).code, 0, r.stderr());
	});

	for (const kind of ['nginx', 'haproxy']) {
		test(`${kind}: sessions stay on their replica, requests without one spread, Host passes`, async () => {
			const sub = path.join(dir, kind);
			fs.mkdirSync(sub);
			const port = await freePort();
			const args = kind === 'nginx' ? nginxConf(sub, port, replicas, cert) : haproxyCfg(sub, port, replicas, cert);
			const proxy = await startProxy(kind, args, port, path.join(sub, 'out.log'));
			const lb = { port, ca: cert.ca };
			try {
				const seen = new Set();
				for (let i = 0; i < 9; i++) seen.add(await discover(lb, 100 + i));
				assert.deepEqual([...seen].sort(), ['replica-1', 'replica-2', 'replica-3'], 'requests without a session reach every replica');
				// Each session: all four requests to one replica, so all
				// succeed (its own) or all are 404 (another's); some succeed.
				const sessions = await openMany(replicas, 24);
				let whole = 0;
				for (const s of sessions) {
					const u = await useSession(lb, s);
					const same = u.every((x) => x === u[0]);
					assert.ok(same, `session ${s.i}: its requests went to different replicas: ${u.join(', ')}`);
					assert.ok(u[0] === 'ok' || u[0] === '404', `session ${s.i}: ${u.join(', ')}`);
					if (u[0] === 'ok') whole++;
				}
				assert.ok(whole >= 1 && whole < sessions.length, `${whole} of ${sessions.length} sessions hashed to the replica that opened them`);
			} finally {
				await proxy.stop();
			}
		});
	}

	test('nginx without the hash line: a session\'s requests spread over replicas (the hash is what keeps them together)', async () => {
		const sub = path.join(dir, 'nginx-nohash');
		fs.mkdirSync(sub);
		const port = await freePort();
		const proxy = await startProxy('nginx', nginxConf(sub, port, replicas, cert, { dropHash: true }), port, path.join(sub, 'out.log'));
		const lb = { port, ca: cert.ca };
		try {
			let mixed = 0;
			for (const s of await openMany(replicas, 6)) {
				const u = await useSession(lb, s);
				if (!u.every((x) => x === u[0])) mixed++;
			}
			assert.ok(mixed >= 3, `only ${mixed} of 6 sessions had their requests spread without the hash`);
		} finally {
			await proxy.stop();
		}
	});
});
