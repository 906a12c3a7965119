// demo.mjs - what `make run` shows: the official MCP SDK client driving a
// real `moat serve` process over stdio, the way Claude Desktop or any other
// client would, on examples/ served read-only.
// usage: node examples/demo.mjs PATH/TO/moat
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const moat = path.resolve(process.argv[2] ?? 'build/moat');
const config = path.join(here, 'moat.json');

const transport = new StdioClientTransport({ command: moat, args: ['serve', '--config', config] });
const client = new Client({ name: 'moat-demo', version: '1.0.0' });
await client.connect(transport);

const show = (label, value) => console.log(`\n▶ ${label}\n${typeof value === 'string' ? value : JSON.stringify(value, null, 2)}`);
const text = (r) => r.content.map((c) => c.text ?? `[${c.type}]`).join('\n');
const call = async (name, args) => text(await client.callTool({ name, arguments: args }));

show('connected to', client.getServerVersion());
const { tools } = await client.listTools();
show('tools/list', tools.map((t) => `${t.name.padEnd(26)} readOnly=${t.annotations?.readOnlyHint}`).join('\n'));
show('list_allowed_directories', await call('list_allowed_directories', {}));
show('directory_tree files (maxDepth 2)', await call('directory_tree', { path: path.join(here, 'files'), maxDepth: 2 }));
show('read_text_file files/notes/security.md head=3', await call('read_text_file', { path: 'files/notes/security.md', head: 3 }));
show('search_files "**/*.md"', await call('search_files', { path: here, pattern: '**/*.md' }));
show('grep_files "Landlock"', await call('grep_files', { path: here, pattern: 'Landlock' }));
show('read_text_file ../../etc/passwd → refused by the kernel, not by a string check', await call('read_text_file', { path: '../../etc/passwd' }));
show('write_file → not offered: the root is read-only', tools.some((t) => t.name === 'write_file') ? 'offered (unexpected)' : 'write_file is not in tools/list');
show('crm_search_contacts q="a" → ids and names only (select drops email and phone)', await call('crm_search_contacts', { q: 'a' }));
const contact = await client.callTool({ name: 'crm_get_contact', arguments: { id: 2 } });
show('crm_get_contact id=2 → structuredContent checked against its output schema', contact.structuredContent);
const card = await client.callTool({ name: 'crm_contact_card', arguments: { id: 1 } });
show('crm_contact_card id=1 → a binary attachment, MIME type sniffed from its bytes', `${card.content[0].type}: ${card.content[0].resource?.mimeType}, ${card.content[0].resource?.blob.length} base64 bytes`);
show('fetch http://169.254.169.254/latest/meta-data → refused by the egress guard', await call('fetch', { url: 'http://169.254.169.254/latest/meta-data' }));
show('fetch http://2130706433/admin → 127.0.0.1 in disguise, refused', await call('fetch', { url: 'http://2130706433/admin' }));
show('list_tables (the shop database, built from examples/demo.sql)', await call('list_tables', {}));
const q = await client.callTool({ name: 'read_query', arguments: { query: 'SELECT c.name, count(*) AS orders, sum(o.total) AS spent FROM customer c JOIN orders o ON o.customer_id = c.id WHERE o.total > ?1 GROUP BY c.id ORDER BY spent DESC', params: [5] } });
show('read_query with a bound parameter → a text table and structuredContent', `${text(q)}\n${JSON.stringify(q.structuredContent.rows)}`);
show('read_query "DELETE FROM orders" → refused: the database is opened read-only', await call('read_query', { query: 'DELETE FROM orders' }));
show('read_query "SELECT 1; DROP TABLE orders" → refused: one statement per call', await call('read_query', { query: 'SELECT 1; DROP TABLE orders' }));
show('list_repositories (moat\'s own repository, read through libgit2)', await call('list_repositories', {}));
const log = await client.callTool({ name: 'git_log', arguments: { repo_path: 'moat', max_count: 3 } });
show('git_log repo_path=moat max_count=3 → structuredContent (id, author, date, subject shown)', log.structuredContent.commits.map((c) => `${c.id.slice(0, 10)} ${c.date} ${c.author}: ${c.message.split('\n')[0]}`).join('\n'));
const shown = await client.callTool({ name: 'git_show', arguments: { repo_path: 'moat', revision: 'HEAD' } });
show('git_show HEAD → the header as git prints it; structuredContent lists the files', `${text(shown).split('\n').slice(0, 6).join('\n')}\n…\nfiles: ${shown.structuredContent.files.map((f) => `${f.new_path} (${f.status})`).join(', ')}`);
show('git_ls_files path=src/providers/git', await call('git_ls_files', { repo_path: 'moat', path: 'src/providers/git' }));
show('git_diff target="--output=/tmp/x" → refused: a revision is never an option', await call('git_diff', { repo_path: 'moat', target: '--output=/tmp/x' }));
show('git_status repo_path=/etc → refused: not a configured repository', await call('git_status', { repo_path: '/etc' }));
const resources = [];
for (let cursor; ; ) {
	const page = await client.listResources(cursor ? { cursor } : {});
	resources.push(...page.resources);
	if (!(cursor = page.nextCursor)) break;
}
const files = resources.filter((r) => r.uri.startsWith('file:'));
const tables = resources.filter((r) => r.uri.startsWith('sql:'));
show(`resources/list (${files.length} files as file:// resources, ${tables.length} sql:// resources: each database's tables and each table's schema)`,
	[...files.slice(0, 3), ...tables.slice(0, 4)].map((r) => r.uri).join('\n'));
const orders = await client.readResource({ uri: 'sql://shop/tables/orders' });
show('resources/read sql://shop/tables/orders → what describe_table returns, as JSON', JSON.parse(orders.contents[0].text).columns.map((c) => `${c.name} ${c.type}${c.primary_key ? ' PRIMARY KEY' : ''}`).join('\n'));
await client.close();
console.log(`\nDone. Point an MCP client at it with:\n  {"command": "${moat}", "args": ["serve", "--config", "${config}"]}`);
