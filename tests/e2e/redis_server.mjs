// redis_server.mjs - a real redis-server for the e2e tests of the cluster
// store: on a free loopback port chosen once (so a test can kill it and
// start it again where the replicas expect it), in the test's directory,
// nothing saved, optionally with a password; killed at exit. A missing
// redis-server fails the test that starts it.
import net from 'node:net';
import { spawn, spawnSync } from 'node:child_process';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A TCP port nobody listens on now (127.0.0.1). */
export async function freePort() {
	return new Promise((resolve, reject) => {
		const s = net.createServer();
		s.on('error', reject);
		s.listen(0, '127.0.0.1', () => {
			const { port } = s.address();
			s.close(() => resolve(port));
		});
	});
}

/**
 * A redis-server on a free port in dir (not started): start() waits until
 * it answers PING, kill() stops it with SIGKILL (a no-op when it is not
 * running), cli(...args) runs redis-cli against it (database db when given)
 * and returns its stdout, or null when redis-cli failed.
 */
export async function redisServer({ dir, password = null, db = null }) {
	const port = await freePort();
	let proc = null;
	const auth = password ? ['-a', password, '--no-auth-warning'] : [];
	const sel = db === null ? [] : ['-n', String(db)];
	const cli = (...args) => {
		const r = spawnSync('redis-cli', ['-p', String(port), ...auth, ...sel, ...args], {
			encoding: 'utf8',
			timeout: 5000,
		});
		return r.status === 0 ? r.stdout : null;
	};
	const killAtExit = () => proc?.kill('SIGKILL');
	process.on('exit', killAtExit);
	return {
		port,
		cli,
		async start() {
			proc = spawn(
				'redis-server',
				['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir,
					...(password ? ['--requirepass', password] : [])],
				{ stdio: 'ignore' },
			);
			const failed = new Promise((_, reject) => proc.on('error', (e) => reject(new Error(`redis-server: ${e.message}`))));
			for (let i = 0; i < 100; i++) {
				if (cli('PING')?.trim() === 'PONG') return;
				await Promise.race([sleep(50), failed]);
			}
			throw new Error(`redis-server did not answer on port ${port}`);
		},
		async kill() {
			if (!proc) return;
			const gone = new Promise((r) => proc.on('close', r));
			proc.kill('SIGKILL');
			await gone;
			proc = null;
		},
	};
}
