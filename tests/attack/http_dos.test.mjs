// http_dos.test.mjs - resource attacks on moat's HTTP listener, over real
// sockets: 2,000 connections held open with partial headers (slowloris)
// while a legitimate client keeps getting answers, a 1 GiB body, request
// smuggling shapes (duplicate Content-Length, Transfer-Encoding with
// Content-Length, odd lengths), a flood from one address (429 with
// Retry-After), and a client too slow to finish its headers. Afterwards the
// server still answers, its memory stayed small, and no smuggled request
// ran a tool (the audit trail is the witness).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { makeTempDir, writeConfig, testingConfig, sleep } from '../e2e/helpers.mjs';
import { ACCEPT_BOTH, INIT, callTool, initialize, post, raw, startListener, statuses } from './http_fixture.mjs';

const rssKiB = (pid) => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);

function readTrail(file) {
	return fs.existsSync(file)
		? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l))
		: [];
}

describe('HTTP listener: resource attacks', () => {
	let m, trail;
	before(async () => {
		const dir = makeTempDir('moat-http-dos-');
		trail = path.join(dir, 'audit.jsonl');
		const cfg = writeConfig(
			dir,
			testingConfig({
				audit: { file: trail },
				listen: { read_timeout_s: 3, max_body_bytes: 1048576, max_connections: 4096, max_connections_per_ip: 256 },
			}),
		);
		m = await startListener(cfg);
	});
	after(async () => {
		const e = await m.stop();
		assert.equal(e.code, 0, m.stderr());
	});

	test('2,000 connections holding partial headers do not starve a legitimate client', async () => {
		const held = [];
		const opened = [];
		for (let i = 0; i < 2000; i++) {
			opened.push(
				new Promise((resolve) => {
					const s = net.connect({ port: m.port, host: '127.0.0.1', localAddress: '127.0.0.2' });
					s.on('error', () => resolve());
					s.on('connect', () => {
						s.write(`POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:${m.port}\r\nX-Slow: `);
						resolve();
					});
					held.push(s);
				}),
			);
		}
		await Promise.all(opened);
		try {
			const s = await initialize(m.port);
			const times = [];
			for (let i = 0; i < 20; i++) {
				const t0 = Date.now();
				const r = await callTool(m.port, s.headers, 'add', { a: i, b: 1 }, 100 + i);
				times.push(Date.now() - t0);
				assert.equal(r.result.isError, false);
				assert.equal(r.result.structuredContent?.sum ?? Number(r.result.content[0].text), i + 1);
			}
			assert.ok(Math.max(...times) < 2000, `slowest answer ${Math.max(...times)} ms`);
			assert.ok(rssKiB(m.proc.pid) < 200 * 1024, `RSS ${rssKiB(m.proc.pid)} KiB with 2,000 connections`);
		} finally {
			for (const s of held) s.destroy();
		}
	});

	test('a connection that never finishes its headers is closed by the read deadline', async () => {
		const t0 = Date.now();
		const r = await raw(m.port, `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:${m.port}\r\nX-Slow: a`, 10000);
		assert.equal(r.closed, true, 'the server closed the connection');
		assert.ok(Date.now() - t0 < 8000, `closed after ${Date.now() - t0} ms (read_timeout_s 3)`);
	});

	test('a 1 GiB body is refused early with 413, and memory stays small', async () => {
		const rss0 = rssKiB(m.proc.pid);
		const got = await new Promise((resolve) => {
			const s = net.connect(m.port, '127.0.0.1');
			const chunks = [];
			let sent = 0;
			const block = Buffer.alloc(1 << 16, 0x20);
			let stop = false;
			s.on('data', (c) => {
				chunks.push(c);
				stop = true;
			});
			const end = () => resolve({ text: Buffer.concat(chunks).toString('latin1'), sent });
			s.on('close', end);
			s.on('error', () => {});
			s.write(
				`POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:${m.port}\r\nContent-Type: application/json\r\nAccept: ${ACCEPT_BOTH}\r\nContent-Length: ${1 << 30}\r\n\r\n`,
			);
			const pump = () => {
				while (!stop && sent < 1 << 30) {
					sent += block.length;
					if (!s.write(block)) {
						s.once('drain', pump);
						return;
					}
				}
				if (stop) setTimeout(() => s.destroy(), 200);
			};
			pump();
			setTimeout(() => s.destroy(), 15000);
		});
		assert.deepEqual(statuses(got.text).slice(0, 1), [413], got.text.slice(0, 300));
		assert.ok(got.sent < 256 << 20, `the server answered after ${got.sent} bytes`);
		assert.ok(rssKiB(m.proc.pid) - rss0 < 32 * 1024, 'the body was not buffered');
		// A chunked body with no length is cut off at the same limit.
		const chunked = await raw(
			m.port,
			`POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:${m.port}\r\nContent-Type: application/json\r\nAccept: ${ACCEPT_BOTH}\r\nTransfer-Encoding: chunked\r\n\r\n` +
				`100000\r\n${' '.repeat(0x100000)}\r\n100000\r\n${' '.repeat(0x100000)}\r\n0\r\n\r\n`,
		);
		assert.equal(statuses(chunked.text)[0], 413);
	});

	test('request smuggling shapes are refused and never run the hidden request', async () => {
		const s = await initialize(m.port);
		const hidden = JSON.stringify({ jsonrpc: '2.0', id: 77, method: 'tools/call', params: { name: 'echo', arguments: { text: 'SMUGGLED' } } });
		const hiddenReq =
			`POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:${m.port}\r\nContent-Type: application/json\r\nAccept: ${ACCEPT_BOTH}\r\n` +
			`Mcp-Session-Id: ${s.sid}\r\nMCP-Protocol-Version: ${s.version}\r\nContent-Length: ${hidden.length}\r\n\r\n${hidden}`;
		const ping = '{"jsonrpc":"2.0","id":5,"method":"ping"}';
		const head = `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:${m.port}\r\nContent-Type: application/json\r\nAccept: ${ACCEPT_BOTH}\r\nMcp-Session-Id: ${s.sid}\r\nMCP-Protocol-Version: ${s.version}\r\n`;
		const shapes = {
			'two different Content-Length': `${head}Content-Length: ${ping.length}\r\nContent-Length: ${ping.length + hiddenReq.length}\r\n\r\n${ping}${hiddenReq}`,
			'Content-Length list': `${head}Content-Length: ${ping.length}, ${ping.length + hiddenReq.length}\r\n\r\n${ping}${hiddenReq}`,
			'Transfer-Encoding with Content-Length': `${head}Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n${ping.length.toString(16)}\r\n${ping}\r\n0\r\n\r\n${hiddenReq}`,
			'obfuscated Transfer-Encoding': `${head}Transfer-Encoding: xchunked\r\nContent-Length: ${ping.length}\r\n\r\n${ping}`,
			'negative Content-Length': `${head}Content-Length: -1\r\n\r\n${ping}`,
			'signed Content-Length': `${head}Content-Length: +${ping.length}\r\n\r\n${ping}`,
			'space before the colon': `${head}Content-Length : ${ping.length}\r\n\r\n${ping}`,
		};
		for (const [name, text] of Object.entries(shapes)) {
			const r = await raw(m.port, text);
			const codes = statuses(r.text);
			assert.ok(codes.length <= 1 || codes.slice(1).every((c) => c >= 400), `${name}: several answers ${codes}`);
			if (codes.length) assert.ok(codes[0] >= 400 || name === 'Transfer-Encoding with Content-Length', `${name}: ${codes}`);
		}
		await sleep(200);
		const smuggled = readTrail(trail).filter((r) => r.kind === 'call' && r.id === 77);
		assert.deepEqual(smuggled, [], 'the hidden request never ran');
		const ok = await callTool(m.port, s.headers, 'echo', { text: 'still here' }, 78);
		assert.equal(ok.result.isError, false);
	});
});

describe('HTTP listener: a flood from one address', () => {
	let m;
	before(async () => {
		const cfg = writeConfig(makeTempDir('moat-http-rate-'), testingConfig({ listen: { requests_per_second_per_ip: 5 } }));
		m = await startListener(cfg);
	});
	after(async () => {
		assert.equal((await m.stop()).code, 0, m.stderr());
	});

	test('past requests_per_second_per_ip the answer is 429 with Retry-After; it recovers', async () => {
		const rs = await Promise.all(Array.from({ length: 40 }, () => post(m.port, INIT())));
		const limited = rs.filter((r) => r.status === 429);
		assert.ok(limited.length > 0, `no 429 among ${rs.map((r) => r.status)}`);
		for (const r of limited) {
			assert.match(r.headers['retry-after'] ?? '', /^\d+$/);
			assert.match(r.body, /limits\.http_rate|requests_per_second_per_ip/);
		}
		assert.ok(rs.some((r) => r.status === 200), 'some requests got through');
		await sleep(1500);
		const again = await post(m.port, INIT());
		assert.equal(again.status, 200, 'served again after a pause');
	});
});
