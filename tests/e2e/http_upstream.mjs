// http_upstream.mjs - local upstream servers for the http family's tests.
//
// startUpstream() starts a Node http or https server on a loopback address
// (port 0 unless told) that records every request it receives (method, raw
// URL, path, headers, body, arrival time) and answers from scripted routes:
// an object of "METHOD /path" (or "* /path", or "METHOD /prefix/*") keys to
// handlers (req, res, rec) => void, and an optional fallback. Unknown
// requests get a 404. close() destroys every open connection too, so a
// route that never answers cannot hold a test open.
//
// makeTestCA() makes a throwaway CA and a server certificate for
// 127.0.0.1 and localhost (subjectAltName) with the openssl CLI. There is
// no fallback: when openssl is missing it throws, and the suite fails.
//
// canary(): an upstream that answers nothing useful and exists only to
// prove that no request reached it.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import assert from 'node:assert/strict';
import { makeTempDir } from './helpers.mjs';

// A valid 1x1 RGBA PNG (70 bytes).
export const PNG = Buffer.from(
	'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
	'base64',
);

// A minimal PDF: libmagic types it application/pdf.
export const PDF = Buffer.from(
	'%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Count 0/Kids[]>>endobj\n' +
		'trailer<</Root 1 0 R>>\n%%EOF\n',
);

/** Send body (string, Buffer or object as JSON) with status and headers. */
export function send(res, status, body = '', headers = {}) {
	let data = body;
	let type = 'text/plain; charset=utf-8';
	if (!(typeof body === 'string' || Buffer.isBuffer(body))) {
		data = JSON.stringify(body);
		type = 'application/json';
	}
	res.writeHead(status, {
		'content-type': type,
		'content-length': Buffer.byteLength(data),
		...headers,
	});
	res.end(data);
}

function routeFor(routes, method, p) {
	for (const key of [`${method} ${p}`, `* ${p}`]) if (routes[key]) return routes[key];
	let best = null;
	let bestLen = -1;
	for (const [key, fn] of Object.entries(routes)) {
		const sp = key.indexOf(' ');
		const m = key.slice(0, sp);
		const pat = key.slice(sp + 1);
		if ((m !== method && m !== '*') || !pat.endsWith('/*')) continue;
		const prefix = pat.slice(0, -1);
		if (p.startsWith(prefix) && prefix.length > bestLen) {
			best = fn;
			bestLen = prefix.length;
		}
	}
	return best;
}

/**
 * Start a recording upstream.
 * opts: { host = '127.0.0.1', port = 0, tls: { key, cert } (PEM) for https,
 *         routes: { 'GET /x': (req, res, rec) => ... }, fallback(req, res, rec) }
 * Returns { host, port, origin, requests, server, hits(pred), reset(), close() }.
 */
export async function startUpstream(opts = {}) {
	const host = opts.host ?? '127.0.0.1';
	const routes = opts.routes ?? {};
	const requests = [];
	const sockets = new Set();
	const handler = (req, res) => {
		const url = new URL(req.url, 'http://upstream.invalid');
		const rec = {
			method: req.method,
			url: req.url, // raw request target, as sent
			path: url.pathname,
			query: url.search,
			headers: req.headers,
			rawHeaders: req.rawHeaders,
			body: '',
			at: Date.now(),
			remote: req.socket.remoteAddress,
		};
		requests.push(rec);
		const chunks = [];
		req.on('data', (c) => chunks.push(c));
		req.on('end', () => {
			rec.body = Buffer.concat(chunks).toString('utf8');
			const fn = routeFor(routes, req.method, url.pathname) ?? opts.fallback;
			if (!fn) return send(res, 404, { error: 'no such route' });
			try {
				fn(req, res, rec);
			} catch (e) {
				send(res, 500, `route failed: ${e.message}`);
			}
		});
	};
	const server = opts.tls
		? https.createServer({ key: opts.tls.key, cert: opts.tls.cert }, handler)
		: http.createServer(handler);
	server.keepAliveTimeout = 2000;
	const onConn = (s) => {
		sockets.add(s);
		s.on('close', () => sockets.delete(s));
	};
	server.on(opts.tls ? 'secureConnection' : 'connection', onConn);
	if (opts.tls) server.on('connection', onConn); // also count sockets that never finish TLS
	await new Promise((resolve, reject) => {
		server.once('error', reject);
		server.listen({ host, port: opts.port ?? 0, ipv6Only: host.includes(':') }, () => {
			server.off('error', reject);
			resolve();
		});
	});
	const port = server.address().port;
	const h = host.includes(':') ? `[${host}]` : host;
	return {
		host,
		port,
		origin: `${opts.tls ? 'https' : 'http'}://${h}:${port}`,
		requests,
		server,
		sockets,
		/** The requests matching pred (default: all). */
		hits(pred = () => true) {
			return requests.filter(pred);
		},
		reset() {
			requests.length = 0;
		},
		async close() {
			for (const s of sockets) s.destroy();
			await new Promise((r) => server.close(() => r()));
		},
	};
}

/**
 * Start upstreams on several loopback addresses sharing one port (the
 * sandbox grants moat TCP ports, not addresses: a canary on the port of an
 * allowed upstream is stopped by the egress guard alone). specs: an array
 * of startUpstream options without port; the first picks the port. Retries
 * a few times when another process holds the port on a later address.
 */
export async function startOnOnePort(specs) {
	for (let attempt = 0; attempt < 20; attempt++) {
		const first = await startUpstream(specs[0]);
		const started = [first];
		try {
			for (const s of specs.slice(1)) started.push(await startUpstream({ ...s, port: first.port }));
			return started;
		} catch (e) {
			for (const s of started) await s.close();
			if (e.code !== 'EADDRINUSE') throw e;
		}
	}
	throw new Error('could not find one free port on every address');
}

/** True when this machine can listen on ::1. */
export async function haveIPv6Loopback() {
	return new Promise((resolve) => {
		const s = net.createServer();
		s.once('error', () => resolve(false));
		s.listen({ host: '::1', port: 0, ipv6Only: true }, () => s.close(() => resolve(true)));
	});
}

// ---- a test CA -------------------------------------------------------------

function openssl(args, cwd) {
	const r = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
	if (r.error) {
		throw new Error(`the openssl CLI is needed to make the test CA: ${r.error.message}`);
	}
	assert.equal(r.status, 0, `openssl ${args.join(' ')} failed:\n${r.stderr}`);
}

/**
 * Make a CA and a server certificate for 127.0.0.1 and localhost, signed
 * by it, in a new temp dir. Returns { dir, caFile, ca, key, cert } (PEM text).
 */
export function makeTestCA() {
	const dir = makeTempDir('moat-e2e-ca-');
	const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
	openssl(
		[
			'req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2',
			'-subj', '/CN=moat test CA',
			'-addext', 'basicConstraints=critical,CA:TRUE',
			'-addext', 'keyUsage=critical,keyCertSign,cRLSign',
		],
		dir,
	);
	openssl(['req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost'], dir);
	fs.writeFileSync(
		path.join(dir, 'ext.cnf'),
		'basicConstraints=CA:FALSE\n' +
			'keyUsage=critical,digitalSignature\n' +
			'extendedKeyUsage=serverAuth\n' +
			'subjectAltName=IP:127.0.0.1,DNS:localhost\n',
	);
	openssl(
		[
			'x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key',
			'-CAcreateserial', '-out', 'server.pem', '-days', '2', '-sha256', '-extfile', 'ext.cnf',
		],
		dir,
	);
	const read = (n) => fs.readFileSync(path.join(dir, n), 'utf8');
	return {
		dir,
		caFile: path.join(dir, 'ca.pem'),
		ca: read('ca.pem'),
		key: read('server.key'),
		cert: read('server.pem'),
	};
}

// ---- scripted answers ----------------------------------------------------------

/** A route that never answers (the connection stays open until close()). */
export const hang = () => {};

/**
 * A route that sends a 200 head promising n bytes, then one byte a second.
 * stats.sent counts the bytes written, stats.closedAt is when the client
 * hung up (Date.now()), stats.closed resolves then.
 */
export function drip(n = 100) {
	const stats = { sent: 0, closedAt: 0 };
	let done;
	stats.closed = new Promise((r) => (done = r));
	const fn = (req, res) => {
		res.writeHead(200, { 'content-type': 'text/plain', 'content-length': n });
		res.flushHeaders();
		const t = setInterval(() => {
			if (res.destroyed || stats.sent >= n) return clearInterval(t);
			res.write('x');
			stats.sent++;
		}, 1000);
		res.on('close', () => {
			clearInterval(t);
			stats.closedAt = Date.now();
			done();
		});
	};
	return { fn, stats };
}

/**
 * A route that streams total bytes of 'x' in 64 KiB chunks, honouring
 * back-pressure, with or without Content-Length. stats.sent counts the
 * bytes written before the client went away; stats.closed resolves then.
 */
export function stream(total, { contentLength = false, type = 'application/json' } = {}) {
	const stats = { sent: 0 };
	let done;
	stats.closed = new Promise((r) => (done = r));
	const chunk = Buffer.alloc(64 * 1024, 'x');
	const fn = (req, res) => {
		const head = { 'content-type': type };
		if (contentLength) head['content-length'] = total;
		res.writeHead(200, head);
		const pump = () => {
			while (stats.sent < total && !res.destroyed) {
				stats.sent += chunk.length;
				if (!res.write(chunk)) return res.once('drain', pump);
			}
			if (!res.destroyed) res.end();
		};
		res.on('close', () => done());
		pump();
	};
	return { fn, stats };
}

/** The text of every value (results, stderr, files) joined, for leak checks. */
export function allText(values) {
	return values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join('\n');
}
