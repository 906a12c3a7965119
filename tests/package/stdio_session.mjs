// stdio_session.mjs - one MCP session over stdio with the official SDK
// client, against the command given on the command line (an installed moat
// run through chroot by tests/package/smoke.sh). Exit 0 when every check
// holds: initialize, tools/list has the fs tools, read_text_file reads the
// installed welcome page, and a ../ escape is refused as a tool error.
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

const [command, ...args] = process.argv.slice(2);
const transport = new StdioClientTransport({ command, args, stderr: 'inherit' });
const client = new Client({ name: 'moat-package-test', version: '1' });
await client.connect(transport);
try {
	assert.equal(client.getServerVersion().name, 'moat');
	const { tools } = await client.listTools();
	const names = tools.map((t) => t.name);
	for (const t of ['read_text_file', 'list_directory', 'list_allowed_directories'])
		assert.ok(names.includes(t), `tools/list lacks ${t}: ${names.join(', ')}`);
	const dirs = await client.callTool({ name: 'list_allowed_directories', arguments: {} });
	const root = /\/\S*\/moat\/welcome/.exec(dirs.content[0].text)?.[0];
	assert.ok(root, `no welcome root in ${dirs.content[0].text}`);
	const read = await client.callTool({ name: 'read_text_file', arguments: { path: `${root}/README.md` } });
	assert.ok(!read.isError, JSON.stringify(read));
	assert.match(read.content[0].text, /moat is installed/);
	const esc = await client.callTool({ name: 'read_text_file', arguments: { path: `${root}/../../../../etc/moat/moat.json` } });
	assert.equal(esc.isError, true, 'a ../ escape is refused');
	assert.doesNotMatch(esc.content[0].text, /"roots"/, 'nothing of the file leaks');
} finally {
	await client.close();
}
console.log('stdio session ok');
