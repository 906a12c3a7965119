// prompts_policy.test.mjs - prompts and completion under a principal's tool
// policy, over HTTP with static tokens. A prompt that embeds files is
// covered by read_text_file: a principal without it neither lists nor gets
// it (answered exactly as a prompt that does not exist), and the trail says
// why. Completing an argument from a family's values needs the family's
// listing tool (fs.paths: list_directory): without it, no values, so
// completion never lists a directory the principal could not. A resource
// template of a family the policy refuses is unknown to completion.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { makeTempDir, writeConfig } from '../e2e/helpers.mjs';
import { initialize, messageOf, post, startListener } from './http_fixture.mjs';

const ALICE = crypto.randomBytes(32).toString('hex');
const BOB = crypto.randomBytes(32).toString('hex');
const bearer = (t) => ({ Authorization: `Bearer ${t}` });

async function trailWhen(file, pred, ok) {
	const until = Date.now() + 2000;
	for (;;) {
		const recs = fs.existsSync(file)
			? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)).filter(pred)
			: [];
		if (ok(recs) || Date.now() > until) return recs;
		await new Promise((r) => setTimeout(r, 25));
	}
}

describe('prompts and completion under a tool policy', () => {
	let m, dir, files, trail, a, b;
	let id = 10;
	const rpc = async (who, method, params) =>
		messageOf(await post(m.port, { jsonrpc: '2.0', id: id++, method, params }, who.headers));

	before(async () => {
		dir = fs.realpathSync(makeTempDir('moat-prompts-policy-'));
		files = path.join(dir, 'files');
		fs.mkdirSync(path.join(files, 'private-plans'), { recursive: true });
		fs.writeFileSync(path.join(files, 'notes.txt'), 'notes\n');
		trail = path.join(dir, 'audit.jsonl');
		const cfg = writeConfig(dir, {
			roots: [files],
			audit: { file: trail },
			auth: {
				tokens: [
					{ name: 'alice', token: '${MOAT_TOKEN_ALICE}', tools: ['list_allowed_directories'] },
					{ name: 'bob', token: '${MOAT_TOKEN_BOB}', tools: ['*'] },
				],
			},
			prompts: {
				review: {
					description: 'embeds a file',
					arguments: [{ name: 'path', required: true, complete: 'fs.paths' }],
					messages: [{ role: 'user', resource: 'file://{path}' }],
				},
				plan: {
					description: 'text only',
					arguments: [{ name: 'dir', complete: 'fs.paths' }, { name: 'mood', complete: ['calm', 'curious'] }],
					messages: [{ role: 'user', text: 'Plan {dir} ({mood}).' }],
				},
			},
		});
		m = await startListener(cfg, { env: { MOAT_TOKEN_ALICE: ALICE, MOAT_TOKEN_BOB: BOB } });
		a = await initialize(m.port, bearer(ALICE));
		b = await initialize(m.port, bearer(BOB));
	});
	after(async () => {
		const e = await m?.stop();
		assert.deepEqual(e, { code: 0, signal: null });
	});

	test('a prompt covered by a tool the policy refuses is neither listed nor known', async () => {
		const al = await rpc(a, 'prompts/list', {});
		assert.deepEqual(al.result.prompts.map((p) => p.name), ['plan']);
		const bl = await rpc(b, 'prompts/list', {});
		assert.deepEqual(bl.result.prompts.map((p) => p.name), ['review', 'plan']);
		const hidden = await rpc(a, 'prompts/get', { name: 'review', arguments: { path: `${files}/notes.txt` } });
		const none = await rpc(a, 'prompts/get', { name: 'no_such', arguments: {} });
		assert.equal(hidden.error.code, -32602);
		assert.equal(hidden.error.message, none.error.message.replace('no_such', 'review'), 'answered as an unknown prompt');
		const ok = await rpc(b, 'prompts/get', { name: 'review', arguments: { path: `${files}/notes.txt` } });
		assert.equal(ok.result.messages[0].content.resource.text, 'notes\n');
		const recs = await trailWhen(trail, (r) => r.rule === 'policy.prompt_not_allowed', (rs) => rs.length >= 1);
		assert.equal(recs[0].principal, 'alice');
		assert.equal(recs[0].kind, 'security');
		const got = await trailWhen(trail, (r) => r.kind === 'prompt' && r.principal === 'bob', (rs) => rs.length >= 1);
		assert.equal(got[0].tool, 'review');
		assert.equal(got[0].outcome, 'ok');
		assert.equal(got[0].touched?.path, 'notes.txt');
	});

	test('completion lists directories only to a principal allowed list_directory', async () => {
		const ref = { type: 'ref/prompt', name: 'plan' };
		const ac = await rpc(a, 'completion/complete', { ref, argument: { name: 'dir', value: `${files}/` } });
		assert.deepEqual(ac.result.completion.values, [], 'alice may not list directories');
		const am = await rpc(a, 'completion/complete', { ref, argument: { name: 'mood', value: 'c' } });
		assert.deepEqual(am.result.completion.values, ['calm', 'curious'], 'declared values are the prompt\'s own');
		const bc = await rpc(b, 'completion/complete', { ref, argument: { name: 'dir', value: `${files}/` } });
		assert.deepEqual(bc.result.completion.values, [`${files}/notes.txt`, `${files}/private-plans/`]);
		const ar = await rpc(a, 'completion/complete', {
			ref: { type: 'ref/resource', uri: 'file:///{+path}' },
			argument: { name: 'path', value: files.slice(1) + '/' },
		});
		assert.equal(ar.error?.code, -32602, 'a template of a family the policy refuses is unknown');
		assert.doesNotMatch(JSON.stringify(ar), /private-plans/);
		const recs = await trailWhen(trail, (r) => r.rule === 'policy.completion_not_allowed', (rs) => rs.length >= 1);
		assert.equal(recs[0].principal, 'alice');
	});
});
