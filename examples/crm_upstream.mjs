// crm_upstream.mjs - a small stand-in for a CRM's REST API, for the demo:
// `make run` starts it on 127.0.0.1 and examples/moat.json declares tools
// for it (http.apis.crm). It holds a few made-up contacts with personal
// fields (email, phone) that the declared tools select away.
// examples/crm.openapi.yaml describes it (`moat import openapi` reads it).
// usage: node examples/crm_upstream.mjs [PORT]   (default 47811)
import http from 'node:http';

const port = Number(process.argv[2] ?? 47811);
const contacts = [
	{ id: 1, name: 'Ada Lovelace', company: 'Analytical Engines', email: 'ada@example.com', phone: '+44 20 7946 0001' },
	{ id: 2, name: 'Grace Hopper', company: 'COBOL Works', email: 'grace@example.com', phone: '+1 202 555 0102' },
	{ id: 3, name: 'Alan Turing', company: 'Bletchley Labs', email: 'alan@example.com', phone: '+44 20 7946 0003' },
];
const notes = [];
let nextNote = 1;
// A 1x1 PNG: the contact's "card" attachment.
const png = Buffer.from(
	'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
	'base64',
);

function send(res, status, body, type = 'application/json') {
	const data = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
	res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(data) });
	res.end(data);
}

const server = http.createServer((req, res) => {
	const url = new URL(req.url, `http://${req.headers.host}`);
	if (req.headers['x-demo-key'] !== 'demo') return send(res, 401, { error: 'missing or wrong X-Demo-Key' });
	let m;
	if (req.method === 'GET' && url.pathname === '/contacts') {
		const q = (url.searchParams.get('q') ?? '').toLowerCase();
		const limit = Number(url.searchParams.get('limit') ?? 10);
		const data = contacts.filter((c) => c.name.toLowerCase().includes(q)).slice(0, limit);
		return send(res, 200, { data, total: data.length });
	}
	if (req.method === 'GET' && (m = url.pathname.match(/^\/contacts\/(\d+)$/))) {
		const c = contacts.find((x) => x.id === Number(m[1]));
		return c ? send(res, 200, c) : send(res, 404, { error: 'no such contact' });
	}
	if (req.method === 'GET' && (m = url.pathname.match(/^\/contacts\/(\d+)\/card$/))) {
		return send(res, 200, png, 'image/png');
	}
	if (req.method === 'GET' && (m = url.pathname.match(/^\/contacts\/(\d+)\/notes$/))) {
		const limit = Number(url.searchParams.get('limit') ?? 20);
		const data = notes.filter((n) => n.contact === Number(m[1])).slice(0, limit);
		return send(res, 200, { data, total: data.length });
	}
	if (req.method === 'DELETE' && (m = url.pathname.match(/^\/contacts\/(\d+)\/notes\/(\d+)$/))) {
		const i = notes.findIndex((n) => n.contact === Number(m[1]) && n.id === Number(m[2]));
		if (i < 0) return send(res, 404, { error: 'no such note' });
		notes.splice(i, 1);
		res.writeHead(204);
		return res.end();
	}
	if (req.method === 'POST' && (m = url.pathname.match(/^\/contacts\/(\d+)\/notes$/))) {
		let body = '';
		req.on('data', (d) => (body += d));
		req.on('end', () => {
			let fields;
			try {
				fields = JSON.parse(body || '{}');
			} catch {
				return send(res, 400, { error: 'the body is not JSON' });
			}
			const note = { ...fields, id: nextNote++, contact: Number(m[1]) };
			notes.push(note);
			send(res, 201, note);
		});
		return;
	}
	send(res, 404, { error: 'not found' });
});
server.listen(port, '127.0.0.1', () => console.error(`crm upstream listening on 127.0.0.1:${port}`));
