// demo.mjs - what `make run` shows: the official MCP SDK client driving a
// real `moat serve` process over stdio, the way Claude Desktop or any other
// client would. usage: node examples/demo.mjs PATH/TO/moat
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const moat = path.resolve(process.argv[2] ?? 'build-test/moat');
const config = path.join(here, 'moat.json');

const transport = new StdioClientTransport({ command: moat, args: ['serve', '--config', config] });
const client = new Client({ name: 'moat-demo', version: '1.0.0' });
await client.connect(transport);

const show = (label, value) => console.log(`\n▶ ${label}\n${typeof value === 'string' ? value : JSON.stringify(value, null, 2)}`);
show('connected to', client.getServerVersion());
show('instructions', client.getInstructions());

const { tools } = await client.listTools();
show('tools/list', tools.map((t) => `${t.name.padEnd(12)} ${t.title ?? ''}  readOnly=${t.annotations?.readOnlyHint}`).join('\n'));

show('tools/call add {a: 2, b: 40} → structuredContent', (await client.callTool({ name: 'add', arguments: { a: 2, b: 40 } })).structuredContent);

const bad = await client.callTool({ name: 'echo', arguments: { text: 42 } });
show('tools/call echo {text: 42} → isError, naming the rule', bad.content[0].text);

const progress = [];
await client.callTool({ name: 'slow', arguments: { ms: 300, steps: 3 } }, undefined, { onprogress: (p) => progress.push(`${p.progress}/${p.total} ${p.message ?? ''}`) });
show('tools/call slow with progress', progress.join('\n'));

const ac = new AbortController();
const cancelled = client.callTool({ name: 'slow', arguments: { ms: 10000 } }, undefined, { signal: ac.signal }).catch((e) => `cancelled: ${e.message}`);
setTimeout(() => ac.abort('demo'), 100);
show('cancel a 10 s call after 100 ms', await cancelled);
show('ping still answers', await client.ping());

await client.close();
console.log(`\nDone. Point an MCP client at it with:\n  {"command": "${moat}", "args": ["serve", "--config", "${config}"]}`);
