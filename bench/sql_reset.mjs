// sql_reset.mjs - the server-side CPU cost of DISCARD ALL per moat call, measured as CPU
// time rather than throughput (the machine is shared and loaded, wall
// times swing 3x): pgbench runs N transactions of one script over one
// connection; the backend's CPU time is read from the postmaster's
// cutime+cstime (it reaps the backend when pgbench disconnects).
// Script a: moat's two pipelines per call as before; b: the same with
// DISCARD ALL at the end of the second (as now). Alternated ROUNDS times.
// usage: node bench/sql_reset.mjs [ROUNDS [N]]   (default 5 rounds of 5000)
// Needs PostgreSQL under /usr/lib/postgresql (pgbench with it); prints the
// per-run figures and their medians.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PgServer, pgBinDir } from '../tests/e2e/pg_server.mjs';

const rounds = Number(process.argv[2] || 5), n = Number(process.argv[3] || 5000);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'moat-sql-reset-'));
const pg = await PgServer.start();
const tick = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim());
try {
	pg.psql(`ALTER SYSTEM SET autovacuum = off; SELECT pg_reload_conf(); CREATE TABLE bench(id int PRIMARY KEY, t text); INSERT INTO bench SELECT g, 'row ' || g FROM generate_series(1, 1000) g; ANALYZE bench;`);
	const pm = Number(fs.readFileSync(path.join(pg.data, 'postmaster.pid'), 'utf8').split('\n')[0]);
	const cpu = () => { const f = fs.readFileSync(`/proc/${pm}/stat`, 'utf8').split(') ')[1].split(' '); return (Number(f[13]) + Number(f[14])) / tick; };
	const q = 'SELECT * FROM bench ORDER BY id LIMIT 10;';
	const base = `\\startpipeline\nDEALLOCATE ALL;\nBEGIN READ ONLY;\nSET LOCAL statement_timeout = 5000;\nSET LOCAL search_path = public;\nEXPLAIN (VERBOSE, FORMAT JSON) ${q}\n\\endpipeline\n\\startpipeline\n${q}\nROLLBACK;\n`;
	fs.writeFileSync(`${tmp}/a.sql`, base + '\\endpipeline\n');
	fs.writeFileSync(`${tmp}/b.sql`, base + 'DISCARD ALL;\n\\endpipeline\n');
	const res = { a: [], b: [] };
	for (let i = 0; i < rounds; i++)
		for (const k of ['a', 'b']) {
			const c0 = cpu();
			const r = spawnSync(path.join(pgBinDir(), 'pgbench'), ['-n', '-M', 'extended', '-c', '1', '-t', String(n), '-f', `${tmp}/${k}.sql`,
				'-h', '127.0.0.1', '-p', String(pg.port), '-U', 'postgres', 'postgres'], { encoding: 'utf8' });
			if (r.status !== 0) throw new Error(r.stdout + r.stderr);
			spawnSync('sleep', ['0.3']); // the postmaster reaps the backend
			res[k].push(((cpu() - c0) / n) * 1e6);
		}
	const med = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
	console.log(`server CPU per call, us (${n} calls per run):`);
	console.log('  without DISCARD ALL:', res.a.map((x) => x.toFixed(1)).join(' '), 'median', med(res.a).toFixed(1));
	console.log('  with    DISCARD ALL:', res.b.map((x) => x.toFixed(1)).join(' '), 'median', med(res.b).toFixed(1));
} finally {
	pg.stop();
	fs.rmSync(tmp, { recursive: true, force: true });
}
