// tools_names.test.mjs - `moat tools --names`: the tool names one a line,
// the list shell completion (dist/completions/) offers after `moat call`.
// The same names, in the same order, as `moat tools --json` over every
// tools/list page; nothing but names on stdout; quiet and non-zero when
// the config is bad, so a completion shows nothing rather than noise.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { TEST_TOOLS, makeTempDir, runMoat, testingConfig, writeConfig } from './helpers.mjs';

const dir = makeTempDir('moat-e2e-names-');
// Two tools a page: --names must follow nextCursor like the other forms.
const cfg = writeConfig(dir, testingConfig({ limits: { tools_page_size: 2 } }));

/** The names `moat tools --json` lists with these arguments. */
function jsonNames(args, opts) {
	const r = runMoat(['tools', '--json', ...args], opts);
	assert.equal(r.code, 0, r.stderr);
	return JSON.parse(r.stdout).map((t) => t.name);
}

describe('moat tools --names', () => {
	test('one name a line, every page, the order --json gives', () => {
		const r = runMoat(['tools', '--names', '--config', cfg]);
		assert.equal(r.code, 0, r.stderr);
		assert.equal(r.stderr, '');
		assert.ok(r.stdout.endsWith('\n'), 'the last line ends with a newline');
		const names = r.stdout.slice(0, -1).split('\n');
		assert.deepEqual(names, TEST_TOOLS);
		assert.deepEqual(names, jsonNames(['--config', cfg]));
	});

	test('the option may come anywhere; MOAT_CONFIG stands for --config', () => {
		const before = runMoat(['tools', '--config', cfg, '--names']);
		assert.equal(before.stdout, TEST_TOOLS.join('\n') + '\n');
		const env = runMoat(['tools', '--names'], { env: { ...process.env, MOAT_CONFIG: cfg } });
		assert.equal(env.code, 0, env.stderr);
		assert.equal(env.stdout, TEST_TOOLS.join('\n') + '\n');
	});

	test('DIR arguments give the filesystem tools, as a client sees them', () => {
		const root = makeTempDir('moat-e2e-names-root-');
		fs.writeFileSync(path.join(root, 'a.txt'), 'a');
		const r = runMoat(['tools', root, '--names']);
		assert.equal(r.code, 0, r.stderr);
		const names = r.stdout.trim().split('\n');
		assert.ok(names.includes('read_text_file') && names.includes('list_directory'), r.stdout);
		assert.deepEqual(names, jsonNames([root]));
		for (const n of names) assert.match(n, /^[A-Za-z0-9_.-]+$/, 'a bare name, no columns');
	});

	test('no tools: empty output, exit 0 (not the "(no tools configured)" line)', () => {
		const r = runMoat(['tools', '--names'], { env: { ...process.env, MOAT_CONFIG: '' } });
		assert.equal(r.code, 0, r.stderr);
		assert.equal(r.stdout, '');
	});

	test('--json and --names exclude each other (exit 2)', () => {
		const r = runMoat(['tools', '--names', '--json', '--config', cfg]);
		assert.equal(r.code, 2);
		assert.equal(r.stdout, '');
		assert.match(r.stderr, /--json and --names exclude each other/);
	});

	test('after -- it is a DIR, not the option', () => {
		const r = runMoat(['tools', '--config', cfg, '--', '--names']);
		assert.notEqual(r.code, 0);
		assert.equal(r.stdout, '');
		assert.match(r.stderr, /--names/);
	});

	test('a bad config: nothing on stdout, the config exit code', () => {
		const bad = writeConfig(dir, { roots: 'not-a-list' }, 'bad.json');
		const r = runMoat(['tools', '--names', '--config', bad]);
		assert.equal(r.code, 3, r.stderr);
		assert.equal(r.stdout, '');
		const missing = runMoat(['tools', '--names', '--config', path.join(dir, 'absent.json')]);
		assert.notEqual(missing.code, 0);
		assert.equal(missing.stdout, '');
	});

	test('--help names the option', () => {
		const r = runMoat(['tools', '--help']);
		assert.equal(r.code, 0);
		assert.match(r.stdout, /--names/);
	});
});
