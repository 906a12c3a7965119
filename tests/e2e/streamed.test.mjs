// streamed.test.mjs - results whose structuredContent a tool wrote as JSON
// text with the streaming writer (src/core/jsonw.c) and the server spliced
// into the answer unparsed (issue 17): the bytes on the wire, every
// revision, the stateless one, a batch, a large result, the official SDK
// client (which checks structuredContent against the outputSchema), and a
// document that breaks its own schema, which a test build refuses.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
	SUPPORTED_VERSIONS,
	makeTempDir,
	resultText,
	assertToolError,
	testingConfig,
	withClient,
	withRaw,
	writeConfig,
} from './helpers.mjs';

const dir = makeTempDir('moat-e2e-streamed-');
const cfg = writeConfig(dir, testingConfig({ testing: { enabled: true, streamed: true } }));

const rows = (n) => Array.from({ length: n }, (_, i) => [i, `row ${i}`]);
const wireText = (n) => JSON.stringify({ rows: rows(n), n });

describe('streamed structuredContent', { concurrency: true }, () => {
	for (const v of SUPPORTED_VERSIONS) {
		test(`protocol ${v}: the text and, from 2025-06-18, the exact structured bytes`, async () => {
			await withRaw(cfg, null, async (s) => {
				await s.initialize(v);
				const r = await s.callTool('stream_rows', { n: 3 });
				assert.equal(r.isError, false);
				assert.equal(resultText(r), '3 rows');
				if (v >= '2025-06-18') {
					assert.deepEqual(r.structuredContent, { rows: rows(3), n: 3 });
					const line = s.lines.find((l) => l.includes('"3 rows"'));
					assert.ok(line.includes(`"structuredContent":${wireText(3)},"isError":false`), line);
				} else {
					assert.equal(r.structuredContent, undefined, 'no structuredContent before 2025-06-18');
				}
			});
		});
	}

	test('2026-07-28: a stateless call carries the spliced document', async () => {
		await withRaw(cfg, null, async (s) => {
			const r = await s.stateless('tools/call', { name: 'stream_rows', arguments: { n: 2 } });
			assert.deepEqual(r.result.structuredContent, { rows: rows(2), n: 2 });
			assert.equal(r.result.resultType, 'complete');
		});
	});

	test('a 2025-03-26 batch: each call answered inside the array', async () => {
		await withRaw(cfg, null, async (s) => {
			await s.initialize('2025-03-26');
			s.send([
				{ jsonrpc: '2.0', id: 51, method: 'tools/call', params: { name: 'stream_rows', arguments: { n: 1 } } },
				{ jsonrpc: '2.0', id: 52, method: 'tools/call', params: { name: 'stream_rows', arguments: { n: 2 } } },
			]);
			const arr = await s.waitFor((m) => Array.isArray(m), undefined, 'the batch answer');
			assert.equal(arr.length, 2);
			assert.equal(resultText(arr.find((m) => m.id === 51).result), '1 rows');
			assert.equal(resultText(arr.find((m) => m.id === 52).result), '2 rows');
		});
	});

	test('20,000 rows: every row, byte for byte', async () => {
		await withRaw(cfg, null, async (s) => {
			await s.initialize('2025-11-25');
			const r = await s.callTool('stream_rows', { n: 20000 });
			assert.equal(r.structuredContent.rows.length, 20000);
			const line = s.lines.find((l) => l.includes('"20000 rows"'));
			assert.ok(line.includes(`"structuredContent":${wireText(20000)},`));
		});
	});

	test('a streamed document that breaks its outputSchema is refused in a test build', async () => {
		await withRaw(cfg, null, async (s) => {
			await s.initialize('2025-11-25');
			const r = await s.callTool('stream_bad', {});
			assertToolError(r, /streamed result does not match its outputSchema/, /\/n: type/);
			assert.equal(r.structuredContent, undefined);
			await s.assertAlive();
		});
	});

	test('the official SDK client accepts it against the listed outputSchema', async () => {
		await withClient(cfg, async (client) => {
			const { tools } = await client.listTools();
			assert.ok(tools.find((t) => t.name === 'stream_rows').outputSchema);
			const r = await client.callTool({ name: 'stream_rows', arguments: { n: 4 } });
			assert.deepEqual(r.structuredContent, { rows: rows(4), n: 4 });
		});
	});
});
