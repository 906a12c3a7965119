// server_json_check.mjs - the rules server.json must follow, and the
// command line a client builds from its OCI package.
//
// The rules are those of the MCP Registry's server.json schema of 2025-12-11
// (https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json,
// in modelcontextprotocol/registry docs/reference/server-json/), written down
// here as a JSON Schema of our own and checked with ajv: the required members
// and their formats (name pattern and length, description and title 1-100,
// version at most 255 and not a range, URIs, the package's required members,
// argument and input shapes, the stdio transport). Nothing of the schema is
// copied into the repository. It is stricter in one way: an object may hold
// only the members the 2025-12-11 schema defines, so a misspelt member
// ("enviromentVariables") fails here where the schema would ignore it. On top
// come the official registry's own rules from its "package types" and
// "official registry requirements" pages: an OCI identifier names a tag or a
// digest, from an allowed registry; no version range in a package version.
import Ajv from 'ajv';
import addFormats from 'ajv-formats';

export const SCHEMA_URL = 'https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json';

const input = {
	choices: { type: 'array', items: { type: 'string' } },
	default: { type: 'string' },
	description: { type: 'string' },
	format: { enum: ['string', 'number', 'boolean', 'filepath'] },
	isRequired: { type: 'boolean' },
	isSecret: { type: 'boolean' },
	placeholder: { type: 'string' },
	value: { type: 'string' },
};
const variables = { type: 'object', additionalProperties: { $ref: '#/definitions/Input' } };

const rules = {
	$schema: 'http://json-schema.org/draft-07/schema#',
	$ref: '#/definitions/ServerDetail',
	definitions: {
		Input: { type: 'object', properties: input, additionalProperties: false },
		KeyValueInput: {
			type: 'object',
			required: ['name'],
			properties: { ...input, variables, name: { type: 'string' } },
			additionalProperties: false,
		},
		Argument: {
			anyOf: [
				{
					type: 'object',
					required: ['type'],
					anyOf: [{ required: ['valueHint'] }, { required: ['value'] }],
					properties: { ...input, variables, type: { const: 'positional' }, valueHint: { type: 'string' }, isRepeated: { type: 'boolean' } },
					additionalProperties: false,
				},
				{
					type: 'object',
					required: ['type', 'name'],
					properties: { ...input, variables, type: { const: 'named' }, name: { type: 'string' }, isRepeated: { type: 'boolean' } },
					additionalProperties: false,
				},
			],
		},
		Package: {
			type: 'object',
			required: ['registryType', 'identifier', 'transport'],
			properties: {
				registryType: { type: 'string' },
				registryBaseUrl: { type: 'string', format: 'uri' },
				identifier: { type: 'string', minLength: 1 },
				version: { type: 'string', minLength: 1, not: { const: 'latest' } },
				fileSha256: { type: 'string', pattern: '^[a-f0-9]{64}$' },
				runtimeHint: { type: 'string' },
				runtimeArguments: { type: 'array', items: { $ref: '#/definitions/Argument' } },
				packageArguments: { type: 'array', items: { $ref: '#/definitions/Argument' } },
				environmentVariables: { type: 'array', items: { $ref: '#/definitions/KeyValueInput' } },
				transport: {
					anyOf: [
						{ type: 'object', required: ['type'], properties: { type: { const: 'stdio' } }, additionalProperties: false },
						{
							type: 'object',
							required: ['type', 'url'],
							properties: {
								type: { enum: ['streamable-http', 'sse'] },
								url: { type: 'string', pattern: '^https?://[^\\s]+$' },
								headers: { type: 'array', items: { $ref: '#/definitions/KeyValueInput' } },
							},
							additionalProperties: false,
						},
					],
				},
			},
			additionalProperties: false,
		},
		ServerDetail: {
			type: 'object',
			required: ['name', 'description', 'version'],
			properties: {
				$schema: { type: 'string', format: 'uri' },
				name: { type: 'string', minLength: 3, maxLength: 200, pattern: '^[a-zA-Z0-9.-]+/[a-zA-Z0-9._-]+$' },
				title: { type: 'string', minLength: 1, maxLength: 100 },
				description: { type: 'string', minLength: 1, maxLength: 100 },
				version: { type: 'string', maxLength: 255 },
				websiteUrl: { type: 'string', format: 'uri' },
				repository: {
					type: 'object',
					required: ['url', 'source'],
					properties: {
						url: { type: 'string', format: 'uri' },
						source: { type: 'string' },
						id: { type: 'string' },
						subfolder: { type: 'string' },
					},
					additionalProperties: false,
				},
				icons: { type: 'array' },
				packages: { type: 'array', items: { $ref: '#/definitions/Package' } },
				remotes: { type: 'array' },
				_meta: { type: 'object' },
			},
			additionalProperties: false,
		},
	},
};

const ajv = new Ajv({ allErrors: true, strict: false });
addFormats(ajv);
const validate = ajv.compile(rules);

// The registries the official registry takes OCI images from.
const OCI_HOSTS = [/^docker\.io$/, /^ghcr\.io$/, /^quay\.io$/, /\.pkg\.dev$/, /\.azurecr\.io$/, /^mcr\.microsoft\.com$/];
const RANGE = /^[\^~<>=]|\.x$|\.\*$|\s-\s|\|\|/;

/** Every rule server.json breaks, as strings; [] when it follows them all. */
export function ruleErrors(sj) {
	const errs = [];
	if (!validate(sj)) for (const e of validate.errors) errs.push(`${e.instancePath || '/'} ${e.message}`);
	if (sj.$schema !== SCHEMA_URL) errs.push(`$schema is ${sj.$schema}, the rules here are ${SCHEMA_URL}`);
	if (typeof sj.version === 'string' && RANGE.test(sj.version)) errs.push(`version ${sj.version} is a range`);
	for (const [i, p] of (sj.packages ?? []).entries()) {
		if (p.version && RANGE.test(p.version)) errs.push(`packages[${i}].version is a range`);
		if (p.registryType !== 'oci') continue;
		const m = /^(?:([^/]+)\/)?([^:@]+)(?::([\w][\w.-]{0,127}))?(?:@(sha256:[a-f0-9]{64}))?$/.exec(p.identifier ?? '');
		if (!m || (!m[3] && !m[4])) errs.push(`packages[${i}].identifier ${p.identifier}: needs registry/name:tag or @digest`);
		else if (!OCI_HOSTS.some((h) => h.test(m[1] ?? 'docker.io'))) errs.push(`packages[${i}]: registry ${m[1]} not accepted`);
	}
	return errs;
}

/**
 * Resolves a list of registry arguments into argv words, the way the schema
 * describes them: a positional is its value; a named one is its name and its
 * value as two words (namedJoin false) or as "--name=value" (namedJoin true);
 * "{var}" in a value is replaced from vars (an unknown one throws). Optional
 * arguments are left out unless include(arg) says otherwise.
 */
export function resolveArgs(list, vars, { namedJoin = false, include = (a) => a.isRequired || a.value !== undefined } = {}) {
	const out = [];
	for (const a of list ?? []) {
		if (!include(a)) continue;
		const raw = a.value ?? a.default;
		if (raw === undefined) throw new Error(`argument ${a.name ?? a.valueHint} has no value to give`);
		const v = raw.replace(/\{(\w+)\}/g, (_, k) => {
			if (!(k in vars)) throw new Error(`{${k}} is not a variable given`);
			return vars[k];
		});
		if (a.type === 'positional') out.push(v);
		else if (namedJoin) out.push(`${a.name}=${v}`);
		else out.push(a.name, v);
	}
	return out;
}
