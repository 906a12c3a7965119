// cluster_config.test.mjs - the "cluster" section from the command line,
// against a real redis-server (started here on a free loopback port in a
// temporary directory, with a password, and killed on exit): `moat check`
// prints the cluster with the password and key masked and says Redis
// answers; rediss://, credentials in the URL, a wrong password and a
// server.state_key differing from cluster.key are refused by check and
// serve alike, naming the rule and never printing a secret. A served
// replica (sandboxed) shows moat_store_up and moat_store_replicas in
// /metrics, goes down when Redis is killed and comes back by itself when
// Redis starts again on its port. A missing redis-server fails the test.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { makeTempDir, runMoat, sleep, spawnListener, writeConfig } from './helpers.mjs';
import { redisServer } from './redis_server.mjs';

const PASSWORD = 'e2e-redis-pw-73a9c1';
const KEY = '5c'.repeat(32);
const OTHER_KEY = 'a7'.repeat(32);
const dir = makeTempDir('moat-e2e-cluster-');
const ENV = { ...process.env, MOAT_REDIS_PASSWORD: PASSWORD, MOAT_CLUSTER_KEY: KEY, OTHER_KEY };

const redis = await redisServer({ dir, password: PASSWORD });
const { port, cli } = redis;
const startRedis = () => redis.start();
const stopRedis = () => redis.kill();

after(stopRedis);
await startRedis();

const section = (over = {}) => ({
	cluster: {
		redis: `redis://127.0.0.1:${port}/1`,
		password: '${MOAT_REDIS_PASSWORD}',
		key: '${MOAT_CLUSTER_KEY}',
		prefix: 'e2e',
		...over,
	},
	audit: false,
});

/** check and serve (stdin closed at once) on config; both results. */
function checkAndServe(config, name) {
	const p = writeConfig(dir, config, name);
	return [runMoat(['check', '--config', p], { env: ENV }), runMoat(['serve', '--config', p], { env: ENV })];
}

function assertNoSecret(text) {
	assert.ok(!text.includes(PASSWORD), 'the password is printed');
	assert.ok(!text.includes(KEY) && !text.includes(OTHER_KEY), 'a key is printed');
}

describe('cluster: moat check', () => {
	test('prints the cluster, secrets masked, and that Redis answers', () => {
		const r = runMoat(['check', '--config', writeConfig(dir, section(), 'ok.json')], { env: ENV });
		assert.equal(r.code, 0, r.stderr);
		assert.match(r.stdout, new RegExp(`^cluster: redis://127\\.0\\.0\\.1:${port}/1$`, 'm'));
		assert.match(r.stdout, /^ {2}prefix +e2e$/m);
		assert.match(r.stdout, /^ {2}pool +4 connections$/m);
		assert.match(r.stdout, /^ {2}password +\*\*\*\*$/m);
		assert.match(r.stdout, /^ {2}store +answers; 1 live replicas counted$/m);
		assert.match(r.stdout, new RegExp(`connect only to port ${port}`));
		assertNoSecret(r.stdout + r.stderr);
	});

	const refusals = [
		['rediss:// (no TLS in hiredis 0.14)', section({ redis: `rediss://127.0.0.1:${port}/1` }), /config\.cluster_tls/, /stunnel/],
		['a password in the URL', section({ redis: `redis://:\${MOAT_REDIS_PASSWORD}@127.0.0.1:${port}` }), /config\.cluster_url_credentials/, /cluster\.password as \$\{NAME\}/],
		['a wrong password', section({ password: '${OTHER_KEY}' }), /cluster\.auth/, /WRONGPASS/],
		['no password', section({ password: undefined }), /cluster\.auth/, /set cluster\.password/],
		['a server.state_key other than cluster.key', { ...section(), server: { state_key: '${OTHER_KEY}' } }, /config\.cluster_key_conflict/, /give the key once/],
		['a key that is not 32 bytes', section({ key: '${MOAT_REDIS_PASSWORD}' }), /config\.cluster_key/, /32 bytes/],
	];
	for (const [name, config, rule, hint] of refusals) {
		test(`refuses ${name}, check and serve alike`, () => {
			const [c, s] = checkAndServe(config, 'refused.json');
			assert.equal(c.code, 3, c.stderr);
			assert.equal(s.code, 3, s.stderr);
			const line = c.stderr.split('\n').find((l) => rule.test(l));
			assert.ok(line, `no line names the rule:\n${c.stderr}`);
			assert.match(line, /^moat: .*refused\.json: \/(cluster|server)/);
			assert.match(line, hint);
			assert.ok(s.stderr.includes(line), `serve says otherwise:\n${s.stderr}`);
			assertNoSecret(c.stdout + c.stderr + s.stderr);
		});
	}
});

describe('cluster: a served replica', () => {
	test('metrics show the store, down when Redis is killed, back when it returns', async () => {
		const p = writeConfig(dir, { ...section(), listen: { http: '127.0.0.1:0', metrics: '127.0.0.1:0' } }, 'serve.json');
		const l = await spawnListener(['serve', '--config', p], ENV);
		try {
			for (let i = 0; i < 50 && !/metrics on http/.test(l.stderr()); i++) await sleep(20);
			const murl = /metrics on (http:\/\/\S+)/.exec(l.stderr())[1];
			const metric = async (name) => {
				const text = await (await fetch(murl)).text();
				const m = new RegExp(`^${name} (\\d+)$`, 'm').exec(text);
				return m ? Number(m[1]) : null;
			};
			assert.equal(await metric('moat_store_up'), 1);
			assert.equal(await metric('moat_store_replicas'), 1);
			// Its heartbeat is in Redis under the prefix, with Redis's time.
			assert.match(cli('-n', '1', 'ZRANGE', 'e2e:replicas', '0', '-1') ?? '', /:\d+:[0-9a-f]{8}/);
			// The pool: four connections (and redis-cli's own).
			assert.equal((cli('CLIENT', 'LIST') ?? '').trim().split('\n').length, 5);

			await stopRedis();
			let up = 1;
			for (let i = 0; i < 40 && up !== 0; i++) {
				await sleep(100);
				up = await metric('moat_store_up');
			}
			assert.equal(up, 0, 'the store still counts as up 4 s after Redis died');
			assert.ok((await metric('moat_store_errors_total')) >= 1);

			await startRedis();
			for (let i = 0; i < 100 && up !== 1; i++) {
				await sleep(100);
				up = await metric('moat_store_up');
			}
			assert.equal(up, 1, 'the store did not come back within 10 s of Redis');
			assert.match(l.stderr(), /cluster: the store answers again/);
			assertNoSecret(l.stderr());
		} finally {
			l.proc.kill('SIGTERM');
			// Drained and gone with 0: the store's thread takes no signal.
			assert.deepEqual(await l.exited, { code: 0, signal: null }, l.stderr());
		}
	});
});
