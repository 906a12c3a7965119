// git.test.mjs - the git family end to end through the official SDK client,
// on fixture repositories built here with the git CLI (commits, branches,
// an annotated tag, a rename, a binary file, a merge commit, remote-tracking
// refs, an unborn branch, a detached HEAD, staged/unstaged/untracked
// changes). Each answer is compared with the git CLI's answer to the same
// question: `git log`, `git diff`, `git diff --cached`, `git diff <rev>`,
// `git status --porcelain`, `git show`, `git branch [-r|-a] [--contains]`,
// `git blame --porcelain`, `git ls-files`, `git ls-tree -r --name-only`,
// `git show REV:path`. moat runs under its sandbox, as it always does.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { assertToolError, connectClient, openRaw, resultText, runMoat, writeConfig } from './helpers.mjs';
import { buildConflict, buildDetached, buildMain, buildUnborn, commit, git, newBase } from './git_fixture.mjs';

let base, main, unborn, detached, conflict, cfg, c;

before(async () => {
	base = newBase();
	main = buildMain(base);
	unborn = buildUnborn(base);
	detached = buildDetached(base);
	conflict = buildConflict(base);
	cfg = writeConfig(base, {
		git: {
			repositories: [{ path: 'main', name: 'main' }, 'unborn', { path: detached.dir, name: 'det' }, 'conflict'],
		},
		limits: { call_timeout_ms: 20000 },
	});
	c = await connectClient(cfg);
});

after(async () => {
	await c?.close();
});

const call = (name, args) => c.client.callTool({ name, arguments: args });
async function ok(name, args) {
	const r = await call(name, args);
	assert.ok(!r.isError, `${name} failed: ${JSON.stringify(r).slice(0, 500)}`);
	return r;
}
/** The text after the tool's one-line heading ("Unstaged changes:" ...). */
const body = (r) => resultText(r).replace(/^[^\n]*\n/, '');

describe('tools', () => {
	test('tools/list: eleven read-only tools with schemas', async () => {
		const { tools } = await c.client.listTools();
		const names = tools.map((t) => t.name).sort();
		assert.deepEqual(names, [
			'git_blame', 'git_branch', 'git_diff', 'git_diff_staged', 'git_diff_unstaged', 'git_log',
			'git_ls_files', 'git_read_file', 'git_show', 'git_status', 'list_repositories',
		]);
		for (const t of tools) {
			assert.equal(t.annotations.readOnlyHint, true, t.name);
			assert.equal(t.annotations.destructiveHint, false, t.name);
			assert.equal(t.inputSchema.additionalProperties, false, t.name);
		}
		const log = tools.find((t) => t.name === 'git_log');
		assert.deepEqual(log.inputSchema.required, ['repo_path']);
		assert.equal(log.inputSchema.properties.max_count.default, 10);
		assert.ok(tools.find((t) => t.name === 'git_diff').outputSchema);
	});

	test('list_repositories: names, canonical paths, HEAD', async () => {
		const r = await ok('list_repositories', {});
		const repos = r.structuredContent.repositories;
		assert.deepEqual(repos.map((x) => x.name), ['main', 'unborn', 'det', 'conflict']);
		assert.equal(repos[0].path, main.dir);
		assert.equal(repos[0].head, 'branch main');
		assert.equal(repos[1].head, 'unborn branch trunk');
		assert.match(repos[2].head, /^detached at [0-9a-f]{7}$/);
		assert.match(resultText(r), /main: .* \(branch main\)/);
	});

	test('repo_path: by name or by path; anything else is refused', async () => {
		const a = await ok('git_log', { repo_path: 'main', max_count: 1 });
		const b = await ok('git_log', { repo_path: main.dir, max_count: 1 });
		const d = await ok('git_log', { repo_path: main.dir + '/', max_count: 1 });
		assert.deepEqual(a.structuredContent, b.structuredContent);
		assert.deepEqual(a.structuredContent, d.structuredContent);
		for (const p of ['nope', base, path.join(main.dir, 'dir'), 'main/', './main', '']) {
			const r = await call('git_status', { repo_path: p });
			if (p === '') assert.equal(r.isError, true);
			else assertToolError(r, 'repo_path: not a configured repository');
		}
	});
});

describe('concurrency', () => {
	test('twelve calls on one repository at once share its four handles', async () => {
		const calls = [];
		for (let i = 0; i < 12; i++) { // limits.max_concurrent_calls is 16
			calls.push(call(['git_log', 'git_status', 'git_diff_unstaged', 'git_ls_files'][i % 4], { repo_path: 'main' }));
		}
		const results = await Promise.all(calls);
		for (const r of results) assert.ok(!r.isError, JSON.stringify(r).slice(0, 300));
		const logs = results.filter((_, i) => i % 4 === 0).map((r) => JSON.stringify(r.structuredContent));
		assert.equal(new Set(logs).size, 1, 'every git_log gave the same answer');
	});
});

describe('git_log', () => {
	const FMT = '%H%x00%an%x00%ae%x00%aI%x00%B%x01';
	function cliLog(args) {
		return git(main.dir, ['log', `--format=${FMT}`, ...args])
			.split('\x01')
			.map((s) => s.replace(/^\n/, ''))
			.filter(Boolean)
			.map((s) => {
				const [id, author, email, date, message] = s.split('\x00');
				return { id, author, email, date, message: message.replace(/\n+$/, '') };
			});
	}

	test('default: ten newest from HEAD, as git log', async () => {
		const r = await ok('git_log', { repo_path: 'main' });
		assert.deepEqual(r.structuredContent.commits, cliLog(['-10']));
		assert.equal(r.structuredContent.truncated, false);
		assert.equal(r.structuredContent.commits.length, 6);
		const t = resultText(r);
		assert.match(t, /^Commit history:\n/);
		assert.ok(t.includes(`Commit: ${main.ids.c6}\nAuthor: Ann Author <ann@example.com>\nDate: 2024-03-01T00:00:00+00:00\nMessage: append to a\n`));
		assert.ok(t.includes('Message: second: change a, add c\n\n    A body line.\n    Another body line.\n'));
	});

	test('max_count', async () => {
		const r = await ok('git_log', { repo_path: 'main', max_count: 3 });
		assert.deepEqual(r.structuredContent.commits, cliLog(['-3']));
	});

	test('start_timestamp / end_timestamp as git log --since/--until', async () => {
		for (const [since, until] of [
			['2024-01-25T00:00:00Z', undefined],
			[undefined, '2024-02-01'],
			['2024-01-15', '2024-02-15T00:00:00+00:00'],
			['Jan 21 2024', 'Feb 20 2024'],
			['@1704067200', undefined],
		]) {
			const args = { repo_path: 'main', max_count: 50 };
			const cli = ['-50'];
			if (since) { args.start_timestamp = since; cli.push(`--since=${since.replace(/^Jan 21 2024$/, '2024-01-21 00:00')}`); }
			if (until) { args.end_timestamp = until; cli.push(`--until=${until.replace(/^2024-02-01$/, '2024-02-01 00:00').replace(/^Feb 20 2024$/, '2024-02-20 00:00')}`); }
			const r = await ok('git_log', args);
			assert.deepEqual(r.structuredContent.commits.map((x) => x.id), cliLog(cli).map((x) => x.id), JSON.stringify(args));
		}
		const none = await ok('git_log', { repo_path: 'main', start_timestamp: '1 hour ago' });
		assert.deepEqual(none.structuredContent.commits, []);
		assert.match(resultText(none), /no commits match/);
		const all = await ok('git_log', { repo_path: 'main', start_timestamp: '10 years ago', end_timestamp: 'now' });
		assert.equal(all.structuredContent.commits.length, 6);
	});

	test('bad timestamps and limits are refused, naming the rule', async () => {
		assertToolError(await call('git_log', { repo_path: 'main', start_timestamp: 'last tuesday' }), 'start_timestamp: not a timestamp', 'ISO 8601');
		assertToolError(await call('git_log', { repo_path: 'main', end_timestamp: '--output=/tmp/x' }), 'end_timestamp: not a timestamp');
		assertToolError(await call('git_log', { repo_path: 'main', max_count: 5000 }), 'git.max_log_entries');
		const r = await call('git_log', { repo_path: 'main', max_count: 0 });
		assert.equal(r.isError, true);
	});

	test('an unborn branch has no commits', async () => {
		const r = await ok('git_log', { repo_path: 'unborn' });
		assert.deepEqual(r.structuredContent.commits, []);
		assert.match(resultText(r), /no commits yet: HEAD is an unborn branch trunk/);
	});
});

describe('diffs', () => {
	test('git_diff_unstaged = git diff', async () => {
		for (const n of [3, 0, 1, 10]) {
			const r = await ok('git_diff_unstaged', { repo_path: 'main', context_lines: n });
			assert.equal(body(r), git(main.dir, ['diff', `--unified=${n}`]), `context ${n}`);
		}
		const r = await ok('git_diff_unstaged', { repo_path: 'main' });
		assert.match(resultText(r), /^Unstaged changes:\n/);
		const files = r.structuredContent.files;
		assert.deepEqual(files.map((f) => [f.new_path, f.status]).sort(), [
			['a.txt', 'modified'], ['c.txt', 'modified'], ['noeol.txt', 'deleted'],
		]);
		const a = files.find((f) => f.new_path === 'a.txt');
		assert.equal(a.hunks.length, 1);
		assert.deepEqual({ ...a.hunks[0], header: undefined }, { header: undefined, old_start: 1, old_lines: 4, new_start: 1, new_lines: 4 });
		assert.match(a.hunks[0].header, /^@@ -1,4 \+1,4 @@/);
	});

	test('git_diff_staged = git diff --cached (a staged rename, a new file)', async () => {
		for (const n of [3, 1]) {
			const r = await ok('git_diff_staged', { repo_path: 'main', context_lines: n });
			assert.equal(body(r), git(main.dir, ['diff', '--cached', `--unified=${n}`]));
		}
		const r = await ok('git_diff_staged', { repo_path: 'main' });
		const st = Object.fromEntries(r.structuredContent.files.map((f) => [f.new_path, f]));
		assert.equal(st['feature-renamed.txt'].status, 'renamed');
		assert.equal(st['feature-renamed.txt'].old_path, 'feature.txt');
		assert.equal(st['staged.txt'].status, 'added');
	});

	test('git_diff target = git diff <target> (to the work tree)', async () => {
		for (const target of ['HEAD', 'HEAD~2', main.ids.c1, 'v1.0', 'feature', 'origin/main', 'main@{0}', 'HEAD^{tree}']) {
			const r = await ok('git_diff', { repo_path: 'main', target });
			assert.equal(resultText(r).split('\n')[0], `Diff with ${target}:`);
			assert.equal(body(r), git(main.dir, ['diff', target]), target);
		}
		const r = await ok('git_diff', { repo_path: 'main', target: main.ids.c1, context_lines: 0 });
		assert.equal(body(r), git(main.dir, ['diff', '--unified=0', main.ids.c1]));
		const bin = r.structuredContent.files.find((f) => f.new_path === 'bin.dat');
		assert.equal(bin.binary, true);
		assert.ok(resultText(r).includes('Binary files a/bin.dat and b/bin.dat differ'));
	});

	test('unknown and option-like targets are errors, never options', async () => {
		assertToolError(await call('git_diff', { repo_path: 'main', target: 'no-such-branch' }), 'target');
		assertToolError(await call('git_diff', { repo_path: 'main', target: '--stat' }), "target: must not start with '-'");
	});

	test('no changes', async () => {
		const r = await ok('git_diff_unstaged', { repo_path: 'det' });
		assert.equal(resultText(r), 'Unstaged changes:\n(no changes)\n');
		assert.deepEqual(r.structuredContent.files, []);
	});

	test('unborn branch: staged diff against the empty tree', async () => {
		const r = await ok('git_diff_staged', { repo_path: 'unborn' });
		assert.equal(body(r), git(unborn.dir, ['diff', '--cached']));
		assert.equal(r.structuredContent.files[0].status, 'added');
	});
});

describe('git_status', () => {
	function porcelain(dir) {
		return git(dir, ['status', '--porcelain']).split('\n').filter(Boolean).sort();
	}
	const mine = (r) =>
		r.structuredContent.files
			.map((f) => `${f.index}${f.worktree} ${f.orig_path ? `${f.orig_path} -> ` : ''}${f.path}`)
			.sort();

	test('files and codes = git status --porcelain', async () => {
		const r = await ok('git_status', { repo_path: 'main' });
		assert.deepEqual(mine(r), porcelain(main.dir));
		assert.equal(r.structuredContent.branch, 'main');
		const t = resultText(r);
		assert.match(t, /^Repository status:\nOn branch main\n/);
		assert.match(t, /Changes to be committed:\n(\t.*\n)*\trenamed: {4}feature\.txt -> feature-renamed\.txt\n/);
		assert.match(t, /\tnew file: {3}staged\.txt\n/);
		assert.match(t, /Changes not staged for commit:\n(\t.*\n)*\tmodified: {3}a\.txt\n/);
		assert.match(t, /\tdeleted: {4}noeol\.txt\n/);
		assert.match(t, /Untracked files:\n\tnewdir\/\n\tuntracked\.txt\n/);
	});

	test('the long form = git status (without its advice lines), upstream and conflicts too', async () => {
		for (const [name, dir] of [['main', main.dir], ['unborn', unborn.dir], ['det', detached.dir], ['conflict', conflict.dir]]) {
			const r = await ok('git_status', { repo_path: name });
			assert.equal(body(r), git(dir, ['-c', 'advice.statusHints=false', 'status']), name);
			assert.deepEqual(mine(r), porcelain(dir), name);
		}
		const m = await ok('git_status', { repo_path: 'main' });
		assert.equal(m.structuredContent.upstream, 'origin/main');
		assert.equal(m.structuredContent.ahead, 3);
		assert.equal(m.structuredContent.behind, 0);
		const cf = await ok('git_status', { repo_path: 'conflict' });
		assert.deepEqual(cf.structuredContent.files.map((f) => f.index + f.worktree).sort(), ['??', 'AA', 'DU', 'UD', 'UU']);
	});

	test('unborn and detached', async () => {
		const u = await ok('git_status', { repo_path: 'unborn' });
		assert.deepEqual(mine(u), porcelain(unborn.dir));
		assert.equal(u.structuredContent.branch, 'trunk');
		assert.match(resultText(u), /On branch trunk\n\nNo commits yet\n/);
		const d = await ok('git_status', { repo_path: 'det' });
		assert.equal(d.structuredContent.branch, null);
		assert.match(resultText(d), /HEAD detached at [0-9a-f]{7}\nnothing to commit, working tree clean\n/);
		assert.deepEqual(d.structuredContent.files, []);
	});
});

describe('git_show', () => {
	test('a commit = git show (rename, binary, missing newline)', async () => {
		for (const rev of ['main~2', main.ids.c4, main.ids.c2, 'v1.0', main.ids.c1, 'HEAD']) {
			const r = await ok('git_show', { repo_path: 'main', revision: rev });
			assert.equal(resultText(r), git(main.dir, ['show', rev === 'v1.0' ? 'v1.0^{commit}' : rev]), rev);
		}
	});

	test('a merge commit: its changes against the first parent', async () => {
		const r = await ok('git_show', { repo_path: 'main', revision: main.ids.c5 });
		assert.equal(resultText(r), git(main.dir, ['show', '--diff-merges=first-parent', main.ids.c5]));
		const cm = r.structuredContent.commit;
		assert.equal(cm.parents.length, 2);
		assert.equal(cm.id, main.ids.c5);
		assert.deepEqual(r.structuredContent.files.map((f) => f.new_path), ['feature.txt']);
	});

	test('structuredContent: the commit and its files', async () => {
		const r = await ok('git_show', { repo_path: 'main', revision: main.ids.c2 });
		const cm = r.structuredContent.commit;
		assert.equal(cm.author, 'Bob Builder');
		assert.equal(cm.email, 'bob@example.com');
		assert.equal(cm.committer, 'Cid Committer');
		assert.equal(cm.date, '2024-01-21T00:00:00+00:00');
		assert.deepEqual(cm.parents, [main.ids.c1]);
		assert.deepEqual(r.structuredContent.files.map((f) => [f.new_path, f.status]), [['a.txt', 'modified'], ['c.txt', 'added'], ['name with space.txt', 'modified']]);
		assert.equal(r.structuredContent.files[0].hunks.length, 2);
	});

	test('not a commit, unknown', async () => {
		assertToolError(await call('git_show', { repo_path: 'main', revision: 'HEAD:a.txt' }), 'revision: does not name a commit');
		assertToolError(await call('git_show', { repo_path: 'main', revision: 'deadbeef' }), 'revision');
		assertToolError(await call('git_show', { repo_path: 'unborn', revision: 'HEAD' }), 'revision');
	});
});

describe('git_branch', () => {
	test('local, remote, all = git branch, -r, -a', async () => {
		for (const [type, flag] of [['local', []], ['remote', ['-r']], ['all', ['-a']]]) {
			const r = await ok('git_branch', { repo_path: 'main', branch_type: type });
			assert.equal(resultText(r), git(main.dir, ['branch', ...flag]), type);
		}
		const r = await ok('git_branch', { repo_path: 'main', branch_type: 'local' });
		assert.deepEqual(r.structuredContent.branches.map((b) => [b.name, b.current]), [['feature', false], ['main', true], ['old', false]]);
	});

	test('contains / not_contains = --contains / --no-contains', async () => {
		const cases = [
			[{ contains: main.ids.c3 }, ['--contains', main.ids.c3]],
			[{ contains: main.ids.c1 }, ['--contains', main.ids.c1]],
			[{ not_contains: main.ids.c3 }, ['--no-contains', main.ids.c3]],
			[{ contains: main.ids.c2, not_contains: main.ids.c4 }, ['--contains', main.ids.c2, '--no-contains', main.ids.c4]],
		];
		for (const [args, flags] of cases) {
			for (const [type, flag] of [['local', []], ['all', ['-a']]]) {
				const r = await ok('git_branch', { repo_path: 'main', branch_type: type, ...args });
				const cli = git(main.dir, ['branch', ...flag, ...flags]);
				assert.equal(cli.length ? resultText(r) : '', cli, JSON.stringify(args) + type);
			}
		}
		assertToolError(await call('git_branch', { repo_path: 'main', branch_type: 'local', contains: 'nope' }), 'contains');
		const bad = await call('git_branch', { repo_path: 'main', branch_type: 'mine' });
		assert.equal(bad.isError, true);
	});

	test('a detached HEAD is listed as git lists it', async () => {
		const r = await ok('git_branch', { repo_path: 'det', branch_type: 'local' });
		assert.equal(resultText(r), git(detached.dir, ['branch']));
	});
});

describe('git_blame', () => {
	function cliBlame(file, extra = []) {
		const out = git(main.dir, ['blame', '--porcelain', ...extra, 'HEAD', '--', file]);
		const res = [];
		for (const line of out.split('\n')) {
			const m = /^([0-9a-f]{40}) \d+ (\d+)/.exec(line);
			if (m) res.push({ line: Number(m[2]), commit: m[1] });
		}
		return res;
	}

	test('each line\'s commit = git blame --porcelain', async () => {
		const r = await ok('git_blame', { repo_path: 'main', path: 'a.txt' });
		assert.deepEqual(r.structuredContent.lines.map((l) => ({ line: l.line, commit: l.commit })), cliBlame('a.txt'));
		const l5 = r.structuredContent.lines[4];
		assert.equal(l5.text, 'line 5 changed');
		assert.equal(l5.author, 'Bob Builder');
		assert.equal(l5.date, '2024-01-21T00:00:00+00:00');
		assert.match(resultText(r), /\(Bob Builder +2024-01-21 00:00:00 \+0000 +5\) line 5 changed\n/);
	});

	test('a line range, a revision, a renamed file', async () => {
		const r = await ok('git_blame', { repo_path: 'main', path: 'a.txt', start_line: 30, end_line: 32 });
		assert.deepEqual(r.structuredContent.lines.map((l) => ({ line: l.line, commit: l.commit })), cliBlame('a.txt', ['-L', '30,32']));
		const old = await ok('git_blame', { repo_path: 'main', path: 'a.txt', revision: main.ids.c1, end_line: 2 });
		assert.deepEqual(old.structuredContent.lines.map((l) => l.commit), [main.ids.c1, main.ids.c1]);
		const ren = await ok('git_blame', { repo_path: 'main', path: 'dir/renamed.txt' });
		assert.deepEqual(ren.structuredContent.lines.map((l) => l.commit), cliBlame('dir/renamed.txt').map((l) => l.commit));
	});

	test('errors', async () => {
		assertToolError(await call('git_blame', { repo_path: 'main', path: 'nope.txt' }), 'path: no such file');
		assertToolError(await call('git_blame', { repo_path: 'main', path: '../etc/passwd' }), 'path: must be a relative path');
		assertToolError(await call('git_blame', { repo_path: 'main', path: 'a.txt', start_line: 500 }), 'start_line: a.txt has 41 lines', 'git.line_range');
		assertToolError(await call('git_blame', { repo_path: 'main', path: 'a.txt', start_line: 5, end_line: 4 }), 'end_line: before start_line', 'git.line_range');
	});
});

describe('git_ls_files and git_read_file', () => {
	const lines = (s) => s.split('\n').filter(Boolean);

	test('the index = git ls-files; a tree = git ls-tree -r --name-only', async () => {
		const r = await ok('git_ls_files', { repo_path: 'main' });
		assert.deepEqual(r.structuredContent.files, lines(git(main.dir, ['ls-files'])));
		assert.equal(resultText(r), git(main.dir, ['ls-files']));
		for (const rev of ['HEAD', main.ids.c1, 'feature']) {
			const t = await ok('git_ls_files', { repo_path: 'main', revision: rev });
			assert.deepEqual(t.structuredContent.files, lines(git(main.dir, ['ls-tree', '-r', '--name-only', rev])));
		}
		const d = await ok('git_ls_files', { repo_path: 'main', revision: 'HEAD', path: 'dir' });
		assert.deepEqual(d.structuredContent.files, ['dir/renamed.txt']);
		const d2 = await ok('git_ls_files', { repo_path: 'main', path: 'dir/' });
		assert.deepEqual(d2.structuredContent.files, ['dir/renamed.txt']);
		const none = await ok('git_ls_files', { repo_path: 'main', path: 'di' });
		assert.deepEqual(none.structuredContent.files, []);
	});

	test('git_read_file = git show REV:path; binary as a base64 resource', async () => {
		for (const [rev, p] of [['HEAD', 'a.txt'], [main.ids.c1, 'dir/b.txt'], ['v1.0', 'c.txt'], ['HEAD', 'noeol.txt']]) {
			const r = await ok('git_read_file', { repo_path: 'main', revision: rev, path: p });
			assert.equal(resultText(r), git(main.dir, ['show', `${rev}:${p}`]), `${rev}:${p}`);
		}
		const b = await ok('git_read_file', { repo_path: 'main', revision: 'HEAD', path: 'bin.dat' });
		assert.equal(b.content[0].type, 'resource');
		assert.deepEqual(Buffer.from(b.content[0].resource.blob, 'base64'), git(main.dir, ['show', 'HEAD:bin.dat'], { encoding: 'buffer' }));
		assert.equal(b.content[0].resource.mimeType, 'application/octet-stream');
	});

	test('errors', async () => {
		assertToolError(await call('git_read_file', { repo_path: 'main', revision: 'HEAD', path: 'dir' }), 'path: dir is not a file', 'git.not_a_file');
		assertToolError(await call('git_read_file', { repo_path: 'main', revision: 'HEAD', path: 'staged.txt' }), 'path: no such file');
		assertToolError(await call('git_read_file', { repo_path: 'main', revision: 'HEAD', path: '/etc/passwd' }), 'path: must be a relative path');
		assertToolError(await call('git_read_file', { repo_path: 'main', revision: 'nope', path: 'a.txt' }), 'revision');
	});
});

describe('limits', () => {
	test('output caps cut with a note, and truncated says so', async () => {
		const small = writeConfig(base, {
			git: { repositories: [{ path: 'main', name: 'main' }], max_diff_bytes: 1024, max_file_bytes: 1024, max_files: 2 },
		}, 'small.json');
		const s = await connectClient(small);
		try {
			const d = await s.client.callTool({ name: 'git_diff', arguments: { repo_path: 'main', target: main.ids.c1 } });
			assert.equal(d.structuredContent.truncated, true);
			assert.match(resultText(d), /\[output cut: the diff reached git\.(max_diff_bytes \(1024 bytes\)|max_files \(2\))\]\n$/);
			const ls = await s.client.callTool({ name: 'git_ls_files', arguments: { repo_path: 'main' } });
			assert.equal(ls.structuredContent.files.length, 2);
			assert.match(resultText(ls), /\[output cut: the file list reached git\.max_files \(2\)\]/);
			const st = await s.client.callTool({ name: 'git_status', arguments: { repo_path: 'main' } });
			assert.equal(st.structuredContent.truncated, true);
			const rf = await s.client.callTool({ name: 'git_read_file', arguments: { repo_path: 'main', revision: 'HEAD', path: 'big.txt' } });
			assert.ok(!rf.isError);
			assert.ok(resultText(rf).length < 1200);
			assert.match(resultText(rf), /^line 1 of a big file\n[^]*\[output cut: the file reached git\.max_file_bytes \(1024 bytes\)\]\n$/);
		} finally {
			await s.close();
		}
	});
});

describe('freshness', () => {
	test('pooled handles see commits, refs, index and packs that change after start-up', async () => {
		const dir = path.join(base, 'fresh');
		fs.mkdirSync(dir);
		git(dir, ['init', '-q', '-b', 'main']);
		fs.writeFileSync(path.join(dir, 'f.txt'), 'one\n');
		git(dir, ['add', '-A']);
		commit(dir, 'one', 1);
		const fcfg = writeConfig(base, { git: { repositories: [dir] } }, 'fresh.json');
		const s = await connectClient(fcfg);
		try {
			const call1 = (name, args) => s.client.callTool({ name, arguments: { repo_path: 'fresh', ...args } });
			assert.equal((await call1('git_log', {})).structuredContent.commits.length, 1);
			assert.deepEqual((await call1('git_status', {})).structuredContent.files, []);
			// the repository changes under moat: a commit, a branch, a staged file, a gc
			fs.writeFileSync(path.join(dir, 'f.txt'), 'two\n');
			git(dir, ['add', '-A']);
			const c2 = commit(dir, 'two', 2);
			git(dir, ['branch', 'later']);
			fs.writeFileSync(path.join(dir, 'g.txt'), 'staged\n');
			git(dir, ['add', 'g.txt']);
			git(dir, ['gc', '-q', '--prune=now']);
			const log = (await call1('git_log', {})).structuredContent.commits;
			assert.deepEqual(log.map((x) => x.message), ['two', 'one']);
			assert.equal(log[0].id, c2);
			const st = (await call1('git_status', {})).structuredContent.files;
			assert.deepEqual(st, [{ path: 'g.txt', index: 'A', worktree: ' ' }]);
			const br = (await call1('git_branch', { branch_type: 'local' })).structuredContent.branches;
			assert.deepEqual(br.map((b) => b.name), ['later', 'main']);
			const rf = await call1('git_read_file', { revision: 'HEAD~1', path: 'f.txt' });
			assert.equal(resultText(rf), 'one\n');
			assert.deepEqual((await call1('git_ls_files', {})).structuredContent.files, ['f.txt', 'g.txt']);
		} finally {
			await s.close();
		}
	});
});

describe('shallow clones', () => {
	test('log stops and show diffs against the empty tree at the boundary, as git does', async () => {
		const dir = path.join(base, 'shallow');
		git(base, ['clone', '-q', '--depth', '2', '--no-local', `file://${main.dir}`, dir]);
		const scfg = writeConfig(base, { git: { repositories: [dir] } }, 'shallow.json');
		const s = await connectClient(scfg);
		try {
			const log = await s.client.callTool({ name: 'git_log', arguments: { repo_path: 'shallow', max_count: 10 } });
			assert.ok(!log.isError, resultText(log));
			const cli = git(dir, ['log', '--format=%H']).split('\n').filter(Boolean);
			assert.deepEqual(log.structuredContent.commits.map((x) => x.id), cli);
			for (const rev of cli) {
				const r = await s.client.callTool({ name: 'git_show', arguments: { repo_path: 'shallow', revision: rev } });
				assert.equal(resultText(r), git(dir, ['show', '--diff-merges=first-parent', rev]), rev);
			}
		} finally {
			await s.close();
		}
	});
});

describe('progress', () => {
	test('a long git_log reports progress to a client that asked for it', async () => {
		const dir = path.join(base, 'long');
		fs.mkdirSync(dir);
		git(dir, ['init', '-q', '-b', 'main']);
		let stream = '';
		for (let i = 0; i < 700; i++) {
			const msg = `commit ${i}\n`;
			const body = `${i}\n`;
			stream += `commit refs/heads/main\ncommitter C <c@example.com> ${1700000000 + i * 60} +0000\n` +
				`data ${msg.length}\n${msg}M 100644 inline f.txt\ndata ${body.length}\n${body}\n`;
		}
		git(dir, ['fast-import', '--quiet'], { input: stream });
		const lcfg = writeConfig(base, { git: { repositories: [dir] } }, 'long.json');
		const s = await openRaw(lcfg);
		try {
			const r = await s.callTool('git_log', { repo_path: 'long', max_count: 700 }, { meta: { progressToken: 'p1' } });
			assert.equal(r.structuredContent.commits.length, 700);
			assert.equal(r.structuredContent.commits[0].message, 'commit 699');
			const notes = s.messages.filter((m) => m.method === 'notifications/progress' && m.params.progressToken === 'p1');
			assert.ok(notes.length >= 2, `progress notifications: ${JSON.stringify(notes)}`);
			for (let i = 1; i < notes.length; i++) assert.ok(notes[i].params.progress > notes[i - 1].params.progress);
			assert.equal(notes[0].params.total, 700);
		} finally {
			await s.close();
		}
	});
});

describe('only the repository\'s own config is read', () => {
	test('a global and an XDG config that would change the output are ignored', async () => {
		const home = path.join(base, 'home');
		fs.mkdirSync(path.join(home, 'xdg', 'git'), { recursive: true });
		const cfgText = '[core]\n\tabbrev = 16\n[diff]\n\tmnemonicPrefix = true\n\tnoprefix = true\n\tcontext = 9\n';
		fs.writeFileSync(path.join(home, '.gitconfig'), cfgText);
		fs.writeFileSync(path.join(home, 'xdg', 'git', 'config'), cfgText);
		const s = await connectClient(cfg, { env: { ...process.env, HOME: home, XDG_CONFIG_HOME: path.join(home, 'xdg') } });
		try {
			const r = await s.client.callTool({ name: 'git_diff', arguments: { repo_path: 'main', target: main.ids.c1 } });
			assert.equal(body(r), git(main.dir, ['diff', main.ids.c1]));
			assert.match(resultText(r), /\nindex [0-9a-f]{7}\.\.[0-9a-f]{7} /);
		} finally {
			await s.close();
		}
	});
});

describe('errors that point', () => {
	test('an unknown repository: the configured names and the rule', async () => {
		const r = await call('git_log', { repo_path: 'nope' });
		const t = assertToolError(r, /repo_path: not a configured repository/, 'main, unborn, det, conflict', 'git.unknown_repository');
		assert.ok(!t.includes(base), t);
	});

	test('a missing file names the repository, the revision and the path, never a full path', async () => {
		let t = assertToolError(await call('git_read_file', { repo_path: 'main', revision: 'HEAD', path: 'no/such.txt' }),
			'path: no such file in main at HEAD: no/such.txt');
		assert.ok(!t.includes(base), t);
		t = assertToolError(await call('git_blame', { repo_path: 'main', path: 'gone.txt' }), 'no such file in main at HEAD: gone.txt');
		assertToolError(await call('git_read_file', { repo_path: 'main', revision: 'HEAD', path: '../x' }), 'git.path_outside');
		t = assertToolError(await call('git_show', { repo_path: 'main', revision: 'no-such-branch' }), /revision: .*no-such-branch/);
		assert.ok(!t.includes(base), t);
	});

	test('a revision that searches history is refused, with what to do instead', async () => {
		const t = assertToolError(await call('git_show', { repo_path: 'main', revision: ':/two' }),
			'git.revision_refused', 'git_log');
		assert.match(t, /^revision: ':\/<text>' searches every commit message/);
		assertToolError(await call('git_diff', { repo_path: 'main', target: 'HEAD^{/two}' }), /^target: '\^\{\/<text>\}'/, 'git.revision_refused');
		assertToolError(await call('git_show', { repo_path: 'main', revision: 'HEAD~20000' }), 'git.revision_steps');
		// what is allowed still works
		const r = await ok('git_show', { repo_path: 'main', revision: 'HEAD~1' });
		assert.equal(r.structuredContent.commit.id, git(main.dir, ['rev-parse', 'HEAD~1']).trim());
	});
});

describe('config', () => {
	test('moat check lists the repositories and their read-only grants', () => {
		const r = runMoat(['check', '--config', cfg]);
		assert.equal(r.code, 0, r.stderr);
		assert.match(r.stdout, /git \(read-only through libgit2/);
		assert.ok(r.stdout.includes(`main         ${main.dir} (git dir ${main.dir}/.git/)`) || r.stdout.includes(`${main.dir} (git dir`));
		assert.match(r.stdout, /read-only +.*\/main\n/);
	});

	test('bad configs are refused naming the rule', () => {
		const bad = (git, re) => {
			const p = writeConfig(base, { git }, 'bad.json');
			const r = runMoat(['check', '--config', p]);
			assert.notEqual(r.code, 0);
			assert.match(r.stderr + r.stdout, re);
		};
		// JSON pointers are absolute from the config's root
		bad({ repositories: [] }, /\/git\/repositories/);
		bad({ repositories: ['nope'] }, /\/git\/repositories\/0\/path: cannot resolve/);
		fs.mkdirSync(path.join(base, 'plain'), { recursive: true });
		bad({ repositories: ['main', 'plain'] }, /\/git\/repositories\/1\/path: not a git repository/);
		bad({ repositories: [{ path: 'main', name: 'x' }, { path: 'unborn', name: 'x' }] }, /\/git\/repositories\/1\/name: "x" is already used/);
		bad({ repositories: ['main', { path: 'main/.git', name: 'y' }] }, /\/git\/repositories\/1\/path: the same repository as \/git\/repositories\/0/);
		bad({ repositories: ['main'], extra: 1 }, /extra/);
	});
});
