// protocol.test.mjs - strict JSON-RPC: malformed lines, wrong shapes, unknown
// methods and the message size/depth limits. A bad line never ends the
// session: after each one a ping still answers.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { LATEST_VERSION, makeTempDir, resultText, testingConfig, withRaw, writeConfig } from './helpers.mjs';

const MAX_BYTES = 2048;
const MAX_DEPTH = 8;
const dir = makeTempDir('moat-e2e-protocol-');
const cfg = writeConfig(
	dir,
	testingConfig({ limits: { max_message_bytes: MAX_BYTES, max_json_depth: MAX_DEPTH } }),
);

// Lines that are not valid (strict) JSON: -32700, with the id when a bounded
// scan of the top-level object can read one (the client's call completes),
// else null. The id column is added below.
const PARSE_ERRORS_TEXT = [
	['invalid JSON', '{"jsonrpc":"2.0","id":1,"method":"ping"'],
	['not JSON at all', 'hello moat'],
	['duplicate keys', '{"jsonrpc":"2.0","id":1,"id":2,"method":"ping"}'],
	['duplicate keys nested', '{"jsonrpc":"2.0","id":1,"method":"ping","params":{"a":1,"a":2}}'],
	[
		'invalid UTF-8 in a string',
		Buffer.concat([
			Buffer.from('{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":"'),
			Buffer.from([0xc3, 0x28, 0xff]),
			Buffer.from('"}}\n'),
		]),
	],
	['invalid UTF-8 lead bytes', Buffer.from([0xff, 0xfe, 0x7b, 0x7d, 0x0a])],
	['overlong UTF-8 encoding', Buffer.concat([Buffer.from('{"jsonrpc":"2.0","id":1,"method":"p'), Buffer.from([0xc0, 0xaf]), Buffer.from('"}\n')])],
	['NaN', '{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":NaN}}'],
	['Infinity', '{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":Infinity}}'],
	['trailing garbage', '{"jsonrpc":"2.0","id":1,"method":"ping"} x'],
	['two values on one line', '{"jsonrpc":"2.0","id":1,"method":"ping"}{"jsonrpc":"2.0","id":2,"method":"ping"}'],
	['single quotes', "{'jsonrpc':'2.0','id':1,'method':'ping'}"],
	['a trailing comma', '{"jsonrpc":"2.0","id":1,"method":"ping",}'],
];
// No id can be read: not an object, two ids, or the scan stops before it.
const NO_ID = new Set(['not JSON at all', 'duplicate keys', 'invalid UTF-8 lead bytes', 'single quotes']);
const PARSE_ERRORS = PARSE_ERRORS_TEXT.map(([what, line]) => [what, line, NO_ID.has(what) ? null : 1]);

// Valid JSON in the wrong shape: -32600 (id echoed when it is usable).
const INVALID_REQUESTS = [
	['missing jsonrpc', { id: 21, method: 'ping' }, 21],
	['jsonrpc "1.0"', { jsonrpc: '1.0', id: 22, method: 'ping' }, 22],
	['jsonrpc as a number', { jsonrpc: 2.0, id: 23, method: 'ping' }, 23],
	['id as an object', { jsonrpc: '2.0', id: { a: 1 }, method: 'ping' }, null],
	['id as a float', { jsonrpc: '2.0', id: 1.5, method: 'ping' }, null],
	['id as an array', { jsonrpc: '2.0', id: [1], method: 'ping' }, null],
	['id as a boolean', { jsonrpc: '2.0', id: true, method: 'ping' }, null],
	['params as an array', { jsonrpc: '2.0', id: 24, method: 'ping', params: [1, 2] }, 24],
	['params as a string', { jsonrpc: '2.0', id: 25, method: 'ping', params: 'x' }, 25],
	['method as a number', { jsonrpc: '2.0', id: 26, method: 5 }, 26],
	['method empty', { jsonrpc: '2.0', id: 27, method: '' }, 27],
	['no method, no result', { jsonrpc: '2.0', id: 28 }, 28],
	['a bare number', 42, null],
	['a bare string', 'ping', null],
	['null', null, null],
];

describe('malformed input keeps the session alive', { concurrency: true }, () => {
	test('parse errors are -32700, with the id when it can be read', async () => {
		await withRaw(cfg, LATEST_VERSION, async (s) => {
			for (const [what, line, id] of PARSE_ERRORS) {
				s.send(line);
				const err = await s.errorFor(id);
				assert.equal(err.error.code, -32700, `${what}: ${JSON.stringify(err)}`);
				assert.match(err.error.message, /^parse error/, what);
				await s.assertAlive();
			}
			// nothing answered the malformed lines with a real id
			await s.expectNone(() => true, 50, 'an extra message');
		});
	});

	test('a NUL byte (valid JSON) is refused by the rule that applies, with the id', async () => {
		await withRaw(cfg, LATEST_VERSION, async (s) => {
			s.send('{"jsonrpc":"2.0","id":"n1","method":"ping","params":{"x":"a\\u0000b"}}');
			let r = await s.errorFor('n1');
			assert.equal(r.error.code, -32602);
			assert.match(r.error.message, /\/params\/x: contains a NUL byte/);
			s.send('{"jsonrpc":"2.0","id":"n2","method":"tools/call","params":{"name":"echo\\u0000x","arguments":{}}}');
			r = await s.errorFor('n2');
			assert.match(r.error.message, /\/params\/name: contains a NUL byte/);
			s.send('{"jsonrpc":"2.0","id":"n3","method":"ping\\u0000"}');
			r = await s.errorFor('n3');
			assert.equal(r.error.code, -32600);
			s.send('{"jsonrpc":"2.0","id":"n4","method":"tools/call","params":{"name":"echo","arguments":{"text":"SECRET\\u0000x"}}}');
			r = await s.response('n4');
			assert.equal(r.result.isError, true);
			assert.match(resultText(r.result), /invalid arguments: \/text: contains a NUL byte/);
			assert.doesNotMatch(resultText(r.result), /SECRET/);
			await s.assertAlive();
		});
	});

	test('parse errors name the rule they broke, never the input', async () => {
		await withRaw(cfg, LATEST_VERSION, async (s) => {
			const cases = [
				['{"jsonrpc":"2.0","id":1,"id":1,"method":"SECRET-LINE-1"}', /duplicate/],
				['{"jsonrpc":"2.0","id":1,"method":"SECRET-LINE-2"} trailing', /trailing/],
				['{"jsonrpc":"2.0","id":1,"method":"SECRET-LINE-3","params":{"x\\u0000":1}}', /\\u0000/],
			];
			for (const [line, rule] of cases) {
				s.send(line);
				const err = await s.errorFor(line.includes('"id":1,"id":1') ? null : 1);
				assert.match(err.error.message, rule);
				assert.doesNotMatch(err.error.message, /SECRET-LINE/, 'the error does not quote input');
			}
			await s.assertAlive();
		});
	});

	test('wrong shapes are -32600', async () => {
		await withRaw(cfg, LATEST_VERSION, async (s) => {
			for (const [what, msg, id] of INVALID_REQUESTS) {
				s.send(JSON.stringify(msg));
				const err = await s.waitFor(
					(m) => !Array.isArray(m) && 'error' in m && m.id === id,
					undefined,
					`the error for ${what}`,
				);
				assert.equal(err.error.code, -32600, `${what}: ${JSON.stringify(err)}`);
				assert.match(err.error.message, /^invalid request/, what);
				await s.assertAlive();
			}
		});
	});

	test('an unknown method is -32601 and a response from the client is ignored', async () => {
		await withRaw(cfg, LATEST_VERSION, async (s) => {
			const r = await s.request('no/such/method', {});
			assert.equal(r.error?.code, -32601);
			assert.match(r.error.message, /no\/such\/method/);
			const r2 = await s.request('resources/list', {});
			assert.equal(r2.error?.code, -32601, 'resources are not served yet');
			// unknown notifications and stray responses get no answer
			s.notify('notifications/whatever', {});
			s.send({ jsonrpc: '2.0', id: 'stray', result: {} });
			s.send({ jsonrpc: '2.0', id: 'stray-err', error: { code: -1, message: 'x' } });
			await s.assertAlive();
			await s.expectNone(() => true, 100, 'an answer to a notification or a response');
		});
	});

	test('ids: strings and integers are echoed exactly, including 0 and negatives', async () => {
		await withRaw(cfg, LATEST_VERSION, async (s) => {
			for (const id of [0, -1, 2 ** 40, 'abc', '', 'ü-ñ 🙂']) {
				const r = await s.request('ping', undefined, { id });
				assert.deepEqual(r.result, {}, `id ${JSON.stringify(id)}`);
				assert.strictEqual(r.id, id);
			}
		});
	});

	test('CRLF line endings, blank lines and several messages in one write work', async () => {
		await withRaw(cfg, LATEST_VERSION, async (s) => {
			s.send(
				'\n\r\n{"jsonrpc":"2.0","id":"a","method":"ping"}\r\n\n' +
					'{"jsonrpc":"2.0","id":"b","method":"tools/call","params":{"name":"echo","arguments":{"text":"x"}}}\n',
			);
			assert.deepEqual((await s.response('a')).result, {});
			assert.equal(resultText((await s.response('b')).result), 'x');
			await s.expectNone((m) => 'error' in m, 50, 'an error for a blank line');
		});
	});

	test('a message split across writes is reassembled', async () => {
		await withRaw(cfg, LATEST_VERSION, async (s) => {
			const line = '{"jsonrpc":"2.0","id":"split","method":"tools/call","params":{"name":"echo","arguments":{"text":"joined"}}}\n';
			for (let i = 0; i < line.length; i += 17) {
				s.send(Buffer.from(line.slice(i, i + 17)));
				await new Promise((r) => setTimeout(r, 2));
			}
			const r = await s.response('split');
			assert.equal(resultText(r.result), 'joined');
		});
	});
});

describe('limits.max_message_bytes and limits.max_json_depth', { concurrency: true }, () => {
	const bigLine = (n, id = 1) => {
		const head = `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"method":"ping","params":{"pad":"`;
		const tail = '"}}';
		return head + 'p'.repeat(n - head.length - tail.length) + tail;
	};

	test('a message at the limit is accepted; one byte over is -32700 naming the limit', async () => {
		await withRaw(cfg, LATEST_VERSION, async (s) => {
			const ok = bigLine(MAX_BYTES, 'at-limit');
			assert.equal(Buffer.byteLength(ok), MAX_BYTES);
			s.send(ok);
			assert.deepEqual((await s.response('at-limit')).result, {});
			s.send(bigLine(MAX_BYTES, 'at-limit-crlf') + '\r\n'); // the CR is framing, not content
			assert.deepEqual((await s.response('at-limit-crlf')).result, {});

			s.send(bigLine(MAX_BYTES + 1, 'over'));
			const err = await s.errorFor('over');
			assert.equal(err.error.code, -32700);
			assert.match(err.error.message, /limits\.max_message_bytes/);
			assert.match(err.error.message, new RegExp(String(MAX_BYTES)));
			await s.expectNone((m) => m.id === 'over', 50, 'a second answer to the oversized request');
			// the next message still works
			const next = await s.callTool('echo', { text: 'after the big one' });
			assert.equal(resultText(next), 'after the big one');
		});
	});

	test('a huge message in several writes gets exactly one error and the next line works', async () => {
		await withRaw(cfg, LATEST_VERSION, async (s) => {
			const line = bigLine(MAX_BYTES * 40, 'huge') + '\n';
			const chunk = 1500;
			for (let i = 0; i < line.length; i += chunk) {
				s.send(Buffer.from(line.slice(i, i + chunk)));
				if (i % (chunk * 8) === 0) await new Promise((r) => setTimeout(r, 5));
			}
			s.send({ jsonrpc: '2.0', id: 'after', method: 'ping' });
			assert.deepEqual((await s.response('after')).result, {});
			const errs = s.messages.filter((m) => m.error);
			assert.equal(errs.length, 1, `exactly one error for one oversized line: ${JSON.stringify(errs)}`);
			assert.equal(errs[0].id, 'huge', 'the error carries the id read from the start of the line');
			assert.equal(errs[0].error.code, -32700);
			assert.match(errs[0].error.message, /limits\.max_message_bytes/);
		});
	});

	test('nesting deeper than the limit is refused naming limits.max_json_depth', async () => {
		await withRaw(cfg, LATEST_VERSION, async (s) => {
			const nest = (d) => (d === 0 ? '1' : `{"a":${nest(d - 1)}}`);
			// the envelope and params are 2 levels; params.a... adds the rest
			s.send(`{"jsonrpc":"2.0","id":"deep-ok","method":"ping","params":{"a":${nest(MAX_DEPTH - 2)}}}`);
			assert.deepEqual((await s.response('deep-ok')).result, {}, 'exactly at the limit is fine');

			s.send(`{"jsonrpc":"2.0","id":"deep","method":"ping","params":{"a":${nest(MAX_DEPTH - 1)}}}`);
			const err = await s.errorFor('deep');
			assert.ok([-32700, -32600].includes(err.error.code), JSON.stringify(err));
			assert.match(err.error.message, /limits\.max_json_depth/);
			assert.match(err.error.message, new RegExp(`\\b${MAX_DEPTH}\\b`));
			await s.expectNone((m) => m.id === 'deep', 50, 'a second answer to the deep request');
			// the id after the deep part is read too
			s.send(`{"jsonrpc":"2.0","method":"ping","params":{"a":${nest(MAX_DEPTH + 5)}},"id":"deep-after"}`);
			assert.match((await s.errorFor('deep-after')).error.message, /limits\.max_json_depth/);

			s.send('['.repeat(MAX_BYTES - 10)); // within the size limit, far too deep
			const err2 = await s.nullIdError();
			assert.match(err2.error.message, /limits\.max_json_depth/);
			await s.assertAlive();
		});
	});

	test('brackets inside strings do not count towards the depth', async () => {
		await withRaw(cfg, LATEST_VERSION, async (s) => {
			const text = '[[[[{{{{[[[[{{{{ \\" [[[[[[[[';
			s.send(
				`{"jsonrpc":"2.0","id":"str","method":"tools/call","params":{"name":"echo","arguments":{"text":"${text}"}}}`,
			);
			const r = await s.response('str');
			assert.equal(r.result?.isError, false, JSON.stringify(r));
			assert.equal(resultText(r.result), JSON.parse(`"${text}"`));
		});
	});
});

describe('error messages that quote client input stay valid JSON-RPC', { concurrency: true }, () => {
	// Regression: a name cut at 64 bytes used to split a multi-byte UTF-8
	// character, so json_pack() failed and moat answered {"jsonrpc":"2.0","id":N}
	// with neither result nor error.
	const name = 'a'.repeat(63) + 'é'; // 'é' is bytes 64-65: cut after byte 64

	test('an unknown tool name cut at a UTF-8 boundary still gets a -32602 error', async () => {
		await withRaw(cfg, LATEST_VERSION, async (s) => {
			const r = await s.request('tools/call', { name, arguments: {} });
			assert.equal(r.error?.code, -32602, `not a JSON-RPC error response: ${JSON.stringify(r)}`);
			assert.match(r.error.message, /unknown tool/);
		});
	});

	test('an unknown method name cut at a UTF-8 boundary still gets a -32601 error', async () => {
		await withRaw(cfg, LATEST_VERSION, async (s) => {
			const r = await s.request(name, {});
			assert.equal(r.error?.code, -32601, `not a JSON-RPC error response: ${JSON.stringify(r)}`);
		});
	});

	test('short non-ASCII names are quoted back intact', async () => {
		await withRaw(cfg, LATEST_VERSION, async (s) => {
			const r = await s.request('tools/call', { name: 'wérkzeug-ü', arguments: {} });
			assert.equal(r.error?.code, -32602);
			assert.match(r.error.message, /wérkzeug-ü/);
			const long = await s.request('tools/call', { name: 'é'.repeat(40), arguments: {} });
			assert.equal(long.error?.code, -32602, 'a cut on a character boundary is fine');
		});
	});
});

describe('many requests at once', () => {
	const busy = writeConfig(
		dir,
		testingConfig({ limits: { max_concurrent_calls: 1024, workers: 8, calls_per_minute: 0, tool_calls_per_minute: 0 } }),
		'busy.json',
	);

	test('200 pipelined requests with progress in between: every id answered once, whole lines only', async () => {
		await withRaw(busy, LATEST_VERSION, async (s) => {
			const lines = [];
			const expected = new Map();
			for (let i = 0; i < 200; i++) {
				const id = `m${i}`;
				let msg;
				if (i % 10 === 0) {
					msg = { jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'slow', arguments: { ms: 30, steps: 30 }, _meta: { progressToken: id } } };
					expected.set(id, 'done');
				} else if (i % 3 === 0) {
					msg = { jsonrpc: '2.0', id, method: 'ping' };
					expected.set(id, null);
				} else {
					const text = `${id}:` + 'z'.repeat(i * 7);
					msg = { jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo', arguments: { text } } };
					expected.set(id, text);
				}
				lines.push(JSON.stringify(msg));
			}
			s.send(lines.join('\n') + '\n');
			for (const [id, text] of expected) {
				const r = await s.response(id, 10000);
				if (text === null) assert.deepEqual(r.result, {});
				else assert.equal(resultText(r.result), text, id);
			}
			await s.assertAlive();
			const ids = s.messages.filter((m) => 'id' in m && !('method' in m)).map((m) => m.id);
			assert.equal(new Set(ids).size, ids.length, 'no id is answered twice');
			const progress = s.messages.filter((m) => m.method === 'notifications/progress');
			assert.equal(progress.length, 20 * 30, 'every progress notification arrives');
		});
	});
});

describe('request ids', { concurrency: true }, () => {
	test('a tools/call with an over-long id is refused with -32600, not dropped', async () => {
		await withRaw(cfg, LATEST_VERSION, async (s) => {
			const id = 'i'.repeat(300);
			const r = await s.request('tools/call', { name: 'echo', arguments: { text: 'x' } }, { id });
			assert.equal(r.error?.code, -32600);
			assert.equal((await s.request('ping', undefined, { id })).id, id, 'ping echoes any id');
		});
	});
});
