// fs_resources.test.mjs - files under the roots as MCP resources, and the
// client's MCP roots narrowing (never widening) the configured roots,
// through the official SDK client.
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ListRootsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { MOAT_BIN, makeTempDir, writeConfig, withTimeout, sleep, assertNoSanitizerReport } from './helpers.mjs';

let base, root, outside;

before(() => {
	base = fs.realpathSync(makeTempDir('moat-e2e-res-'));
	root = path.join(base, 'root');
	outside = path.join(base, 'outside');
	fs.mkdirSync(path.join(root, 'sub'), { recursive: true });
	fs.mkdirSync(outside);
	fs.writeFileSync(path.join(root, 'a.txt'), 'alpha\n');
	fs.writeFileSync(path.join(root, 'sub', 'b.bin'), Buffer.from([0xff, 0x00, 0x01, 0x02]));
	fs.writeFileSync(path.join(root, 'sub', 'c.txt'), 'gamma\n');
	fs.writeFileSync(path.join(outside, 'secret.txt'), 'TOP-SECRET-RES\n');
	fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(root, 'link-out'));
});

// Connect with an optional roots capability answering with `roots` (file URIs).
async function connect(roots) {
	const transport = new StdioClientTransport({ command: MOAT_BIN, args: ['serve', root], stderr: 'pipe' });
	let stderr = '';
	transport.stderr.setEncoding('utf8');
	transport.stderr.on('data', (c) => (stderr += c));
	const client = new Client({ name: 'moat-e2e-res', version: '0.0.1' }, { capabilities: roots ? { roots: { listChanged: true } } : {} });
	let asked = 0;
	if (roots) {
		client.setRequestHandler(ListRootsRequestSchema, async () => {
			asked++;
			return { roots: roots.map((uri) => ({ uri })) };
		});
	}
	await withTimeout(client.connect(transport), 5000, 'connect');
	return {
		client,
		asked: () => asked,
		async close() {
			await client.close();
			await sleep(20);
			assert.ok(!stderr.includes('TOP-SECRET-RES'), 'the secret never reaches stderr');
			assertNoSanitizerReport(stderr);
		},
	};
}

const uri = (p) => 'file://' + p;

describe('resources', () => {
	test('initialize announces resources; list pages every regular file, symlinks not followed', async () => {
		const c = await connect();
		try {
			assert.ok(c.client.getServerCapabilities().resources, 'resources capability');
			const { resources } = await c.client.listResources();
			const uris = resources.map((r) => r.uri).sort();
			assert.deepEqual(uris, [uri(path.join(root, 'a.txt')), uri(path.join(root, 'sub', 'b.bin')), uri(path.join(root, 'sub', 'c.txt'))]);
		} finally {
			await c.close();
		}
	});

	test('read returns text, or base64 blob for binary, with a sniffed MIME type', async () => {
		const c = await connect();
		try {
			const t = await c.client.readResource({ uri: uri(path.join(root, 'a.txt')) });
			assert.equal(t.contents[0].text, 'alpha\n');
			assert.equal(t.contents[0].mimeType, 'text/plain');
			const b = await c.client.readResource({ uri: uri(path.join(root, 'sub', 'b.bin')) });
			assert.equal(Buffer.from(b.contents[0].blob, 'base64').toString('hex'), 'ff000102');
		} finally {
			await c.close();
		}
	});

	test('outside, through a symlink, with .. and malformed URIs: refused with clear errors', async () => {
		const c = await connect();
		try {
			const cases = [
				[uri(path.join(outside, 'secret.txt')), /outside the allowed directories/],
				[uri(path.join(root, 'link-out')), /leaves its allowed directory/],
				[uri(root + '/../outside/secret.txt'), /leaves its allowed directory/],
				[uri(path.join(root, 'missing.txt')), /no such file/],
				['http://example.com/a.txt', /file:\/\/ URI/],
				[uri(root) + '/a%00.txt', /file:\/\/ URI/],
			];
			for (const [u, re] of cases) {
				await assert.rejects(c.client.readResource({ uri: u }), (e) => {
					assert.match(e.message, re, u);
					assert.ok(!e.message.includes('TOP-SECRET-RES'));
					return true;
				});
			}
			const tl = await c.client.listResourceTemplates();
			assert.equal(tl.resourceTemplates.length, 1);
		} finally {
			await c.close();
		}
	});
});

describe('client roots', () => {
	test('a client root inside the configured root narrows access to it', async () => {
		const c = await connect([uri(path.join(root, 'sub'))]);
		try {
			// The server asks after notifications/initialized; wait for the answer to land.
			for (let i = 0; i < 100 && c.asked() === 0; i++) await sleep(10);
			assert.equal(c.asked(), 1);
			await sleep(50);
			const { resources } = await c.client.listResources();
			assert.deepEqual(resources.map((r) => r.uri).sort(), [uri(path.join(root, 'sub', 'b.bin')), uri(path.join(root, 'sub', 'c.txt'))]);
			await assert.rejects(c.client.readResource({ uri: uri(path.join(root, 'a.txt')) }), /outside the allowed directories/);
		} finally {
			await c.close();
		}
	});

	test('a client root of / never widens access', async () => {
		const c = await connect(['file:///']);
		try {
			for (let i = 0; i < 100 && c.asked() === 0; i++) await sleep(10);
			await sleep(50);
			const { resources } = await c.client.listResources();
			assert.equal(resources.length, 3, 'still exactly the configured root');
			await assert.rejects(c.client.readResource({ uri: uri(path.join(outside, 'secret.txt')) }), /outside the allowed directories/);
			await assert.rejects(c.client.readResource({ uri: 'file:///etc/passwd' }), /outside the allowed directories/);
		} finally {
			await c.close();
		}
	});

	test('client roots that do not overlap leave nothing allowed', async () => {
		const c = await connect([uri(outside)]);
		try {
			for (let i = 0; i < 100 && c.asked() === 0; i++) await sleep(10);
			await sleep(50);
			const { resources } = await c.client.listResources();
			assert.equal(resources.length, 0);
			await assert.rejects(c.client.readResource({ uri: uri(path.join(outside, 'secret.txt')) }), /no allowed directories/);
		} finally {
			await c.close();
		}
	});
});
