// audit.test.mjs - the audit trail (docs/audit.md) driven through the real
// binary with the official SDK client: one record per call with the
// documented fields and never an argument value; the hash chain holds
// (`moat audit verify`) and breaks, naming the line, when a line is edited,
// deleted or reordered; `moat audit tail` and `summary` print readable
// output and JSON; the default location under $XDG_STATE_HOME, "audit":
// false, a location that cannot be created, rotation under the sandbox,
// and the deprecated log.audit_file spelling.
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import {
	MOAT_BIN,
	sleep,
	withTimeout,
	makeTempDir,
	writeConfig,
	testingConfig,
	withClient,
	runMoat,
	resultText,
} from './helpers.mjs';

const SECRET = 'sk-live-AUDIT-CANARY-5f1e2d';

function readTrail(file) {
	const text = fs.readFileSync(file, 'utf8');
	assert.ok(text.endsWith('\n'), 'the trail ends with a newline');
	return text.trimEnd().split('\n');
}

/** A config whose trail lives in its own directory; returns paths. */
function trailConfig(audit = {}, extra = {}) {
	const dir = makeTempDir('moat-e2e-audit-');
	fs.mkdirSync(path.join(dir, 'trail'));
	const file = path.join(dir, 'trail', 'audit.jsonl');
	const config = writeConfig(
		dir,
		testingConfig({ audit: { file: 'trail/audit.jsonl', ...audit }, limits: { call_timeout_ms: 400, max_output_bytes: 2048 }, ...extra }),
	);
	return { dir, file, config };
}

describe('audit trail', () => {
	let t;
	let lines;

	before(async () => {
		t = trailConfig();
		await withClient(t.config, async (client) => {
			const echo = await client.callTool({ name: 'echo', arguments: { text: SECRET } });
			assert.equal(resultText(echo), SECRET);
			await client.callTool({ name: 'add', arguments: { a: 2, b: 3 } });
			await client.callTool({ name: 'add', arguments: { a: 4, b: 5 } });
			const fail = await client.callTool({ name: 'fail', arguments: {} });
			assert.equal(fail.isError, true);
			const bad = await client.callTool({ name: 'echo', arguments: { text: 7, other: SECRET } });
			assert.equal(bad.isError, true);
			const big = await client.callTool({ name: 'big', arguments: { bytes: 10000 } });
			assert.equal(big.isError, true);
			const slow = await client.callTool({ name: 'slow', arguments: { ms: 3000 } });
			assert.equal(slow.isError, true);
		});
		lines = readTrail(t.file);
	});

	test('one record per call with the documented fields', () => {
		const recs = lines.map((l) => JSON.parse(l));
		assert.deepEqual(
			recs.map((r) => [r.tool, r.outcome]),
			[
				['echo', 'ok'],
				['add', 'ok'],
				['add', 'ok'],
				['fail', 'upstream'],
				['echo', 'invalid'],
				['big', 'limit'],
				['slow', 'timeout'],
			],
		);
		const sessions = new Set(recs.map((r) => r.session));
		assert.equal(sessions.size, 1, 'one session');
		for (const r of recs) {
			assert.match(r.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
			assert.equal(r.kind, 'call');
			assert.equal(r.principal, 'local');
			assert.equal(r.client, 'moat-e2e');
			assert.equal(r.client_version, '0.0.1');
			assert.match(r.session, /^[0-9a-f]{32}$/);
			assert.doesNotMatch(r.session, /0{16}$/, 'random under the sandbox too');
			assert.ok(Number.isInteger(r.id) || typeof r.id === 'string', 'the request id');
			assert.equal(r.family, 'testing');
			assert.ok(Number.isInteger(r.duration_us) && r.duration_us >= 0);
			assert.ok(Number.isInteger(r.bytes_out) && r.bytes_out > 0);
			assert.match(r.prev, /^[0-9a-f]{64}$/);
			assert.equal(Object.keys(r).at(-1), 'prev', 'prev is the last field');
		}
		assert.equal(recs[0].prev, '0'.repeat(64), 'a new trail starts at zeros');
		assert.equal(recs[4].rule, 'schema.invalid');
		assert.equal(recs[5].rule, 'limits.output');
		assert.equal(recs[6].rule, 'limits.timeout');
		assert.ok(recs[6].duration_us >= 300000, 'the timeout took its time');
		assert.equal(recs[0].rule, undefined, 'no rule on success');
	});

	test('never an argument value', () => {
		const text = lines.join('\n');
		assert.ok(!text.includes(SECRET), 'the planted secret is not in the trail');
		assert.ok(!text.includes('"text"') && !text.includes('arguments'), 'no argument names either');
		assert.equal(fs.statSync(t.file).mode & 0o777, 0o600, 'the trail is private');
	});

	test('moat audit verify: intact, then every kind of tampering is named', () => {
		let r = runMoat(['audit', 'verify', t.file]);
		assert.equal(r.code, 0, r.stderr + r.stdout);
		assert.match(r.stdout, /^intact: 7 lines in 1 file; starts at the beginning of the trail$/m);
		r = runMoat(['audit', 'verify', '--config', t.config]);
		assert.equal(r.code, 0, r.stderr);

		const copy = (name, ls) => {
			const p = path.join(t.dir, name);
			fs.writeFileSync(p, ls.join('\n') + '\n');
			return p;
		};
		// Edited: line 3 says the call succeeded faster.
		const edited = [...lines];
		edited[2] = edited[2].replace(/"duration_us":(\d+)/, (_, d) => `"duration_us":${Number(d) + 1000}`);
		assert.notEqual(edited[2], lines[2]);
		r = runMoat(['audit', 'verify', copy('edited.jsonl', edited)]);
		assert.equal(r.code, 1);
		assert.match(r.stdout, /edited\.jsonl:4: prev does not match line 3/);
		// Deleted: the failing call disappears.
		const deleted = lines.filter((_, i) => i !== 3);
		r = runMoat(['audit', 'verify', copy('deleted.jsonl', deleted)]);
		assert.equal(r.code, 1);
		assert.match(r.stdout, /deleted\.jsonl:4: prev does not match line 3/);
		// Reordered: two lines swap places.
		const reordered = [lines[0], lines[2], lines[1], ...lines.slice(3)];
		r = runMoat(['audit', 'verify', '--json', copy('reordered.jsonl', reordered)]);
		assert.equal(r.code, 1);
		const v = JSON.parse(r.stdout);
		assert.equal(v.intact, false);
		assert.equal(v.line, 2);
		assert.match(v.why, /prev does not match line 1/);
		// Not JSON at all.
		r = runMoat(['audit', 'verify', copy('garbage.jsonl', [lines[0], 'hello', lines[1]])]);
		assert.equal(r.code, 1);
		assert.match(r.stdout, /garbage\.jsonl:2: not a JSON record/);
		// A missing file is an I/O failure, not a broken chain.
		r = runMoat(['audit', 'verify', path.join(t.dir, 'nope.jsonl')]);
		assert.equal(r.code, 4);
	});

	test('moat audit tail: aligned columns, filters, JSON', () => {
		let r = runMoat(['audit', 'tail', '-n', '3', '--config', t.config]);
		assert.equal(r.code, 0, r.stderr);
		const out = r.stdout.trimEnd().split('\n');
		assert.equal(out.length, 4, r.stdout);
		assert.match(out[0], /^TIME +PRINCIPAL +TOOL +OUTCOME +DURATION +BYTES +RULE \/ TOUCHED$/);
		assert.match(out[1], /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}  local +echo +invalid +\d+\.\d{3} ms +\d+ B  rule=schema\.invalid$/);
		assert.match(out[3], /slow +timeout +\d+\.\d ms .* rule=limits\.timeout$/);
		assert.doesNotMatch(r.stdout, /\d\.\d{5,}/, 'no long floats');
		r = runMoat(['audit', 'tail', '--tool', 'add', '--utc', t.file]);
		const adds = r.stdout.trimEnd().split('\n').slice(1);
		assert.equal(adds.length, 2);
		for (const l of adds) assert.match(l, /Z  local +add +ok /);
		r = runMoat(['audit', 'tail', '--json', '-n', '2', t.file]);
		assert.deepEqual(r.stdout.trimEnd().split('\n'), lines.slice(-2), 'records as stored');
		r = runMoat(['audit', 'tail', '--rule', 'limits.output', '--json', t.file]);
		assert.equal(JSON.parse(r.stdout).tool, 'big');
		r = runMoat(['audit', 'tail', '--principal', 'someone-else', '--json', t.file]);
		assert.equal(r.stdout, '');
		r = runMoat(['audit', 'tail', '--bogus', t.file]);
		assert.equal(r.code, 2);
	});

	test('moat audit summary: per tool, outcomes, rules, principals; JSON', () => {
		let r = runMoat(['audit', 'summary', '--since', '1h', '--config', t.config]);
		assert.equal(r.code, 0, r.stderr);
		assert.match(r.stdout, /^records: 7, .* since 1h$/m);
		assert.match(r.stdout, /^ {2}add +2 +2 +0 +\d+\.\d{3} ms +\d+\.\d{3} ms$/m);
		assert.match(r.stdout, /^refusals per rule$/m);
		assert.match(r.stdout, /^ {2}limits\.timeout +1$/m);
		assert.match(r.stdout, /^ {2}local +7$/m);
		assert.match(r.stdout, /^ {2}moat-e2e 0\.0\.1 +7$/m);
		assert.doesNotMatch(r.stdout, /\d\.\d{5,}/, 'no long floats');
		r = runMoat(['audit', 'summary', '--json', t.file]);
		const s = JSON.parse(r.stdout);
		assert.equal(s.records, 7);
		assert.equal(s.tools.add.calls, 2);
		assert.equal(s.tools.echo.not_ok, 1);
		assert.equal(s.outcomes.ok, 3);
		assert.equal(s.rules['limits.output'], 1);
		assert.deepEqual(s.principals, { local: 7 });
		r = runMoat(['audit', 'summary', '--outcome', 'ok', '--json', t.file]);
		assert.equal(JSON.parse(r.stdout).records, 3);
		r = runMoat(['audit', 'summary', '--since', 'yesterday', t.file]);
		assert.equal(r.code, 2);
		assert.match(r.stderr, /--since wants/);
	});
});

describe('audit trail: where it goes', () => {
	test('on by default under $XDG_STATE_HOME/moat, directory 0700', () => {
		const state = path.join(makeTempDir('moat-e2e-xdg-'), 'state');
		const cfg = writeConfig(makeTempDir('moat-e2e-xdgcfg-'), testingConfig());
		const env = { ...process.env, XDG_STATE_HOME: state };
		const r = runMoat(['call', 'echo', 'text=hello', '--config', cfg], { env });
		assert.equal(r.code, 0, r.stderr);
		const file = path.join(state, 'moat', 'audit.jsonl');
		assert.equal(fs.statSync(path.join(state, 'moat')).mode & 0o777, 0o700);
		assert.equal(readTrail(file).length, 1);
		const again = runMoat(['call', 'add', 'a=1', 'b=2', '--config', cfg], { env });
		assert.equal(again.code, 0);
		// A second process continues the chain.
		const v = runMoat(['audit', 'verify'], { env });
		assert.equal(v.code, 0, v.stdout + v.stderr);
		assert.match(v.stdout, /intact: 2 lines/);
		const check = runMoat(['check', '--config', cfg], { env });
		assert.match(check.stdout, new RegExp(`^audit: ${file}$`, 'm'));
		assert.match(check.stdout, /^ {2}audit dir +.*moat \(the trail's files: create, read, append, rename, remove; no listing\)$/m);
	});

	test('"audit": false writes nothing', () => {
		const state = path.join(makeTempDir('moat-e2e-off-'), 'state');
		const cfg = writeConfig(makeTempDir('moat-e2e-offcfg-'), testingConfig({ audit: false }));
		const r = runMoat(['call', 'echo', 'text=hello', '--config', cfg], { env: { ...process.env, XDG_STATE_HOME: state } });
		assert.equal(r.code, 0, r.stderr);
		assert.equal(fs.existsSync(state), false);
		const a = runMoat(['audit', 'tail', '--config', cfg]);
		assert.equal(a.code, 3);
		assert.match(a.stderr, /off/);
	});

	test('a default location that cannot be created stops start-up, saying how to proceed', () => {
		const base = makeTempDir('moat-e2e-ro-');
		const notDir = path.join(base, 'file');
		fs.writeFileSync(notDir, 'x');
		const cfg = writeConfig(base, testingConfig());
		for (const cmd of [['serve'], ['call', 'echo', 'text=x']]) {
			const r = runMoat([...cmd, '--config', cfg], { env: { ...process.env, XDG_STATE_HOME: notDir } });
			assert.equal(r.code, 4, r.stderr);
			assert.match(r.stderr, /audit: cannot create the directory .*file\/moat/);
			assert.match(r.stderr, /"audit": false/);
		}
	});

	test('rotation by size works under the sandbox, and the chain spans the files', async () => {
		const t = trailConfig({ max_bytes: 1500, keep: 2 });
		await withClient(t.config, async (client) => {
			for (let i = 0; i < 20; i++) await client.callTool({ name: 'add', arguments: { a: i, b: 1 } });
		});
		for (const f of [t.file, `${t.file}.1`, `${t.file}.2`]) {
			assert.ok(fs.statSync(f).size <= 1500, `${f} within max_bytes`);
			assert.equal(fs.statSync(f).mode & 0o777, 0o600);
		}
		assert.equal(fs.existsSync(`${t.file}.3`), false, 'keep: 2');
		const r = runMoat(['audit', 'verify', '--config', t.config]);
		assert.equal(r.code, 0, r.stdout + r.stderr);
		assert.match(r.stdout, /in 3 files/);
		// Out of order, the break is at the first line of the second file.
		const bad = runMoat(['audit', 'verify', `${t.file}.1`, `${t.file}.2`, t.file]);
		assert.equal(bad.code, 1);
		assert.match(bad.stdout, /audit\.jsonl\.2:1: prev does not match the last line of/);
		// A restart continues the chain of the rotated trail.
		await withClient(t.config, async (client) => {
			await client.callTool({ name: 'add', arguments: { a: 1, b: 1 } });
		});
		assert.equal(runMoat(['audit', 'verify', '--config', t.config]).code, 0);
	});

	test('several servers share one trail: one chain across their lines and rotations', async () => {
		const t = trailConfig({ max_bytes: 4000, keep: 20 });
		await Promise.all(
			[0, 1, 2].map((k) =>
				withClient(t.config, async (client) => {
					for (let i = 0; i < 15; i++) await client.callTool({ name: 'add', arguments: { a: k, b: i } });
				}),
			),
		);
		const r = runMoat(['audit', 'verify', '--config', t.config]);
		assert.equal(r.code, 0, r.stdout + r.stderr);
		assert.match(r.stdout, /intact: 45 lines in \d+ files; starts at the beginning of the trail/);
		const s = JSON.parse(runMoat(['audit', 'summary', '--json', '--config', t.config]).stdout);
		assert.equal(s.tools.add.calls, 45);
	});

	test('moat audit tail -f follows new records, across a rotation', async () => {
		const t = trailConfig({ max_bytes: 1000, keep: 1 });
		const run = () => {
			const r = runMoat(['call', 'add', 'a=1', 'b=2', '--config', t.config]);
			assert.equal(r.code, 0, r.stderr);
		};
		run();
		const p = spawn(MOAT_BIN, ['audit', 'tail', '-f', '-n', '1', '--config', t.config], { stdio: ['ignore', 'pipe', 'pipe'] });
		let out = '';
		p.stdout.setEncoding('utf8');
		p.stdout.on('data', (c) => (out += c));
		const lines = () => out.split('\n').filter((l) => / add +ok /.test(l)).length;
		try {
			await withTimeout((async () => { while (lines() < 1) await sleep(50); })(), 5000, 'the last record');
			for (let i = 0; i < 5; i++) run(); // rotates on the way
			await withTimeout((async () => { while (lines() < 6) await sleep(50); })(), 8000, 'five more records');
			assert.ok(fs.existsSync(`${t.file}.1`), 'the trail rotated meanwhile');
		} finally {
			p.kill();
		}
		assert.equal(lines(), 6, out);
	});

	test('a trail beside other files gets no sandbox rights on its directory', () => {
		const dir = makeTempDir('moat-e2e-shared-');
		const cfg = writeConfig(dir, testingConfig({ audit: { file: 'audit.jsonl', max_bytes: 600 } }));
		fs.writeFileSync(path.join(dir, 'precious.txt'), 'keep me');
		let r = runMoat(['check', '--config', cfg]);
		assert.equal(r.code, 0, r.stderr);
		assert.match(r.stdout, /^ {2}audit log +.*audit\.jsonl \(opened before the sandbox; its directory holds other files, so no rule/m);
		assert.doesNotMatch(r.stdout, /^ {2}audit dir/m);
		for (let i = 0; i < 3; i++) {
			r = runMoat(['call', 'add', 'a=1', 'b=2', '--config', cfg]);
			assert.equal(r.code, 0, r.stderr);
			assert.match(r.stderr, /holds other files: under the sandbox the trail can neither rotate/);
		}
		// Rotation fails (logged once), the records still arrive, the chain holds.
		assert.equal(readTrail(path.join(dir, 'audit.jsonl')).length, 3);
		assert.equal(fs.existsSync(path.join(dir, 'audit.jsonl.1')), false);
		assert.equal(runMoat(['audit', 'verify', '--config', cfg]).code, 0);
	});

	test('log.audit_file still works, with a warning naming audit.file', () => {
		const dir = makeTempDir('moat-e2e-oldkey-');
		const cfg = writeConfig(dir, testingConfig({ log: { audit_file: 'old.jsonl' } }));
		const r = runMoat(['call', 'echo', 'text=x', '--config', cfg]);
		assert.equal(r.code, 0, r.stderr);
		assert.match(r.stderr, /log\/audit_file is deprecated: use "audit": \{"file"/);
		assert.equal(readTrail(path.join(dir, 'old.jsonl')).length, 1);
		const both = writeConfig(dir, testingConfig({ log: { audit_file: 'old.jsonl' }, audit: { keep: 1 } }), 'both.json');
		const b = runMoat(['check', '--config', both]);
		assert.equal(b.code, 3);
		assert.match(b.stderr, /\/log\/audit_file: .*\/audit\/file/);
	});
});
