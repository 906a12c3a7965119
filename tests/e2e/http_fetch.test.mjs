// http_fetch.test.mjs - the fetch tool end to end through the official SDK
// client, against local upstreams on 127.0.0.1 and 127.0.0.2 (one port)
// and an https one with a test CA: HTML turned into text (headings, links,
// lists; scripts and styles dropped), plain text and JSON returned as they
// are, binary refused unless raw (then a resource blob), paging with
// max_length/start_index and the reference server's truncation note,
// allow_hosts and deny_hosts, redirects, and upstream errors.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { assertToolError, connectClient, makeTempDir, resultText, writeConfig } from './helpers.mjs';
import { PNG, makeTestCA, send, startOnOnePort, startUpstream } from './http_upstream.mjs';

const SCRIPT_CANARY = 'script-canary-never-shown';
const STYLE_CANARY = 'style-canary-never-shown';

const PAGE = `<!DOCTYPE html>
<html><head><title>The Page</title>
<style>.x { color: red } /* ${STYLE_CANARY} */</style>
<script>var s = "${SCRIPT_CANARY}";</script></head>
<body>
<h1>Main   Heading</h1>
<p>First paragraph with a <a href="/docs/intro">relative link</a> and
<a href="https://example.org/abs">an absolute one</a>.</p>
<h2>Second level</h2>
<ul><li>one</li><li>two</li></ul>
<noscript>${SCRIPT_CANARY}</noscript>
<p>Entities: &amp; &lt;tag&gt; &eacute;</p>
<script type="module">${SCRIPT_CANARY}()</script>
</body></html>`;

const PLAIN = 'line one\n  indented <b>not html</b>\n\ttab\nlast line';
const JSON_TEXT = '{"a":1,"nested":{"b":[true,null,"x"]},"s":"<p>not html</p>"}';
// 12000 code points, some of them multi-byte: paging counts characters.
const LONG = Array.from({ length: 12000 }, (_, i) => (i % 100 === 99 ? 'é' : i % 1000 === 500 ? '😀' : String.fromCharCode(97 + (i % 26)))).join('');

// Made when the file loads: without openssl the whole file fails (it is
// never skipped).
const ca = makeTestCA();
let main, second, tls, dir, mainCfg, allowCfg;

function routes(tag) {
	return {
		'GET /page.html': (req, res) => send(res, 200, PAGE, { 'content-type': 'text/html; charset=utf-8' }),
		'GET /plain.txt': (req, res) => send(res, 200, PLAIN, { 'content-type': 'text/plain; charset=utf-8' }),
		'GET /data.json': (req, res) => send(res, 200, JSON_TEXT, { 'content-type': 'application/json' }),
		'GET /image.png': (req, res) => send(res, 200, PNG, { 'content-type': 'image/png' }),
		'GET /long.txt': (req, res) => send(res, 200, LONG, { 'content-type': 'text/plain; charset=utf-8' }),
		'GET /latin1.txt': (req, res) => send(res, 200, Buffer.from([0x63, 0x61, 0x66, 0xe9]), { 'content-type': 'text/plain; charset=iso-8859-1' }),
		'GET /missing': (req, res) => send(res, 404, 'gone'),
		'GET /moved': (req, res) => {
			res.writeHead(301, { location: '/plain.txt' });
			res.end();
		},
		'GET /downgrade': (req, res) => {
			res.writeHead(302, { location: `${main.origin}/plain-target` });
			res.end();
		},
		'GET /loop': (req, res) => {
			res.writeHead(302, { location: '/loop' });
			res.end();
		},
		'GET /who': (req, res) => send(res, 200, `served by ${tag}`),
		'GET /go': (req, res) => {
			res.writeHead(302, { location: new URL(req.url, 'http://x').searchParams.get('to') });
			res.end();
		},
	};
}

const call = (c, args) => c.client.callTool({ name: 'fetch', arguments: args });

/** The content after the "Contents of URL:\n" line. */
function body(text, url) {
	const head = `Contents of ${url}:\n`;
	const i = text.indexOf(head);
	assert.ok(i >= 0, `no "${head.trim()}" in ${JSON.stringify(text.slice(0, 200))}`);
	return text.slice(i + head.length);
}

before(async () => {
	[main, second] = await startOnOnePort([
		{ host: '127.0.0.1', routes: routes('127.0.0.1') },
		{ host: '127.0.0.2', routes: routes('127.0.0.2') },
	]);
	tls = await startUpstream({ tls: { key: ca.key, cert: ca.cert }, routes: routes('tls') });
	dir = makeTempDir('moat-e2e-http-fetch-');
	const fetchBase = {
		allow_addresses: ['127.0.0.1', '127.0.0.2'],
		ports: [main.port, tls.port],
		ca_file: ca.caFile,
		timeout_ms: 5000,
	};
	mainCfg = writeConfig(dir, { http: { fetch: { ...fetchBase, deny_hosts: ['127.0.0.2'] } } }, 'main.json');
	allowCfg = writeConfig(dir, { http: { fetch: { ...fetchBase, allow_hosts: ['127.0.0.2'] } } }, 'allow.json');
});

after(async () => {
	await main?.close();
	await second?.close();
	await tls?.close();
});

describe('fetch', { concurrency: true }, () => {
	let c;
	const url = (p) => `${main.origin}${p}`;
	before(async () => {
		c = await connectClient(mainCfg);
	});
	after(async () => {
		await c?.close();
	});

	test('is listed with the reference parameters and read-only hints', async () => {
		const { tools } = await c.client.listTools();
		const f = tools.find((t) => t.name === 'fetch');
		assert.ok(f, 'fetch is listed');
		assert.deepEqual(Object.keys(f.inputSchema.properties).sort(), ['max_length', 'raw', 'start_index', 'url']);
		assert.deepEqual(f.inputSchema.required, ['url']);
		assert.equal(f.annotations.readOnlyHint, true);
		assert.equal(f.annotations.openWorldHint, true);
	});

	test('HTML becomes text: headings, links resolved, lists; scripts and styles dropped', async () => {
		const r = await call(c, { url: url('/page.html') });
		assert.notEqual(r.isError, true, resultText(r));
		const text = resultText(r);
		const b = body(text, url('/page.html'));
		assert.ok(text.startsWith(`Contents of ${url('/page.html')}:\n`), 'no prefix for converted HTML');
		assert.match(b, /^# Main Heading$/m);
		assert.match(b, /^## Second level$/m);
		assert.ok(b.includes(`[relative link](${main.origin}/docs/intro)`), b);
		assert.ok(b.includes('[an absolute one](https://example.org/abs)'), b);
		assert.match(b, /^- one$/m);
		assert.match(b, /^- two$/m);
		assert.ok(b.includes('Entities: & <tag> é'), b);
		for (const gone of [SCRIPT_CANARY, STYLE_CANARY, '<p>', '<h1>', 'color: red']) {
			assert.ok(!b.includes(gone), `${gone} is in the text:\n${b}`);
		}
	});

	test('raw=true returns the HTML as it is', async () => {
		const r = await call(c, { url: url('/page.html'), raw: true, max_length: 100000 });
		assert.notEqual(r.isError, true, resultText(r));
		assert.ok(resultText(r).endsWith(PAGE), resultText(r).slice(0, 300));
		// as the reference: raw content gets the "cannot be simplified" prefix
		assert.match(resultText(r), /^Content type text\/html(; charset=[\w-]+)? cannot be simplified to markdown/);
	});

	test('plain text is returned as it is, after the reference\'s "cannot be simplified" prefix', async () => {
		const r = await call(c, { url: url('/plain.txt') });
		assert.notEqual(r.isError, true, resultText(r));
		const text = resultText(r);
		assert.match(text, /^Content type text\/plain(; charset=[\w-]+)? cannot be simplified to markdown, but here is the raw content:\n/);
		assert.equal(body(text, url('/plain.txt')), PLAIN);
	});

	test('JSON is returned as it is', async () => {
		const r = await call(c, { url: url('/data.json') });
		assert.notEqual(r.isError, true, resultText(r));
		assert.equal(body(resultText(r), url('/data.json')), JSON_TEXT);
	});

	test('a latin-1 page is returned as UTF-8', async () => {
		const r = await call(c, { url: url('/latin1.txt') });
		assert.equal(body(resultText(r), url('/latin1.txt')), 'café');
	});

	test('binary is refused unless raw; raw gives a resource blob typed from its bytes', async () => {
		const refused = await call(c, { url: url('/image.png') });
		assertToolError(refused, /binary/, /raw=true/);
		const r = await call(c, { url: url('/image.png'), raw: true });
		assert.notEqual(r.isError, true, JSON.stringify(r));
		const block = r.content.find((b) => b.type === 'resource');
		assert.ok(block, JSON.stringify(r));
		assert.equal(block.resource.mimeType, 'image/png');
		assert.equal(block.resource.blob, PNG.toString('base64'));
		assert.equal(block.resource.uri, url('/image.png'));
	});

	test('paging: max_length and start_index count characters; the truncation note names the next index', async () => {
		const note = (n) =>
			`\n\n<error>Content truncated. Call the fetch tool with a start_index of ${n} to get more content.</error>`;
		const u = url('/long.txt');
		const chars = [...LONG];
		const page = async (args) => {
			const r = await call(c, { url: u, ...args });
			assert.notEqual(r.isError, true, resultText(r));
			return body(resultText(r), u);
		};
		const p1 = await page({});
		assert.equal(p1, chars.slice(0, 5000).join('') + note(5000), 'default max_length is 5000');
		const p2 = await page({ start_index: 5000 });
		assert.equal(p2, chars.slice(5000, 10000).join('') + note(10000));
		const p3 = await page({ start_index: 10000 });
		assert.equal(p3, chars.slice(10000).join(''), 'the last page has no note');
		const small = await page({ start_index: 11990, max_length: 5 });
		assert.equal(small, chars.slice(11990, 11995).join('') + note(11995));
		const exact = await page({ start_index: 11990, max_length: 10 });
		assert.equal(exact, chars.slice(11990).join(''), 'no note when nothing remains');
		const past = await call(c, { url: u, start_index: 12000 });
		assert.ok(resultText(past).endsWith(`Contents of ${u}:\n<error>No more content available.</error>`), resultText(past));
	});

	test('an argument outside the schema is an error before any request', async () => {
		const before = main.requests.length;
		const r = await call(c, { url: url('/plain.txt'), max_length: 0 });
		assert.equal(r.isError, true);
		assert.equal(main.requests.length, before);
	});

	test('a redirect on an allowed host is followed', async () => {
		const r = await call(c, { url: url('/moved') });
		assert.notEqual(r.isError, true, resultText(r));
		assert.ok(resultText(r).endsWith(PLAIN));
	});

	test('a redirect loop stops after 5 redirects', async () => {
		assertToolError(await call(c, { url: url('/loop') }), /redirected more than 5 times/);
		assert.equal(main.hits((x) => x.path === '/loop').length, 6);
	});

	test('an upstream 404 is an error naming the status', async () => {
		assertToolError(await call(c, { url: url('/missing') }), /404/);
	});

	test('https with the configured ca_file', async () => {
		const u = `${tls.origin}/data.json`;
		const r = await call(c, { url: u });
		assert.notEqual(r.isError, true, resultText(r));
		assert.equal(body(resultText(r), u), JSON_TEXT);
	});

	test('a redirect from https to http is refused, although fetch allows http', async () => {
		const r = await call(c, { url: `${tls.origin}/downgrade` });
		assertToolError(r, /refused/, /redirected from https to http/);
		assert.equal(tls.hits((x) => x.path === '/downgrade').length, 1);
		assert.equal(main.hits((x) => x.path === '/plain-target').length, 0);
	});

	test('deny_hosts: a denied host is refused before any request', async () => {
		const before = second.requests.length;
		const r = await call(c, { url: `${second.origin}/who` });
		assertToolError(r, /refused/, /deny_hosts/);
		// other spellings of the same host (tests/attack/http_hosts.test.mjs has many more)
		for (const h of ['127.0.0.2.', '0x7f000002', '2130706434', '127.0.2']) {
			assertToolError(await call(c, { url: `http://${h}:${second.port}/who` }), /refused/, /deny_hosts/);
		}
		assert.equal(second.requests.length, before, '127.0.0.2 received nothing');
	});

	test('a port not in "ports" is refused', async () => {
		const other = await startUpstream({ routes: routes('other') });
		try {
			const r = await call(c, { url: `${other.origin}/who` });
			assertToolError(r, /refused/, /port/);
			assert.equal(other.requests.length, 0);
		} finally {
			await other.close();
		}
	});
});

describe('fetch with allow_hosts', () => {
	test('only the listed host is fetched, also across a redirect', async () => {
		const c = await connectClient(allowCfg);
		try {
			const ok = await call(c, { url: `${second.origin}/who` });
			assert.equal(body(resultText(ok), `${second.origin}/who`), 'served by 127.0.0.2');
			// the listed host in another spelling is the same host
			for (const h of ['127.0.0.2.', '0x7f000002']) {
				const u = `http://${h}:${second.port}/who`;
				const alt = await call(c, { url: u });
				assert.equal(body(resultText(alt), u), 'served by 127.0.0.2');
			}
			const before = main.requests.length;
			const r = await call(c, { url: `${main.origin}/who` });
			assertToolError(r, /refused/, /allow_hosts/);
			const hop = await call(c, { url: `${second.origin}/go?to=${encodeURIComponent(`${main.origin}/who`)}` });
			assertToolError(hop, /refused/, /allow_hosts/);
			assert.equal(main.requests.length, before, '127.0.0.1 received nothing');
		} finally {
			await c.close();
		}
	});
});
