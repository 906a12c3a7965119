// readyz_store.test.mjs - GET /readyz follows the shared store (issue 14,
// part 2): a replica with a "cluster" section is ready while Redis answers,
// answers 503 {"status":"store_unavailable"} with Retry-After soon after
// Redis dies (while /healthz stays 200: liveness never depends on the
// store), and is ready again by itself when Redis returns on its port.
// Against a real redis-server started here on a free loopback port in a
// temporary directory, with a password, killed on exit; a missing
// redis-server fails the test. Then SIGTERM still drains and exits 0.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { makeTempDir, sleep, spawnListener, testingConfig, writeConfig } from './helpers.mjs';
import { request } from '../attack/http_fixture.mjs';
import { redisServer } from './redis_server.mjs';

const PASSWORD = 'e2e-readyz-pw-41d0';
const KEY = '3e'.repeat(32);
const dir = makeTempDir('moat-e2e-readyz-');
const ENV = { ...process.env, MOAT_REDIS_PASSWORD: PASSWORD, MOAT_CLUSTER_KEY: KEY };

const redis = await redisServer({ dir, password: PASSWORD });
const startRedis = () => redis.start();
const stopRedis = () => redis.kill();

after(stopRedis);

const probe = (port, path) => request({ port, method: 'GET', path, headers: { Host: `127.0.0.1:${port}` }, timeoutMs: 3000 });

/** Poll path on port until its status is want (or ms pass); the last answer. */
async function until(port, path, want, ms) {
	const t0 = Date.now();
	let r;
	do {
		r = await probe(port, path);
		if (r.status === want) break;
		await sleep(100);
	} while (Date.now() - t0 < ms);
	return r;
}

describe('GET /readyz and the cluster store', () => {
	test('ready while Redis answers, 503 store_unavailable while it does not, ready again when it returns', async () => {
		await startRedis();
		const cfg = writeConfig(
			dir,
			testingConfig({
				audit: false,
				cluster: { redis: `redis://127.0.0.1:${redis.port}/2`, password: '${MOAT_REDIS_PASSWORD}', key: '${MOAT_CLUSTER_KEY}', prefix: 'readyz' },
				listen: { http: '127.0.0.1:0', metrics: '127.0.0.1:0', drain_s: 2 },
			}),
		);
		const l = await spawnListener(['serve', '--config', cfg], ENV);
		const mp = Number(/metrics on http:\/\/127\.0\.0\.1:(\d+)\/metrics/.exec(l.stderr())[1]);
		const port = Number(l.hostport.split(':')[1]);
		try {
			let r = await until(mp, '/readyz', 200, 5000);
			assert.equal(r.status, 200, `not ready with Redis up: ${r.body}`);
			assert.deepEqual(JSON.parse(r.body), { status: 'ready' });
			assert.equal((await probe(port, '/readyz')).status, 200, 'the MCP port says the same');

			await stopRedis();
			r = await until(mp, '/readyz', 503, 10000);
			assert.equal(r.status, 503, `still ${r.status} 10 s after Redis died`);
			assert.deepEqual(JSON.parse(r.body), { status: 'store_unavailable' });
			assert.ok(Number(r.headers['retry-after']) > 0);
			assert.equal((await probe(mp, '/healthz')).status, 200, 'alive without the store');
			assert.equal((await probe(port, '/readyz')).status, 503);

			await startRedis();
			r = await until(mp, '/readyz', 200, 15000);
			assert.equal(r.status, 200, `not ready 15 s after Redis returned: ${r.body}`);
		} finally {
			l.proc.kill('SIGTERM');
			assert.deepEqual(await l.exited, { code: 0, signal: null }, l.stderr());
		}
		assert.doesNotMatch(l.stderr(), new RegExp(PASSWORD), 'the password never reaches stderr');
	});
});
