import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it, test } from 'node:test';
import { base64url, calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import { Code, KitError } from '../errors/index.ts';
import { createHttpClient } from '../http/index.ts';
import { addCleanup, createSilentLogger } from '../testing/index.ts';
import { requireRole } from './require-role.ts';
import { baseUrlOf, createTokenVerifier, type TokenVerifierOptions } from './token-verifier.ts';

const issuer = 'test-issuer';
const audience = 'test-audience';

interface TestKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

async function createTestKey(): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
  const jwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(jwk);
  return { kid, privateKey, publicJwk: { ...jwk, kid, alg: 'EdDSA', use: 'sig' } };
}

const nowSeconds = () => Math.floor(Date.now() / 1_000);

/** A token as the users service signs them, with any part overridable. */
function mint(key: TestKey, { claims = {}, header = {} }: { claims?: JWTPayload; header?: Record<string, unknown> } = {}): Promise<string> {
  const iat = nowSeconds();
  return new SignJWT({ iss: issuer, aud: audience, sub: 'user-1', jti: randomUUID(), iat, exp: iat + 900, ...claims })
    .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: key.kid, ...header })
    .sign(key.privateKey);
}

/** A JWKS endpoint whose keys, delay and health a test changes as it goes, counting fetches. */
interface JwksServer {
  url: string;
  keys: JWK[];
  fetches: number;
  delayMs: number;
  status: number;
  close(): Promise<void>;
}

async function startJwksServer(keys: JWK[]): Promise<JwksServer> {
  const state = { keys, fetches: 0, delayMs: 0, status: 200 };
  const server: Server = createServer(function serveJwks(_request, response) {
    state.fetches++;
    setTimeout(() => {
      response.writeHead(state.status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(state.status === 200 ? { keys: state.keys } : { error: 'down' }));
    }, state.delayMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  });
}

async function assertRefused(promise: Promise<unknown>, code: string, reason: string) {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof KitError, `not a KitError: ${String(error)}`);
    assert.equal(error.code, code);
    assert.equal(error.reason, reason);
    // The message is for the caller: never jose's own words about what it parsed.
    assert.doesNotMatch(error.message, /JWS|JWT|JWK|"alg"|claim/);
    return true;
  });
}

void describe('createTokenVerifier', () => {
  let key: TestKey;
  let jwks: JwksServer;
  const options = (extra: Partial<TokenVerifierOptions> = {}): TokenVerifierOptions => ({ jwksUrl: jwks.url, issuer, audience, ...extra });

  before(async () => {
    key = await createTestKey();
    jwks = await startJwksServer([key.publicJwk]);
  });
  after(() => jwks.close());

  void it('answers who a valid token speaks for', async () => {
    const jti = randomUUID();
    const iat = nowSeconds();
    const exp = iat + 600;
    const verified = await createTokenVerifier(options()).verify(await mint(key, { claims: { sub: 'user-42', jti, iat, exp } }));
    assert.deepEqual(verified, { userId: 'user-42', tokenId: jti, issuedAt: new Date(iat * 1_000), expiresAt: new Date(exp * 1_000), roles: [] });
  });

  void it('reads the roles it knows from the roles claim, and drops any other value', async () => {
    const claims = (roles: unknown) => ({ sub: 'user-7', jti: randomUUID(), iat: nowSeconds(), exp: nowSeconds() + 600, roles });
    const verifier = createTokenVerifier(options());
    assert.deepEqual((await verifier.verify(await mint(key, { claims: claims(['staff']) }))).roles, ['staff']);
    assert.deepEqual((await verifier.verify(await mint(key, { claims: claims(['admin', 'staff', 7]) }))).roles, ['staff'], 'an unknown role is not carried on');
    assert.deepEqual((await verifier.verify(await mint(key, { claims: claims('staff') }))).roles, [], 'a claim that is not a list grants nothing');
    const staff = await verifier.verify(await mint(key, { claims: claims(['staff']) }));
    assert.equal(requireRole(staff, 'staff'), staff);
    const shopper = await verifier.verify(await mint(key, { claims: claims([]) }));
    assert.throws(() => requireRole(shopper, 'staff'), (error: KitError) => error.code === Code.PermissionDenied && error.reason === 'staff_only');
  });

  void it('refuses alg none and HS256 before it fetches any key', async () => {
    const verifier = createTokenVerifier(options());
    const fetchesBefore = jwks.fetches;
    const claims = { iss: issuer, aud: audience, sub: 'user-1', jti: randomUUID(), iat: nowSeconds(), exp: nowSeconds() + 900 };
    const none = `${base64url.encode(JSON.stringify({ alg: 'none', typ: 'at+jwt', kid: key.kid }))}.${base64url.encode(JSON.stringify(claims))}.`;
    await assertRefused(verifier.verify(none), 'unauthenticated', 'invalid_token');
    const hs256 = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: key.kid }).sign(randomBytes(32));
    await assertRefused(verifier.verify(hs256), 'unauthenticated', 'invalid_token');
    assert.equal(jwks.fetches, fetchesBefore);
  });

  void it('says token_expired for an expired token, and allows the clock tolerance', async () => {
    const verifier = createTokenVerifier(options({ clockToleranceSeconds: 30 }));
    const past = nowSeconds() - 1_000;
    await assertRefused(verifier.verify(await mint(key, { claims: { iat: past, exp: nowSeconds() - 60 } })), 'unauthenticated', 'token_expired');
    await verifier.verify(await mint(key, { claims: { iat: past, exp: nowSeconds() - 10 } }));
  });

  void it('refuses a wrong issuer, a wrong audience, a missing typ, sub or jti, and garbage', async () => {
    const verifier = createTokenVerifier(options());
    const bad = [
      await mint(key, { claims: { iss: 'someone-else' } }),
      await mint(key, { claims: { aud: 'another-audience' } }),
      await mint(key, { header: { typ: 'JWT' } }),
      await mint(key, { claims: { sub: undefined } }),
      await mint(key, { claims: { jti: undefined } }),
      await mint(key, { claims: { exp: undefined } }),
      'not.a.token',
      '',
    ];
    for (const token of bad) await assertRefused(verifier.verify(token), 'unauthenticated', 'invalid_token');
  });

  void it('fetches again for an unknown kid once the cooldown is over, so a new key works without a restart', async () => {
    const cooldownMs = 300;
    const verifier = createTokenVerifier(options({ cooldownMs }));
    await verifier.verify(await mint(key));
    const fetchesAfterFirst = jwks.fetches;

    const next = await createTestKey();
    jwks.keys = [next.publicJwk, key.publicJwk];
    const tokenOfNextKey = await mint(next);
    // Within the cooldown an unknown kid is refused without a fetch: forged kids cannot make
    // the verifier hammer the key server.
    await assertRefused(verifier.verify(tokenOfNextKey), 'unauthenticated', 'invalid_token');
    assert.equal(jwks.fetches, fetchesAfterFirst);

    await sleep(cooldownMs + 50);
    assert.equal((await verifier.verify(tokenOfNextKey)).userId, 'user-1');
    assert.equal(jwks.fetches, fetchesAfterFirst + 1);
    await verifier.verify(await mint(key));
    jwks.keys = [key.publicJwk];
  });

  void it('says unavailable, not unauthenticated, when the key set cannot be fetched', async () => {
    const token = await mint(key);
    try {
      jwks.status = 500;
      await assertRefused(createTokenVerifier(options()).verify(token), 'unavailable', 'keys_unavailable');
      jwks.status = 200;
      jwks.delayMs = 500;
      await assertRefused(createTokenVerifier(options({ fetchTimeoutMs: 100 })).verify(token), 'unavailable', 'keys_unavailable');
    } finally {
      jwks.status = 200;
      jwks.delayMs = 0;
    }
    const nobody = await startJwksServer([]);
    const closedUrl = nobody.url;
    await nobody.close();
    await assertRefused(createTokenVerifier({ jwksUrl: closedUrl, issuer, audience }).verify(token), 'unavailable', 'keys_unavailable');
  });
});

void describe('the verifier\'s cache of verified tokens', () => {
  let key: TestKey;
  let jwks: JwksServer;
  const options = (extra: Partial<TokenVerifierOptions> = {}): TokenVerifierOptions => ({ jwksUrl: jwks.url, issuer, audience, ...extra });

  before(async () => {
    key = await createTestKey();
    jwks = await startJwksServer([key.publicJwk]);
  });
  after(() => jwks.close());

  void it('verifies a token once: the next use answers what it remembered', async () => {
    const verifier = createTokenVerifier(options());
    const token = await mint(key);
    const first = await verifier.verify(token);
    assert.equal(await verifier.verify(token), first, 'the same answer, not a new verification\'s');
  });

  void it('refuses a token that ends as a remembered one (its signature) with other claims: the cache knows a token only whole', async () => {
    const verifier = createTokenVerifier(options());
    const token = await mint(key, { claims: { sub: 'user-1' } });
    await verifier.verify(token);
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const forged = [header, Buffer.from(JSON.stringify({ ...claims, sub: 'user-2', roles: ['staff'] })).toString('base64url'), signature].join('.');
    await assertRefused(verifier.verify(forged), 'unauthenticated', 'invalid_token');
    assert.equal((await verifier.verify(token)).userId, 'user-1');
  });

  void it('refuses a remembered token once it has expired, for the reason a verification gives', async (t) => {
    const verifier = createTokenVerifier(options({ clockToleranceSeconds: 5 }));
    await verifier.verify(await mint(key)); // the key set fetched with the real clock
    // The cache forgets a token by a timer, and the verification reads the clock: both mocked.
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: Date.now() });
    const iat = nowSeconds();
    const token = await mint(key, { claims: { iat, exp: iat + 60 } });
    await verifier.verify(token);
    t.mock.timers.tick((iat + 60 + 4) * 1_000 - Date.now());
    await verifier.verify(token);
    t.mock.timers.tick(2_000);
    await assertRefused(verifier.verify(token), 'unauthenticated', 'token_expired');
  });

  void it('refuses a remembered token once it is revoked', async (t) => {
    const token = await mint(key, { claims: { jti: 'revoke-me' } });
    const revoked: Array<{ tokenId: string; expiresAt: string }> = [];
    const feed = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ tokens: revoked, users: [], cursor: String(revoked.length), more: false }));
    });
    await new Promise<void>((resolve) => feed.listen(0, '127.0.0.1', resolve));
    const client = createHttpClient({ name: 'users', urls: [`http://127.0.0.1:${(feed.address() as AddressInfo).port}`], logger: createSilentLogger() });
    const verifier = createTokenVerifier(options({ revocations: { client, pollIntervalMs: 20, staleAfterMs: 10_000 } }));
    addCleanup(t, async () => {
      verifier.close();
      await client.close();
      feed.closeAllConnections();
      await new Promise<void>((resolve) => feed.close(() => resolve()));
    });
    await verifier.verify(token);
    await verifier.verify(token);
    revoked.push({ tokenId: 'revoke-me', expiresAt: new Date(Date.now() + 600_000).toISOString() });
    let refused: unknown;
    for (let i = 0; i < 250 && refused === undefined; i++) {
      refused = await verifier.verify(token).then(() => undefined, (error: unknown) => error);
      if (refused === undefined) await sleep(20);
    }
    await assertRefused(Promise.reject(refused), 'unauthenticated', 'token_revoked');
  });
});

void test('a dns: users target is fetched from by its name: the key set of a headless Service\'s pods', () => {
  assert.equal(baseUrlOf('dns:users-pods.baton.svc.cluster.local:8081'), 'http://users-pods.baton.svc.cluster.local:8081');
  assert.equal(baseUrlOf('http://127.0.0.1:8081'), 'http://127.0.0.1:8081');
  assert.equal(new URL('/.well-known/jwks.json', baseUrlOf('dns:users.baton.test:8081')).href, 'http://users.baton.test:8081/.well-known/jwks.json');
});
