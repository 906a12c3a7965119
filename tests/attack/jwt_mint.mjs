// jwt_mint.mjs - tokens for the attack tests of moat's HTTP listener, minted
// with Node's own crypto (no JOSE package): keys made for the run, a JWKS
// file, good access tokens of every accepted algorithm, and every bad-token
// shape moat must refuse, each with the HTTP status and the rule id
// (docs/audit.md) the refusal must carry.
//
//   import { makeKeys, writeJwks, mint, goodTokens, badTokens, staticToken } from './jwt_mint.mjs';
//   const keys = makeKeys();
//   const jwksPath = writeJwks(dir, keys);           // rsa, ec and ed (never the stranger)
//   const cfg = { auth: { oauth: { issuer: ISSUER, audience: AUD, jwks_file: jwksPath,
//                                  scopes: { 'moat:read': ['read_*'] } } } };
//   for (const [name, t] of Object.entries(badTokens({ keys, issuer: ISSUER, audience: AUD })))
//     // send `Authorization: ${t.header}` (t.header is null for "missing") and expect
//     // t.status and, in the audit trail, t.rule.
//
// Nothing here talks to moat: this file only makes bytes. Keys live in memory;
// writeJwks writes public keys only.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export const DEFAULT_ISSUER = 'https://idp.moat.test';
export const DEFAULT_SCOPE = 'moat:read';

const b64u = (buf) => Buffer.from(buf).toString('base64url');
const json64 = (obj) => b64u(typeof obj === 'string' ? obj : JSON.stringify(obj));
const now = () => Math.floor(Date.now() / 1000);

/** One key: kid, alg, the KeyObjects and the public JWK (with kid, alg, use). */
function keyOf(kid, alg, pair) {
	const jwk = { ...pair.publicKey.export({ format: 'jwk' }), kid, alg, use: 'sig' };
	return { kid, alg, privateKey: pair.privateKey, publicKey: pair.publicKey, jwk };
}

/**
 * Keys for a run: rsa (RS256; its JWK says alg RS256, so a PS256 token
 * signed with it is refused), ec (ES256, P-256),
 * ed (EdDSA, Ed25519), and stranger: an RSA key that is in no JWKS (for a
 * good-looking token moat must not trust).
 */
export function makeKeys(prefix = 'k') {
	return {
		rsa: keyOf(`${prefix}-rsa`, 'RS256', crypto.generateKeyPairSync('rsa', { modulusLength: 2048 })),
		ec: keyOf(`${prefix}-ec`, 'ES256', crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' })),
		ed: keyOf(`${prefix}-ed`, 'EdDSA', crypto.generateKeyPairSync('ed25519')),
		stranger: keyOf(`${prefix}-stranger`, 'RS256', crypto.generateKeyPairSync('rsa', { modulusLength: 2048 })),
	};
}

/** The JWKS document of the given keys (default: rsa, ec, ed). */
export function jwks(keys, which = ['rsa', 'ec', 'ed']) {
	return { keys: which.map((k) => keys[k].jwk) };
}

/** Write jwks(keys, which) to dir/jwks.json (mode 0600); returns the path. */
export function writeJwks(dir, keys, which) {
	const p = path.join(dir, 'jwks.json');
	fs.writeFileSync(p, JSON.stringify(jwks(keys, which)), { mode: 0o600 });
	return p;
}

/** The signature of `input` (a string) for alg with key (or an HMAC secret). */
function signWith(alg, key, input) {
	const data = Buffer.from(input);
	switch (alg) {
	case 'RS256':
	case 'RS384':
	case 'RS512':
		return crypto.sign(`sha${alg.slice(2)}`, data, key.privateKey);
	case 'PS256':
		return crypto.sign('sha256', data, {
			key: key.privateKey, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: 32,
		});
	case 'ES256':
		return crypto.sign('sha256', data, { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
	case 'EdDSA':
		return crypto.sign(null, data, key.privateKey);
	case 'HS256':
		return crypto.createHmac('sha256', key.secret).update(data).digest();
	case 'none':
		return Buffer.alloc(0);
	default:
		throw new Error(`jwt_mint: no signer for ${alg}`);
	}
}

/** Standard claims for an access token valid now, overridden by `claims`. */
export function claimsFor({ issuer = DEFAULT_ISSUER, audience, sub = 'alice', scope = DEFAULT_SCOPE,
	ttl = 300 } = {}, claims = {}) {
	const t = now();
	return { iss: issuer, aud: audience, sub, scope, iat: t - 5, nbf: t - 5, exp: t + ttl,
		jti: crypto.randomUUID(), ...claims };
}

/**
 * A compact JWS: header {alg, kid, typ: 'at+jwt'} merged with `header`
 * (a key whose value is undefined is dropped), payload `claims` (an object,
 * or a string used as is), signed with key for header.alg.
 */
export function mint(key, claims, header = {}) {
	const h = { alg: key.alg, kid: key.kid, typ: 'at+jwt', ...header };
	for (const k of Object.keys(h)) if (h[k] === undefined) delete h[k];
	const input = `${json64(h)}.${json64(claims)}`;
	return `${input}.${b64u(signWith(h.alg, key, input))}`;
}

const bearer = (t) => `Bearer ${t}`;

/** Good tokens, one per accepted algorithm (status 200 from the listener). */
export function goodTokens({ keys, issuer = DEFAULT_ISSUER, audience, sub = 'alice',
	scope = DEFAULT_SCOPE } = {}) {
	const c = () => claimsFor({ issuer, audience, sub, scope });
	return {
		rs256: mint(keys.rsa, c()),
		es256: mint(keys.ec, c()),
		eddsa: mint(keys.ed, c()),
		scpArray: mint(keys.ec, { ...c(), scope: undefined, scp: [scope] }),
		audArray: mint(keys.ec, { ...c(), aud: ['https://other.example', audience] }),
	};
}

/**
 * Every bad shape: name -> { header (the Authorization value, or null for
 * none), status (401 or 403), rule }. The listener answers 401 with
 * WWW-Authenticate: Bearer resource_metadata="..." (403 with
 * error="insufficient_scope").
 */
export function badTokens({ keys, issuer = DEFAULT_ISSUER, audience, sub = 'alice',
	scope = DEFAULT_SCOPE } = {}) {
	const c = (over = {}) => claimsFor({ issuer, audience, sub, scope }, over);
	const t = now();
	const good = mint(keys.rsa, c());
	const [h, p, s] = good.split('.');
	const pem = keys.rsa.publicKey.export({ type: 'spki', format: 'pem' });
	const bad = (header, status, rule) => ({ header, status, rule });
	const B = (tok) => bad(bearer(tok), 401, 'auth.bad_token');
	return {
		missing: bad(null, 401, 'auth.missing_token'),
		emptyBearer: bad('Bearer ', 401, 'auth.missing_token'),
		basicScheme: bad('Basic YWxpY2U6c2VjcmV0', 401, 'auth.bad_token'),
		onePart: B('abcdefghijklmnop'),
		twoParts: B(`${h}.${p}`),
		fourParts: B(`${good}.${s}`),
		badBase64: B(`${h}.${p}.${s.slice(0, -4)}+/==`),
		nonJsonHeader: B(`${b64u('not json')}.${p}.${s}`),
		arrayHeader: B(`${b64u('[1,2]')}.${p}.${s}`),
		duplicateAlg: B(`${b64u('{"alg":"RS256","alg":"none"}')}.${p}.${s}`),
		badTyp: B(mint(keys.rsa, c(), { typ: 'dpop+jwt' })),
		critHeader: B(mint(keys.rsa, c(), { crit: ['exp'] })),
		oversize: B(mint(keys.ec, c({ pad: 'x'.repeat(9000) }))),
		noExp: B(mint(keys.ec, c({ exp: undefined }))),
		badSubject: B(mint(keys.ec, c({ sub: 'a b' }))),
		expired: bad(bearer(mint(keys.ec, c({ iat: t - 7200, nbf: t - 7200, exp: t - 3600 }))), 401, 'auth.expired'),
		notYetValid: bad(bearer(mint(keys.ec, c({ nbf: t + 3600, exp: t + 7200 }))), 401, 'auth.not_yet_valid'),
		issuedInFuture: bad(bearer(mint(keys.ec, c({ iat: t + 3600, nbf: undefined, exp: t + 7200 }))), 401, 'auth.not_yet_valid'),
		wrongIssuer: bad(bearer(mint(keys.ec, c({ iss: 'https://evil.example' }))), 401, 'auth.wrong_issuer'),
		wrongAudience: bad(bearer(mint(keys.ec, c({ aud: 'https://other.example/mcp' }))), 401, 'auth.wrong_audience'),
		wrongAudienceArray: bad(bearer(mint(keys.ec, c({ aud: ['https://other.example/mcp'] }))), 401, 'auth.wrong_audience'),
		algNone: bad(bearer(mint(keys.rsa, c(), { alg: 'none' })), 401, 'auth.bad_algorithm'),
		algNoneWithSignature: bad(bearer(`${json64({ alg: 'none', kid: keys.rsa.kid })}.${p}.${s}`), 401, 'auth.bad_algorithm'),
		noAlg: bad(bearer(`${json64({ kid: keys.rsa.kid })}.${p}.${s}`), 401, 'auth.bad_algorithm'),
		hs256WithRsaPublicKey: bad(bearer(mint({ secret: pem, kid: keys.rsa.kid }, c(), { alg: 'HS256' })), 401, 'auth.bad_algorithm'),
		hs256WithRsaJwk: bad(bearer(mint({ secret: JSON.stringify(keys.rsa.jwk), kid: keys.rsa.kid }, c(), { alg: 'HS256' })), 401, 'auth.bad_algorithm'),
		ps256OnRs256Key: bad(bearer(mint(keys.rsa, c(), { alg: 'PS256' })), 401, 'auth.bad_algorithm'),
		rsaAlgOnEcKey: bad(bearer(mint(keys.rsa, c(), { kid: keys.ec.kid })), 401, 'auth.bad_algorithm'),
		noKid: bad(bearer(mint(keys.rsa, c(), { kid: undefined })), 401, 'auth.unknown_key'),
		unknownKid: bad(bearer(mint(keys.stranger, c())), 401, 'auth.unknown_key'),
		strangerUnderKnownKid: bad(bearer(mint(keys.stranger, c(), { kid: keys.rsa.kid })), 401, 'auth.bad_signature'),
		truncatedSignature: bad(bearer(`${h}.${p}.${s.slice(0, -4)}`), 401, 'auth.bad_signature'),
		flippedSignature: bad(bearer(`${h}.${p}.${s.slice(0, -5)}${s.at(-5) === 'A' ? 'B' : 'A'}${s.slice(-4)}`), 401, 'auth.bad_signature'),
		swappedPayload: bad(bearer(`${h}.${json64(c({ sub: 'admin' }))}.${s}`), 401, 'auth.bad_signature'),
		noScope: bad(bearer(mint(keys.ec, c({ scope: 'openid profile' }))), 403, 'auth.insufficient_scope'),
		scopePrefixOnly: bad(bearer(mint(keys.ec, c({ scope: `${scope}x` }))), 403, 'auth.insufficient_scope'),
	};
}

/** A static token as moat accepts it (64 hex characters: openssl rand -hex 32). */
export function staticToken() {
	return crypto.randomBytes(32).toString('hex');
}
