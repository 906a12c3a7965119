// takeover.test.mjs - tools declared quick run on the thread that reads
// input; when one runs past 2 ms a standby thread takes the reading over.
// The testing tool `stall` is `slow` declared quick: it proves that ping,
// cancellation and other calls keep flowing while such a call blocks, that
// calls taken over run side by side, that the number of threads is bounded
// (past it, quick calls go to the workers) and that EOF and SIGTERM still
// end the server within a second whichever thread holds the reading.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
	LATEST_VERSION,
	RawSession,
	assertProtocolOnly,
	assertToolError,
	makeTempDir,
	resultText,
	sleep,
	testingConfig,
	withRaw,
	withTimeout,
	writeConfig,
} from './helpers.mjs';

const dir = makeTempDir('moat-e2e-takeover-');
const cfg = writeConfig(dir, testingConfig({ limits: { max_concurrent_calls: 64 } }));
// Two threads besides the first may read; the pool has two workers.
const few = writeConfig(dir, testingConfig({ limits: { max_concurrent_calls: 64, workers: 2 } }), 'few.json');

function call(s, id, name, args) {
	s.send({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } });
}

describe('takeover', { concurrency: true }, () => {
	test('a stalled quick call never blocks ping, other calls or its own cancellation', async () => {
		await withRaw(cfg, LATEST_VERSION, async (s) => {
			call(s, 'stall', 'stall', { ms: 5000 });
			await sleep(50);
			for (let i = 0; i < 3; i++) {
				const t0 = Date.now();
				await s.assertAlive();
				const took = Date.now() - t0;
				assert.ok(took < 200, `ping took ${took} ms while stall blocks its thread`);
			}
			const t0 = Date.now();
			assert.equal(resultText(await s.callTool('echo', { text: 'beside' })), 'beside');
			assert.equal(resultText(await s.callTool('slow', { ms: 10 })), 'done');
			assert.ok(Date.now() - t0 < 500, 'other calls run beside the stalled one');
			s.notify('notifications/cancelled', { requestId: 'stall' });
			await s.expectNone((m) => m.id === 'stall', 300, 'a response to the cancelled stall');
			// the thread that ran it is free again: a short stall answers
			assert.equal(resultText(await s.callTool('stall', { ms: 1 })), 'done');
		});
	});

	test('calls taken over run side by side, not one after another', async () => {
		await withRaw(cfg, LATEST_VERSION, async (s) => {
			const t0 = Date.now();
			for (const id of ['a', 'b', 'c', 'd']) call(s, id, 'stall', { ms: 400, steps: 4 });
			for (const id of ['a', 'b', 'c', 'd']) assert.equal(resultText((await s.response(id)).result), 'done');
			const took = Date.now() - t0;
			assert.ok(took < 1200, `four 400 ms stalls took ${took} ms (one after another: 1600)`);
		});
	});

	test('past the thread bound quick calls go to the workers, and all of them answer', async () => {
		await withRaw(few, LATEST_VERSION, async (s) => {
			const ids = Array.from({ length: 8 }, (_, i) => `s${i}`);
			for (const id of ids) call(s, id, 'stall', { ms: 150, steps: 3 });
			await s.assertAlive();
			for (const id of ids) assert.equal(resultText((await s.response(id)).result), 'done', id);
			// and the session still reads and answers
			assert.equal(resultText(await s.callTool('echo', { text: 'still here' })), 'still here');
		});
	});

	test('a stream of quick calls that never stall: every one answered exactly once', async () => {
		await withRaw(cfg, LATEST_VERSION, async (s) => {
			const ids = Array.from({ length: 300 }, (_, i) => i + 1);
			for (const id of ids) call(s, id, 'stall', { ms: 0 });
			for (const id of ids) assert.equal(resultText((await s.response(id)).result), 'done');
			const answered = s.messages.filter((m) => typeof m.id === 'number' && m.id <= 300).map((m) => m.id);
			assert.deepEqual(answered.sort((a, b) => a - b), ids);
		});
	});

	test('answers gathered in a burst are written when a later call of the burst stalls', async () => {
		await withRaw(cfg, LATEST_VERSION, async (s) => {
			// one write: an echo, then a stall; the echo's answer is held
			// while the reader works through the burst, and must not wait
			// for the stall to end
			const req = (id, name, args) =>
				JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } });
			const t0 = Date.now();
			s.proc.stdin.write(`${req('e', 'echo', { text: 'first' })}\n${req('st', 'stall', { ms: 3000 })}\n`);
			const e = await s.response('e');
			const took = Date.now() - t0;
			assert.equal(resultText(e.result), 'first');
			assert.ok(took < 500, `the echo's answer took ${took} ms behind a stalled call`);
			s.notify('notifications/cancelled', { requestId: 'st' });
		});
	});

	// EOF: the calls run to their end and answer; SIGTERM: 2 s more, then
	// they are cancelled and answer with that.
	for (const [how, ms, min, max, want] of [
		['EOF', 1200, 900, 2500, 'result'],
		['SIGTERM', 20000, 1800, 3500, /cancel/],
	]) {
		test(`${how} while stalled calls hold two threads: every call answered, exit 0`, async () => {
			const s = new RawSession(cfg);
			await s.initialize(LATEST_VERSION);
			call(s, 'x', 'stall', { ms });
			call(s, 'y', 'stall', { ms });
			await sleep(100);
			await s.assertAlive(); // a third thread reads now
			const t0 = Date.now();
			if (how === 'EOF') s.proc.stdin.end();
			else s.proc.kill('SIGTERM');
			const info = await withTimeout(s.exited, 6000, `exit after ${how}`).catch((e) => {
				s.kill();
				throw e;
			});
			assert.equal(info.code, 0, `exit code (signal ${info.signal}); stderr:\n${s.stderrText}`);
			const took = info.at - t0;
			assert.ok(took >= min && took < max, `exited ${took} ms after ${how} (want ${min}..${max})`);
			assertProtocolOnly(s.lines);
			for (const id of ['x', 'y']) {
				const r = s.messages.find((m) => m.id === id);
				assert.ok(r, `${id} answered`);
				if (want === 'result') assert.equal(r.result.isError, false, JSON.stringify(r));
				else assertToolError(r.result, want);
			}
		});
	}
});
