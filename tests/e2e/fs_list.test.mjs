// fs_list.test.mjs - the fs listing and search tools (list_directory,
// list_directory_with_sizes, directory_tree, search_files, get_file_info,
// list_allowed_directories, grep_files) through the official SDK client, and
// their outputs compared with the reference @modelcontextprotocol/server-filesystem
// run on the same fixture, to show moat is a drop-in replacement.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import {
	MOAT_BIN,
	assertToolError,
	connectClient,
	makeTempDir,
	resultText,
	withClient,
	writeConfig,
} from './helpers.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const REF = path.resolve(here, '../../node_modules/@modelcontextprotocol/server-filesystem/dist/index.js');

// ---- fixture ------------------------------------------------------------

function mk(root, rel, content = '') {
	const p = path.join(root, rel);
	fs.mkdirSync(path.dirname(p), { recursive: true });
	fs.writeFileSync(p, content);
}

// A tree whose every entry both servers treat alike (no link out of the root:
// the reference stats through it, moat refuses to; see the test for that).
const base = fs.realpathSync(makeTempDir('moat-e2e-fsl-'));
const root = path.join(base, 'root');
fs.mkdirSync(root);
mk(root, 'a.txt', 'hello');
mk(root, 'B.md', 'x'.repeat(2000));
mk(root, 'c.js', 'const c = 1;\n');
mk(root, '_under', '');
mk(root, '-dash', '');
mk(root, '.hidden', 'secret-ish\n');
mk(root, 'big.bin', Buffer.alloc(1536, 1));
mk(root, 'file10.txt', '10');
mk(root, 'file9.txt', '9');
mk(root, 'ünï cödé.txt', 'unicode\n');
mk(root, 'sub/d.js', 'function d() {}\n// TODO: d\n');
mk(root, 'sub/deep/e.txt', 'line one\nTODO: e here\nlast\n');
mk(root, 'sub/deep/f.js', 'let f;\n');
mk(root, 'sub/.git/config', '[core]\n');
mk(root, 'node_modules/pkg/index.js', 'module.exports = 1; // TODO nm\n');
mk(root, 'node_modules/pkg/README', 'TODO readme\n');
mk(root, 'bin.dat', Buffer.from('TODO\0binary\n'));
mk(root, 'crlf.txt', 'TODO crlf\r\nok\r\n');
mk(root, 'bad-utf8.txt', Buffer.concat([Buffer.from('TODO '), Buffer.from([0xff, 0xfe]), Buffer.from(' end\n')]));
mk(root, 'long.txt', 'TODO ' + 'é'.repeat(400) + '\n');
fs.mkdirSync(path.join(root, 'empty'));
fs.symlinkSync('a.txt', path.join(root, 'link-in'));
fs.symlinkSync('sub', path.join(root, 'link-dir'));
fs.symlinkSync('nowhere', path.join(root, 'dangling'));
fs.utimesSync(path.join(root, 'a.txt'), new Date('2024-03-05T14:03:09Z'), new Date('2024-03-05T14:03:09Z'));

// A sibling whose name has the root's as a prefix, and a tree with a link out.
const sibling = path.join(base, 'root2');
mk(sibling, 'x.txt', 'x');
const outside = path.join(base, 'outside');
mk(outside, 'secret.txt', 'TOP SECRET\n');
const lroot = path.join(base, 'lroot');
mk(lroot, 'in.txt', 'TODO in\n');
fs.symlinkSync(outside, path.join(lroot, 'out-dir'));
fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(lroot, 'out-file'));

const cfgDir = makeTempDir('moat-e2e-fsl-cfg-');
let nCfg = 0;
const config = (roots, fsOpts = {}, extra = {}) =>
	writeConfig(cfgDir, { roots, fs: fsOpts, ...extra }, `moat-${++nCfg}.json`);
const mainCfg = config([root]);

// ---- clients --------------------------------------------------------------

const env = { ...process.env, TZ: 'UTC' };

async function connectRef(dirs) {
	const transport = new StdioClientTransport({ command: process.execPath, args: [REF, ...dirs], env, stderr: 'pipe' });
	transport.stderr?.resume();
	const client = new Client({ name: 'moat-e2e-ref', version: '0.0.1' }, { capabilities: {} });
	await client.connect(transport);
	return client;
}

let moat, ref;
before(async () => {
	moat = await connectClient(mainCfg, { env });
	ref = await connectRef([root]);
});
after(async () => {
	await moat?.close();
	await ref?.close();
});

const call = (c, name, args) => c.callTool({ name, arguments: args });
const text = async (c, name, args) => {
	const r = await call(c, name, args);
	assert.notEqual(r.isError, true, `${name} ${JSON.stringify(args)} failed: ${JSON.stringify(r.content)}`);
	return resultText(r);
};
async function same(name, args) {
	const [m, r] = await Promise.all([text(moat.client, name, args), text(ref, name, args)]);
	assert.equal(m, r, `${name} ${JSON.stringify(args)} differs from the reference`);
	return m;
}

// ---- drop-in comparisons ---------------------------------------------------

describe('same output as the reference server', () => {
	test('tools have the reference names, a title, strict schemas and read-only hints', async () => {
		const { tools } = await moat.client.listTools();
		const want = ['list_directory', 'list_directory_with_sizes', 'directory_tree', 'search_files',
			'get_file_info', 'list_allowed_directories', 'grep_files'];
		for (const w of want) {
			const t = tools.find((x) => x.name === w);
			assert.ok(t, `${w} is listed`);
			assert.ok(t.title, `${w} has a title`);
			assert.equal(t.inputSchema.additionalProperties, false, `${w} schema is strict`);
			assert.deepEqual(t.annotations, { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false });
		}
		const refTools = (await ref.listTools()).tools;
		for (const w of want.filter((x) => x !== 'grep_files')) {
			const rt = refTools.find((x) => x.name === w);
			const mt = tools.find((x) => x.name === w);
			for (const p of Object.keys(rt.inputSchema.properties ?? {}))
				assert.ok(p in mt.inputSchema.properties, `${w}.${p} exists in moat`);
			assert.deepEqual(mt.inputSchema.required ?? [], rt.inputSchema.required ?? [], `${w} required`);
		}
	});

	test('list_directory (root, subdirectory, empty, relative path)', async () => {
		const t = await same('list_directory', { path: root });
		assert.match(t, /^\[DIR\] empty$/m);
		assert.match(t, /^\[FILE\] link-dir$/m, 'a symlink to a directory is a [FILE], not entered');
		await same('list_directory', { path: path.join(root, 'sub') });
		await same('list_directory', { path: path.join(root, 'empty') });
		await same('list_directory', { path: 'sub/deep' });
	});

	test('list_directory_with_sizes by name and by size', async () => {
		const t = await same('list_directory_with_sizes', { path: root });
		assert.match(t, /Combined size: /);
		assert.match(t, /big\.bin\s+1\.50 KB/);
		const s = await same('list_directory_with_sizes', { path: root, sortBy: 'size' });
		assert.ok(s.indexOf('B.md') < s.indexOf('a.txt'), 'larger first');
		await same('list_directory_with_sizes', { path: path.join(root, 'sub'), sortBy: 'name' });
		await same('list_directory_with_sizes', { path: path.join(root, 'empty') });
	});

	test('directory_tree with and without excludePatterns', async () => {
		const t = await same('directory_tree', { path: root });
		const tree = JSON.parse(t);
		assert.equal(tree.find((e) => e.name === 'link-dir').type, 'file', 'symlink not followed');
		assert.deepEqual(tree.find((e) => e.name === 'empty').children, []);
		await same('directory_tree', { path: path.join(root, 'sub') });
		for (const ex of [['node_modules'], ['*.js'], ['**/*.js'], ['deep'], ['.git', 'empty'], ['sub/deep'], ['**/deep/**'], ['{a,c}.*']]) {
			await same('directory_tree', { path: root, excludePatterns: ex });
		}
	});

	const patterns = [
		'*.js', '**/*.js', '*.txt', '**/*', '**', 'sub/**', 'sub/*', '**/deep/*', '?.txt', '[ab]*', '[!ab]*',
		'[^a]*', '[[:upper:]]*', '*.{js,txt}', '{sub,empty}', 'file{1..10}.txt', '!*.js', '#comment', '',
		'.*', '**/.git/**', 'sub/**/f.js', '**/e.txt', 'ü*', '*cödé*', 'a.txt', 'link-*', 'dangling',
		'*.@(js|md)', '+(f)ile*', '*(x)', 'sub/../a.txt', 'a\\.txt', 'SUB/*', '*/*/*',
	];
	test('search_files over many glob patterns', async () => {
		for (const pattern of patterns) await same('search_files', { path: root, pattern });
	});

	test('search_files with excludePatterns', async () => {
		for (const excludePatterns of [['node_modules'], ['node_modules/**'], ['**/*.js'], ['sub'], ['**/.git']]) {
			await same('search_files', { path: root, pattern: '**/*', excludePatterns });
		}
	});

	test('get_file_info of a file, a directory and a symlink (TZ=UTC)', async () => {
		const t = await same('get_file_info', { path: path.join(root, 'a.txt') });
		assert.match(t, /^size: 5\n/);
		assert.match(t, /modified: Tue Mar 05 2024 14:03:09 GMT\+0000 \(Coordinated Universal Time\)/);
		assert.match(t, /isFile: true\npermissions: \d{3}$/);
		// the directory's atime may move while other tests list it: compare the rest
		const strip = (s) => s.replace(/^accessed: .*$/m, '');
		const [m, r] = await Promise.all([text(moat.client, 'get_file_info', { path: path.join(root, 'sub') }),
			text(ref, 'get_file_info', { path: path.join(root, 'sub') })]);
		assert.equal(strip(m), strip(r));
		await same('get_file_info', { path: path.join(root, 'link-in') }); // reports the target, like fs.stat
	});

	test('list_allowed_directories', async () => {
		const t = await same('list_allowed_directories', {});
		assert.equal(t, `Allowed directories:\n${root}`);
	});
});

// ---- moat's rules and additions ---------------------------------------------

describe('errors', () => {
	test('missing directory, file given as a directory, outside path, sibling prefix', async () => {
		const c = moat.client;
		for (const tool of ['list_directory', 'list_directory_with_sizes', 'directory_tree']) {
			assertToolError(await call(c, tool, { path: path.join(root, 'nope') }), /no such file or directory/);
			assertToolError(await call(c, tool, { path: path.join(root, 'a.txt') }), /not a directory/);
			assertToolError(await call(c, tool, { path: outside }), /outside the allowed directories/);
			assertToolError(await call(c, tool, { path: sibling }), /outside the allowed directories/);
			assertToolError(await call(c, tool, { path: path.join(root, '..', 'outside') }), /access denied/);
		}
		assertToolError(await call(c, 'search_files', { path: sibling, pattern: '*' }), /outside/);
		assertToolError(await call(c, 'grep_files', { path: sibling, pattern: 'x' }), /outside/);
		assertToolError(await call(c, 'get_file_info', { path: path.join(root, 'nope') }), /no such file/);
		assertToolError(await call(c, 'get_file_info', { path: path.join(sibling, 'x.txt') }), /outside/);
		// the reference errors too in every case above
		for (const p of [path.join(root, 'nope'), sibling]) {
			assert.equal((await call(ref, 'list_directory', { path: p })).isError, true);
		}
	});

	test('strict schemas: unknown arguments, bad sortBy, bad maxDepth', async () => {
		const c = moat.client;
		assertToolError(await call(c, 'list_directory', { path: root, extra: 1 }));
		assertToolError(await call(c, 'list_directory_with_sizes', { path: root, sortBy: 'date' }));
		assertToolError(await call(c, 'directory_tree', { path: root, maxDepth: 0 }));
		assertToolError(await call(c, 'grep_files', { path: root, pattern: 'x', maxMatches: 0 }));
		assertToolError(await call(c, 'list_allowed_directories', { x: 1 }));
	});

	test('grep_files: a bad regex names the rule, not the pattern', async () => {
		const t = assertToolError(await call(moat.client, 'grep_files', { path: root, pattern: 'a(b' }), /not a valid PCRE2 regular expression/);
		assert.ok(!t.includes('a(b'));
	});
});

describe('symlinks pointing out of the root', () => {
	// Deliberate difference: the reference stats through a link in
	// list_directory_with_sizes (and so reports the size of a file outside
	// the allowed directories); moat opens it beneath the root and reports 0,
	// as the reference does for a link it cannot stat.
	test('listed, never followed or measured; skipped by search like the reference', async () => {
		await withClient(config([lroot]), async (c) => {
			const l = await text(c, 'list_directory', { path: lroot });
			assert.equal(l, '[FILE] in.txt\n[FILE] out-dir\n[FILE] out-file');
			const s = await text(c, 'list_directory_with_sizes', { path: lroot });
			assert.match(s, /\[FILE\] out-file\s+0 B/);
			const tr = JSON.parse(await text(c, 'directory_tree', { path: lroot }));
			assert.deepEqual(tr.map((e) => [e.name, e.type, 'children' in e]), [['in.txt', 'file', false], ['out-dir', 'file', false], ['out-file', 'file', false]]);
			assert.equal(await text(c, 'search_files', { path: lroot, pattern: '**' }), path.join(lroot, 'in.txt'));
			const g = await text(c, 'grep_files', { path: lroot, pattern: 'TODO|SECRET' });
			assert.equal(g, `${path.join(lroot, 'in.txt')}:1:TODO in`);
			assertToolError(await call(c, 'get_file_info', { path: path.join(lroot, 'out-file') }), /leaves its allowed directory/);
			assertToolError(await call(c, 'list_directory', { path: path.join(lroot, 'out-dir') }), /leaves its allowed directory/);
		}, { env });
		const r = await connectRef([lroot]);
		try {
			assert.equal(resultText(await call(r, 'search_files', { path: lroot, pattern: '**' })), path.join(lroot, 'in.txt'));
		} finally {
			await r.close();
		}
	});
});

describe('limits and additions', () => {
	test('directory_tree maxDepth', async () => {
		const t = await call(moat.client, 'directory_tree', { path: root, maxDepth: 1 });
		const tree = JSON.parse(t.content[0].text);
		assert.deepEqual(tree.find((e) => e.name === 'sub').children, []);
		assert.match(t.content[1].text, /depth 1 .*maxDepth/);
		const two = JSON.parse(resultText(await call(moat.client, 'directory_tree', { path: root, maxDepth: 2 })));
		assert.deepEqual(two.find((e) => e.name === 'sub').children.find((e) => e.name === 'deep').children, []);
		// maxDepth deep enough: identical to the reference, no note
		const full = await call(moat.client, 'directory_tree', { path: root, maxDepth: 10 });
		assert.equal(full.content.length, 1);
		assert.equal(full.content[0].text, resultText(await call(ref, 'directory_tree', { path: root })));
	});

	test('fs.max_entries cuts listings, trees and searches with a note', async () => {
		await withClient(config([root], { max_entries: 5 }), async (c) => {
			const l = await text(c, 'list_directory', { path: root });
			assert.equal(l.split('\n\n')[0].split('\n').length, 5);
			assert.match(l, /output cut: the directory holds more than 5 entries \(fs\.max_entries\)/);
			const t = await call(c, 'directory_tree', { path: path.join(root, 'sub') });
			JSON.parse(t.content[0].text); // still valid JSON
			assert.equal(t.structuredContent.content, t.content[0].text);
			assert.match(t.content[1].text, /stops after 5 entries \(fs\.max_entries\)/);
			const s = await text(c, 'search_files', { path: root, pattern: '**' });
			// the root alone holds more than 5 entries: the per-directory cap speaks first
			assert.match(s, /more than 5 entries \(fs\.max_entries\)/);
			const s2 = await text(c, 'search_files', { path: path.join(root, 'sub'), pattern: '**' });
			assert.match(s2, /stopped after 5 matches \(fs\.max_entries\)/);
		}, { env });
	});

	test('fs.max_depth bounds search_files', async () => {
		await withClient(config([root], { max_depth: 1 }), async (c) => {
			const s = await text(c, 'search_files', { path: root, pattern: '**/*.js' });
			assert.ok(!s.split('\n\n')[0].includes('/deep/'));
			assert.match(s, /deeper than 1 levels .*fs\.max_depth/);
		}, { env });
	});

	test('the output budget cuts with a note, never an oversized result', async () => {
		await withClient(config([root], {}, { limits: { max_output_bytes: 3000 } }), async (c) => {
			const t = await call(c, 'directory_tree', { path: root });
			assert.notEqual(t.isError, true);
			JSON.parse(t.content[0].text);
			assert.match(t.content[1].text, /output budget/);
			const s = await text(c, 'search_files', { path: root, pattern: '**' });
			assert.match(s, /output budget/);
		}, { env });
	});

	test('grep_files: lines, include, maxMatches, binary and size skips, CRLF, bad UTF-8, long lines', async () => {
		const c = moat.client;
		const g = await text(c, 'grep_files', { path: root, pattern: 'TODO' });
		const lines = g.split('\n\n')[0].split('\n');
		assert.ok(lines.includes(`${path.join(root, 'sub/deep/e.txt')}:2:TODO: e here`));
		assert.ok(lines.includes(`${path.join(root, 'sub/d.js')}:2:// TODO: d`));
		assert.ok(lines.includes(`${path.join(root, 'crlf.txt')}:1:TODO crlf`));
		assert.ok(lines.includes(`${path.join(root, 'bad-utf8.txt')}:1:TODO \uFFFD\uFFFD end`));
		assert.ok(!g.includes('bin.dat'), 'binary file skipped');
		assert.match(g, /skipped 1 binary file/);
		const long = lines.find((l) => l.includes('long.txt'));
		assert.ok(Buffer.byteLength(long) < 500 + 200, 'long line cut');
		assert.ok(long.endsWith('\u2026'));
		assert.ok(!g.includes('link-in'), 'symlinks are not followed');
		const inc = await text(c, 'grep_files', { path: root, pattern: 'TODO', include: '*.js' });
		assert.deepEqual(inc.split('\n').sort(), [
			`${path.join(root, 'node_modules/pkg/index.js')}:1:module.exports = 1; // TODO nm`,
			`${path.join(root, 'sub/d.js')}:2:// TODO: d`,
		]);
		const one = await text(c, 'grep_files', { path: root, pattern: 'TODO', maxMatches: 1 });
		assert.equal(one.split('\n')[0].split(':').length >= 3, true);
		assert.match(one, /stopped after 1 matches \(maxMatches/);
		assert.equal((await text(c, 'grep_files', { path: root, pattern: 'no-such-text-anywhere' })).split('\n\n')[0], 'No matches found');
		assert.match(await text(c, 'grep_files', { path: root, pattern: '(?i)ünï|UNICODE' }), /ünï cödé\.txt:1:unicode/);
		await withClient(config([root], { max_file_size: 100, max_grep_matches: 2 }), async (c2) => {
			const t = await text(c2, 'grep_files', { path: root, pattern: 'TODO', maxMatches: 50 });
			assert.match(t, /larger than fs\.max_file_size/);
			assert.match(t, /stopped after 2 matches/);
		}, { env });
	});

	test('list_allowed_directories shows the current view of several roots', async () => {
		await withClient(config([root, lroot]), async (c) => {
			assert.equal(await text(c, 'list_allowed_directories', {}), `Allowed directories:\n${root}\n${lroot}`);
		}, { env });
		const r = await connectRef([root, lroot]);
		try {
			assert.equal(resultText(await call(r, 'list_allowed_directories', {})), `Allowed directories:\n${root}\n${lroot}`);
		} finally {
			await r.close();
		}
	});
});
