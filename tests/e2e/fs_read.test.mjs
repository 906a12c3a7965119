// fs_read.test.mjs - the fs read tools (read_text_file, read_file,
// read_multiple_files, read_media_file) end to end through the official SDK
// client: against `moat serve DIR` (read-only roots from the command line)
// and against a config with "roots" and "fs" limits; every parameter and
// every error; and byte-for-byte comparisons with the reference server
// (@modelcontextprotocol/server-filesystem) to prove drop-in compatibility.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import {
	connectClient,
	makeTempDir,
	writeConfig,
	withTimeout,
	resultText,
	assertToolError,
} from './helpers.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const REFERENCE = path.join(REPO, 'node_modules/@modelcontextprotocol/server-filesystem/dist/index.js');

// A valid 1x1 RGBA PNG (70 bytes).
const PNG_B64 =
	'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';
const SECRET = 'TOP-SECRET-FS-READ';
let lastBigLine; // the last line of big.txt
const CUT = '[... cut: output budget limits.max_output_bytes reached ...]';

// A small PCM WAV: 8 kHz mono 8-bit, n samples.
function wav(n) {
	const b = Buffer.alloc(44 + n);
	b.write('RIFF', 0);
	b.writeUInt32LE(36 + n, 4);
	b.write('WAVE', 8);
	b.write('fmt ', 12);
	b.writeUInt32LE(16, 16);
	b.writeUInt16LE(1, 20); // PCM
	b.writeUInt16LE(1, 22); // mono
	b.writeUInt32LE(8000, 24);
	b.writeUInt32LE(8000, 28);
	b.writeUInt16LE(1, 32);
	b.writeUInt16LE(8, 34);
	b.write('data', 36);
	b.writeUInt32LE(n, 40);
	for (let i = 0; i < n; i++) b[44 + i] = 128 + Math.round(100 * Math.sin(i / 4));
	return b;
}

// Invalid UTF-8 of every kind, NUL and a valid 4-byte sequence.
const BAD_UTF8 = Buffer.from([
	0x41, 0xff, 0x42, 0xe2, 0x82, 0x43, 0xc0, 0x80, 0x0a, 0xed, 0xa0, 0x80, 0x00, 0x01, 0x0a,
	0xf0, 0x9f, 0x98, 0x80, 0xf4, 0x90, 0x80, 0x80, 0x0a, 0xe0, 0x80, 0xaf, 0x22, 0x5c, 0x0a,
	0xf0, 0x9f, 0x98,
]);

let base, root, outside, cfgDir;
const P = (...parts) => path.join(root, ...parts);

before(() => {
	base = fs.realpathSync(makeTempDir('moat-e2e-fsread-'));
	root = path.join(base, 'root');
	outside = path.join(base, 'outside');
	cfgDir = path.join(base, 'cfg');
	fs.mkdirSync(path.join(root, 'sub'), { recursive: true });
	fs.mkdirSync(outside);
	fs.mkdirSync(cfgDir);
	fs.writeFileSync(P('hello.txt'), 'line1\nline2\nline3\n');
	fs.writeFileSync(P('noeol.txt'), 'a\nb\nc');
	fs.writeFileSync(P('empty.txt'), '');
	fs.writeFileSync(P('crlf.txt'), 'one\r\ntwo\r\nthree\r\n');
	fs.writeFileSync(P('crlf-noeol.txt'), 'one\r\ntwo\r\nthree');
	fs.writeFileSync(P('blank-lines.txt'), '\n\nx\n\n');
	fs.writeFileSync(P('bad.txt'), BAD_UTF8);
	fs.writeFileSync(P('bom.txt'), Buffer.from([0xef, 0xbb, 0xbf, 0x68, 0x69, 0x0a]));
	fs.writeFileSync(P('quotes.txt'), 'say "hi"\\ \t tab\n');
	// ~1 MB of numbered lines; with and without a trailing newline.
	let big = '';
	for (let i = 0; big.length < 1 << 20; i++) big += `line ${String(i).padStart(7, '0')}\n`;
	fs.writeFileSync(P('big.txt'), big);
	lastBigLine = big.slice(big.lastIndexOf('\n', big.length - 2) + 1, -1);
	fs.writeFileSync(P('big-noeol.txt'), big.slice(0, -1));
	// Multi-byte characters straddling every read chunk boundary.
	let uni = '';
	for (let i = 0; Buffer.byteLength(uni) < 300000; i++) uni += 'é€😀'.repeat(i % 37) + `#${i}\n`;
	fs.writeFileSync(P('unicode.txt'), uni);
	fs.writeFileSync(P('sub', 'nested.txt'), 'nested\n');
	fs.writeFileSync(P('image.png'), Buffer.from(PNG_B64, 'base64'));
	fs.writeFileSync(P('sound.wav'), wav(200));
	fs.writeFileSync(P('fake.png'), 'just text pretending to be a picture\n');
	fs.writeFileSync(P('noext'), Buffer.from(PNG_B64, 'base64'));
	fs.writeFileSync(P('large.txt'), `${SECRET}\n` + 'x'.repeat(5000) + '\n');
	fs.writeFileSync(path.join(outside, 'secret.txt'), `${SECRET}\n`);
	fs.symlinkSync(path.join(outside, 'secret.txt'), P('link-out'));
	fs.symlinkSync('hello.txt', P('link-in'));
});

// ---- clients -----------------------------------------------------------------

/** moat serve DIR through the SDK client. */
function serveDir(dir = root) {
	return connectClient(null, { args: ['serve', dir] });
}

/** moat with a config of roots + fs limits (+ extra top-level sections). */
function serveConfig(fsLimits = {}, extra = {}) {
	const cfg = writeConfig(makeTempDir('moat-e2e-fsread-cfg-'), { roots: [root], fs: fsLimits, ...extra });
	return connectClient(cfg);
}

/** The reference server on the same directory, through the same SDK client. */
async function reference(dir = root) {
	const transport = new StdioClientTransport({ command: process.execPath, args: [REFERENCE, dir], stderr: 'pipe' });
	const client = new Client({ name: 'moat-e2e-ref', version: '0.0.1' }, { capabilities: {} });
	await withTimeout(client.connect(transport), 10000, 'the reference server to connect');
	return { client, close: () => client.close() };
}

const call = (client, name, args) => client.callTool({ name, arguments: args });

async function text(client, name, args) {
	const res = await call(client, name, args);
	assert.notEqual(res.isError, true, `${name} ${JSON.stringify(args)} failed: ${JSON.stringify(res.content)}`);
	assert.equal(res.content.length, 1);
	return resultText(res);
}

// Shared sessions: one moat (serve DIR) and one reference server.
let moat, ref;
before(async () => {
	moat = await serveDir();
	ref = await reference();
});
after(async () => {
	await moat?.close();
	await ref?.close();
	assert.ok(!moat.stderr().includes(SECRET), 'no file content reaches stderr');
});

// ---- listing -------------------------------------------------------------------

describe('tools/list', () => {
	test('the four read tools with titles, read-only annotations and strict schemas', async () => {
		const { tools } = await moat.client.listTools();
		const byName = Object.fromEntries(tools.map((t) => [t.name, t]));
		for (const name of ['read_text_file', 'read_file', 'read_multiple_files', 'read_media_file']) {
			const t = byName[name];
			assert.ok(t, `${name} is listed`);
			assert.equal(typeof t.title, 'string');
			assert.ok(t.description.length > 20);
			assert.deepEqual(t.annotations, {
				readOnlyHint: true,
				destructiveHint: false,
				idempotentHint: true,
				openWorldHint: false,
			});
			assert.equal(t.inputSchema.type, 'object');
			assert.equal(t.inputSchema.additionalProperties, false);
		}
		assert.equal(byName.read_file.title, 'Read File (Deprecated)');
		assert.match(byName.read_file.description, /DEPRECATED: Use read_text_file/);
		const rt = byName.read_text_file.inputSchema;
		assert.deepEqual(rt.required, ['path']);
		assert.equal(rt.properties.path.type, 'string');
		for (const k of ['head', 'tail']) {
			assert.equal(rt.properties[k].type, 'integer');
			assert.equal(rt.properties[k].minimum, 1);
		}
		const rm = byName.read_multiple_files.inputSchema;
		assert.deepEqual(rm.required, ['paths']);
		assert.equal(rm.properties.paths.type, 'array');
		assert.equal(rm.properties.paths.minItems, 1);
		assert.equal(rm.properties.paths.maxItems, 100);
		assert.deepEqual(byName.read_media_file.inputSchema.required, ['path']);
	});

	test('same tool names and parameters as the reference server', async () => {
		const mine = Object.fromEntries((await moat.client.listTools()).tools.map((t) => [t.name, t]));
		const theirs = (await ref.client.listTools()).tools;
		for (const t of theirs.filter((x) => x.name.startsWith('read_'))) {
			assert.ok(mine[t.name], `${t.name} exists in moat`);
			assert.deepEqual(
				Object.keys(mine[t.name].inputSchema.properties).sort(),
				Object.keys(t.inputSchema.properties).sort(),
				`${t.name} parameters`,
			);
			assert.equal(mine[t.name].title, t.title);
		}
	});
});

// ---- read_text_file ----------------------------------------------------------------

describe('read_text_file', () => {
	test('whole file, relative path, nested path, symlink inside the root', async () => {
		assert.equal(await text(moat.client, 'read_text_file', { path: P('hello.txt') }), 'line1\nline2\nline3\n');
		assert.equal(await text(moat.client, 'read_text_file', { path: 'hello.txt' }), 'line1\nline2\nline3\n');
		assert.equal(await text(moat.client, 'read_text_file', { path: 'sub/nested.txt' }), 'nested\n');
		assert.equal(await text(moat.client, 'read_text_file', { path: P('link-in') }), 'line1\nline2\nline3\n');
	});

	test('empty file, no trailing newline, CRLF kept in whole reads, quotes and tabs', async () => {
		assert.equal(await text(moat.client, 'read_text_file', { path: P('empty.txt') }), '');
		assert.equal(await text(moat.client, 'read_text_file', { path: P('noeol.txt') }), 'a\nb\nc');
		assert.equal(await text(moat.client, 'read_text_file', { path: P('crlf.txt') }), 'one\r\ntwo\r\nthree\r\n');
		assert.equal(await text(moat.client, 'read_text_file', { path: P('quotes.txt') }), 'say "hi"\\ \t tab\n');
	});

	test('invalid UTF-8 becomes U+FFFD exactly as Node decodes it; NUL and BOM kept', async () => {
		const got = await text(moat.client, 'read_text_file', { path: P('bad.txt') });
		assert.equal(got, BAD_UTF8.toString('utf8'));
		assert.ok(got.includes('\uFFFD') && got.includes('\u0000') && got.includes('😀'));
		assert.equal(await text(moat.client, 'read_text_file', { path: P('bom.txt') }), '\uFEFFhi\n');
	});

	test('head: first N lines without the final newline; more lines than the file', async () => {
		assert.equal(await text(moat.client, 'read_text_file', { path: P('hello.txt'), head: 1 }), 'line1');
		assert.equal(await text(moat.client, 'read_text_file', { path: P('hello.txt'), head: 2 }), 'line1\nline2');
		assert.equal(await text(moat.client, 'read_text_file', { path: P('hello.txt'), head: 99 }), 'line1\nline2\nline3');
		assert.equal(await text(moat.client, 'read_text_file', { path: P('noeol.txt'), head: 5 }), 'a\nb\nc');
		assert.equal(await text(moat.client, 'read_text_file', { path: P('empty.txt'), head: 3 }), '');
		assert.equal(await text(moat.client, 'read_text_file', { path: P('crlf.txt'), head: 2 }), 'one\r\ntwo\r');
	});

	test('tail: reference semantics (text after the N-th newline from the end), CRLF folded', async () => {
		assert.equal(await text(moat.client, 'read_text_file', { path: P('noeol.txt'), tail: 2 }), 'b\nc');
		assert.equal(await text(moat.client, 'read_text_file', { path: P('noeol.txt'), tail: 9 }), 'a\nb\nc');
		// a trailing newline counts as the last (empty) line, as in the reference
		assert.equal(await text(moat.client, 'read_text_file', { path: P('hello.txt'), tail: 2 }), 'line3\n');
		assert.equal(await text(moat.client, 'read_text_file', { path: P('crlf.txt'), tail: 3 }), 'two\nthree\n');
		assert.equal(await text(moat.client, 'read_text_file', { path: P('crlf-noeol.txt'), tail: 2 }), 'two\nthree');
		assert.equal(await text(moat.client, 'read_text_file', { path: P('empty.txt'), tail: 3 }), '');
	});

	test('a 1 MB file: tail=3 returns the last 3 lines, head=3 the first 3', async () => {
		const big = fs.readFileSync(P('big-noeol.txt'), 'utf8');
		const lines = big.split('\n');
		assert.ok(big.length >= (1 << 20) - 13, "about 1 MB");
		assert.equal(
			await text(moat.client, 'read_text_file', { path: P('big-noeol.txt'), tail: 3 }),
			lines.slice(-3).join('\n'),
		);
		assert.equal(
			await text(moat.client, 'read_text_file', { path: P('big-noeol.txt'), head: 3 }),
			lines.slice(0, 3).join('\n'),
		);
	});

	test('head and tail together are refused, naming the rule', async () => {
		const res = await call(moat.client, 'read_text_file', { path: P('hello.txt'), head: 1, tail: 1 });
		assertToolError(res, /head and tail/, /mutually exclusive/);
	});

	test('schema: head/tail must be integers >= 1; unknown and missing properties refused', async () => {
		for (const args of [
			{ path: P('hello.txt'), head: 0 },
			{ path: P('hello.txt'), tail: -1 },
			{ path: P('hello.txt'), head: 'x' },
			{ path: P('hello.txt'), extra: 1 },
			{ path: 42 },
			{},
		]) {
			assertToolError(await call(moat.client, 'read_text_file', args), /invalid arguments/);
		}
	});

	test('missing file, directory, outside path, escapes through .. and symlinks', async () => {
		assertToolError(await call(moat.client, 'read_text_file', { path: P('nope.txt') }), /no such file/);
		assertToolError(await call(moat.client, 'read_text_file', { path: P('sub') }), /directory/);
		assertToolError(await call(moat.client, 'read_text_file', { path: root }), /directory/);
		for (const p of [path.join(outside, 'secret.txt'), '../outside/secret.txt', P('sub/../../outside/secret.txt'), P('link-out')]) {
			const t = assertToolError(await call(moat.client, 'read_text_file', { path: p }), /access denied/);
			assert.ok(!t.includes(SECRET));
		}
		for (const opt of [{ head: 1 }, { tail: 1 }]) {
			assertToolError(await call(moat.client, 'read_text_file', { path: P('link-out'), ...opt }), /access denied/);
			assertToolError(await call(moat.client, 'read_text_file', { path: P('nope'), ...opt }), /no such file/);
			assertToolError(await call(moat.client, 'read_text_file', { path: P('sub'), ...opt }), /directory/);
		}
	});

	test('read_file is the deprecated alias with the same results', async () => {
		for (const args of [{ path: P('hello.txt') }, { path: P('big.txt'), tail: 4 }, { path: P('crlf.txt'), head: 2 }]) {
			assert.equal(await text(moat.client, 'read_file', args), await text(moat.client, 'read_text_file', args));
		}
		assertToolError(await call(moat.client, 'read_file', { path: P('hello.txt'), head: 1, tail: 1 }), /head and tail/);
	});
});

// ---- read_multiple_files -----------------------------------------------------------

describe('read_multiple_files', () => {
	test('reference format; failures reported inline without failing the call', async () => {
		const got = await text(moat.client, 'read_multiple_files', {
			paths: [P('hello.txt'), P('missing.txt'), 'noeol.txt', P('sub'), P('link-out'), path.join(outside, 'secret.txt'), P('empty.txt')],
		});
		const parts = got.split('\n---\n');
		assert.equal(parts.length, 7);
		assert.equal(parts[0], `${P('hello.txt')}:\nline1\nline2\nline3\n\n`);
		assert.match(parts[1], new RegExp(`^${P('missing.txt')}: Error - no such file`));
		assert.equal(parts[2], 'noeol.txt:\na\nb\nc\n');
		assert.match(parts[3], /: Error - .*directory/);
		assert.match(parts[4], /: Error - access denied/);
		assert.match(parts[5], /: Error - access denied/);
		assert.equal(parts[6], `${P('empty.txt')}:\n\n`);
		assert.ok(!got.includes(SECRET));
	});

	test('invalid UTF-8 replaced in each file', async () => {
		const got = await text(moat.client, 'read_multiple_files', { paths: [P('bad.txt')] });
		assert.equal(got, `${P('bad.txt')}:\n${BAD_UTF8.toString('utf8')}\n`);
	});

	test('schema: at least one path, at most 100, strings only', async () => {
		assertToolError(await call(moat.client, 'read_multiple_files', { paths: [] }), /invalid arguments/);
		assertToolError(await call(moat.client, 'read_multiple_files', { paths: Array(101).fill(P('hello.txt')) }), /invalid arguments/);
		assertToolError(await call(moat.client, 'read_multiple_files', { paths: [1] }), /invalid arguments/);
		assertToolError(await call(moat.client, 'read_multiple_files', { paths: P('hello.txt') }), /invalid arguments/);
		assertToolError(await call(moat.client, 'read_multiple_files', {}), /invalid arguments/);
		const got = await text(moat.client, 'read_multiple_files', { paths: Array(100).fill('hello.txt') });
		assert.equal(got.split('\n---\n').length, 100);
	});

	test('an empty path is an inline error', async () => {
		const got = await text(moat.client, 'read_multiple_files', { paths: ['', 'hello.txt'] });
		const parts = got.split('\n---\n');
		assert.match(parts[0], /^: Error - /);
		assert.equal(parts[1], 'hello.txt:\nline1\nline2\nline3\n\n');
	});
});

// ---- read_media_file ---------------------------------------------------------------

describe('read_media_file', () => {
	test('PNG → image block; WAV → audio block; types sniffed from the content', async () => {
		let res = await call(moat.client, 'read_media_file', { path: P('image.png') });
		assert.notEqual(res.isError, true);
		assert.deepEqual(res.content, [{ type: 'image', mimeType: 'image/png', data: PNG_B64 }]);
		res = await call(moat.client, 'read_media_file', { path: P('sound.wav') });
		assert.deepEqual(res.content, [
			{ type: 'audio', mimeType: 'audio/wav', data: fs.readFileSync(P('sound.wav')).toString('base64') },
		]);
		// no extension: still an image, because libmagic looks at the bytes
		res = await call(moat.client, 'read_media_file', { path: P('noext') });
		assert.deepEqual(res.content, [{ type: 'image', mimeType: 'image/png', data: PNG_B64 }]);
	});

	test('a non-media file (even named .png) comes back as an embedded resource, like the reference', async () => {
		const res = await call(moat.client, 'read_media_file', { path: P('fake.png') });
		assert.notEqual(res.isError, true);
		assert.equal(res.content.length, 1);
		const [b] = res.content;
		assert.equal(b.type, 'resource');
		assert.equal(b.resource.mimeType, 'text/plain');
		assert.equal(b.resource.uri, 'file://' + P('fake.png'));
		assert.equal(Buffer.from(b.resource.blob, 'base64').toString(), 'just text pretending to be a picture\n');
		// the URI is percent-encoded as Node's pathToFileURL does it
		const odd = P('sub', 'odd name~#?%[1].txt');
		fs.writeFileSync(odd, 'odd\n');
		const r2 = await call(moat.client, 'read_media_file', { path: odd });
		assert.equal(r2.content[0].resource.uri, pathToFileURL(odd).href);
		const empty = await call(moat.client, 'read_media_file', { path: P('empty.txt') });
		assert.equal(empty.content[0].type, 'resource');
		assert.equal(empty.content[0].resource.blob, '');
	});

	test('errors: missing, directory, outside, symlink escape, schema', async () => {
		assertToolError(await call(moat.client, 'read_media_file', { path: P('none.png') }), /no such file/);
		assertToolError(await call(moat.client, 'read_media_file', { path: P('sub') }), /directory/);
		assertToolError(await call(moat.client, 'read_media_file', { path: path.join(outside, 'secret.txt') }), /access denied/);
		assertToolError(await call(moat.client, 'read_media_file', { path: P('link-out') }), /access denied/);
		assertToolError(await call(moat.client, 'read_media_file', { path: P('image.png'), head: 1 }), /invalid arguments/);
		assertToolError(await call(moat.client, 'read_media_file', {}), /invalid arguments/);
	});
});

// ---- limits from the config ---------------------------------------------------------

describe('config limits', () => {
	test('fs.max_file_size refuses whole reads (and names the key) but not head/tail', async () => {
		const c = await serveConfig({ max_file_size: 1000 });
		try {
			let t = assertToolError(await call(c.client, 'read_text_file', { path: P('large.txt') }), 'fs.max_file_size');
			assert.ok(!t.includes(SECRET), 'no file content in the error');
			t = assertToolError(await call(c.client, 'read_file', { path: P('large.txt') }), 'fs.max_file_size');
			assert.equal(await text(c.client, 'read_text_file', { path: P('large.txt'), head: 1 }), SECRET);
			assert.equal(await text(c.client, 'read_text_file', { path: P('big.txt'), tail: 2 }), lastBigLine + '\n');
			const multi = await text(c.client, 'read_multiple_files', { paths: [P('large.txt'), P('hello.txt')] });
			const parts = multi.split('\n---\n');
			assert.match(parts[0], /: Error - .*fs\.max_file_size/);
			assert.ok(!parts[0].includes(SECRET));
			assert.equal(parts[1], `${P('hello.txt')}:\nline1\nline2\nline3\n\n`);
		} finally {
			await c.close();
		}
	});

	test('fs.max_media_bytes refuses a larger file before reading it', async () => {
		const c = await serveConfig({ max_media_bytes: 100 });
		try {
			assertToolError(await call(c.client, 'read_media_file', { path: P('sound.wav') }), 'fs.max_media_bytes', /244 bytes/);
			const res = await call(c.client, 'read_media_file', { path: P('image.png') });
			assert.equal(res.content[0].type, 'image');
		} finally {
			await c.close();
		}
	});

	test('the output budget cuts text with a note instead of failing', async () => {
		const c = await serveConfig({}, { limits: { max_output_bytes: 4096 } });
		try {
			let res = await call(c.client, 'read_text_file', { path: P('big.txt') });
			assert.notEqual(res.isError, true);
			let t = resultText(res);
			assert.ok(t.endsWith('\n' + CUT), 'note at the end');
			assert.ok(t.startsWith('line 0000000\nline 0000001\n'));
			assert.ok(Buffer.byteLength(JSON.stringify(res)) <= 4096);

			t = await text(c.client, 'read_text_file', { path: P('big.txt'), head: 100000 });
			assert.ok(t.endsWith(CUT) && t.startsWith('line 0000000\n'));

			// tail keeps the end of the file: the note comes first
			t = await text(c.client, 'read_text_file', { path: P('big-noeol.txt'), tail: 100000 });
			assert.ok(t.startsWith(CUT + '\n'), 'note at the start');
			assert.ok(t.endsWith('\n' + lastBigLine));

			// a small file is not cut
			t = await text(c.client, 'read_text_file', { path: P('bad.txt') });
			assert.equal(t, BAD_UTF8.toString('utf8'));

			t = await text(c.client, 'read_multiple_files', { paths: [P('hello.txt'), P('big.txt'), P('noeol.txt'), P('empty.txt')] });
			assert.ok(t.startsWith(`${P('hello.txt')}:\nline1\n`));
			assert.match(t, /\[\.\.\. cut: output budget limits\.max_output_bytes reached; 2 more file\(s\) not read \.\.\.\]$/);

			// media that cannot fit is refused (a cut image would be corrupt)
			fs.writeFileSync(P('sub', 'wide.wav'), wav(8000));
			assertToolError(await call(c.client, 'read_media_file', { path: P('sub', 'wide.wav') }), 'limits.max_output_bytes');
			// unicode cut at a character boundary: still valid, no U+FFFD introduced
			t = await text(c.client, 'read_text_file', { path: P('unicode.txt') });
			assert.ok(!t.includes('\uFFFD'));
			assert.ok(t.endsWith(CUT));
		} finally {
			await c.close();
		}
	});

	test('control characters are budgeted by their JSON escapes', async () => {
		fs.writeFileSync(P('sub', 'ctrl.txt'), Buffer.alloc(3000, 1));
		const c = await serveConfig({}, { limits: { max_output_bytes: 4096 } });
		try {
			const res = await call(c.client, 'read_text_file', { path: P('sub', 'ctrl.txt') });
			assert.notEqual(res.isError, true);
			assert.ok(resultText(res).endsWith(CUT));
		} finally {
			await c.close();
		}
	});
});

// ---- byte-for-byte against the reference ------------------------------------------------

describe('drop-in compatibility with the reference server', () => {
	const files = ['hello.txt', 'noeol.txt', 'empty.txt', 'crlf.txt', 'crlf-noeol.txt', 'blank-lines.txt', 'bad.txt', 'bom.txt', 'quotes.txt', 'big.txt', 'big-noeol.txt', 'unicode.txt'];
	const variants = [{}, { head: 1 }, { head: 2 }, { head: 3 }, { head: 1000 }, { tail: 1 }, { tail: 2 }, { tail: 3 }, { tail: 5 }, { tail: 1000 }];

	test('read_text_file with and without head/tail', async () => {
		for (const f of files) {
			for (const v of variants) {
				const args = { path: P(f), ...v };
				const size = fs.statSync(P(f)).size;
				if (size > 900000 && !v.head && !v.tail) continue; // over moat's 1 MiB output budget
				const mine = await text(moat.client, 'read_text_file', args);
				const theirs = await text(ref.client, 'read_text_file', args);
				assert.equal(mine, theirs, `${f} ${JSON.stringify(v)}`);
			}
		}
	});

	test('read_file (deprecated) on the reference equals moat', async () => {
		const args = { path: P('crlf.txt'), tail: 2 };
		assert.equal(await text(moat.client, 'read_file', args), await text(ref.client, 'read_file', args));
	});

	test('read_multiple_files: identical text for readable files, same shape for failures', async () => {
		const ok = ['hello.txt', 'noeol.txt', 'empty.txt', 'crlf.txt', 'bad.txt', 'unicode.txt'].map((f) => P(f));
		assert.equal(
			await text(moat.client, 'read_multiple_files', { paths: ok }),
			await text(ref.client, 'read_multiple_files', { paths: ok }),
		);
		const mixed = [P('hello.txt'), P('missing.txt'), 'noeol.txt'];
		const mine = (await text(moat.client, 'read_multiple_files', { paths: mixed })).split('\n---\n');
		const theirs = (await text(ref.client, 'read_multiple_files', { paths: mixed })).split('\n---\n');
		assert.equal(mine.length, theirs.length);
		assert.equal(mine[0], theirs[0]);
		assert.equal(mine[2], theirs[2]);
		assert.ok(mine[1].startsWith(`${P('missing.txt')}: Error - `) && theirs[1].startsWith(`${P('missing.txt')}: Error - `));
	});

	test('read_media_file: the same blocks for PNG and WAV', async () => {
		for (const f of ['image.png', 'sound.wav']) {
			const mine = await call(moat.client, 'read_media_file', { path: P(f) });
			const theirs = await call(ref.client, 'read_media_file', { path: P(f) });
			assert.deepEqual(mine.content, theirs.content, f);
		}
	});
});
