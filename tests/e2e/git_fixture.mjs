// git_fixture.mjs - fixture repositories for the git family's tests, built
// with the git CLI in a temp dir, and a runner that asks the git CLI the
// same questions moat answers.
//
// Every git run gets a clean environment: no system or global config
// (GIT_CONFIG_NOSYSTEM, HOME pointing into the temp dir), fixed author and
// committer, UTC, no pager, no colour. Commit dates are fixed per commit so
// `git log` order and --since/--until filters are deterministic.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { makeTempDir } from './helpers.mjs';

export function gitEnv(home) {
	return {
		PATH: process.env.PATH,
		HOME: home,
		GIT_CONFIG_NOSYSTEM: '1',
		GIT_CONFIG_GLOBAL: '/dev/null',
		GIT_PAGER: 'cat',
		PAGER: 'cat',
		TZ: 'UTC',
		LC_ALL: 'C',
		GIT_AUTHOR_NAME: 'Ann Author',
		GIT_AUTHOR_EMAIL: 'ann@example.com',
		GIT_COMMITTER_NAME: 'Cid Committer',
		GIT_COMMITTER_EMAIL: 'cid@example.com',
	};
}

/** Run git in cwd; returns stdout (throws on failure unless opts.ok). */
export function git(cwd, args, opts = {}) {
	const env = { ...gitEnv(opts.home ?? path.dirname(cwd)), ...(opts.env ?? {}) };
	const r = spawnSync('git', ['-c', 'color.ui=never', '-c', 'core.quotepath=off', ...args], {
		cwd,
		env,
		encoding: opts.encoding ?? 'utf8',
		input: opts.input,
		maxBuffer: 256 << 20,
	});
	if (!opts.ok) assert.equal(r.status, 0, `git ${args.join(' ')} failed: ${r.stderr}`);
	return opts.ok ? r : r.stdout;
}

/** Commit everything staged with a fixed date (seconds since 2024-01-01T00:00Z + day*86400). */
export function commit(dir, msg, day, extraEnv = {}) {
	const when = new Date(Date.UTC(2024, 0, 1) + day * 86400000).toISOString().replace('.000Z', '+00:00');
	git(dir, ['commit', '-q', '--allow-empty', '-m', msg], {
		env: { GIT_AUTHOR_DATE: when, GIT_COMMITTER_DATE: when, ...extraEnv },
	});
	return git(dir, ['rev-parse', 'HEAD']).trim();
}

const BIN1 = Buffer.from([0, 1, 2, 3, 255, 254, 0, 10, 65, 66, 0]);
const BIN2 = Buffer.from([0, 1, 2, 3, 255, 254, 0, 10, 65, 67, 0, 9]);

/**
 * The main fixture: history with a tag, a feature branch merged with
 * --no-ff, a rename, a binary file, remote-tracking refs, a multi-line
 * message; then a work tree with staged, unstaged and untracked changes.
 * Returns { dir, ids: {c1..c6}, base }.
 */
export function buildMain(base) {
	const dir = path.join(base, 'main');
	fs.mkdirSync(dir);
	git(dir, ['init', '-q', '-b', 'main']);
	const w = (p, s) => {
		fs.mkdirSync(path.dirname(path.join(dir, p)), { recursive: true });
		fs.writeFileSync(path.join(dir, p), s);
	};
	const ids = {};
	const lines = Array.from({ length: 40 }, (_, i) => `line ${i + 1}`);
	w('a.txt', lines.join('\n') + '\n');
	w('dir/b.txt', 'bee\n');
	w('bin.dat', BIN1);
	w('noeol.txt', 'no newline at the end');
	w('run.sh', '#!/bin/sh\necho run\n');
	w('name with space.txt', 'spaced\n');
	fs.symlinkSync('a.txt', path.join(dir, 'link'));
	w('big.txt', Array.from({ length: 200 }, (_, i) => `line ${i + 1} of a big file`).join('\n') + '\n');
	git(dir, ['add', '-A']);
	ids.c1 = commit(dir, 'first commit', 10);
	lines[4] = 'line 5 changed';
	lines[30] = 'line 31 changed';
	w('a.txt', lines.join('\n') + '\n');
	w('c.txt', 'see\n');
	w('name with space.txt', 'spaced out\n');
	git(dir, ['add', '-A']);
	ids.c2 = commit(dir, 'second: change a, add c\n\nA body line.\nAnother body line.', 20, {
		GIT_AUTHOR_NAME: 'Bob Builder',
		GIT_AUTHOR_EMAIL: 'bob@example.com',
	});
	git(dir, ['tag', '-a', 'v1.0', '-m', 'version one']);
	git(dir, ['checkout', '-q', '-b', 'feature']);
	w('feature.txt', 'feature work\n');
	git(dir, ['add', '-A']);
	ids.c3 = commit(dir, 'feature: add feature.txt', 30);
	git(dir, ['checkout', '-q', 'main']);
	git(dir, ['mv', 'dir/b.txt', 'dir/renamed.txt']);
	w('bin.dat', BIN2);
	w('noeol.txt', 'still no newline');
	fs.chmodSync(path.join(dir, 'run.sh'), 0o755);
	fs.rmSync(path.join(dir, 'link'));
	fs.symlinkSync('c.txt', path.join(dir, 'link'));
	git(dir, ['add', '-A']);
	ids.c4 = commit(dir, 'rename b, change the binary', 40);
	const when = '2024-02-20T00:00:00+00:00';
	git(dir, ['merge', '-q', '--no-ff', '-m', 'Merge branch feature', 'feature'], {
		env: { GIT_AUTHOR_DATE: when, GIT_COMMITTER_DATE: when },
	});
	ids.c5 = git(dir, ['rev-parse', 'HEAD']).trim();
	w('a.txt', lines.join('\n') + '\nappended\n');
	git(dir, ['add', '-A']);
	ids.c6 = commit(dir, 'append to a', 60);
	git(dir, ['branch', 'old', ids.c1]);
	git(dir, ['update-ref', 'refs/remotes/origin/main', ids.c4]);
	git(dir, ['update-ref', 'refs/remotes/origin/feature', ids.c3]);
	git(dir, ['symbolic-ref', 'refs/remotes/origin/HEAD', 'refs/remotes/origin/main']);
	git(dir, ['config', 'remote.origin.url', 'https://example.invalid/main.git']);
	git(dir, ['config', 'remote.origin.fetch', '+refs/heads/*:refs/remotes/origin/*']);
	git(dir, ['config', 'branch.main.remote', 'origin']);
	git(dir, ['config', 'branch.main.merge', 'refs/heads/main']);
	// the work tree: staged, unstaged, both, untracked, a staged rename
	lines[0] = 'line 1 unstaged';
	w('a.txt', lines.join('\n') + '\nappended\n');
	w('staged.txt', 'staged new file\n');
	w('c.txt', 'see staged\n');
	git(dir, ['add', 'staged.txt', 'c.txt']);
	w('c.txt', 'see staged\nand unstaged\n');
	git(dir, ['mv', 'feature.txt', 'feature-renamed.txt']);
	fs.rmSync(path.join(dir, 'noeol.txt'));
	w('untracked.txt', 'untracked\n');
	w('newdir/x.txt', 'x\n');
	return { dir, ids };
}

/** A repository whose branch has no commits yet, one file staged. */
export function buildUnborn(base) {
	const dir = path.join(base, 'unborn');
	fs.mkdirSync(dir);
	git(dir, ['init', '-q', '-b', 'trunk']);
	fs.writeFileSync(path.join(dir, 'first.txt'), 'first\n');
	git(dir, ['add', 'first.txt']);
	return { dir };
}

/** A repository in the middle of a merge with conflicts of several kinds. */
export function buildConflict(base) {
	const dir = path.join(base, 'conflict');
	fs.mkdirSync(dir);
	git(dir, ['init', '-q', '-b', 'main']);
	const w = (p, s) => fs.writeFileSync(path.join(dir, p), s);
	w('both.txt', 'base\n');
	w('gone-here.txt', 'base\n');
	w('gone-there.txt', 'base\n');
	w('clean.txt', 'base\n');
	git(dir, ['add', '-A']);
	commit(dir, 'base', 1);
	git(dir, ['checkout', '-q', '-b', 'other']);
	w('both.txt', 'other\n');
	w('gone-here.txt', 'other\n');
	git(dir, ['rm', '-q', 'gone-there.txt']);
	w('added.txt', 'other added\n');
	git(dir, ['add', '-A']);
	commit(dir, 'other', 2);
	git(dir, ['checkout', '-q', 'main']);
	w('both.txt', 'main\n');
	git(dir, ['rm', '-q', 'gone-here.txt']);
	w('gone-there.txt', 'main\n');
	w('added.txt', 'main added\n');
	w('clean.txt', 'main\n');
	git(dir, ['add', '-A']);
	commit(dir, 'main', 3);
	git(dir, ['merge', '-q', 'other'], { ok: true });
	w('untracked.txt', 'u\n');
	return { dir };
}

/** A repository with a detached HEAD on its first commit. */
export function buildDetached(base) {
	const dir = path.join(base, 'detached');
	fs.mkdirSync(dir);
	git(dir, ['init', '-q', '-b', 'main']);
	fs.writeFileSync(path.join(dir, 'f.txt'), 'one\n');
	git(dir, ['add', '-A']);
	const c1 = commit(dir, 'one', 1);
	fs.writeFileSync(path.join(dir, 'f.txt'), 'two\n');
	git(dir, ['add', '-A']);
	commit(dir, 'two', 2);
	git(dir, ['checkout', '-q', '--detach', c1]);
	return { dir, c1 };
}

export function newBase(prefix = 'moat-git-') {
	return fs.realpathSync(makeTempDir(prefix));
}
