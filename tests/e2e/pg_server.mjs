// pg_server.mjs - a throw-away PostgreSQL server for the sql family's
// tests: initdb in a temporary directory, pg_ctl start on 127.0.0.1 and a
// free port (its Unix socket in the same directory), psql to load data,
// restart and stop. Other test runs may start servers on this machine at
// the same time: the directory is mkdtemp's (unique), and the port, which
// another process may take between freePort() closing it and the server
// binding it, is retried: a start that fails picks a fresh port (up to
// five times); a restart keeps its port (the URLs name it) and retries it
// for a few seconds. The binaries come from Debian's postgresql package
// (/usr/lib/postgresql/<version>/bin). initdb and postgres refuse to run
// as root, so when the tests run as root (CI containers) the server runs
// as `nobody` through runuser, in a directory handed to it.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';

export function pgBinDir() {
	const root = '/usr/lib/postgresql';
	if (!fs.existsSync(root)) return null;
	const versions = fs
		.readdirSync(root)
		.filter((v) => fs.existsSync(path.join(root, v, 'bin', 'initdb')))
		.sort((a, b) => Number(b) - Number(a));
	return versions.length ? path.join(root, versions[0], 'bin') : null;
}

async function freePort() {
	return new Promise((resolve, reject) => {
		const s = net.createServer();
		s.on('error', reject);
		s.listen(0, '127.0.0.1', () => {
			const { port } = s.address();
			s.close(() => resolve(port));
		});
	});
}

const asRoot = process.getuid?.() === 0;

function run(bin, args, { asServer = false, input } = {}) {
	const cmd = asServer && asRoot ? 'runuser' : bin;
	const argv = asServer && asRoot ? ['-u', 'nobody', '--', bin, ...args] : args;
	const r = spawnSync(cmd, argv, { encoding: 'utf8', input, timeout: 60000, cwd: '/' });
	if (r.status !== 0) throw new Error(`${path.basename(bin)} failed: ${r.stderr || r.stdout}`);
	return r.stdout;
}

export class PgServer {
	static async start() {
		const bin = pgBinDir();
		if (!bin) throw new Error('PostgreSQL server binaries not found under /usr/lib/postgresql');
		const s = new PgServer();
		s.bin = bin;
		s.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'moat-pg-'));
		s.data = path.join(s.dir, 'data');
		s.port = await freePort();
		if (asRoot) {
			const nobody = spawnSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).stdout.trim();
			const nogroup = spawnSync('id', ['-g', 'nobody'], { encoding: 'utf8' }).stdout.trim();
			fs.chownSync(s.dir, Number(nobody), Number(nogroup));
		}
		run(path.join(bin, 'initdb'), ['-D', s.data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8',
			'--locale=C', '--no-sync'], { asServer: true });
		for (let attempt = 1; ; attempt++) {
			try {
				s.startServer();
				break;
			} catch (e) {
				if (attempt >= 5) throw e;
				s.port = await freePort(); // taken meanwhile by someone else: another port
			}
		}
		return s;
	}

	startServer() {
		run(path.join(this.bin, 'pg_ctl'), ['-D', this.data, '-l', path.join(this.dir, 'log'), '-w', '-t', '30',
			'-o', `-c listen_addresses=127.0.0.1 -p ${this.port} -k ${this.dir} -c fsync=off`, 'start'],
			{ asServer: true });
	}

	restart() {
		run(path.join(this.bin, 'pg_ctl'), ['-D', this.data, '-m', 'fast', '-w', 'stop'], { asServer: true });
		for (let attempt = 1; ; attempt++) {
			try {
				this.startServer();
				return;
			} catch (e) {
				if (attempt >= 5) throw e;
				spawnSync('sleep', ['1']);
			}
		}
	}

	// psql as the superuser; returns stdout (unaligned, tuples only).
	psql(sql, db = 'postgres') {
		return run(path.join(this.bin, 'psql'), ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1',
			'-h', '127.0.0.1', '-p', String(this.port), '-U', 'postgres', '-d', db], { input: sql });
	}

	url(user, db = 'postgres') {
		return `postgresql://${user}@127.0.0.1:${this.port}/${db}`;
	}

	stop() {
		try {
			run(path.join(this.bin, 'pg_ctl'), ['-D', this.data, '-m', 'immediate', '-w', 'stop'], { asServer: true });
		} catch {
			// already stopped
		}
		fs.rmSync(this.dir, { recursive: true, force: true });
	}
}

// The scene of the sql tests: shop (allowed) with a view onto secret
// (not allowed); moat_ro may SELECT both, moat_rw may also change shop.note.
export const PG_SCHEMA = `
CREATE SCHEMA shop;
CREATE SCHEMA secret;
CREATE TABLE shop.author(id int PRIMARY KEY, name text NOT NULL UNIQUE);
CREATE TABLE shop.book(
  id int PRIMARY KEY,
  title text NOT NULL DEFAULT 'untitled',
  author_id int REFERENCES shop.author(id) ON DELETE CASCADE,
  price numeric(10,2),
  weight float8,
  cover bytea,
  tags jsonb,
  in_print boolean,
  big bigint,
  published date
);
CREATE INDEX book_author ON shop.book(author_id, title);
CREATE VIEW shop.cheap AS SELECT title FROM shop.book WHERE price < 10;
CREATE TABLE secret.keys(k text);
INSERT INTO secret.keys VALUES ('hunter2');
CREATE VIEW shop.leak AS SELECT k FROM secret.keys;
CREATE TABLE shop.note(id serial PRIMARY KEY, body text);
INSERT INTO shop.author VALUES (1, 'Le Guin'), (2, 'Borges');
INSERT INTO shop.book VALUES
  (1, 'Earthsea', 1, 9.50, 0.25, '\\x00ff10', '{"a":[1,2]}', true, 9007199254740993, '1968-01-01'),
  (2, 'Ficciones', 2, 12.25, NULL, NULL, NULL, false, NULL, NULL),
  (3, 'The Dispossessed', 1, NULL, NULL, '\\x', '[]', NULL, -1, NULL);
CREATE ROLE moat_ro LOGIN;
GRANT USAGE ON SCHEMA shop, secret TO moat_ro;
GRANT SELECT ON ALL TABLES IN SCHEMA shop, secret TO moat_ro;
CREATE ROLE moat_rw LOGIN;
GRANT USAGE ON SCHEMA shop TO moat_rw;
GRANT SELECT ON ALL TABLES IN SCHEMA shop TO moat_rw;
GRANT INSERT, UPDATE, DELETE ON shop.note TO moat_rw;
GRANT USAGE ON SEQUENCE shop.note_id_seq TO moat_rw;
`;
