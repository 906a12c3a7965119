// fs_glob.test.mjs - the glob matcher under attack (issue 11, item 8). The
// outside review crashed the server with `@(` x 60,000 + `a.txt` + `)` x
// 60,000 in search_files (a stack overflow) and burned 16 s of CPU against a
// 2 s deadline at 25,000 levels; an exhausted step budget turned a negated
// pattern into a match. Here every nesting construct (@( *( +( ?( !( {
// {a, and classes), long '**/' chains and backtracking patterns go through
// every place a glob is taken (search_files' pattern and excludePatterns,
// directory_tree's excludePatterns, grep_files' include), at the crash
// sizes, at 25,000 levels and at the nesting bound. Each call must be
// answered within the deadline (an error naming a limits.* rule, or a
// result), the server must stay alive and answer the next call within the
// deadline, and a budget-exhausted negated pattern must be an error, never a
// match. Nothing outside the roots is read or changed.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { buildFixture, openSession, assertIntact, resultText } from './fixture.mjs';

const DEADLINE_MS = 2000;
// what a call may take end to end: the deadline plus slack for a sanitizer build
const ANSWER_MS = DEADLINE_MS + 2500;

const rep = (s, n) => s.repeat(n);
const nest = (open, close, n, inner = 'a.txt') => rep(open, n) + inner + rep(close, n);

/** The attack patterns, named. */
function patterns() {
	const p = {};
	const groups = [
		['@(', ')'],
		['*(', ')'],
		['+(', ')'],
		['?(', ')'],
		['!(', ')'],
		['{', '}'],
		['{a,', '}'],
		['@(a|', ')'],
	];
	for (const [o, c] of groups) {
		p[`${o} x 60000`] = nest(o, c, 60000);
		p[`${o} x 25000`] = nest(o, c, 25000);
		p[`${o} x 17`] = nest(o, c, 17);
		p[`${o} x 16 (the bound)`] = nest(o, c, 16, '*a*|b');
	}
	p['class [ x 60000'] = rep('[', 60000) + 'a';
	p['class [[:alpha:] x 4000'] = rep('[[:alpha:]', 400) + ']';
	p['classes [!a-z] x 580'] = rep('[!a-z]', 580);
	p['class [a-z]* x 800'] = rep('[a-z]*', 680);
	p['**/ x 20000'] = rep('**/', 20000) + 'a.txt';
	p['**/a/ x 1000'] = rep('**/a/', 1000) + 'b';
	p['**/a/ x 60'] = rep('**/a/', 60) + 'b';
	p['sequential @(a|aa) x 680'] = rep('@(a|aa)', 680);
	p['*a x 2000'] = rep('*a', 2000);
	p['{a,b} x 30'] = rep('{a,b}', 30);
	p['{1..1} x 600'] = rep('{1..1}', 600);
	p['{1..100000000}'] = 'x{1..100000000}';
	return p;
}

/** Call and measure; the answer must come within ANSWER_MS. */
async function timed(s, name, args, what) {
	const t0 = Date.now();
	const r = await s.request('tools/call', { name, arguments: args }, { timeoutMs: ANSWER_MS + 5000 });
	const ms = Date.now() - t0;
	s.seen.push(r);
	assert.ok(ms < ANSWER_MS, `${what}: answered after ${ms} ms`);
	assert.ok('result' in r || 'error' in r, `${what}: no answer`);
	if (r.result?.isError) {
		// a refusal names the limit that refused it
		assert.match(resultText(r.result), /limits\.(glob_[a-z]+|timeout)|call deadline|timed out/i, `${what}: ${resultText(r.result).slice(0, 200)}`);
	}
	return { r, ms };
}

/** The server is alive and answers a quick call within the deadline. */
async function alive(s, f, what) {
	const t0 = Date.now();
	await s.assertAlive(ANSWER_MS);
	const r = await s.callTool('read_text_file', { path: path.join(f.data, 'a.txt') }, { timeoutMs: ANSWER_MS });
	assert.equal(resultText(r), 'inside a\n', `${what}: the next call failed`);
	assert.ok(Date.now() - t0 < ANSWER_MS, `${what}: the next call was slow`);
}

/** A fixture with a deep tree and long names in the writable root (which
 * the intactness snapshot leaves out). */
function scene() {
	const f = buildFixture({ extra: { limits: { call_timeout_ms: DEADLINE_MS } } });
	fs.mkdirSync(path.join(f.rw, ...rep('a/', 40).split('/').filter(Boolean)), { recursive: true });
	fs.writeFileSync(path.join(f.rw, ...rep('a/', 40).split('/').filter(Boolean), 'b'), 'deep\n');
	fs.writeFileSync(path.join(f.rw, 'x' + rep('a', 200)), 'long\n');
	fs.writeFileSync(path.join(f.rw, rep('a', 250)), 'long\n');
	return f;
}

describe('glob patterns from a call cannot crash or stall the server', () => {
	test('every construct, in search_files pattern and excludePatterns', async () => {
		const f = scene();
		const s = await openSession(f);
		try {
			for (const [what, pattern] of Object.entries(patterns())) {
				await timed(s, 'search_files', { path: f.rw, pattern }, `search_files ${what}`);
				await timed(s, 'search_files', { path: f.rw, pattern: '**', excludePatterns: [pattern] }, `exclude ${what}`);
				await alive(s, f, what);
			}
			const texts = s.seen.map((r) => JSON.stringify(r));
			assertIntact(f, [...texts, s.stderr?.() ?? '']);
		} finally {
			s.kill();
		}
	});

	test('every construct, in directory_tree excludePatterns and grep_files include', async () => {
		const f = scene();
		const s = await openSession(f);
		try {
			for (const [what, pattern] of Object.entries(patterns())) {
				await timed(s, 'directory_tree', { path: f.rw, excludePatterns: [pattern] }, `tree ${what}`);
				// without '*' directory_tree also tries "**/p" and "**/p/**"
				await timed(s, 'directory_tree', { path: f.rw, excludePatterns: [pattern.replaceAll('*', '')] }, `tree (no *) ${what}`);
				await timed(s, 'grep_files', { path: f.rw, pattern: 'deep', include: pattern }, `grep include ${what}`);
				await alive(s, f, what);
			}
			assertIntact(f, s.seen.map((r) => JSON.stringify(r)));
		} finally {
			s.kill();
		}
	});

	test('many patterns at once: excludePatterns is capped', async () => {
		const f = scene();
		const s = await openSession(f);
		try {
			const many = Array.from({ length: 65 }, (_, i) => `@(a|b)${i}`);
			const { r } = await timed(s, 'search_files', { path: f.rw, pattern: '**', excludePatterns: many }, 'search 65 excludes');
			assert.match(resultText(r.result), /limits\.glob_patterns/);
			const heavy = Array.from({ length: 64 }, () => rep('@(a|aa)', 500));
			await timed(s, 'directory_tree', { path: f.rw, excludePatterns: heavy }, 'tree 64 heavy excludes');
			await alive(s, f, 'many patterns');
		} finally {
			s.kill();
		}
	});
});

describe('an exhausted budget is an error, never a match', () => {
	test('negated patterns whose budget runs out answer with limits.glob_steps', async () => {
		const f = scene();
		const s = await openSession(f);
		try {
			const bt = rep('*a', 14) + '*b';
			const negated = ['!' + bt, 'x!(' + bt + ')', '!x!(' + bt + ')', '!!!' + bt, '!{' + bt + ',zzz}'];
			for (const pattern of negated) {
				const { r } = await timed(s, 'search_files', { path: f.rw, pattern }, `negated ${pattern.slice(0, 12)}`);
				assert.equal(r.result.isError, true, `${pattern.slice(0, 12)}: a result instead of an error: ${JSON.stringify(r.result).slice(0, 300)}`);
				assert.match(resultText(r.result), /limits\.glob_steps/);
				// as an exclude: never silently "excluded everything" or "kept everything"
				const { r: r2 } = await timed(s, 'search_files', { path: f.rw, pattern: '**', excludePatterns: [pattern] }, `negated exclude ${pattern.slice(0, 12)}`);
				assert.equal(r2.result.isError, true);
				assert.match(resultText(r2.result), /limits\.glob_steps/);
				const { r: r3 } = await timed(s, 'directory_tree', { path: f.rw, excludePatterns: [pattern] }, `negated tree ${pattern.slice(0, 12)}`);
				assert.equal(r3.result.isError, true);
				const { r: r4 } = await timed(s, 'grep_files', { path: f.rw, pattern: 'long', include: pattern }, `negated include ${pattern.slice(0, 12)}`);
				assert.equal(r4.result.isError, true);
				await alive(s, f, pattern.slice(0, 12));
			}
		} finally {
			s.kill();
		}
	});
});
