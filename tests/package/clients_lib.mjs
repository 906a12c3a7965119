// clients_lib.mjs - the pieces tests/package/clients_check.mjs is built from:
// reading the fenced blocks of docs/clients.md, splitting a shell line into
// words, reading `docker run` / `thv run` / `claude mcp add` / Inspector
// command lines the way those tools do (strictly: an option this file does
// not know is an error, so a typo in the docs fails), applying a container's
// mounts to its arguments as path substitutions, and one MCP session with the
// official SDK client over stdio or Streamable HTTP. Every session
// initializes, lists the tools and asks list_allowed_directories, and the
// answer must name the directory the test served: an entry that starts moat
// with a wrong argument, another config, or not at all, fails.
import fs from 'node:fs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport, getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

export const SESSION_MS = 15000;

/** Races p against a timer, so a hung server fails the case instead of the run. */
export function withTimeout(p, ms, what) {
	let t;
	const timer = new Promise((_, rej) => {
		t = setTimeout(() => rej(new Error(`timed out after ${ms} ms: ${what}`)), ms);
	});
	return Promise.race([p, timer]).finally(() => clearTimeout(t));
}

// ---- the document ---------------------------------------------------------

/**
 * Every fenced block of a Markdown text: {lang, text, line, section}, where
 * section is the nearest "## " heading above it and line is 1-based.
 */
export function fencedBlocks(md) {
	const out = [];
	const lines = md.split('\n');
	let section = '';
	for (let i = 0; i < lines.length; i++) {
		const h = /^## (.*)$/.exec(lines[i]);
		if (h) section = h[1].trim();
		const f = /^```(\S*)\s*$/.exec(lines[i]);
		if (!f) continue;
		const body = [];
		let j = i + 1;
		while (j < lines.length && !/^```\s*$/.test(lines[j])) body.push(lines[j++]);
		if (j >= lines.length) throw new Error(`unterminated fence at line ${i + 1}`);
		out.push({ lang: f[1], text: body.join('\n'), line: i + 1, section });
		i = j;
	}
	return out;
}

/**
 * The command lines of a shell block: comments dropped, backslash-newline
 * continuations joined, each split into words with POSIX quoting (single
 * quotes literal, double quotes keeping `$NAME` as text, which the caller
 * substitutes).
 */
export function shellCommands(text) {
	const joined = text.replace(/\\\n/g, ' ');
	return joined
		.split('\n')
		.map((l) => l.trim())
		.filter((l) => l && !l.startsWith('#'))
		.map(shellWords);
}

/** Splits one shell line into words; throws on an unclosed quote. */
export function shellWords(line) {
	const words = [];
	let cur = null;
	for (let i = 0; i < line.length; i++) {
		const c = line[i];
		if (c === "'") {
			const end = line.indexOf("'", i + 1);
			if (end < 0) throw new Error(`unclosed ' in: ${line}`);
			cur = (cur ?? '') + line.slice(i + 1, end);
			i = end;
		} else if (c === '"') {
			let j = i + 1;
			let s = '';
			for (; j < line.length && line[j] !== '"'; j++) {
				if (line[j] === '\\' && j + 1 < line.length && '"\\$`'.includes(line[j + 1])) s += line[++j];
				else s += line[j];
			}
			if (j >= line.length) throw new Error(`unclosed " in: ${line}`);
			cur = (cur ?? '') + s;
			i = j;
		} else if (c === ' ' || c === '\t') {
			if (cur !== null) words.push(cur);
			cur = null;
		} else if (c === '\\' && i + 1 < line.length) {
			cur = (cur ?? '') + line[++i];
		} else {
			cur = (cur ?? '') + c;
		}
	}
	if (cur !== null) words.push(cur);
	return words;
}

// ---- command lines ----------------------------------------------------------

/**
 * Reads argv against a table {flag: takesValue}: returns {opts: [[flag,
 * value]], rest} where rest starts at the first word that is not an option.
 * `--flag=value` is accepted for options that take a value. An unknown option
 * throws.
 */
function options(argv, table, what) {
	const opts = [];
	let i = 0;
	for (; i < argv.length; i++) {
		const a = argv[i];
		if (a === '--' || !a.startsWith('-') || a === '-') break;
		const eq = a.indexOf('=');
		const flag = a.startsWith('--') && eq > 0 ? a.slice(0, eq) : a;
		if (!(flag in table)) throw new Error(`${what}: unknown option ${a}`);
		if (!table[flag]) {
			opts.push([flag, true]);
		} else if (flag !== a) {
			opts.push([flag, a.slice(eq + 1)]);
		} else {
			if (i + 1 >= argv.length) throw new Error(`${what}: ${a} needs a value`);
			opts.push([flag, argv[++i]]);
		}
	}
	return { opts, rest: argv.slice(i) };
}

const DOCKER_RUN = {
	'-i': false, '--interactive': false, '--rm': false, '--read-only': false, '--init': false,
	'-t': false, '--tty': false, '--mount': true, '-v': true, '--volume': true, '-e': true,
	'--env': true, '--env-file': true, '--name': true, '--network': true, '--user': true, '-u': true,
	'--cap-drop': true, '--security-opt': true, '--pull': true,
};

/** A `--mount` value: {src, dst, ro}; only bind mounts are meaningful here. */
export function parseMount(v) {
	const m = { ro: false };
	for (const part of v.split(',')) {
		const [k, val] = part.split('=');
		if (k === 'type') m.type = val;
		else if (k === 'src' || k === 'source') m.src = val;
		else if (k === 'dst' || k === 'destination' || k === 'target') m.dst = val;
		else if (k === 'readonly' || k === 'ro') m.ro = val === undefined || val === 'true' || val === '1';
		else throw new Error(`--mount: unknown key ${k}`);
	}
	if (m.type !== 'bind' || !m.src || !m.dst) throw new Error(`--mount ${v}: needs type=bind, src and dst`);
	return m;
}

/** A `-v HOST:CONTAINER[:ro]` value. */
export function parseVolume(v) {
	const p = v.split(':');
	if (p.length < 2 || p.length > 3 || (p.length === 3 && p[2] !== 'ro' && p[2] !== 'rw'))
		throw new Error(`volume ${v}: expected HOST:CONTAINER[:ro]`);
	return { src: p[0], dst: p[1], ro: p[2] === 'ro' };
}

/** `docker run OPTIONS IMAGE ARGS...` (argv without the leading "docker"). */
export function parseDockerRun(argv) {
	if (argv[0] !== 'run') throw new Error(`docker ${argv[0]}: only "docker run" is an MCP entry`);
	const { opts, rest } = options(argv.slice(1), DOCKER_RUN, 'docker run');
	if (!rest.length) throw new Error('docker run: no image');
	const mounts = [];
	const env = [];
	const flags = new Set();
	for (const [f, v] of opts) {
		if (f === '--mount') mounts.push(parseMount(v));
		else if (f === '-v' || f === '--volume') mounts.push(parseVolume(v));
		else if (f === '-e' || f === '--env') env.push(v);
		else flags.add(f);
	}
	if (!flags.has('-i') && !flags.has('--interactive')) throw new Error('docker run: stdio needs -i');
	if (flags.has('-t') || flags.has('--tty')) throw new Error('docker run: -t would mangle the protocol');
	return { image: rest[0], args: rest.slice(1), mounts, env };
}

const THV_RUN = {
	'--name': true, '--transport': true, '-v': true, '--volume': true, '-e': true, '--env': true,
	'--secret': true, '--env-file': true, '--network': true, '--isolate-network': false,
	'--permission-profile': true, '--proxy-mode': true, '--proxy-port': true, '-f': false,
	'--foreground': false, '--group': true,
};

/** `thv run OPTIONS IMAGE [-- ARGS]` (argv without the leading "thv"). */
export function parseThvRun(argv) {
	if (argv[0] !== 'run') throw new Error(`thv ${argv[0]}: not a run line`);
	const { opts, rest } = options(argv.slice(1), THV_RUN, 'thv run');
	const image = rest[0];
	if (!image || image === '--') throw new Error('thv run: no image');
	const after = rest.slice(1);
	if (after.length && after[0] !== '--') throw new Error(`thv run: arguments for the server go after --, not ${after[0]}`);
	const o = Object.fromEntries(opts.filter(([f]) => !['-v', '--volume'].includes(f)));
	const mounts = opts.filter(([f]) => f === '-v' || f === '--volume').map(([, v]) => parseVolume(v));
	return { image, args: after.slice(1), mounts, transport: o['--transport'], name: o['--name'] };
}

const CLAUDE_ADD = {
	'--scope': true, '-s': true, '--transport': true, '--header': true, '-H': true, '--env': true, '-e': true,
};

/**
 * `claude mcp add OPTIONS NAME (URL OPTIONS | -- COMMAND ARGS...)` (argv
 * without "claude mcp add"): {name, scope, transport, url, headers, command}.
 */
export function parseClaudeAdd(argv) {
	const first = options(argv, CLAUDE_ADD, 'claude mcp add');
	const [name, ...after] = first.rest;
	if (!name || name === '--') throw new Error('claude mcp add: no server name before --');
	const o = Object.fromEntries(first.opts);
	const scope = o['--scope'] ?? o['-s'] ?? 'local';
	if (!['local', 'project', 'user'].includes(scope)) throw new Error(`claude mcp add: scope ${scope}`);
	const transport = o['--transport'] ?? 'stdio';
	if (transport === 'stdio') {
		if (after[0] !== '--') throw new Error('claude mcp add: the server command goes after --');
		if (after.length < 2) throw new Error('claude mcp add: no command after --');
		return { name, scope, transport, command: after.slice(1) };
	}
	if (transport !== 'http') throw new Error(`claude mcp add: transport ${transport}`);
	const [url, ...more] = after;
	const second = options(more, CLAUDE_ADD, 'claude mcp add (after the URL)');
	if (second.rest.length) throw new Error(`claude mcp add: unexpected ${second.rest[0]}`);
	const headers = {};
	for (const [f, v] of [...first.opts, ...second.opts]) {
		if (f !== '--header' && f !== '-H') continue;
		const c = v.indexOf(':');
		if (c < 1) throw new Error(`--header ${v}: expected "Name: value"`);
		headers[v.slice(0, c).trim()] = v.slice(c + 1).trim();
	}
	return { name, scope, transport, url, headers };
}

/**
 * `npx [-y] @modelcontextprotocol/inspector ...` (argv without "npx"):
 * {command} for the `-- COMMAND...` form, {config, server} for the
 * `--config FILE --server NAME` form, {} for the bare form (UI only).
 */
export function parseInspector(argv) {
	let i = 0;
	if (argv[i] === '-y' || argv[i] === '--yes') i++;
	if (argv[i] !== '@modelcontextprotocol/inspector') throw new Error(`npx ${argv[i]}: not the Inspector`);
	const rest = argv.slice(i + 1);
	const sep = rest.indexOf('--');
	const own = sep < 0 ? rest : rest.slice(0, sep);
	const { opts, rest: positional } = options(own, { '-e': true, '--config': true, '--server': true, '--cli': false }, 'inspector');
	const o = Object.fromEntries(opts);
	if (sep >= 0) {
		if (o['--config']) throw new Error('inspector: --config before -- would be the Inspector\'s own');
		return { command: rest.slice(sep + 1) };
	}
	if (positional.length) throw new Error(`inspector: server command ${positional.join(' ')} without --`);
	if (o['--config']) {
		if (!o['--server']) throw new Error('inspector: --config needs --server NAME');
		return { config: o['--config'], server: o['--server'] };
	}
	return {};
}

// ---- containers -----------------------------------------------------------

/**
 * The arguments a container's entrypoint gets, with each mount's container
 * path replaced by its host path (the longest mount first), so the local
 * binary sees the files the container would. Every mount must be read-only,
 * and one must bring /etc/moat.
 */
export function applyMounts(args, mounts, hostOf) {
	const mapped = mounts.map((m) => ({ ...m, src: hostOf(m.src) }));
	for (const m of mapped) if (!m.ro) throw new Error(`mount ${m.dst} is not read-only`);
	if (!mapped.some((m) => m.dst === '/etc/moat')) throw new Error('no mount at /etc/moat');
	mapped.sort((a, b) => b.dst.length - a.dst.length);
	return args.map((a) => {
		// A path word, or the value of a --flag=PATH word.
		const pre = /^--[\w-]+=/.exec(a)?.[0] ?? '';
		const v = a.slice(pre.length);
		for (const m of mapped)
			if (v === m.dst || v.startsWith(m.dst + '/')) return pre + m.src + v.slice(m.dst.length);
		return a;
	});
}

// ---- sessions -------------------------------------------------------------

/** Checks an open client: the fs tools are listed and `dir` is the one root. */
async function probe(client, dir) {
	const { tools } = await client.listTools();
	const names = tools.map((t) => t.name);
	for (const t of ['read_text_file', 'list_allowed_directories'])
		if (!names.includes(t)) throw new Error(`tools/list lacks ${t}: ${names.join(', ')}`);
	const r = await client.callTool({ name: 'list_allowed_directories', arguments: {} });
	const text = r.content?.[0]?.text ?? '';
	if (r.isError || !text.includes(fs.realpathSync(dir))) throw new Error(`allowed directories: ${text}`);
	return tools.length;
}

/**
 * Starts exactly command/args with the SDK's StdioClientTransport (env added
 * to the SDK's default environment), initializes, probes; returns the tool
 * count. Throws with moat's stderr on any failure.
 */
export async function stdioSession(command, args, env, dir) {
	const transport = new StdioClientTransport({
		command, args, env: { ...getDefaultEnvironment(), ...env }, stderr: 'pipe',
	});
	let stderr = '';
	transport.stderr?.on('data', (c) => {
		stderr += c;
	});
	const client = new Client({ name: 'moat-clients-test', version: '1' });
	try {
		await withTimeout(client.connect(transport), SESSION_MS, 'initialize');
		return await withTimeout(probe(client, dir), SESSION_MS, 'tools/list');
	} catch (e) {
		throw new Error(`${e.message}${stderr ? `; stderr: ${stderr.trim().split('\n').slice(-3).join(' | ')}` : ''}`);
	} finally {
		await client.close().catch(() => {});
	}
}

/** Connects to url with headers over Streamable HTTP, probes; returns the tool count. */
export async function httpSession(url, headers, dir) {
	const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } });
	const client = new Client({ name: 'moat-clients-test', version: '1' });
	try {
		await withTimeout(client.connect(transport), SESSION_MS, 'initialize');
		return await withTimeout(probe(client, dir), SESSION_MS, 'tools/list');
	} finally {
		await client.close().catch(() => {});
	}
}
