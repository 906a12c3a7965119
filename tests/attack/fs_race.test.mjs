// fs_race.test.mjs - time-of-check/time-of-use: a background process flips
// paths inside the root between a regular file and a symlink to the outside
// secret (and a directory between a real one and a symlink to outside) with
// atomic renames, while many read calls run concurrently. Whatever moat
// checked, the secret must never be returned, and nothing outside changes.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import {
	buildFixture,
	openSession,
	assertTools,
	call,
	finish,
	assertIntact,
	resultText,
	withTimeout,
} from './fixture.mjs';

// The flipper: loops until killed, never leaves the paths missing for long.
const FLIPPER = `
const fs = require('fs');
const [dir, secret, outside] = process.argv.slice(1);
const p = (n) => dir + '/' + n;
fs.mkdirSync(p('racedir-real'), { recursive: true });
for (;;) {
	try {
		fs.writeFileSync(p('.f'), 'benign\\n');
		fs.renameSync(p('.f'), p('race.txt'));
		try { fs.unlinkSync(p('.l')); } catch {}
		fs.symlinkSync(secret, p('.l'));
		fs.renameSync(p('.l'), p('race.txt'));
		fs.mkdirSync(p('.d'), { recursive: true });
		fs.writeFileSync(p('.d/secret.txt'), 'benign\\n');
		try { fs.rmSync(p('racedir'), { recursive: true, force: true }); } catch {}
		fs.renameSync(p('.d'), p('racedir'));
		try { fs.unlinkSync(p('.dl')); } catch {}
		fs.symlinkSync(outside, p('.dl'));
		try { fs.rmSync(p('racedir'), { recursive: true, force: true }); } catch {}
		fs.renameSync(p('.dl'), p('racedir'));
	} catch {}
}
`;

describe('check-then-use races', () => {
	test('a path flipped between a file and a symlink to the secret never yields the secret', async () => {
		// many calls in a few seconds: lift the per-minute rate limits
		const f = buildFixture({ extra: { limits: { calls_per_minute: 0, tool_calls_per_minute: 0 } } });
		const flipper = spawn(process.execPath, ['-e', FLIPPER, f.data, f.secretFile, f.outside], {
			stdio: ['ignore', 'ignore', 'pipe'],
		});
		let flipErr = '';
		flipper.stderr.setEncoding('utf8');
		flipper.stderr.on('data', (c) => (flipErr += c));
		const flipperExited = new Promise((r) => flipper.on('exit', (code, sig) => r({ code, sig })));
		let s;
		let benign = 0;
		try {
			s = await openSession(f);
			await assertTools(s, ['read_text_file', 'read_multiple_files', 'get_file_info']);
			const deadline = Date.now() + 4000;
			let rounds = 0;
			// At least 60 rounds, and on until one read has gone through the
			// open path (moat may finish 60 rounds before the flipper runs).
			while (Date.now() < deadline && (rounds < 60 || benign === 0)) {
				rounds++;
				const batch = [];
				for (let i = 0; i < 8; i++) {
					batch.push(call(s, 'read_text_file', { path: path.join(f.data, 'race.txt') }));
					batch.push(call(s, 'read_text_file', { path: path.join(f.data, 'racedir', 'secret.txt') }));
				}
				batch.push(
					call(s, 'read_multiple_files', {
						paths: [path.join(f.data, 'race.txt'), path.join(f.data, 'racedir', 'secret.txt')],
					}),
				);
				batch.push(call(s, 'get_file_info', { path: path.join(f.data, 'race.txt') }));
				const results = await withTimeout(Promise.all(batch), 15000, 'a batch of racing reads');
				for (const r of results) {
					const t = JSON.stringify(r);
					assert.ok(!t.includes(f.secret), `the secret was returned: ${t.slice(0, 300)}`);
					if (!r.isError && resultText(r) === 'benign\n') benign++;
				}
			}
			assert.ok(
				benign > 0,
				`no read ever succeeded: the race never exercised the open path (flipper ${JSON.stringify(
					flipper.exitCode ?? flipper.signalCode,
				)} ${flipErr.slice(0, 300)}; last: ${JSON.stringify(s.seen.at(-3)).slice(0, 300)})`,
			);
			flipper.kill('SIGKILL');
			await flipperExited;
			const texts = await finish(s);
			// the flipper changed the read-only root itself; everything else must be intact
			assertIntact(f, texts, { skipData: true });
			assert.ok(fs.existsSync(f.secretFile));
		} finally {
			flipper.kill('SIGKILL');
			s?.kill();
		}
	});
});
