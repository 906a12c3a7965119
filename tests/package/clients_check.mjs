// clients_check.mjs - checks every client entry of docs/clients.md and the
// repository's server.json against a real moat.
//
//   node tests/package/clients_check.mjs MOAT_BIN REPO_ROOT
//
// Prints one line per case, "ok   NAME" or "FAIL NAME: why", which
// tests/package/clients.test.sh counts. What is checked:
//   - every ```json and ```yaml block of docs/clients.md parses;
//   - the config blocks: the stdio one passes `moat check`, the HTTP one is
//     what the HTTP entries connect to, started by the page's own
//     `moat serve` line;
//   - every stdio entry (mcpServers / servers with a command, the command
//     after `--` of `claude mcp add` and of the Inspector) is started exactly
//     as written by the SDK client, with the binary under test for `moat` and
//     temp files for the /abs/path placeholders; `docker run` and `wsl`
//     entries run what the container or WSL would run;
//   - every HTTP entry connects with its URL and headers (token placeholders
//     filled in), and fails without them;
//   - container entries (docker run, ToolHive, Docker MCP Gateway, server.json)
//     name ghcr.io/moat-mcp/moat:VERSION with VERSION from meson.build, mount
//     /etc/moat read-only, and their arguments are run by the local binary
//     with the mounts applied as path substitutions;
//   - server.json: the registry's rules (server_json_check.mjs), version =
//     meson.build, name / repository / image agree on the owner;
//   - each section has the entries it should (a deleted block fails), and
//     four controls show a wrong entry does fail.
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import {
	fencedBlocks, shellCommands, parseDockerRun, parseThvRun, parseClaudeAdd, parseInspector,
	parseVolume, applyMounts, stdioSession, httpSession, withTimeout, SESSION_MS,
} from './clients_lib.mjs';
import { ruleErrors, resolveArgs } from './server_json_check.mjs';

const [BIN, ROOT] = process.argv.slice(2).map((p) => path.resolve(p));
let failed = 0;
const ok = (n) => console.log(`ok   ${n}`);
const bad = (n, why) => {
	failed++;
	console.log(`FAIL ${n}: ${String(why).replace(/\s+/g, ' ').slice(0, 600)}`);
};
async function check(name, fn) {
	try {
		await fn();
		ok(name);
	} catch (e) {
		bad(name, e.message);
	}
}
const expect = (c, msg) => {
	if (!c) throw new Error(msg);
};

// ---- the files under test and the stand-ins for the placeholders -------------

const VERSION = /^\s*version:\s*'([^']+)'/m.exec(fs.readFileSync(path.join(ROOT, 'meson.build'), 'utf8'))?.[1];
const IMAGE = `ghcr.io/moat-mcp/moat:${VERSION}`;
const md = fs.readFileSync(path.join(ROOT, 'docs/clients.md'), 'utf8');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'moat-clients-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));
const DATA = path.join(tmp, 'projects');
const CONF_DIR = path.join(tmp, 'moat-config');
fs.mkdirSync(DATA);
fs.mkdirSync(CONF_DIR);
fs.writeFileSync(path.join(DATA, 'hello.txt'), 'hello\n');
const HOST_CONFIG = path.join(tmp, 'moat.json');
const HTTP_CONFIG = path.join(tmp, 'moat-http.json');
const PLACES = [
	['/abs/path/moat-config', CONF_DIR],
	['/abs/path/moat-http.json', HTTP_CONFIG],
	['/abs/path/moat.json', HOST_CONFIG],
	['/abs/path/projects', DATA],
];
const TOKEN = crypto.randomBytes(32).toString('hex');
// moat's audit trail and anything else it keeps go under tmp, not $HOME.
const ENV = { HOME: tmp, XDG_STATE_HOME: path.join(tmp, 'state') };

/** A string with every /abs/path placeholder replaced; an unknown one throws. */
function fill(s) {
	let out = s;
	for (const [k, v] of PLACES) out = out.split(k).join(v);
	if (out.includes('/abs/path')) throw new Error(`unknown placeholder in ${s}`);
	return out;
}
/** A token placeholder of any client's spelling replaced by the real token. */
const fillToken = (s) =>
	s.replace(/\$\{input:moat-token\}|\$\{env:MOAT_TOKEN\}|\$\{MOAT_TOKEN\}|\$MOAT_TOKEN/g, TOKEN);

const seen = new Map(); // "section: kind" -> count, for the coverage check
const saw = (section, kind) => seen.set(`${section}: ${kind}`, (seen.get(`${section}: ${kind}`) ?? 0) + 1);

// ---- running one entry ------------------------------------------------------------

/**
 * A stdio entry {command, args, env}: `moat` becomes the binary under test,
 * `docker run` and `wsl` run what they would run; then one SDK session.
 */
async function runStdio(command, args, env = {}) {
	args = args.map(fill);
	if (command === 'docker') {
		const d = parseDockerRun(args);
		expect(d.image === IMAGE, `image ${d.image}, expected ${IMAGE}`);
		return stdioSession(BIN, applyMounts(d.args, d.mounts, fill), { ...ENV, ...env }, DATA);
	}
	if (command === 'wsl') [command, ...args] = args;
	expect(command === 'moat', `command ${command}: the entries start moat`);
	return stdioSession(BIN, args, { ...ENV, ...env }, DATA);
}

let httpUrl = null; // where the page's HTTP moat listens, once started

/** An HTTP entry {url, headers}: the page's address swapped for the real one. */
async function runHttp(url, headers = {}) {
	expect(httpUrl, 'the HTTP moat did not start');
	expect(url === 'http://127.0.0.1:8765/mcp', `url ${url}: the page's moat listens on http://127.0.0.1:8765/mcp`);
	const h = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, fillToken(v)]));
	expect(h.Authorization === `Bearer ${TOKEN}`, `Authorization header ${headers.Authorization}`);
	return httpSession(httpUrl, h, DATA);
}

/** Every server of an mcpServers / servers map, checked and run. */
async function runClientJson(b, j) {
	const vscode = 'servers' in j;
	const map = vscode ? j.servers : j.mcpServers;
	expect(map && typeof map === 'object', 'no servers');
	for (const [name, e] of Object.entries(map)) {
		const label = `${b.section} entry "${name}" (line ${b.line})`;
		const http = 'url' in e;
		if (vscode || e.type) expect(e.type === (http ? 'http' : 'stdio'), `${label}: type ${e.type}`);
		if (vscode && http) {
			const id = /\$\{input:([\w-]+)\}/.exec(JSON.stringify(e.headers))?.[1];
			const inp = (j.inputs ?? []).find((i) => i.id === id);
			expect(inp && inp.type === 'promptString' && inp.password === true, `${label}: input ${id} must be a password promptString`);
		}
		saw(b.section, `${http ? 'http' : 'stdio'}${e.command === 'docker' ? ' docker' : ''}`);
		await check(`${label}: ${http ? `connects to ${e.url}` : `starts ${e.command} ${(e.args ?? []).join(' ')}`}`, async () => {
			expect(!http || !e.command, 'both url and command');
			const n = http ? await runHttp(e.url, e.headers) : await runStdio(e.command, e.args ?? [], e.env);
			expect(n > 0, 'no tools');
		});
	}
}

// ---- the page -------------------------------------------------------------

// server.json first: the page's `docker run` line is compared with it.
let sj = null;
await check('server.json parses', () => {
	sj = JSON.parse(fs.readFileSync(path.join(ROOT, 'server.json'), 'utf8'));
});
const pkg = () => sj?.packages?.[0];

const blocks = fencedBlocks(md);
const parsed = [];
for (const b of blocks) {
	if (b.lang !== 'json' && b.lang !== 'yaml') continue;
	await check(`docs/clients.md line ${b.line} (${b.section}): the ${b.lang} block parses`, () => {
		parsed.push({ ...b, value: b.lang === 'json' ? JSON.parse(b.text) : YAML.parse(b.text, { strict: true, uniqueKeys: true }) });
	});
}
const shellLines = blocks.filter((b) => b.lang === 'sh').flatMap((b) => shellCommands(b.text).map((argv) => ({ ...b, argv })));

// The config blocks: the stdio one becomes the host config (and, for the
// container entries, the mounted one); the HTTP one is served.
const configs = parsed.filter((b) => b.lang === 'json' && 'roots' in b.value);
const stdioConf = configs.find((b) => !b.value.auth);
const httpConf = configs.find((b) => b.value.auth);
await check('the start-from config passes moat check', () => {
	expect(stdioConf, 'no config block without auth');
	saw(stdioConf.section, 'config');
	fs.writeFileSync(HOST_CONFIG, fill(stdioConf.text));
	fs.writeFileSync(path.join(CONF_DIR, 'moat.json'), fill(stdioConf.text));
	const r = spawnSync(BIN, ['check', '--config', HOST_CONFIG], { env: { ...process.env, ...ENV }, encoding: 'utf8' });
	expect(r.status === 0, `exit ${r.status}: ${r.stderr}`);
});

let httpProc = null;
await check('the HTTP config, started by the page\'s `moat serve` line, listens', async () => {
	expect(httpConf, 'no config block with auth');
	saw(httpConf.section, 'http config');
	const cfg = JSON.parse(fill(httpConf.text));
	expect(cfg.listen?.http === '127.0.0.1:8765', `listen.http ${cfg.listen?.http}`);
	cfg.listen.http = '127.0.0.1:0'; // the one change: a free port
	fs.writeFileSync(HTTP_CONFIG, JSON.stringify(cfg));
	const line = shellLines.find((l) => l.section === httpConf.section && l.argv[0] === 'moat');
	expect(line, `no moat serve line in ${httpConf.section}`);
	saw(line.section, 'serve line');
	httpProc = spawn(BIN, line.argv.slice(1).map(fill), {
		env: { ...process.env, ...ENV, MOAT_TOKEN: TOKEN }, stdio: ['ignore', 'ignore', 'pipe'],
	});
	let err = '';
	httpUrl = await withTimeout(new Promise((resolve, reject) => {
		httpProc.stderr.on('data', (c) => {
			err += c;
			const m = /listening on (http:\/\/\S+)/.exec(err);
			if (m) resolve(m[1]);
		});
		httpProc.on('exit', (code) => reject(new Error(`exited ${code}: ${err}`)));
	}), SESSION_MS, 'listening on');
});

for (const b of parsed.filter((b) => b.lang === 'json' && ('mcpServers' in b.value || 'servers' in b.value)))
	await runClientJson(b, b.value);

// ---- shell lines ------------------------------------------------------------

const mcpJson = parsed.find((b) => b.section === 'Claude Code' && b.value.mcpServers?.moat?.command)?.value;
for (const l of shellLines) {
	const [cmd, ...rest] = l.argv;
	const label = `${l.section} line ${l.line}: ${l.argv.join(' ').slice(0, 90)}`;
	if (cmd === 'claude' && rest[0] === 'mcp' && rest[1] === 'add') {
		await check(label, async () => {
			const a = parseClaudeAdd(rest.slice(2));
			saw(l.section, `claude ${a.transport}${a.scope === 'project' ? ' project' : ''}`);
			if (a.transport === 'http') return void (await runHttp(a.url, a.headers));
			await runStdio(a.command[0], a.command.slice(1));
			if (a.scope === 'project') {
				const e = mcpJson?.mcpServers?.[a.name];
				expect(e && JSON.stringify([e.command, ...e.args]) === JSON.stringify(a.command),
					'the .mcp.json shown does not hold this command');
			}
		});
	} else if (cmd === 'npx') {
		await check(label, async () => {
			const a = parseInspector(rest);
			if (a.command) {
				saw(l.section, 'inspector --');
				return void (await runStdio(a.command[0], a.command.slice(1)));
			}
			expect(a.config, 'an Inspector line that starts nothing');
			saw(l.section, 'inspector --config');
			expect(a.config === '.mcp.json', `--config ${a.config}: the page shows .mcp.json`);
			const e = mcpJson?.mcpServers?.[a.server];
			expect(e, `.mcp.json has no server ${a.server}`);
			await runStdio(e.command, e.args, e.env);
		});
	} else if (cmd === 'thv') {
		await check(label, async () => {
			const t = parseThvRun(rest);
			saw(l.section, 'thv run');
			expect(t.image === IMAGE, `image ${t.image}, expected ${IMAGE}`);
			expect(t.transport === 'stdio', `--transport ${t.transport}`);
			await stdioSession(BIN, applyMounts(t.args.map(fill), t.mounts, fill), ENV, DATA);
		});
	} else if (cmd === 'docker' && rest[0] === 'run') {
		await check(label, async () => {
			saw(l.section, 'docker run');
			await runStdio('docker', rest);
			if (l.section.includes('server.json')) {
				const fromJson = registryDockerArgv(false, false);
				expect(JSON.stringify(rest) === JSON.stringify(fromJson),
					`differs from what server.json gives: docker ${fromJson.join(' ')}`);
			}
		});
	}
}

// ---- Docker MCP Gateway ------------------------------------------------------

const GATEWAY_KEYS = new Set(['name', 'title', 'type', 'image', 'description', 'command', 'volumes', 'user',
	'longLived', 'secrets', 'oauth', 'env', 'disableNetwork', 'allowHosts', 'tools', 'config', 'metadata',
	'icon', 'readme', 'source', 'upstream', 'dateAdded', 'ref', 'toolsUrl']);
for (const b of parsed.filter((b) => b.lang === 'yaml')) {
	const catalog = 'registry' in b.value;
	const e = catalog ? b.value.registry?.moat : b.value;
	saw(b.section, catalog ? 'gateway catalog' : 'gateway server');
	await check(`${b.section} line ${b.line}: the ${catalog ? 'catalog' : 'server'} entry runs`, async () => {
		expect(e, 'no registry.moat');
		for (const k of Object.keys(e)) expect(GATEWAY_KEYS.has(k), `unknown key ${k}`);
		expect(catalog || e.name === 'moat', `name ${e.name}`);
		expect(e.type === 'server' && e.title && e.description, 'type server, title and description');
		expect(e.image === IMAGE, `image ${e.image}, expected ${IMAGE}`);
		expect(Array.isArray(e.command) && e.command.every((w) => typeof w === 'string'), 'command: a list of strings');
		await stdioSession(BIN, applyMounts(e.command, (e.volumes ?? []).map(parseVolume), fill), ENV, DATA);
	});
}

// ---- server.json ------------------------------------------------------------


/**
 * The docker command line a client builds from server.json's package, with
 * the page's placeholders for the variables: `docker run -i --rm`, the
 * runtime arguments (the optional repeated mount too when withData), the
 * image, the package arguments (named ones joined as --name=value when
 * joined).
 */
function registryDockerArgv(withData, joined) {
	const p = pkg();
	const vars = { config_dir: '/abs/path/moat-config', host_dir: '/abs/path/projects', container_dir: '/data' };
	const rt = resolveArgs(p.runtimeArguments, vars, { include: (a) => a.isRequired || withData });
	return ['run', '-i', '--rm', ...rt, p.identifier, ...resolveArgs(p.packageArguments, vars, { namedJoin: joined })];
}

await check('server.json follows the registry\'s server.json rules (schema 2025-12-11)', () => {
	const errs = ruleErrors(sj);
	expect(!errs.length, errs.join('; '));
});
await check(`server.json: version ${sj?.version} is meson.build's ${VERSION}`, () => expect(sj.version === VERSION, 'differs'));
await check('server.json: one OCI package of this version, stdio, started by docker', () => {
	expect(sj.packages.length === 1, `${sj.packages.length} packages`);
	expect(pkg().registryType === 'oci' && pkg().identifier === IMAGE, `${pkg().registryType} ${pkg().identifier}`);
	expect(pkg().transport.type === 'stdio' && pkg().runtimeHint === 'docker', 'transport stdio, runtimeHint docker');
	expect(!sj.remotes, 'remotes: moat is self-hosted');
});
await check('server.json: name, repository and image name the same owner', () => {
	const owner = /^io\.github\.([\w-]+)\/moat$/.exec(sj.name)?.[1];
	expect(owner, `name ${sj.name}`);
	expect(sj.repository.url === `https://github.com/${owner}/moat` && sj.repository.source === 'github', sj.repository.url);
	expect(pkg().identifier.startsWith(`ghcr.io/${owner}/moat:`), pkg().identifier);
});
for (const [withData, joined] of [[false, false], [true, true]]) {
	await check(`server.json: the package runs (${withData ? 'with the data mount, --config=FILE' : 'required arguments, --config FILE'})`, async () => {
		// The config the package's environment variables serve: MOAT_STATE_KEY
		// is read only because this config names it, so it must arrive.
		const conf = JSON.parse(fs.readFileSync(HOST_CONFIG, 'utf8'));
		conf.server = { state_key: '${MOAT_STATE_KEY}' };
		const dir = path.join(tmp, `registry-${withData}`);
		fs.mkdirSync(dir, { recursive: true });
		fs.writeFileSync(path.join(dir, 'moat.json'), JSON.stringify(conf));
		const env = Object.fromEntries(pkg().environmentVariables.map((v) =>
			[v.name, v.default ?? (v.isSecret ? crypto.randomBytes(32).toString('hex') : '')]));
		expect(env.MOAT_STATE_KEY, 'no MOAT_STATE_KEY among environmentVariables');
		const d = parseDockerRun(registryDockerArgv(withData, joined));
		expect(d.image === IMAGE, d.image);
		const host = (s) => (s === '/abs/path/moat-config' ? dir : fill(s));
		await stdioSession(BIN, applyMounts(d.args, d.mounts, host), { ...ENV, ...env }, DATA);
	});
}
await check('server.json: every MOAT_LOG_LEVEL choice is one moat takes', () => {
	const v = pkg().environmentVariables.find((e) => e.name === 'MOAT_LOG_LEVEL');
	expect(v?.choices?.includes(v.default), 'default among the choices');
	for (const c of v.choices) {
		const r = spawnSync(BIN, ['check', '--config', HOST_CONFIG], { env: { ...process.env, ...ENV, MOAT_LOG_LEVEL: c }, encoding: 'utf8' });
		expect(r.status === 0, `${c}: exit ${r.status} ${r.stderr}`);
	}
});

// ---- coverage and controls ----------------------------------------------------

const WANT = {
	'A config to start from: config': 1,
	'Claude Desktop: stdio': 2, // native, wsl
	'Claude Desktop: stdio docker': 1,
	'Claude Code: claude stdio': 1,
	'Claude Code: claude stdio project': 1,
	'Claude Code: claude http': 1,
	'Claude Code: stdio': 1,
	'Claude Code: http': 1,
	'VS Code: stdio': 1,
	'VS Code: http': 1,
	'Cursor: stdio': 1,
	'Cursor: http': 1,
	'MCP Inspector: inspector --': 1,
	'MCP Inspector: inspector --config': 1,
	'Over HTTP: http config': 1,
	'Over HTTP: serve line': 1,
	'ToolHive: thv run': 1,
	'Docker MCP Gateway: gateway server': 1,
	'Docker MCP Gateway: gateway catalog': 1,
	'The MCP Registry: `server.json`: docker run': 1,
};
for (const [k, n] of Object.entries(WANT))
	await check(`docs/clients.md has ${k} (${n})`, () => expect((seen.get(k) ?? 0) === n, `found ${seen.get(k) ?? 0}`));

const fails = async (fn) => {
	try {
		await fn();
	} catch {
		return;
	}
	throw new Error('was accepted');
};
await check('control: an entry with a wrong argument (--conf) fails', () =>
	fails(() => runStdio('moat', ['serve', '--conf', '/abs/path/moat.json'])));
await check('control: an entry naming another config fails (its root is not the one served)', async () => {
	const other = path.join(tmp, 'other.json');
	fs.writeFileSync(other, JSON.stringify({ roots: [tmp] }));
	await fails(() => stdioSession(BIN, ['serve', '--config', other], ENV, DATA));
});
await check('control: the HTTP entry without its Authorization header fails', () =>
	fails(() => httpSession(httpUrl, {}, DATA)));
await check('control: the Inspector line without -- is refused', () =>
	fails(async () => parseInspector(['@modelcontextprotocol/inspector', 'moat', 'serve', '--config', 'x'])));
await check('control: a 101-character description breaks the rules', () => {
	expect(ruleErrors({ ...sj, description: 'x'.repeat(101) }).length > 0, 'accepted');
});

httpProc?.kill('SIGTERM');
console.log(`clients_check: ${failed ? 'failures' : 'all passed'}`);
process.exit(failed ? 1 : 0);
