// shutdown_cli.test.mjs - shutdown on EOF and signals, secrets kept out of
// stderr, the audit file, and the moat command line (version, help, tools,
// call, check, exit codes, config errors, ${NAME} secrets and .env).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
	LATEST_VERSION,
	RawSession,
	TEST_TOOLS,
	assertProtocolOnly,
	assertToolError,
	makeTempDir,
	resultText,
	runMoat,
	sleep,
	testingConfig,
	withClient,
	withRaw,
	withTimeout,
	writeConfig,
} from './helpers.mjs';

const SECRET_ARG = 'SECRET-ARG-123';
const dir = makeTempDir('moat-e2e-cli-');
const cfg = writeConfig(dir, testingConfig({ limits: { tools_page_size: 2 } }));

// An environment without MOAT_E2E_SECRET, whatever the caller's has.
const baseEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'MOAT_E2E_SECRET'));

describe('shutdown', { concurrency: true }, () => {
	// A session with one slow call of ms running (and an echo answered).
	async function slowSession(ms, conf = cfg) {
		const s = new RawSession(conf, { args: ['serve', '--config', conf, '--log-level', 'debug'] });
		await s.initialize(LATEST_VERSION);
		s.send({
			jsonrpc: '2.0',
			id: 'slow',
			method: 'tools/call',
			params: { name: 'slow', arguments: { ms } },
		});
		s.send({
			jsonrpc: '2.0',
			id: 'echo',
			method: 'tools/call',
			params: { name: 'echo', arguments: { text: SECRET_ARG } },
		});
		await s.response('echo');
		await sleep(100); // slow is running now
		return s;
	}

	async function exited(s, ms, what) {
		return withTimeout(s.exited, ms, what).catch((e) => {
			s.kill();
			throw e;
		});
	}

	// Exit 0 within [min, max] ms of t0; the slow call answered as want says.
	function checkStopped(s, info, t0, what, { min = 0, max, want }) {
		const took = info.at - t0;
		assert.equal(info.code, 0, `${what}: exit code (signal ${info.signal}); stderr:\n${s.stderrText}`);
		assert.ok(took >= min && took < max, `${what}: exited ${took} ms after being told to stop (want ${min}..${max})`);
		assertProtocolOnly(s.lines);
		assert.doesNotMatch(s.stderrText, /SECRET-ARG-123/, 'stderr never carries argument values');
		const slow = s.messages.find((m) => m.id === 'slow');
		assert.ok(slow, `${what}: the slow call was answered`);
		if (want === 'result') assert.equal(slow.result.isError, false, JSON.stringify(slow));
		else assertToolError(slow.result, want);
	}

	test('EOF while a slow call runs: the call finishes, answers, then exit 0', async () => {
		const s = await slowSession(1500);
		const t0 = Date.now();
		s.proc.stdin.end();
		const info = await exited(s, 5000, 'exit after EOF');
		checkStopped(s, info, t0, 'EOF', { min: 1200, max: 2500, want: 'result' });
		assert.match(s.stderrText, /end of input/);
	});

	test('EOF: a call past its own deadline answers with the timeout, then exit 0', async () => {
		const tcfg = writeConfig(makeTempDir('moat-e2e-eofdl-'), testingConfig({ limits: { call_timeout_ms: 1000 } }));
		const s = await slowSession(20000, tcfg);
		const t0 = Date.now();
		s.proc.stdin.end();
		const info = await exited(s, 5000, 'exit after EOF');
		checkStopped(s, info, t0, 'EOF past the deadline', { min: 500, max: 2500, want: /deadline|call_timeout_ms/ });
	});

	test('SIGTERM while a short call runs: it finishes within the 2 s drain', async () => {
		const s = await slowSession(800);
		const t0 = Date.now();
		s.proc.kill('SIGTERM');
		const info = await exited(s, 5000, 'exit after SIGTERM');
		checkStopped(s, info, t0, 'SIGTERM', { min: 500, max: 2000, want: 'result' });
		assert.match(s.stderrText, /termination signal/);
	});

	test('SIGTERM while a long call runs: 2 s drain, then cancelled, answered, exit 0', async () => {
		const s = await slowSession(20000);
		const t0 = Date.now();
		s.proc.kill('SIGTERM');
		const info = await exited(s, 6000, 'exit after SIGTERM');
		checkStopped(s, info, t0, 'SIGTERM', { min: 1800, max: 3500, want: /cancel/ });
	});

	test('SIGINT behaves like SIGTERM', async () => {
		const s = await slowSession(20000);
		const t0 = Date.now();
		s.proc.kill('SIGINT');
		const info = await exited(s, 6000, 'exit after SIGINT');
		checkStopped(s, info, t0, 'SIGINT', { min: 1800, max: 3500, want: /cancel/ });
	});

	test('SIGTERM after EOF, while calls finish: 2 s more, then cancelled', async () => {
		const s = await slowSession(20000);
		s.proc.stdin.end();
		await sleep(300);
		const t0 = Date.now();
		s.proc.kill('SIGTERM');
		const info = await exited(s, 6000, 'exit after EOF + SIGTERM');
		checkStopped(s, info, t0, 'EOF + SIGTERM', { min: 1800, max: 3500, want: /cancel/ });
	});

	test('SIGHUP does not stop the server', async () => {
		const s = await slowSession(10);
		s.proc.kill('SIGHUP');
		await sleep(100);
		await s.assertAlive();
		s.proc.stdin.end();
		const info = await exited(s, 5000, 'exit after EOF');
		assert.equal(info.code, 0);
	});

	test('EOF with calls queued behind a busy worker: all finish and answer, exit 0', async () => {
		const qcfg = writeConfig(makeTempDir('moat-e2e-queue-'), testingConfig({ limits: { workers: 1 } }));
		const s = new RawSession(qcfg);
		await s.initialize(LATEST_VERSION);
		for (let i = 0; i < 4; i++) {
			s.send({ jsonrpc: '2.0', id: `q${i}`, method: 'tools/call', params: { name: 'slow', arguments: { ms: 300 } } });
		}
		await s.assertAlive();
		await sleep(50);
		const t0 = Date.now();
		s.proc.stdin.end();
		const info = await exited(s, 5000, 'exit after EOF');
		assert.equal(info.code, 0);
		assert.ok(info.at - t0 < 2500, `exited ${info.at - t0} ms after EOF`);
		assertProtocolOnly(s.lines);
		for (let i = 0; i < 4; i++) {
			const r = s.messages.find((m) => m.id === `q${i}`);
			assert.ok(r, `q${i} answered`);
			assert.equal(r.result.isError, false, JSON.stringify(r));
		}
	});

	test('stderr at debug level never contains argument values', async () => {
		const r = await withRaw(
			cfg,
			LATEST_VERSION,
			async (s) => {
				await s.callTool('echo', { text: SECRET_ARG });
				assertToolError(await s.callTool('echo', { text: SECRET_ARG, extra: SECRET_ARG }), /additional/);
				assertToolError(await s.callTool('echo', { text: 5, note: SECRET_ARG }), /invalid arguments/);
				assertToolError(await s.callTool('fail', {}), /failed/);
				await s.callTool('add', { a: 123456789, b: 1 });
				const unknown = await s.request('tools/call', { name: 'nope', arguments: { text: SECRET_ARG } });
				assert.equal(unknown.error?.code, -32602);
				s.send(`{"jsonrpc":"2.0","id":1,"method":"${SECRET_ARG}"} trailing`);
				await s.errorFor(1);
			},
			{ args: ['serve', '--config', cfg, '--log-level', 'debug'] },
		);
		assert.match(r.stderr, /debug/, 'debug logging was on');
		assert.doesNotMatch(r.stderr, /SECRET-ARG-123/);
		assert.doesNotMatch(r.stderr, /123456789/);
	});
});

describe('audit file', () => {
	test('one JSON line per call with time, principal, session, id, tool, family, outcome, rule, duration_us, bytes_out; no arguments', async () => {
		const adir = makeTempDir('moat-e2e-audit-');
		const acfg = writeConfig(
			adir,
			testingConfig({ log: { audit_file: 'audit.jsonl' }, limits: { max_output_bytes: 1024 } }),
		);
		const auditPath = path.join(adir, 'audit.jsonl');
		let echoResponse;
		await withRaw(acfg, LATEST_VERSION, async (s) => {
			echoResponse = await s.request('tools/call', { name: 'echo', arguments: { text: SECRET_ARG } });
			await s.callTool('add', { a: 2, b: 3 });
			assertToolError(await s.callTool('fail', {}), /failed/);
			assertToolError(await s.callTool('echo', { text: 7, other: SECRET_ARG }), /invalid/);
			assertToolError(await s.callTool('big', { bytes: 4000 }), /max_output_bytes/);
			s.send({ jsonrpc: '2.0', id: 'c', method: 'tools/call', params: { name: 'slow', arguments: { ms: 3000 } } });
			await sleep(80);
			s.notify('notifications/cancelled', { requestId: 'c' });
			await sleep(80);
			await s.assertAlive();
			// not tool calls: no audit lines
			await s.call('tools/list', {});
			const unknown = await s.request('tools/call', { name: 'nope', arguments: {} });
			assert.equal(unknown.error?.code, -32602);
		});
		const text = fs.readFileSync(auditPath, 'utf8');
		assert.equal(fs.statSync(auditPath).mode & 0o777, 0o600, 'the audit file is private');
		assert.doesNotMatch(text, /SECRET-ARG-123/, 'the audit never carries argument values');
		assert.ok(text.endsWith('\n'));
		const recs = text.trimEnd().split('\n').map((l) => JSON.parse(l));
		assert.deepEqual(
			recs.map((r) => [r.tool, r.outcome]),
			[
				['echo', 'ok'],
				['add', 'ok'],
				['fail', 'upstream'],
				['echo', 'invalid'],
				['big', 'limit'],
				['slow', 'cancelled'],
			],
		);
		for (const r of recs) {
			// docs/audit.md; "rule" only on a refusal
			const keys = ['bytes_out', 'client', 'client_version', 'duration_us', 'family', 'id', 'kind',
				'outcome', 'prev', 'principal', 'session', 'time', 'tool'];
			assert.deepEqual(Object.keys(r).filter((k) => k !== 'rule').sort(), keys);
			assert.match(r.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
			assert.equal(r.kind, 'call');
			assert.equal(r.principal, 'local');
			assert.equal(r.family, 'testing');
			assert.match(r.session, /^[0-9a-f]{32}$/);
			assert.ok(Math.abs(Date.parse(r.time) - Date.now()) < 60000, 'time is now');
			assert.ok(Number.isInteger(r.duration_us) && r.duration_us >= 0);
			assert.ok(Number.isInteger(r.bytes_out) && r.bytes_out >= 0);
		}
		assert.equal(recs[3].rule, 'schema.invalid', 'a refusal names its rule');
		assert.equal(recs[4].rule, 'limits.output');
		assert.equal(recs[0].bytes_out, Buffer.byteLength(JSON.stringify(echoResponse)), 'bytes_out is the size of the response sent');
		assert.equal(recs[5].bytes_out, 0, 'a cancelled call sent nothing');
		assert.ok(recs[5].duration_us >= 50000 && recs[5].duration_us < 2000000, `cancelled after ~80 ms: ${recs[5].duration_us}`);

		// a second server appends to the same file; moat call audits too
		const r = runMoat(['call', 'echo', 'text=again', '--config', acfg]);
		assert.equal(r.code, 0, r.stderr);
		const recs2 = fs.readFileSync(auditPath, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
		assert.equal(recs2.length, recs.length + 1);
		assert.deepEqual([recs2.at(-1).tool, recs2.at(-1).outcome], ['echo', 'ok']);
	});
});

describe('command line', { concurrency: true }, () => {
	test('--config=FILE and -c FILE are the same as --config FILE', () => {
		for (const args of [['--config=' + cfg], ['-c', cfg], ['--config', cfg]]) {
			const r = runMoat(['call', 'echo', 'text=same', ...args]);
			assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
			assert.equal(r.stdout, 'same\n');
		}
	});

	test('moat version', () => {
		const r = runMoat(['version']);
		assert.equal(r.code, 0);
		assert.match(r.stdout, /^moat \d+\.\d+\.\d+\S*\n/);
		assert.match(r.stdout, /testing/, 'the test provider is compiled in');
		assert.equal(runMoat(['--version']).stdout, r.stdout);
	});

	test('help: moat --help, moat serve --help and the other commands exit 0', () => {
		const top = runMoat(['--help']);
		assert.equal(top.code, 0);
		for (const cmd of ['serve', 'check', 'tools', 'call', 'version']) assert.match(top.stdout, new RegExp(`\\b${cmd}\\b`));
		assert.match(top.stdout, /exit codes/);
		for (const cmd of ['serve', 'check', 'tools', 'call']) {
			const r = runMoat([cmd, '--help']);
			assert.equal(r.code, 0, `${cmd} --help`);
			assert.match(r.stdout, new RegExp(`usage: moat ${cmd}`));
			assert.equal(r.stderr, '', `${cmd} --help writes to stdout only`);
		}
		const none = runMoat([]);
		assert.equal(none.code, 2, 'no command is a usage error');
		assert.match(none.stderr, /usage/);
	});

	test('moat tools --json prints every tool (all pages)', () => {
		const r = runMoat(['tools', '--json', '--config', cfg]);
		assert.equal(r.code, 0, r.stderr);
		const tools = JSON.parse(r.stdout);
		assert.deepEqual(
			tools.map((t) => t.name),
			TEST_TOOLS,
		);
		for (const t of tools) {
			assert.equal(t.inputSchema.type, 'object');
			assert.equal(typeof t.title, 'string');
			assert.equal(t.annotations.readOnlyHint, true);
		}
		const text = runMoat(['tools', '--config', cfg]);
		assert.equal(text.code, 0);
		const lines = text.stdout.trim().split('\n');
		assert.equal(lines.length, TEST_TOOLS.length);
		TEST_TOOLS.forEach((name, i) => assert.match(lines[i], new RegExp(`^${name}\\s.*read-only`)));
		const empty = runMoat(['tools']);
		assert.equal(empty.code, 0);
		assert.match(empty.stdout, /no tools configured/);
	});

	test('moat call: key=value pairs, --json, and exit codes', () => {
		const add = runMoat(['call', 'add', 'a=1', 'b=2', '--config', cfg]);
		assert.equal(add.code, 0, add.stderr);
		assert.deepEqual(JSON.parse(add.stdout), { sum: 3 });

		// reals at the precision that reads back, as text and as --json
		const real = runMoat(['call', 'add', 'a=0.173838', 'b=0', '--config', cfg]);
		assert.equal(real.stdout, '{"sum":0.173838}\n');
		const realJson = runMoat(['call', 'add', 'a=0.173838', 'b=0', '--json', '--config', cfg]);
		assert.match(realJson.stdout, /"sum": 0\.173838\n/);

		const echo = runMoat(['call', 'echo', 'text=hi', '--config', cfg]);
		assert.equal(echo.code, 0, echo.stderr);
		assert.equal(echo.stdout, 'hi\n');

		// a string-typed key keeps its text even when it parses as JSON
		const num = runMoat(['call', 'echo', 'text=123', '--config', cfg]);
		assert.equal(num.stdout, '123\n');

		const json = runMoat(['call', 'echo', '--json', '{"text":"hi"}', '--config', cfg]);
		assert.equal(json.code, 0, json.stderr);
		const res = JSON.parse(json.stdout);
		assert.deepEqual(res.content, [{ type: 'text', text: 'hi' }]);
		assert.equal(res.isError, false);

		// --json without an object after it only asks for JSON output,
		// wherever it stands (as `moat call --help` says)
		for (const args of [['text=hi', '--json'], ['--json', 'text=hi'], ['--json', '--config', cfg, 'text=hi']]) {
			const r = runMoat(['call', 'echo', ...args, '--config', cfg]);
			assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
			assert.deepEqual(JSON.parse(r.stdout).content, [{ type: 'text', text: 'hi' }], args.join(' '));
		}

		const fail = runMoat(['call', 'fail', '--config', cfg]);
		assert.equal(fail.code, 1);
		assert.match(fail.stderr, /upstream failed/);
		assert.equal(fail.stdout, '');

		const invalid = runMoat(['call', 'echo', 'text=a', 'extra=1', '--config', cfg]);
		assert.equal(invalid.code, 1);
		assert.match(invalid.stderr, /invalid arguments: \(root\): additionalProperties/);
	});

	test('bad usage exits 2', () => {
		const cases = [
			['frobnicate'],
			['call'],
			['call', '--config', cfg],
			['call', 'no_such_tool', '--config', cfg],
			['call', 'echo', 'novalue', '--config', cfg],
			['call', 'echo', '=x', '--config', cfg],
			['call', 'echo', '--json', '[1]', '--config', cfg],
			['call', 'echo', '--json', '{"text":"a"}', 'text=b', '--config', cfg],
			['call', 'echo', '--json'],
			['serve', '--bogus'],
			['check', '--config'],
			['check', '--log-level', 'loud', '--config', cfg],
			['tools', '--frob'],
		];
		for (const args of cases) {
			const r = runMoat(args);
			assert.equal(r.code, 2, `moat ${args.join(' ')}: ${r.stderr}`);
			assert.match(r.stderr, /^moat: |usage/, `moat ${args.join(' ')} explains on stderr`);
			assert.equal(r.stdout, '', `moat ${args.join(' ')}: nothing on stdout`);
		}
	});

	test('invalid configs exit 3 naming the file, the pointer and the rule', () => {
		const cdir = makeTempDir('moat-e2e-badcfg-');
		const cases = [
			[{ testing: { enabled: true }, bogus: 1 }, [/: \/bogus: unknown key \(allowed here: .*testing/]],
			[{ limits: { max_mesage_bytes: 2048 } }, [/: \/limits\/max_mesage_bytes: unknown key; did you mean "max_message_bytes"\?/]],
			[{ limits: { workers: '4' } }, [/\/limits\/workers/, /type/]],
			[{ limits: { max_message_bytes: 10 } }, [/\/limits\/max_message_bytes/, /minimum/]],
			[{ log: { level: 'loud' } }, [/\/log\/level/, /enum/]],
			[{ testing: { enabled: true }, limits: { tools: { nosuch: { calls_per_minute: 1 } } } }, [/\/limits\/tools\/nosuch/]],
			['{"testing": {"enabled": true}', [/\.json:1:\d+: not valid JSON: expected ',' or '}' at end of file/]],
			['{"testing": {"enabled": true, "enabled": false}}', [/duplicate/]],
		];
		cases.forEach(([doc, patterns], i) => {
			const p = writeConfig(cdir, doc, `bad-${i}.json`);
			for (const cmd of ['check', 'serve', 'tools']) {
				const r = runMoat([cmd, '--config', p]);
				assert.equal(r.code, 3, `${cmd} ${JSON.stringify(doc)}: ${r.stderr}`);
				for (const pat of patterns) assert.match(r.stderr, pat, `${cmd} ${JSON.stringify(doc)}`);
				assert.ok(r.stderr.startsWith(`moat: ${p}`), `${cmd}: the error names the file: ${r.stderr}`);
				assert.equal(r.stdout, '', 'nothing on stdout');
			}
		});
		const missing = runMoat(['check', '--config', path.join(cdir, 'does-not-exist.json')]);
		assert.equal(missing.code, 4, 'an unreadable config is a runtime failure');
	});

	test('moat check prints the limits and exits 0', () => {
		const p = writeConfig(
			makeTempDir('moat-e2e-check-'),
			testingConfig({
				limits: { max_message_bytes: 4096, calls_per_minute: 0, tools_page_size: 3, call_timeout_ms: 1234 },
				log: { audit_file: 'a.jsonl' },
			}),
		);
		const r = runMoat(['check', '--config', p]);
		assert.equal(r.code, 0, r.stderr);
		assert.match(r.stdout, /status: valid/);
		assert.match(r.stdout, /tools \(7\):/);
		for (const t of TEST_TOOLS) assert.match(r.stdout, new RegExp(`^\\s+${t}\\s`, 'm'));
		assert.match(r.stdout, /^limits:/m);
		assert.match(r.stdout, /max_message_bytes\s+4096/);
		assert.match(r.stdout, /call_timeout_ms\s+1234/);
		assert.match(r.stdout, /calls_per_minute\s+0 \(unlimited\)/);
		assert.match(r.stdout, /tool_calls_per_minute\s+600/, 'defaults are shown too');
		assert.match(r.stdout, /tools_page_size\s+3/);
		assert.match(r.stdout, /audit: .*a\.jsonl/);
		// check opens the audit file as serve does (so it fails where serve
		// would), but records nothing in it.
		const audit = path.join(path.dirname(p), 'a.jsonl');
		assert.equal(fs.existsSync(audit) ? fs.statSync(audit).size : 0, 0, 'check writes no audit record');
		const defaults = runMoat(['check']);
		assert.equal(defaults.code, 0);
		assert.match(defaults.stdout, /tools \(0\)/);
		assert.match(defaults.stdout, /max_message_bytes\s+4194304/);
	});
});

describe('${NAME} secrets', { concurrency: true }, () => {
	const SECRET = 's3cr3t-E2E-value-9876';
	const secretConfig = (withDotenv) => {
		const d = makeTempDir('moat-e2e-secret-');
		const p = writeConfig(d, testingConfig({ server: { instructions: 'token=${MOAT_E2E_SECRET}' } }));
		if (withDotenv) fs.writeFileSync(path.join(d, '.env'), `# test secret\nMOAT_E2E_SECRET="${SECRET}"\n`);
		return p;
	};

	test('a missing variable exits 3 naming it', () => {
		const p = secretConfig(false);
		for (const cmd of ['check', 'serve']) {
			const r = runMoat([cmd, '--config', p], { env: baseEnv });
			assert.equal(r.code, 3, `${cmd}: ${r.stderr}`);
			assert.match(r.stderr, /MOAT_E2E_SECRET/);
			assert.match(r.stderr, /\/server\/instructions/);
		}
	});

	test('from .env beside the config: check works and never prints the value', () => {
		const p = secretConfig(true);
		const r = runMoat(['check', '--config', p, '--log-level', 'debug'], { env: baseEnv });
		assert.equal(r.code, 0, r.stderr);
		assert.match(r.stdout, /secrets from \$\{NAME\} references: 1/);
		assert.equal(r.stdout.includes(SECRET), false, 'check stdout never carries the secret');
		assert.equal(r.stderr.includes(SECRET), false, 'check stderr never carries the secret');
		// the environment also works (and wins over .env)
		const env = runMoat(['check', '--config', secretConfig(false)], { env: { ...baseEnv, MOAT_E2E_SECRET: SECRET } });
		assert.equal(env.code, 0, env.stderr);
		assert.equal(env.stdout.includes(SECRET), false);
	});

	// Regression: `moat check` printed server.name and log.audit_file as
	// resolved, secrets included.
	test('check masks a secret used in server.name and log.audit_file', () => {
		const d = makeTempDir('moat-e2e-secret-');
		const p = writeConfig(
			d,
			testingConfig({
				server: { name: '${MOAT_E2E_SECRET}' },
				log: { audit_file: '${MOAT_E2E_SECRET}.jsonl' },
			}),
		);
		fs.writeFileSync(path.join(d, '.env'), `MOAT_E2E_SECRET=${SECRET}\n`);
		const r = runMoat(['check', '--config', p], { env: baseEnv });
		assert.equal(r.code, 0, r.stderr);
		assert.match(r.stdout, /secrets from \$\{NAME\} references: 1/);
		const leaked = r.stdout.split('\n').filter((l) => l.includes(SECRET));
		assert.deepEqual(leaked, [], 'moat check printed the secret');
	});

	test('.env: export, quotes and comments are understood; the environment wins', async () => {
		const d = makeTempDir('moat-e2e-secret-');
		const p = writeConfig(d, testingConfig({ server: { instructions: '${MOAT_E2E_SECRET}|${MOAT_E2E_OTHER}' } }));
		fs.writeFileSync(
			path.join(d, '.env'),
			`# comment\n\nexport MOAT_E2E_SECRET='from-dotenv-1'\n  MOAT_E2E_OTHER="x"\r\n`,
		);
		await withClient(p, async (client) => {
			assert.equal(client.getInstructions(), 'from-dotenv-1|x');
		});
		await withClient(
			p,
			async (client) => {
				assert.equal(client.getInstructions(), 'from-env-22|x', 'the environment wins over .env');
			},
			{ env: { MOAT_E2E_SECRET: 'from-env-22' } },
		);
		fs.writeFileSync(path.join(d, '.env'), 'not a valid line\n');
		const bad = runMoat(['check', '--config', p], { env: baseEnv });
		assert.equal(bad.code, 3, bad.stderr);
		assert.match(bad.stderr, /\.env line 1/);
	});

	test('from .env: the server serves, and error messages mask the value', async () => {
		const p = secretConfig(true);
		await withClient(p, async (client, c) => {
			assert.equal(client.getInstructions(), `token=${SECRET}`, 'the reference is resolved');
			assert.equal(resultText(await client.callTool({ name: 'echo', arguments: { text: 'ok' } })), 'ok');
			// an error message that would quote the secret (here: as a property name) masks it
			const r = await client.callTool({ name: 'echo', arguments: { text: 'x', [SECRET]: 1 } });
			const text = assertToolError(r, /additional property/);
			assert.equal(text.includes(SECRET), false, `error text leaks the secret: ${text}`);
			assert.match(text, /\*\*\*\*/, 'the secret is masked');
			assert.equal(c.stderr().includes(SECRET), false);
		});
	});
});
