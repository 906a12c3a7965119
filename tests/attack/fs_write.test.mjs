// fs_write.test.mjs - escapes through the fs write tools (write_file,
// edit_file, create_directory, move_file) with a writable root beside a
// read-only one: traversal, absolute and sibling-prefix paths, writes through
// symlinks (a dangling one must not create the outside file it points to),
// move_file onto an existing file (never replaces) and out of or into the
// roots, and every write to the read-only root. Afterwards nothing outside
// the writable root was created or changed and the secret never appeared.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
	buildFixture,
	openSession,
	assertTools,
	call,
	refused,
	finish,
	assertIntact,
	resultText,
	WRITE_TOOLS,
} from './fixture.mjs';

const EDIT = [{ oldText: 'a', newText: 'PWNED' }];

describe('fs write tools refuse every escape', () => {
	test('write_file, edit_file, create_directory out of the writable root', async () => {
		const f = buildFixture();
		const s = await openSession(f);
		try {
			await assertTools(s, WRITE_TOOLS);
			const outs = {
				'../ traversal': `${f.rw}/../outside/new.txt`,
				'absolute outside': path.join(f.outside, 'new.txt'),
				'existing outside file': f.secretFile,
				'canary': f.canary,
				'sibling prefix (CVE-2025-53110)': path.join(f.rw2, 'new.txt'),
				'sibling prefix existing': path.join(f.rw2, 'secret3.txt'),
				'through a symlinked dir (CVE-2025-53109)': path.join(f.rw, 'out-dir', 'new.txt'),
				'through a symlinked dir, existing': path.join(f.rw, 'out-dir', 'canary.txt'),
				'/proc/self/root': `/proc/self/root${f.outside}/new.txt`,
				'~/.ssh': path.join(f.home, '.ssh', 'authorized_keys'),
			};
			for (const [what, p] of Object.entries(outs)) {
				await refused(s, 'write_file', { path: p, content: 'PWNED' }, what);
				await refused(s, 'edit_file', { path: p, edits: EDIT }, what);
				await refused(s, 'create_directory', { path: `${p}.d` }, what);
			}
			// a symlink to an outside file: editing must not change the target
			await refused(s, 'edit_file', { path: path.join(f.rw, 'secret-link'), edits: [{ oldText: 'S3CRET', newText: 'x' }] });
			await call(s, 'write_file', { path: path.join(f.rw, 'secret-link'), content: 'PWNED' });
			// the allowed root still takes writes
			const ok = await call(s, 'write_file', { path: path.join(f.rw, 'new.txt'), content: 'fine\n' });
			assert.notEqual(ok.isError, true, resultText(ok));
			assert.equal(fs.readFileSync(path.join(f.rw, 'new.txt'), 'utf8'), 'fine\n');
			const texts = await finish(s);
			assertIntact(f, texts);
		} finally {
			s.kill();
		}
	});

	test('a dangling symlink pointing outside is never written through', async () => {
		const f = buildFixture();
		const s = await openSession(f);
		try {
			await assertTools(s, WRITE_TOOLS);
			const target = path.join(f.outside, 'created-by-attack.txt');
			await call(s, 'write_file', { path: path.join(f.rw, 'dangling'), content: 'PWNED' });
			assert.ok(!fs.existsSync(target), 'the outside file was created through the dangling link');
			await call(s, 'edit_file', { path: path.join(f.rw, 'dangling'), edits: EDIT });
			await call(s, 'create_directory', { path: path.join(f.rw, 'dangling') });
			assert.ok(!fs.existsSync(target));
			const texts = await finish(s);
			assertIntact(f, texts);
		} finally {
			s.kill();
		}
	});

	test('move_file never replaces and never crosses a root boundary', async () => {
		const f = buildFixture();
		const s = await openSession(f);
		try {
			await assertTools(s, WRITE_TOOLS);
			const a = path.join(f.rw, 'a.txt');
			const b = path.join(f.rw, 'b.txt');
			await refused(s, 'move_file', { source: a, destination: b }, 'onto an existing file');
			assert.equal(fs.readFileSync(a, 'utf8'), 'rw a\n');
			assert.equal(fs.readFileSync(b, 'utf8'), 'rw b\n');
			const moves = {
				'out of the root': [a, path.join(f.outside, 'moved.txt')],
				'out via ..': [a, `${f.rw}/../outside/moved.txt`],
				'to the sibling prefix': [a, path.join(f.rw2, 'moved.txt')],
				'out through a symlinked dir': [a, path.join(f.rw, 'out-dir', 'moved.txt')],
				'onto the outside secret': [a, f.secretFile],
				'in from outside': [f.secretFile, path.join(f.rw, 'stolen.txt')],
				'in through a symlinked dir': [path.join(f.rw, 'out-dir', 'secret.txt'), path.join(f.rw, 'stolen.txt')],
				'into the read-only root': [a, path.join(f.data, 'moved.txt')],
				'out of the read-only root': [path.join(f.data, 'a.txt'), path.join(f.rw, 'moved.txt')],
				'onto an existing symlink': [a, path.join(f.rw, 'secret-link')],
			};
			for (const [what, [source, destination]] of Object.entries(moves)) {
				await refused(s, 'move_file', { source, destination }, what);
			}
			assert.equal(fs.readFileSync(a, 'utf8'), 'rw a\n');
			assert.ok(!fs.existsSync(path.join(f.rw, 'stolen.txt')));
			assert.equal(fs.readlinkSync(path.join(f.rw, 'secret-link')), f.secretFile);
			const texts = await finish(s);
			assertIntact(f, texts);
		} finally {
			s.kill();
		}
	});

	test('every write to a read-only root is refused', async () => {
		const f = buildFixture();
		const s = await openSession(f);
		try {
			await assertTools(s, WRITE_TOOLS);
			await refused(s, 'write_file', { path: path.join(f.data, 'new.txt'), content: 'x' });
			await refused(s, 'write_file', { path: path.join(f.data, 'a.txt'), content: 'x' });
			await refused(s, 'edit_file', { path: path.join(f.data, 'a.txt'), edits: EDIT });
			await refused(s, 'edit_file', { path: path.join(f.data, 'a.txt'), edits: EDIT, dryRun: true });
			await refused(s, 'create_directory', { path: path.join(f.data, 'newdir') });
			await refused(s, 'move_file', { source: path.join(f.data, 'a.txt'), destination: path.join(f.data, 'z.txt') });
			await refused(s, 'write_file', { path: path.join(f.rw, 'out-dir', '..', '..', 'data', 'x.txt'), content: 'x' });
			const texts = await finish(s);
			assertIntact(f, texts); // includes the read-only root's snapshot
		} finally {
			s.kill();
		}
	});
});
