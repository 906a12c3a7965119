// resource_limits.test.mjs - resources/read and resources/list do work, so
// they take the same limits as a tool call: the calls-per-minute bucket,
// limits.max_concurrent_calls (and so the worker queue) and
// limits.max_output_bytes. Refusals are -32000 with data.rule, the server
// keeps serving, and each request is audited.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { LATEST_VERSION, makeTempDir, withRaw, writeConfig } from './helpers.mjs';

function fixture(limits) {
	const dir = fs.realpathSync(makeTempDir('moat-e2e-rlim-'));
	const root = path.join(dir, 'root');
	fs.mkdirSync(root);
	fs.writeFileSync(path.join(root, 'small.txt'), 'small\n');
	fs.writeFileSync(path.join(root, 'big.txt'), 'x'.repeat(273820));
	const cfg = writeConfig(dir, { roots: [root], limits, audit: { file: path.join(dir, 'audit.jsonl') } });
	return { dir, root, cfg, audit: path.join(dir, 'audit.jsonl') };
}

const readAudit = (f) =>
	fs.existsSync(f) ? fs.readFileSync(f, 'utf8').trimEnd().split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];

describe('resource requests take the call limits', { concurrency: true }, () => {
	test('300 reads under calls_per_minute 5: five answered, the rest refused naming the limit', async () => {
		const f = fixture({ calls_per_minute: 5 });
		await withRaw(f.cfg, LATEST_VERSION, async (s) => {
			for (let i = 0; i < 300; i++)
				s.send({ jsonrpc: '2.0', id: `r${i}`, method: 'resources/read', params: { uri: `file://${f.root}/small.txt` } });
			const answers = [];
			for (let i = 0; i < 300; i++) answers.push(await s.response(`r${i}`));
			const ok = answers.filter((a) => a.result);
			const refused = answers.filter((a) => a.error);
			assert.ok(ok.length >= 1 && ok.length <= 6, `answered ${ok.length} of 300 under a budget of 5 a minute`);
			assert.equal(ok.length + refused.length, 300, 'every request got an answer with its id');
			for (const r of refused) {
				assert.equal(r.error.code, -32000);
				assert.match(r.error.message, /limits\.calls_per_minute \(5\)/);
				assert.equal(r.error.data?.rule, 'limits.rate');
			}
			// listing takes the same bucket
			const l = await s.request('resources/list', {});
			assert.equal(l.error?.code, -32000);
		});
		const recs = readAudit(f.audit).filter((r) => r.kind === 'resource');
		assert.equal(recs.length, 301, 'each resource request audited');
		assert.ok(recs.filter((r) => r.rule === 'limits.rate').length >= 294);
	});

	test('a 273,820-byte resource under max_output_bytes 10,000 is refused, the next read works', async () => {
		const f = fixture({ max_output_bytes: 10000 });
		await withRaw(f.cfg, LATEST_VERSION, async (s) => {
			const big = await s.request('resources/read', { uri: `file://${f.root}/big.txt` });
			assert.equal(big.error?.code, -32000, JSON.stringify(big).slice(0, 300));
			assert.match(big.error.message, /limits\.max_output_bytes \(10000\)/);
			assert.equal(big.error.data?.rule, 'limits.output');
			const small = await s.request('resources/read', { uri: `file://${f.root}/small.txt` });
			assert.equal(small.result.contents[0].text, 'small\n');
		});
	});

	test('reads beyond max_concurrent_calls are refused, not queued without bound', async () => {
		const f = fixture({ max_concurrent_calls: 2, workers: 1 });
		await withRaw(f.cfg, LATEST_VERSION, async (s) => {
			const n = 200;
			const lines = [];
			for (let i = 0; i < n; i++)
				lines.push(JSON.stringify({ jsonrpc: '2.0', id: `c${i}`, method: 'resources/read', params: { uri: `file://${f.root}/big.txt` } }));
			s.send(lines.join('\n')); // one write: all arrive while the first still run
			const answers = [];
			for (let i = 0; i < n; i++) answers.push(await s.response(`c${i}`));
			const busy = answers.filter((a) => a.error?.data?.rule === 'limits.concurrency');
			const ok = answers.filter((a) => a.result);
			assert.equal(ok.length + busy.length, n, JSON.stringify(answers.find((a) => !a.result && a.error?.data?.rule !== 'limits.concurrency')));
			assert.ok(ok.length >= 2, `some reads ran (${ok.length})`);
			for (const b of busy) assert.match(b.error.message, /limits\.max_concurrent_calls \(2\)/);
			await s.assertAlive();
		});
	});
});
