// ops_env.test.mjs - moat configured the way an orchestrator does it
// (issue 14, part 2): the command line's options from environment
// variables (MOAT_CONFIG, MOAT_HTTP, MOAT_LOG_LEVEL, MOAT_LOG_FORMAT; the
// flag wins), secrets into the config through ${NAME}, and logs as JSON
// lines on stderr (--log-format json): every line one object with time,
// level and msg, the "listening on URL" record still findable, start-up
// errors included.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { MOAT_BIN, STATE_HOME, makeTempDir, spawnListener, testingConfig, withTimeout, writeConfig } from './helpers.mjs';
import { initialize, messageOf, post, request } from '../attack/http_fixture.mjs';

const RFC3339_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const LEVELS = ['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency'];

/** The environment without any MOAT_* variable of the outer one. */
function cleanEnv(extra) {
	const env = { XDG_STATE_HOME: STATE_HOME };
	for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('MOAT_') || k === 'MOAT_BIN') env[k] = v;
	return { ...env, ...extra };
}

/** Every line of stderr as a JSON record, checked. */
function records(stderr) {
	const lines = stderr.split('\n').filter(Boolean);
	assert.ok(lines.length > 0, 'some log lines');
	return lines.map((line) => {
		let r;
		assert.doesNotThrow(() => (r = JSON.parse(line)), `not a JSON line: ${line}`);
		assert.deepEqual(Object.keys(r), ['time', 'level', 'msg'], line);
		assert.match(r.time, RFC3339_MS, line);
		assert.ok(Math.abs(Date.parse(r.time) - Date.now()) < 120000, `time ${r.time} is now`);
		assert.ok(LEVELS.includes(r.level), line);
		assert.equal(typeof r.msg, 'string');
		return r;
	});
}

/** Run moat to its end; resolves { code, stdout, stderr }. */
function run(args, env, timeoutMs = 10000) {
	const p = spawn(MOAT_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
	let out = '';
	let err = '';
	p.stdout.on('data', (c) => (out += c));
	p.stderr.on('data', (c) => (err += c));
	return withTimeout(
		new Promise((r) => p.on('close', (code) => r({ code, stdout: out, stderr: err }))),
		timeoutMs,
		`moat ${args.join(' ')}`,
	);
}

async function stop(l) {
	l.proc.kill('SIGTERM');
	return withTimeout(l.exited, 8000, 'moat to exit on SIGTERM');
}

describe('settings from the environment', () => {
	test('MOAT_CONFIG and MOAT_HTTP stand for --config and --http; ${NAME} fills the config', async () => {
		const dir = makeTempDir('moat-env-');
		const cfg = writeConfig(dir, testingConfig({ audit: false, server: { name: '${MOAT_TEST_NAME}' } }));
		const l = await spawnListener(['serve'], cleanEnv({ MOAT_CONFIG: cfg, MOAT_HTTP: '127.0.0.1:0', MOAT_TEST_NAME: 'from-env' }));
		try {
			assert.equal(l.scheme, 'http');
			const r = await request({
				port: Number(l.hostport.split(':')[1]),
				body: { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } },
				headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' },
			});
			assert.equal(r.status, 200, r.body);
			const init = JSON.parse(r.body);
			assert.equal(init.result.serverInfo.name, 'from-env', 'the config came from MOAT_CONFIG, its ${NAME} from the environment');
			assert.ok(init.result.capabilities.tools, 'the testing tools are there: the config was read');
		} finally {
			assert.equal((await stop(l)).code, 0, l.stderr());
		}
	});

	test('the flag wins over its variable', async () => {
		const dir = makeTempDir('moat-env-');
		const cfg = writeConfig(dir, testingConfig({ audit: false }));
		// MOAT_HTTP names nothing valid and MOAT_CONFIG a missing file: both overridden.
		const l = await spawnListener(
			['serve', '--config', cfg, '--http', '127.0.0.1:0', '--log-format', 'text'],
			cleanEnv({ MOAT_CONFIG: `${dir}/missing.json`, MOAT_HTTP: 'not an address', MOAT_LOG_FORMAT: 'json' }),
		);
		try {
			assert.match(l.stderr(), /^moat: listening on http:\/\/127\.0\.0\.1:\d+\/mcp$/m, 'text format, from the flag');
		} finally {
			assert.equal((await stop(l)).code, 0, l.stderr());
		}
		// Without the flags, the variables are used: and they fail as they should.
		const bad = await run(['check'], cleanEnv({ MOAT_CONFIG: `${dir}/missing.json` }));
		assert.notEqual(bad.code, 0);
		assert.match(bad.stderr, /missing\.json/);
	});

	test('MOAT_LOG_LEVEL sets the threshold; --log-level wins over it', async () => {
		const dir = makeTempDir('moat-env-');
		const cfg = writeConfig(dir, { audit: false }); // no tools: start-up warns
		const quiet = await spawnListener(['serve', '--http', '127.0.0.1:0'], cleanEnv({ MOAT_CONFIG: cfg, MOAT_LOG_LEVEL: 'error' }));
		await stop(quiet);
		assert.doesNotMatch(quiet.stderr(), /no tools are configured/, 'MOAT_LOG_LEVEL=error hides the warning');
		assert.match(quiet.stderr(), /listening on/, 'the listening line is always printed');
		const loud = await spawnListener(
			['serve', '--http', '127.0.0.1:0', '--log-level', 'warning'],
			cleanEnv({ MOAT_CONFIG: cfg, MOAT_LOG_LEVEL: 'error' }),
		);
		await stop(loud);
		assert.match(loud.stderr(), /warning: no tools are configured/);
		const wrong = await run(['check'], cleanEnv({ MOAT_CONFIG: cfg, MOAT_LOG_LEVEL: 'loud' }));
		assert.equal(wrong.code, 2, wrong.stderr);
		assert.match(wrong.stderr, /MOAT_LOG_LEVEL/);
	});

	test('an empty variable counts as unset', async () => {
		const dir = makeTempDir('moat-env-');
		const cfg = writeConfig(dir, testingConfig({ audit: false }));
		const r = await run(['tools', '--config', cfg], cleanEnv({ MOAT_HTTP: '', MOAT_LOG_LEVEL: '', MOAT_LOG_FORMAT: '' }));
		assert.equal(r.code, 0, r.stderr);
		assert.match(r.stdout, /echo/);
	});
});

describe('--log-format json', () => {
	test('every stderr line of a serve run is one JSON record; listening on URL is findable', async () => {
		const dir = makeTempDir('moat-json-');
		const cfg = writeConfig(dir, testingConfig({ audit: false, listen: { metrics: '127.0.0.1:0' } }));
		const l = await spawnListener(['serve', '--http', '127.0.0.1:0'], cleanEnv({ MOAT_CONFIG: cfg, MOAT_LOG_FORMAT: 'json' }));
		const port = Number(l.hostport.split(':')[1]);
		// A refusal is logged (its rule named): a record too.
		const refused = await request({ port, method: 'GET', path: '/mcp', headers: { Host: 'evil.example' } });
		assert.equal(refused.status, 403);
		const e = await stop(l);
		assert.equal(e.code, 0, l.stderr());
		const recs = records(l.stderr());
		const listening = recs.find((r) => /^listening on http:\/\/127\.0\.0\.1:\d+\/mcp$/.test(r.msg));
		assert.ok(listening, 'the listening record');
		assert.equal(listening.level, 'info');
		assert.ok(recs.some((r) => /^metrics on http:/.test(r.msg)));
		assert.ok(recs.some((r) => /SIGTERM, draining/.test(r.msg)), 'the drain is logged');
		assert.ok(recs.some((r) => r.level === 'info' && /sandbox/.test(r.msg)), 'start-up records');
	});

	test('a system call the seccomp filter refuses is logged as a record too (the signal handler\'s line)', async () => {
		const dir = makeTempDir('moat-json-');
		const cfg = writeConfig(dir, testingConfig({ audit: false, roots: [dir] }));
		const l = await spawnListener(['serve', '--http', '127.0.0.1:0', '--log-format', 'json', '--config', cfg], cleanEnv({}));
		const port = Number(l.hostport.split(':')[1]);
		try {
			const s = await initialize(port);
			const r = await post(port, { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'syscall', arguments: { name: 'keyctl' } } }, s.headers);
			assert.equal(r.status, 200, r.body);
			assert.equal(JSON.parse(messageOf(r).result.content[0].text).errno, 'EPERM');
		} finally {
			assert.equal((await stop(l)).code, 0, l.stderr());
		}
		const recs = records(l.stderr());
		const refused = recs.find((x) => /^seccomp: refused system call \d+ \(keyctl\): EPERM$/.test(x.msg));
		assert.ok(refused, l.stderr());
		assert.equal(refused.level, 'warning');
	});

	test('log.format in the config, overridden by the flag', async () => {
		const dir = makeTempDir('moat-json-');
		const cfg = writeConfig(dir, testingConfig({ audit: false, log: { format: 'json' } }));
		const fromCfg = await spawnListener(['serve', '--http', '127.0.0.1:0', '--config', cfg], cleanEnv({}));
		assert.equal((await stop(fromCfg)).code, 0, fromCfg.stderr());
		assert.ok(records(fromCfg.stderr()).some((r) => /^listening on /.test(r.msg)));
		const flag = await spawnListener(['serve', '--http', '127.0.0.1:0', '--config', cfg, '--log-format', 'text'], cleanEnv({}));
		assert.equal((await stop(flag)).code, 0, flag.stderr());
		assert.match(flag.stderr(), /^moat: listening on http:/m);
		assert.doesNotMatch(flag.stderr(), /^\{/m, 'no JSON line when the flag says text');
	});

	test('--log-format json: start-up errors are records too; an unknown format is a usage error', async () => {
		const dir = makeTempDir('moat-json-');
		const bad = writeConfig(dir, { listen: { http: '127.0.0.1:0', drain_s: 'soon' } });
		const r = await run(['serve', '--log-format', 'json', '--config', bad], cleanEnv({}));
		assert.equal(r.code, 3, r.stderr);
		const recs = records(r.stderr);
		assert.ok(recs.some((x) => x.level === 'error' && /drain_s/.test(x.msg)), r.stderr);
		const unknown = await run(['serve', '--log-format', 'xml'], cleanEnv({}));
		assert.equal(unknown.code, 2);
		assert.match(unknown.stderr, /--log-format \(or MOAT_LOG_FORMAT\) must be text or json/);
		const fromEnv = await run(['check'], cleanEnv({ MOAT_LOG_FORMAT: 'yaml' }));
		assert.equal(fromEnv.code, 2);
	});
});
