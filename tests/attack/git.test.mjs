// git.test.mjs - attacks on the git family. Every attack goes through the
// real binary (under its sandbox) and ends with the same proof: no marker
// file appeared (so no command from a repository's config ran), no file at
// the /tmp paths the attacks name was created, and every repository in the
// scene, .git included, is byte for byte and mtime for mtime what it was
// (a recursive snapshot before == after).
//
// The scene: a good repository; a second repository that is not
// configured ("other"); a symlink from inside the good one to it; a hostile
// repository whose .git/config asks for core.fsmonitor, core.sshCommand,
// a clean/smudge/process filter driver, a textconv diff driver, hooks and an
// include.path to a file outside that asks for more of the same; a
// repository with huge changes and huge files; one with a corrupt object.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { connectClient, resultText, snapshot } from './fixture.mjs';
import { sleep, writeConfig } from '../e2e/helpers.mjs';
import { commit, git, newBase } from '../e2e/git_fixture.mjs';

let markerDir, base, good, other, evil, huge, corrupt, outside, cfg, c, before_;
const markers = [];
const tmpTargets = [];
const seen = [];

function assertIntact() {
	for (const m of markers) assert.ok(!fs.existsSync(m), `${m} exists: a command ran`);
	for (const t of tmpTargets) assert.ok(!fs.existsSync(t), `${t} was created`);
	assert.deepEqual(snapshot(base), before_, 'a file in the scene changed');
}

async function refused(name, args, re) {
	const r = await c.client.callTool({ name, arguments: args });
	seen.push(r);
	assert.equal(r.isError, true, `${name} ${JSON.stringify(args)} was not refused: ${JSON.stringify(r).slice(0, 300)}`);
	if (re) assert.match(resultText(r), re);
	assertIntact();
	return resultText(r);
}

async function allowed(name, args) {
	const r = await c.client.callTool({ name, arguments: args });
	seen.push(r);
	assert.ok(!r.isError, `${name} ${JSON.stringify(args)} failed: ${JSON.stringify(r).slice(0, 400)}`);
	assertIntact();
	return r;
}

function init(dir) {
	fs.mkdirSync(dir, { recursive: true });
	git(dir, ['init', '-q', '-b', 'main']);
}

before(async () => {
	base = newBase('moat-gitatk-');
	const tag = crypto.randomBytes(4).toString('hex');
	outside = path.join(base, 'outside');
	fs.mkdirSync(outside);
	// markers live beside the scene, so arming the scene below leaves it as it was
	markerDir = newBase('moat-gitatk-markers-');
	for (const n of ['fsmonitor', 'ssh', 'clean', 'smudge', 'process', 'textconv', 'include', 'hook', 'pager', 'askpass', 'editor'])
		markers.push(path.join(markerDir, `MARKER-${n}`));
	const M = (n) => markers.find((m) => m.endsWith(`-${n}`));
	for (const n of ['x', 'evil', 'orphan', 'out']) tmpTargets.push(`/tmp/moat-gitatk-${process.pid}-${tag}-${n}`);
	const T = (n) => tmpTargets.find((t) => t.endsWith(`-${n}`));

	// good: a small history; a branch literally named --output=evil
	good = path.join(base, 'good');
	init(good);
	fs.writeFileSync(path.join(good, 'a.txt'), 'a\n');
	git(good, ['add', '-A']);
	const g1 = commit(good, 'one', 1);
	fs.writeFileSync(path.join(good, 'a.txt'), 'a\nb\n');
	git(good, ['add', '-A']);
	commit(good, 'two', 2);
	git(good, ['update-ref', `refs/heads/--output=${T('evil')}`, g1]);
	git(good, ['update-ref', 'refs/heads/-f', g1]);
	fs.writeFileSync(path.join(good, 'a.txt'), 'a\nb\nc\n'); // an unstaged change

	// other: a repository that is not configured, and a symlink into it
	other = path.join(base, 'other');
	init(other);
	fs.writeFileSync(path.join(other, 'secret.txt'), 'OTHER-REPO-SECRET\n');
	git(other, ['add', '-A']);
	commit(other, 'secret', 1);
	fs.symlinkSync(other, path.join(good, 'link-to-other'));

	// evil: a repository whose config and attributes ask for commands
	evil = path.join(base, 'evil');
	init(evil);
	fs.writeFileSync(path.join(evil, '.gitattributes'), '* filter=evil diff=evil\n');
	fs.writeFileSync(path.join(evil, 'f.txt'), 'one\n');
	fs.writeFileSync(path.join(evil, 'g.txt'), 'gee\n');
	git(evil, ['add', '-A']);
	commit(evil, 'evil one', 1);
	fs.writeFileSync(path.join(evil, 'f.txt'), 'one\ntwo\n');
	git(evil, ['add', 'f.txt']);
	commit(evil, 'evil two', 2);
	fs.writeFileSync(path.join(evil, 'f.txt'), 'one\ntwo\nthree\n');
	fs.writeFileSync(path.join(evil, 'g.txt'), 'gee staged\n');
	git(evil, ['add', 'g.txt']);
	fs.writeFileSync(path.join(evil, 'new.txt'), 'untracked\n');
	const inc = path.join(outside, 'included.cfg');
	fs.writeFileSync(inc, `[core]\n\tpager = touch ${M('pager')}\n\tfsmonitor = touch ${M('include')}\n[core]\n\taskPass = touch ${M('askpass')}\n`);
	const hooks = path.join(evil, '.git', 'hooks');
	fs.mkdirSync(hooks, { recursive: true });
	for (const h of ['post-checkout', 'post-index-change', 'reference-transaction', 'fsmonitor-watchman', 'pre-commit']) {
		fs.writeFileSync(path.join(hooks, h), `#!/bin/sh\ntouch ${M('hook')}\n`, { mode: 0o755 });
	}
	fs.appendFileSync(path.join(evil, '.git', 'config'), [
		'[core]',
		`\tfsmonitor = touch ${M('fsmonitor')}`,
		`\tsshCommand = touch ${M('ssh')}`,
		`\teditor = touch ${M('editor')}`,
		`\thooksPath = ${hooks}`,
		'[filter "evil"]',
		`\tclean = touch ${M('clean')}`,
		`\tsmudge = touch ${M('smudge')}`,
		`\tprocess = touch ${M('process')}`,
		'[diff "evil"]',
		`\ttextconv = touch ${M('textconv')}`,
		'[include]',
		`\tpath = ${inc}`,
		'[remote "origin"]',
		'\turl = ssh://example.invalid/x.git',
		'',
	].join('\n'));

	// huge: a 6 MB change and huge files, text and binary
	huge = path.join(base, 'huge');
	init(huge);
	const bigText = (tagc) => Array.from({ length: 120000 }, (_, i) => `${tagc} line ${i} ${'x'.repeat(30)}`).join('\n') + '\n';
	fs.writeFileSync(path.join(huge, 'big.txt'), bigText('old'));
	fs.writeFileSync(path.join(huge, 'big.bin'), crypto.randomBytes(3 << 20));
	git(huge, ['add', '-A']);
	commit(huge, 'huge', 1);
	fs.writeFileSync(path.join(huge, 'big.txt'), bigText('new'));
	git(huge, ['add', '-A']);
	commit(huge, 'huge change', 2);
	fs.writeFileSync(path.join(huge, 'big.txt'), bigText('work'));

	// corrupt: a loose object overwritten with garbage
	corrupt = path.join(base, 'corrupt');
	init(corrupt);
	fs.writeFileSync(path.join(corrupt, 'x.txt'), 'x\n');
	git(corrupt, ['add', '-A']);
	commit(corrupt, 'one', 1);
	fs.writeFileSync(path.join(corrupt, 'x.txt'), 'x\ny\n');
	git(corrupt, ['add', '-A']);
	commit(corrupt, 'two', 2);
	const blob = git(corrupt, ['rev-parse', 'HEAD:x.txt']).trim();
	const obj = path.join(corrupt, '.git', 'objects', blob.slice(0, 2), blob.slice(2));
	fs.chmodSync(obj, 0o644);
	fs.writeFileSync(obj, Buffer.from('this is not a zlib stream at all'));
	const tree = git(corrupt, ['rev-parse', 'HEAD^{tree}']).trim();
	const tobj = path.join(corrupt, '.git', 'objects', tree.slice(0, 2), tree.slice(2));
	fs.chmodSync(tobj, 0o644);
	fs.writeFileSync(tobj, Buffer.alloc(0));

	cfg = writeConfig(outside, {
		git: {
			repositories: [
				{ path: good, name: 'good' },
				{ path: evil, name: 'evil' },
				{ path: huge, name: 'huge' },
				{ path: corrupt, name: 'corrupt' },
			],
			max_file_bytes: 4194304,
		},
		limits: { call_timeout_ms: 20000 },
	}, 'moat.json');
	before_ = snapshot(base);
	c = await connectClient(cfg);
});

after(async () => {
	await c?.close();
	assertIntact();
	for (const r of [...seen, c?.stderr() ?? '']) {
		const s = typeof r === 'string' ? r : JSON.stringify(r);
		assert.ok(!s.includes('OTHER-REPO-SECRET'), 'the unconfigured repository leaked');
	}
});

describe('revisions are never options', () => {
	test('git_diff target --output=/tmp/x', async () => {
		const x = tmpTargets[0];
		await refused('git_diff', { repo_path: 'good', target: `--output=${x}` }, /target: must not start with '-'/);
		await refused('git_diff', { repo_path: 'good', target: '--output', context_lines: 1 });
		await refused('git_diff', { repo_path: 'good', target: '-o' });
		await refused('git_diff', { repo_path: 'good', target: 'HEAD --output=' + x });
	});

	test('git_show with -f and --orphan=x', async () => {
		await refused('git_show', { repo_path: 'good', revision: '-f' }, /revision: must not start with '-'/);
		await refused('git_show', { repo_path: 'good', revision: `--orphan=${tmpTargets[2]}` }, /revision/);
		await refused('git_show', { repo_path: 'good', revision: '--format=%x' });
		await refused('git_read_file', { repo_path: 'good', revision: '--output', path: 'a.txt' });
		await refused('git_ls_files', { repo_path: 'good', revision: '--exclude-standard' });
		await refused('git_blame', { repo_path: 'good', path: 'a.txt', revision: '--contents=/etc/passwd' });
		await refused('git_branch', { repo_path: 'good', branch_type: 'all', contains: '--all' });
		await refused('git_branch', { repo_path: 'good', branch_type: 'all', not_contains: '-D' });
	});

	test('a branch literally named --output=evil is just a name', async () => {
		const r = await allowed('git_branch', { repo_path: 'good', branch_type: 'local' });
		const names = r.structuredContent.branches.map((b) => b.name);
		assert.ok(names.includes(`--output=${tmpTargets[1]}`));
		assert.ok(names.includes('-f'));
		await refused('git_show', { repo_path: 'good', revision: `--output=${tmpTargets[1]}` }, /must not start with '-'/);
		// reachable by its full name, and then it is only read
		const s = await allowed('git_show', { repo_path: 'good', revision: `refs/heads/--output=${tmpTargets[1]}` });
		assert.match(resultText(s), /^commit [0-9a-f]{40}\n/);
		await allowed('git_diff', { repo_path: 'good', target: 'refs/heads/-f' });
		await allowed('git_log', { repo_path: 'good', max_count: 5 });
	});
});

describe('repo_path is a key, not a path to open', () => {
	test('a repository outside the configured ones', async () => {
		for (const tool of ['git_status', 'git_log', 'git_diff_unstaged', 'git_diff_staged', 'git_ls_files']) {
			await refused(tool, { repo_path: other }, /repo_path: not a configured repository/);
		}
		await refused('git_read_file', { repo_path: other, revision: 'HEAD', path: 'secret.txt' }, /not a configured repository/);
		await refused('git_show', { repo_path: other, revision: 'HEAD' });
	});

	test('repo/../other, a symlink to another repository, parents, relatives', async () => {
		await refused('git_status', { repo_path: `${good}/../other` }, /not a configured repository/);
		await refused('git_read_file', { repo_path: `${good}/../other`, revision: 'HEAD', path: 'secret.txt' }, /not a configured repository/);
		await refused('git_log', { repo_path: path.join(good, 'link-to-other') }, /not a configured repository/);
		await refused('git_log', { repo_path: path.join(good, 'link-to-other', '.git') });
		await refused('git_log', { repo_path: base });
		await refused('git_log', { repo_path: path.dirname(base) });
		await refused('git_log', { repo_path: '/' });
		await refused('git_log', { repo_path: 'good/../other' });
		await refused('git_log', { repo_path: '../other' });
		await refused('git_log', { repo_path: 'other' });
		await refused('git_log', { repo_path: path.join(outside, '..', 'other') });
	});

	test('tree paths cannot leave the tree', async () => {
		await refused('git_read_file', { repo_path: 'good', revision: 'HEAD', path: '../other/secret.txt' }, /path: must be a relative path/);
		await refused('git_read_file', { repo_path: 'good', revision: 'HEAD', path: 'link-to-other/secret.txt' }, /path: no such file/);
		await refused('git_read_file', { repo_path: 'good', revision: 'HEAD', path: '/etc/passwd' });
		await refused('git_blame', { repo_path: 'good', path: 'link-to-other/secret.txt' });
		await refused('git_ls_files', { repo_path: 'good', path: '../other' });
	});
});

describe('a hostile repository config runs nothing', () => {
	test('every tool on it; no marker appears, nothing changes', async () => {
		const st = await allowed('git_status', { repo_path: 'evil' });
		// (the git CLI is not asked here: it would run the hooks and filters)
		assert.deepEqual(st.structuredContent.files.map((f) => `${f.index}${f.worktree} ${f.path}`).sort(),
			[' M f.txt', '?? new.txt', 'M  g.txt']);
		const du = await allowed('git_diff_unstaged', { repo_path: 'evil' });
		assert.match(resultText(du), /\+three/);
		const ds = await allowed('git_diff_staged', { repo_path: 'evil' });
		assert.match(resultText(ds), /\+gee staged/);
		await allowed('git_diff', { repo_path: 'evil', target: 'HEAD~1' });
		await allowed('git_show', { repo_path: 'evil', revision: 'HEAD' });
		await allowed('git_log', { repo_path: 'evil' });
		await allowed('git_branch', { repo_path: 'evil', branch_type: 'all' });
		await allowed('git_blame', { repo_path: 'evil', path: 'f.txt' });
		await allowed('git_ls_files', { repo_path: 'evil' });
		const rf = await allowed('git_read_file', { repo_path: 'evil', revision: 'HEAD', path: 'f.txt' });
		assert.equal(resultText(rf), 'one\ntwo\n', 'raw content: no smudge, no textconv');
		await allowed('list_repositories', {});
		// git itself would run them: prove the scene is armed (in a copy, so the
		// original stays untouched)
		const copy = path.join(markerDir, 'armed');
		fs.cpSync(evil, copy, { recursive: true });
		git(copy, ['diff', 'HEAD~1', '--', 'f.txt'], { ok: true });
		const ran = markers.filter((m) => fs.existsSync(m));
		for (const m of markers) fs.rmSync(m, { force: true });
		fs.rmSync(copy, { recursive: true, force: true });
		assert.ok(ran.length > 0, 'the git CLI runs the configured commands (the scene is armed)');
		for (const m of markers) fs.rmSync(m, { force: true });
		fs.rmSync(copy, { recursive: true, force: true });
		assertIntact();
	});
});

describe('size and damage', () => {
	test('a huge diff is capped with a note', async () => {
		for (const [tool, args] of [
			['git_diff_unstaged', {}],
			['git_diff', { target: 'HEAD~1' }],
			['git_show', { revision: 'HEAD' }],
		]) {
			const r = await allowed(tool, { repo_path: 'huge', ...args });
			assert.equal(r.structuredContent.truncated, true, tool);
			assert.match(resultText(r), /\[output cut: the (diff|commit) reached (git\.max_diff_bytes|the output budget)/);
			assert.ok(JSON.stringify(r).length < 1048576, `${tool} stays within limits.max_output_bytes`);
		}
	});

	test('a huge file is capped (text) or refused (binary)', async () => {
		const t = await allowed('git_read_file', { repo_path: 'huge', revision: 'HEAD', path: 'big.txt' });
		assert.match(resultText(t), /^new line 0 x+\n/);
		assert.match(resultText(t), /\[output cut: the file reached (git\.max_file_bytes|the output budget)/);
		assert.ok(JSON.stringify(t).length < 1048576);
		await refused('git_read_file', { repo_path: 'huge', revision: 'HEAD', path: 'big.bin' }, /binary file of \d+ bytes/);
		await refused('git_blame', { repo_path: 'huge', path: 'big.txt' }, /git\.max_file_bytes/);
		const b = await allowed('git_blame', { repo_path: 'huge', path: 'big.bin', end_line: 1 });
		assert.equal(b.structuredContent.lines.length, 1);
	});

	test('a corrupt object is a clear error, not a crash', async () => {
		// libgit2's messages come back without the server's absolute paths
		for (const t of [
			await refused('git_read_file', { repo_path: 'corrupt', revision: 'HEAD', path: 'x.txt' }),
			await refused('git_show', { repo_path: 'corrupt', revision: 'HEAD' }),
			await refused('git_ls_files', { repo_path: 'corrupt', revision: 'HEAD' }),
			await refused('git_diff', { repo_path: 'corrupt', target: 'HEAD' }),
			await refused('git_blame', { repo_path: 'corrupt', path: 'x.txt' }),
		]) assert.ok(!t.includes(base), t);
		const log = await allowed('git_log', { repo_path: 'corrupt' });
		assert.equal(log.structuredContent.commits.length, 2);
		await c.client.ping();
	});
});

// Revisions that would run a regular expression over the history (libgit2's
// ":/<regex>" and "<rev>^{/<regex>}", PCRE2 with its default limits:
// ":/^(a|a)+$" took 31 s on 300 commits) or walk it far ("~100000000") are
// refused before libgit2 sees them: at once, naming the rule, whatever the
// tool, and the server keeps serving. A scene of its own: 300 commits whose
// messages make (a|a)+$ backtrack, a 3 s deadline, an audit file.
describe('revisions that search or walk history', () => {
	let dbase, deep, long, audit, s;
	const DEADLINE = 10000; // a refusal must come in under a tenth of it
	const tools = [
		['git_show', (r) => ({ revision: r })],
		['git_diff', (r) => ({ target: r })],
		['git_read_file', (r) => ({ revision: r, path: 'f.txt' })],
		['git_ls_files', (r) => ({ revision: r })],
		['git_blame', (r) => ({ path: 'f.txt', revision: r })],
		['git_branch', (r) => ({ branch_type: 'all', contains: r })],
		['git_branch', (r) => ({ branch_type: 'all', not_contains: r })],
	];

	before(async () => {
		dbase = newBase('moat-gitrev-');
		deep = path.join(dbase, 'deep');
		init(deep);
		// 300 commits by fast-import, each message 28 a's and a b
		let fi = '';
		for (let i = 1; i <= 300; i++) {
			const msg = `${'a'.repeat(28)}b ${i}\n`;
			fi += `commit refs/heads/main\ncommitter C <c@example.com> ${1704067200 + i * 60} +0000\n`;
			fi += `data ${Buffer.byteLength(msg)}\n${msg}`;
			fi += `M 644 inline f.txt\ndata ${String(i).length + 1}\n${i}\n\n`;
		}
		git(deep, ['fast-import', '--quiet'], { input: fi });
		git(deep, ['reset', '-q', '--hard', 'main']);
		git(deep, ['branch', 'side', 'main~10']);
		// long: 10050 commits, old.txt untouched since the first
		long = path.join(dbase, 'long');
		init(long);
		fi = '';
		for (let i = 1; i <= 10050; i++) {
			fi += `commit refs/heads/main\ncommitter C <c@example.com> ${1704067200 + i * 60} +0000\ndata 3\nc${i % 10}\n`;
			if (i === 1) fi += 'M 644 inline old.txt\ndata 4\nold\n';
			fi += `M 644 inline f.txt\ndata ${String(i).length + 1}\n${i}\n\n`;
		}
		git(long, ['fast-import', '--quiet'], { input: fi });
		git(long, ['reset', '-q', '--hard', 'main']);
		audit = path.join(dbase, 'audit.jsonl');
		const dcfg = writeConfig(dbase, {
			git: { repositories: [{ path: deep, name: 'deep' }, { path: long, name: 'long' }] },
			limits: { call_timeout_ms: DEADLINE },
			log: { audit_file: audit },
		}, 'moat.json');
		s = await connectClient(dcfg);
	});

	after(async () => {
		await s?.close();
	});

	async function prompt(name, args) {
		const t0 = Date.now();
		const r = await s.client.callTool({ name, arguments: { repo_path: 'deep', ...args } });
		const ms = Date.now() - t0;
		assert.ok(ms < DEADLINE / 10, `${name} ${JSON.stringify(args)} took ${ms} ms`);
		return r;
	}

	// a walk that does work: answered, before the deadline
	async function timed(name, args) {
		const t0 = Date.now();
		const r = await s.client.callTool({ name, arguments: args });
		const ms = Date.now() - t0;
		console.log(`${name} ${JSON.stringify(args)}: ${ms} ms`);
		assert.ok(ms < DEADLINE, `${name} ${JSON.stringify(args)} took ${ms} ms`);
		return r;
	}

	async function refusedBy(rule, rev) {
		for (const [name, args] of tools) {
			const r = await prompt(name, args(rev));
			assert.equal(r.isError, true, `${name} ${rev} was not refused: ${JSON.stringify(r).slice(0, 300)}`);
			assert.ok(resultText(r).includes(`(rule ${rule})`), `${name} ${rev}: ${resultText(r)}`);
		}
	}

	test('the scene: 300 commits, and git itself finds one by :/', async () => {
		const r = await prompt('git_log', { max_count: 300 });
		assert.equal(r.structuredContent.commits.length, 300);
		assert.match(git(deep, ['log', '-1', '--format=%s', ':/b 150']).trim(), /^a+b 150$/);
	});

	test(':/<regex> in every spelling libgit2 reads as a message search', async () => {
		for (const rev of [':/^(a|a)+$', ':/', ':/!-aaa', ':/!!x', ':/b 150', ':/(a|a|a)+(b|b)*$', ':a.txt', ':0:f.txt', ':'])
			await refusedBy('git.revision_refused', rev);
	});

	test('<rev>^{/<regex>} wherever it appears before the path', async () => {
		for (const rev of ['HEAD^{/x}', 'main^{/(a|a)+$}', 'HEAD~2^{/(a|a)+$}', 'HEAD^{/}', 'HEAD^{/!-a}',
			'main^{commit}^{/(a|a)+$}', 'HEAD^{/a:b}', 'side^{/x}:f.txt', '@{0}^{/x}', 'HEAD^{/\u0078}'])
			await refusedBy('git.revision_refused', rev);
	});

	test('other spellings are not searches: answered at once, as not found or invalid', async () => {
		for (const rev of [' :/^(a|a)+$', '%3A%2F%5E(a%7Ca)%2B%24', 'HEAD^{ /(a|a)+$}', 'HEAD@{/(a|a)+$}',
			'\uff1a/^(a|a)+$', 'HEAD^ {/x}', 'HEAD ^{/x}', 'HEAD~1 :/x']) {
			const r = await prompt('git_show', { revision: rev });
			assert.equal(r.isError, true, rev);
		}
	});

	test('walks back too far, @{upstream}, a trailing @ and options are refused', async () => {
		for (const rev of ['HEAD~100000000', 'HEAD~2147483647~2', 'HEAD~10001', 'HEAD~5000~5001', `HEAD${'~'.repeat(200)}~9999`])
			await refusedBy('git.revision_steps', rev);
		for (const rev of ['main@{u}', 'main@{upstream}', '@{push}', 'abcdefghijklmnop@', 'main@'])
			await refusedBy('git.revision_refused', rev);
		await refusedBy('git.revision_option', '--all');
		// within bounds the walk is still allowed
		const r = await prompt('git_show', { revision: 'HEAD~299' });
		assert.equal(r.structuredContent.commit.message.trim(), `${'a'.repeat(28)}b 1`);
		assert.equal((await prompt('git_show', { revision: 'HEAD~300' })).isError, true);
	});

	test('names holding "-g" (libgit2 1.5 leaks on its describe lookup): not found, no leak', async () => {
		// under ASan, LeakSanitizer checks at the end (close() fails on a report)
		for (const rev of ['fix-gui', 'a-1-gzz~1', 'x-gx:f.txt', 'v1-2-g', 'no-g-here^{tree}']) {
			const r = await prompt('git_show', { revision: rev });
			assert.equal(r.isError, true, rev);
			assert.match(resultText(r), /not found/, rev);
		}
		git(deep, ['branch', 'fix-gui', 'main~3']);
		const r = await prompt('git_show', { revision: 'fix-gui' });
		assert.equal(r.structuredContent.commit.id, git(deep, ['rev-parse', 'main~3']).trim());
		git(deep, ['branch', '-D', 'fix-gui']);
	});

	test('a blame over a long history is bounded, and says so', async () => {
		const r = await timed('git_blame', { repo_path: 'long', path: 'old.txt' });
		assert.ok(!r.isError, JSON.stringify(r).slice(0, 300));
		const boundary = git(long, ['rev-parse', 'main~10000']).trim();
		assert.equal(r.structuredContent?.history_limited, true, JSON.stringify(r).slice(0, 600));
		assert.equal(r.structuredContent.lines[0].commit, boundary);
		assert.match(resultText(r), /\[history limited: more than 10000 commits are reachable/);
		assert.match(resultText(r), /^\^/);
		// a short history is blamed whole, as git does
		const f = await timed('git_blame', { repo_path: 'deep', path: 'f.txt' });
		assert.equal(f.structuredContent.history_limited, false);
		assert.equal(f.structuredContent.lines[0].commit, git(deep, ['rev-parse', 'HEAD']).trim());
	});

	test('branch contains over a long history answers within the deadline', async () => {
		const first = git(long, ['rev-list', '--max-parents=0', 'main']).trim();
		let r = await timed('git_branch', { repo_path: 'long', branch_type: 'all', contains: first });
		assert.deepEqual(r.structuredContent.branches.map((b) => b.name), ['main']);
		r = await timed('git_branch', { repo_path: 'long', branch_type: 'all', not_contains: 'main~1' });
		assert.deepEqual(r.structuredContent.branches.map((b) => b.name), []);
	});

	test('the server keeps serving, and the audit trail names the rule and what was touched', async () => {
		const r = await prompt('git_branch', { branch_type: 'local', not_contains: 'HEAD~5' });
		assert.deepEqual(r.structuredContent.branches.map((b) => b.name), ['side']);
		const head = git(deep, ['rev-parse', 'HEAD']).trim();
		await prompt('git_show', { revision: 'HEAD' });
		await s.client.ping();
		await sleep(300); // the audit writer appends successful calls within 50 ms
		const recs = fs.readFileSync(audit, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
		const calls = recs.filter((x) => x.kind === 'call');
		const refusedRecs = calls.filter((x) => x.rule === 'git.revision_refused');
		assert.ok(refusedRecs.length >= 100, `${refusedRecs.length} refusals recorded`);
		for (const x of refusedRecs) assert.equal(x.touched?.repository, 'deep');
		const show = calls.filter((x) => x.tool === 'git_show' && x.outcome === 'ok').at(-1);
		assert.deepEqual(show.touched, { repository: 'deep', commit: head });
		const log = calls.filter((x) => x.tool === 'git_log' && x.outcome === 'ok').at(-1);
		assert.deepEqual(log.touched, { repository: 'deep', commit: head });
		// a blame records the commit it started from
		const blame = calls.filter((x) => x.tool === 'git_blame' && x.outcome === 'ok' && x.touched.repository === 'long').at(-1);
		assert.equal(blame.touched.commit, git(long, ['rev-parse', 'HEAD']).trim());
		assert.ok(calls.some((x) => x.rule === 'git.revision_steps'));
		assert.ok(calls.some((x) => x.rule === 'git.revision_option'));
		// the audit never carries the revision text
		assert.ok(!fs.readFileSync(audit, 'utf8').includes('(a|a)'));
	});
});
