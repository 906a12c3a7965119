// import_docs.test.mjs - docs/import.md says every example runs as written:
// this runs them. Each ```sh block is run by bash (set -euo pipefail) from
// the repository's root with the moat under test first on the PATH, in
// order, against the demo CRM (examples/crm_upstream.mjs, which the page
// starts on 127.0.0.1:47811; this file starts it there itself and leaves
// out the line that would). "/tmp/" in the blocks becomes a temp dir of
// this run. The --list listing and the section shown on the page must be
// what the command prints today.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { MOAT_BIN, STATE_HOME, makeTempDir, runMoat, sleep } from './helpers.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DOC = fs.readFileSync(path.join(ROOT, 'docs/import.md'), 'utf8');
const PORT = 47811;

/** The fenced blocks of the page: [{lang, text}]. */
function blocks() {
	const out = [];
	const re = /^```(\w*)\n([\s\S]*?)^```$/gm;
	let m;
	while ((m = re.exec(DOC))) out.push({ lang: m[1], text: m[2] });
	return out;
}

function portOpen(port) {
	return new Promise((resolve) => {
		const s = net.connect(port, '127.0.0.1');
		s.once('connect', () => (s.destroy(), resolve(true)));
		s.once('error', () => resolve(false));
	});
}

let upstream;
before(async () => {
	assert.equal(await portOpen(PORT), false, `127.0.0.1:${PORT} is taken (is a demo running?)`);
	upstream = spawn(process.execPath, [path.join(ROOT, 'examples/crm_upstream.mjs'), String(PORT)], { stdio: 'ignore' });
	for (let i = 0; i < 100 && !(await portOpen(PORT)); i++) await sleep(50);
	assert.ok(await portOpen(PORT), 'the CRM upstream did not start');
});
after(() => {
	upstream?.kill();
});

test('every sh block of docs/import.md runs as written', () => {
	const tmp = makeTempDir('moat-import-docs-');
	const sh = blocks().filter((b) => b.lang === 'sh');
	assert.ok(sh.length >= 3, 'the page has its examples');
	for (const b of sh) {
		const script = b.text
			.split('\n')
			.filter((l) => !/crm_upstream\.mjs/.test(l))
			.join('\n')
			.replaceAll('/tmp/', `${tmp}/`);
		const r = spawnSync('bash', ['-euo', 'pipefail', '-c', script], {
			cwd: ROOT,
			encoding: 'utf8',
			timeout: 30000,
			env: { ...process.env, PATH: `${path.dirname(MOAT_BIN)}:${process.env.PATH}`, XDG_STATE_HOME: STATE_HOME },
		});
		assert.equal(r.status, 0, `block failed:\n${b.text}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
	}
});

test('the --list shown on the page is what moat prints', () => {
	const shown = blocks().find((b) => b.lang === '' && b.text.startsWith('METHOD'));
	assert.ok(shown, 'the page shows a --list');
	const r = runMoat(['import', 'openapi', 'examples/crm.openapi.yaml', '--name', 'crm', '--list'], { cwd: ROOT });
	assert.equal(r.code, 0, r.stderr);
	assert.equal(r.stdout, shown.text);
});

test('the section shown on the page is what moat prints', () => {
	const shown = blocks().find((b) => b.lang === 'json' && b.text.includes('"crm_search_contacts"'));
	assert.ok(shown, 'the page shows the section');
	const r = runMoat(['import', 'openapi', 'examples/crm.openapi.yaml', '--name', 'crm', '--allow-address', '127.0.0.1'], {
		cwd: ROOT,
	});
	assert.equal(r.code, 0, r.stderr);
	assert.equal(r.stdout, shown.text);
});
