// check_serve.test.mjs - `moat check` fails wherever `moat serve` would:
// for each broken config, check and serve (stdin closed at once) exit with
// the same code and print the same error, and the error names the config
// file. The cases cover each start-up step: the JSON, the schema, ${NAME}
// references, every family's init (roots, databases, git repositories, API
// base URLs, a module that cannot be loaded), per-tool limits, the audit
// file and the sandbox. Cases that need a permission root would bypass run
// as nobody when the test runs as root (setpriv), and are skipped when it
// cannot.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { MOAT_BIN, assertNoSanitizerReport, makeTempDir, writeConfig } from './helpers.mjs';

const IS_ROOT = process.getuid?.() === 0;
const HAVE_SETPRIV = IS_ROOT && spawnSync('setpriv', ['--version']).status === 0;

// The audit file's key moved from log.audit_file to audit.file in issue 11:
// write whichever the schema in this tree declares.
const SCHEMA = JSON.parse(fs.readFileSync(new URL('../../moat.schema.json', import.meta.url), 'utf8'));
function auditAt(file) {
	return SCHEMA.properties.audit ? { audit: { file } } : { log: { audit_file: file } };
}

// A default audit file (when the config names none) goes under a state
// directory of the test's own, which nobody may write too.
const stateHome = makeTempDir('moat-e2e-checkserve-state-');
fs.chmodSync(stateHome, 0o1777);
const ENV = { ...process.env, XDG_STATE_HOME: stateHome };

/** Run moat (as nobody when asked and running as root). */
function run(args, { asNobody = false, bin = MOAT_BIN } = {}) {
	const cmd = asNobody && IS_ROOT ? 'setpriv' : bin;
	const argv = asNobody && IS_ROOT ? ['--reuid=65534', '--regid=65534', '--clear-groups', bin, ...args] : args;
	const r = spawnSync(cmd, argv, { encoding: 'utf8', input: '', timeout: 15000, env: ENV });
	if (r.error) throw r.error;
	assertNoSanitizerReport(r.stderr);
	return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The lines that say what went wrong: everything but debug/info/notice logs. */
function errorLines(stderr) {
	return stderr
		.split('\n')
		.filter((l) => l && !/^moat: (debug|info|notice): /.test(l))
		.join('\n');
}

const dir = makeTempDir('moat-e2e-checkserve-');
fs.chmodSync(dir, 0o755); // nobody must read the configs
fs.mkdirSync(path.join(dir, 'files'));
fs.writeFileSync(path.join(dir, 'files', 'a.txt'), 'a\n');
fs.writeFileSync(path.join(dir, 'plain-file'), 'not a directory\n');
fs.mkdirSync(path.join(dir, 'locked'), { mode: 0o000 });
fs.chmodSync(path.join(dir, 'locked'), 0o000);
fs.mkdirSync(path.join(dir, 'readonly'), { mode: 0o555 });
fs.chmodSync(path.join(dir, 'readonly'), 0o555);
fs.mkdirSync(path.join(dir, 'not-a-repo'));

// A moat binary alone in a directory: its loadable modules (git, http) are
// not beside it, so loading one fails at start-up.
const lonely = path.join(makeTempDir('moat-e2e-lonely-'), 'moat');
fs.copyFileSync(MOAT_BIN, lonely);
fs.chmodSync(lonely, 0o755);

const api = (over) => ({
	http: {
		apis: {
			crm: {
				base_url: 'https://127.0.0.1:1',
				tools: [{ name: 'crm_get', description: 'd', method: 'GET', path: '/x' }],
				...over,
			},
		},
	},
});

// [name, config (object or raw text), options]
const CASES = [
	['JSON with a missing comma', '{"roots": ["files"]\n  "fs": {}}', { want: /:2:3: not valid JSON: expected ',' or '}'/ }],
	['JSON with a trailing comma', '{"roots": ["files"],}', { want: /:1:\d+: not valid JSON: .*trailing comma/ }],
	['a duplicate key', '{"roots": ["files"], "roots": []}', { want: /duplicate object key/ }],
	['an unknown key', { root: ['files'] }, { want: /: \/root: unknown key; did you mean "roots"\?/ }],
	['a wrong type', { roots: 'files' }, { want: /: \/roots: type: must be of type array/ }],
	['a value out of range', { limits: { workers: 0 } }, { want: /\/limits\/workers: minimum/ }],
	['a limit for an unknown tool', { roots: ['files'], limits: { tools: { no_such_tool: { calls_per_minute: 1 } } } }, { want: /\/limits\/tools\/no_such_tool: no tool of that name/ }],
	['a missing environment variable', { server: { instructions: 'token ${MOAT_E2E_SURELY_UNSET}' } }, { want: /\/server\/instructions: environment variable MOAT_E2E_SURELY_UNSET is not set/ }],
	['a root that does not exist', { roots: ['nowhere'] }, { want: /\/roots\/0: cannot resolve/ }],
	['a root that is a file', { roots: ['plain-file'] }, { want: /\/roots\/0: not a directory/ }],
	['an unreadable root', { roots: ['locked'] }, { want: /\/roots\/0: cannot read the directory: Permission denied/, nobody: true }],
	['a missing database file', { databases: { shop: { type: 'sqlite', path: 'missing.db' } } }, { want: /\/databases\/shop/ }],
	['a git path that is no repository', { git: { repositories: [{ path: 'not-a-repo' }] } }, { want: /\/git\/repositories/ }],
	['an API over plain http', api({ base_url: 'http://127.0.0.1:1' }), { want: /base_url must be https/ }],
	['a family module that cannot be loaded', { git: { repositories: [{ path: '.' }] } }, { want: /moat_git\.so/, bin: lonely }],
	['an audit file under a file', { roots: ['files'], ...auditAt('plain-file/audit.jsonl') }, { want: /Not a directory/ }],
	['an audit file in an unwritable directory', { roots: ['files'], ...auditAt('readonly/audit.jsonl') }, { want: /Permission denied/, nobody: true }],
];

describe('moat check fails wherever moat serve would', () => {
	for (const [name, doc, opt] of CASES) {
		const skip = opt.nobody && IS_ROOT && !HAVE_SETPRIV ? 'needs setpriv to drop root' : false;
		test(name, { skip }, () => {
			const file = `${name.replace(/\W+/g, '-')}.json`;
			const p = writeConfig(dir, doc, file);
			fs.chmodSync(p, 0o644);
			const how = { asNobody: !!opt.nobody, bin: opt.bin ?? MOAT_BIN };
			const check = run(['check', '--config', p], how);
			const serve = run(['serve', '--config', p], how);
			assert.notEqual(check.code, 0, `check accepted it: ${check.stdout}`);
			assert.equal(check.code, serve.code, `exit codes differ:\ncheck: ${check.stderr}\nserve: ${serve.stderr}`);
			assert.equal(errorLines(check.stderr), errorLines(serve.stderr), 'the same error');
			assert.match(check.stderr, opt.want);
			assert.ok(check.stderr.includes(`moat: ${p}`), `the error names the file: ${check.stderr}`);
			assert.equal(check.stdout, '', 'check printed no report');
			assert.equal(serve.stdout, '', 'serve answered nothing');
		});
	}

	test('a directory on the command line that is not one: named as given, same exit', () => {
		for (const arg of [path.join(dir, 'nowhere'), path.join(dir, 'plain-file')]) {
			const check = run(['check', arg]);
			const serve = run(['serve', arg]);
			assert.equal(check.code, 3, check.stderr);
			assert.equal(serve.code, 3, serve.stderr);
			assert.equal(errorLines(check.stderr), errorLines(serve.stderr));
			assert.ok(check.stderr.startsWith(`moat: ${arg}: `), check.stderr);
		}
	});

	test('a config both accept: check exits 0, serve serves and exits 0 at EOF', () => {
		const p = writeConfig(dir, { roots: ['files'] }, 'good.json');
		fs.chmodSync(p, 0o644);
		const check = run(['check', '--config', p]);
		const serve = run(['serve', '--config', p]);
		assert.equal(check.code, 0, check.stderr);
		assert.match(check.stdout, /status: valid/);
		assert.equal(serve.code, 0, serve.stderr);
	});
});
