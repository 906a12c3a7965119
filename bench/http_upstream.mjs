// http_upstream.mjs - the upstream of bench/http.sh: a minimal JSON API on
// 127.0.0.1 (keep-alive) answering GET /items/{id} with a small record, the
// shape a CRM's "get contact" returns. Prints its port on stdout.
// usage: node bench/http_upstream.mjs [PORT]   (0: any free port)
import http from 'node:http';

const body = (id) =>
	JSON.stringify({ id, name: `Item ${id}`, owner: 'Ada Lovelace', email: 'ada@example.com', tags: ['a', 'b'], score: 42 });
const server = http.createServer((req, res) => {
	const m = req.url.match(/^\/items\/(\d+)$/);
	if (req.method !== 'GET' || !m) {
		res.writeHead(404, { 'content-type': 'application/json' });
		res.end('{"error":"not found"}');
		return;
	}
	const data = body(Number(m[1]));
	res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) });
	res.end(data);
});
server.keepAliveTimeout = 60000;
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => console.log(server.address().port));
