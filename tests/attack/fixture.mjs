// fixture.mjs - the scene every attack test builds, and the checks it ends with.
//
// A temp dir holds a read-only root (data/), a writable root (rw/), a sibling
// that shares the read-only root's prefix (data2/, CVE-2025-53110), an outside
// directory with a secret, a canary and a file whose name is itself a secret,
// and a fake home with .ssh/id_rsa. Symlinks inside the roots point out of
// them (absolute, relative, through a directory, dangling). After an attack,
// assertIntact() proves nothing outside the roots was read (the secret never
// appears in any response or in stderr) and nothing was created or changed
// (a snapshot of names, types, sizes, mtimes, content hashes and link
// targets, before == after).
//
// Every attack goes through the real binary: MOAT_BIN=... node --test tests/attack/
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { makeTempDir, writeConfig, RawSession, resultText } from '../e2e/helpers.mjs';

export { MOAT_BIN, RawSession, connectClient, runMoat, resultText, sleep, withTimeout } from '../e2e/helpers.mjs';

export const READ_TOOLS = [
	'read_text_file',
	'read_multiple_files',
	'list_directory',
	'get_file_info',
	'search_files',
	'directory_tree',
];
export const WRITE_TOOLS = ['write_file', 'edit_file', 'create_directory', 'move_file'];

/** Build the scene; returns paths, the secret tokens and a config path. */
export function buildFixture({ writable = true, extra = {} } = {}) {
	const base = fs.realpathSync(makeTempDir('moat-attack-'));
	const rand = crypto.randomBytes(8).toString('hex');
	const f = {
		base,
		data: path.join(base, 'data'),
		data2: path.join(base, 'data2'),
		rw: path.join(base, 'rw'),
		rw2: path.join(base, 'rw2'),
		outside: path.join(base, 'outside'),
		home: path.join(base, 'home'),
		secret: `S3CRET-${rand}-CONTENT`, // content of every outside file
		hiddenName: `hidden-${rand}`, // a name no response may list
	};
	f.secretFile = path.join(f.outside, 'secret.txt');
	f.canary = path.join(f.outside, 'canary.txt');
	for (const d of [f.data, f.data2, f.rw, f.rw2, f.outside, path.join(f.home, '.ssh')]) {
		fs.mkdirSync(d, { recursive: true });
	}
	fs.mkdirSync(path.join(f.data, 'sub'));
	fs.mkdirSync(path.join(f.outside, 'deeper'));
	fs.writeFileSync(f.secretFile, `${f.secret}\n`);
	fs.writeFileSync(f.canary, 'canary: must never change\n');
	fs.writeFileSync(path.join(f.outside, `${f.hiddenName}.txt`), `${f.secret}\n`);
	fs.writeFileSync(path.join(f.outside, 'deeper', `${f.hiddenName}-2.txt`), `${f.secret}\n`);
	fs.writeFileSync(path.join(f.data2, 'secret2.txt'), `${f.secret}\n`);
	fs.writeFileSync(path.join(f.rw2, 'secret3.txt'), `${f.secret}\n`);
	fs.writeFileSync(path.join(f.home, '.ssh', 'id_rsa'), `${f.secret}\n`);
	// inside the read-only root
	fs.writeFileSync(path.join(f.data, 'a.txt'), 'inside a\n');
	fs.writeFileSync(path.join(f.data, 'sub', 'b.txt'), 'inside b\n');
	fs.symlinkSync(f.secretFile, path.join(f.data, 'abs-link'));
	fs.symlinkSync('../outside/secret.txt', path.join(f.data, 'rel-link'));
	fs.symlinkSync('../outside', path.join(f.data, 'dir-link'));
	fs.symlinkSync('../../outside/secret.txt', path.join(f.data, 'sub', 'up-link'));
	fs.symlinkSync('a.txt', path.join(f.data, 'ok-link')); // stays inside: allowed
	// special files inside the root: a FIFO and a /dev/zero-like device (a
	// real node when we may mknod, else a symlink to /dev/zero)
	assert.equal(spawnSync('mkfifo', [path.join(f.data, 'fifo')]).status, 0, 'mkfifo failed');
	f.realDevice = tryMknodZero(path.join(f.data, 'zero'));
	if (!f.realDevice) fs.symlinkSync('/dev/zero', path.join(f.data, 'zero'));
	// inside the writable root
	fs.writeFileSync(path.join(f.rw, 'a.txt'), 'rw a\n');
	fs.writeFileSync(path.join(f.rw, 'b.txt'), 'rw b\n');
	fs.symlinkSync(path.join(f.outside, 'created-by-attack.txt'), path.join(f.rw, 'dangling'));
	fs.symlinkSync(f.secretFile, path.join(f.rw, 'secret-link'));
	fs.symlinkSync('../outside', path.join(f.rw, 'out-dir'));
	const roots = writable ? ['data', { path: 'rw', write: true }] : ['data'];
	f.config = writeConfig(base, { roots, testing: { enabled: true }, ...extra });
	f.before = snapshotAll(f);
	return f;
}

/** Snapshot of one tree: path -> type, size, mtime, hash or link target. */
export function snapshot(dir) {
	const out = {};
	const walk = (d) => {
		for (const name of fs.readdirSync(d).sort()) {
			const p = path.join(d, name);
			const st = fs.lstatSync(p);
			const rel = path.relative(dir, p);
			if (st.isSymbolicLink()) {
				out[rel] = { type: 'link', to: fs.readlinkSync(p), mtime: st.mtimeMs };
			} else if (st.isDirectory()) {
				out[rel] = { type: 'dir', mtime: st.mtimeMs };
				walk(p);
			} else if (st.isFile()) {
				const hash = crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex');
				out[rel] = { type: 'file', size: st.size, mtime: st.mtimeMs, hash, mode: st.mode };
			} else {
				out[rel] = { type: 'other', mode: st.mode, mtime: st.mtimeMs };
			}
		}
	};
	walk(dir);
	return out;
}

/** Everything the attacks must leave alone: outside, the siblings, the fake home,
 * the read-only root, and the top level of the scene (nothing new beside them). */
function snapshotAll(f, { skipData = false } = {}) {
	const top = fs.readdirSync(f.base).sort();
	const s = {
		top,
		outside: snapshot(f.outside),
		data2: snapshot(f.data2),
		rw2: snapshot(f.rw2),
		home: snapshot(f.home),
	};
	if (!skipData) s.data = snapshot(f.data);
	return s;
}

/**
 * Assert nothing outside was read, created or changed. texts: every response
 * (objects are JSON-encoded) and stderr collected during the attack.
 */
export function assertIntact(f, texts, { skipData = false } = {}) {
	for (const t of texts) {
		const s = typeof t === 'string' ? t : JSON.stringify(t);
		assert.ok(!s.includes(f.secret), `the secret leaked: ${s.slice(0, 400)}`);
	}
	const before = { ...f.before };
	if (skipData) delete before.data;
	assert.deepEqual(snapshotAll(f, { skipData }), before, 'something outside the roots changed');
}

/** Assert no response names the hidden outside file (listings, trees, searches). */
export function assertNotListed(f, texts) {
	for (const t of texts) {
		const s = typeof t === 'string' ? t : JSON.stringify(t);
		assert.ok(!s.includes(f.hiddenName), `an outside name was listed: ${s.slice(0, 400)}`);
	}
}

/** A raw stdio session against `moat serve --config f.config`, initialized, that
 * records every response. */
export async function openSession(f, opts = {}) {
	const s = new RawSession(f.config, opts);
	s.seen = [];
	await s.initialize();
	return s;
}

/** Assert the tools are registered (a missing tool fails the attack, never skips it). */
export async function assertTools(s, names) {
	const r = await s.call('tools/list', {});
	const have = new Set(r.tools.map((t) => t.name));
	for (const n of names) assert.ok(have.has(n), `tool ${n} is not registered`);
}

/** Call a tool and record the result. A JSON-RPC error (e.g. an unknown tool)
 * fails the test. */
export async function call(s, name, args, opts) {
	const res = await s.callTool(name, args, opts);
	s.seen.push(res);
	return res;
}

/** Call and assert the tool refused (isError result). Returns the error text. */
export async function refused(s, name, args, why = '') {
	const res = await call(s, name, args);
	assert.equal(
		res.isError,
		true,
		`${name} ${JSON.stringify(args)} was not refused ${why}: ${JSON.stringify(res).slice(0, 300)}`,
	);
	return resultText(res);
}

/** Close the session (protocol-only stdout, no sanitizer report) and return all
 * texts seen: responses and stderr. */
export async function finish(s) {
	const { stderr } = await s.close(8000);
	return [...s.seen, stderr];
}

/** True when this process may create device nodes (root with CAP_MKNOD). */
export function tryMknodZero(p) {
	const r = spawnSync('mknod', [p, 'c', '1', '5'], { encoding: 'utf8' });
	return r.status === 0;
}
