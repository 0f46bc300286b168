import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { before, describe, it } from 'node:test';
import { base64url, decodeJwt, decodeProtectedHeader, generateKeyPair, importJWK, SignJWT, type CryptoKey } from 'jose';
import { createTokenVerifier, type TokenVerifier } from '@baton/kit/auth';
import { KitError } from '@baton/kit/errors';
import { createSuiteScope } from '@baton/kit/testing';
import { signAccessToken } from '../src/tokens/access-tokens.ts';
import { openActiveSigningKey } from '../src/tokens/signing-keys.ts';
import { adminToken, startUsers, testKeyEncryptionKey, uniqueEmail, type Problem, type TestUsers } from './support/users.ts';

const password = 'correct horse battery staple';
const issuer = 'baton-users';
// What users puts in `aud` by default; the kit verifier here checks as the gateway does.
const audience = ['gateway', 'users', 'inventory', 'orders', 'notifications'];
const nowSeconds = () => Math.floor(Date.now() / 1_000);

function encodeSegment(value: unknown): string {
  return base64url.encode(JSON.stringify(value));
}

void describe('access tokens that must be refused', () => {
  const suite = createSuiteScope();
  let users: TestUsers;
  let verifier: TokenVerifier;
  let userId: string;
  let token: string;
  let serviceKey: { kid: string; privateKey: CryptoKey };

  before(async () => {
    users = await startUsers(suite);
    verifier = createTokenVerifier({ jwksUrl: `${users.url}/.well-known/jwks.json`, issuer, audience: 'gateway' });
    ({ user: { id: userId }, token } = await users.client.signedIn({ email: uniqueEmail(), password, name: 'Target' }));
    const active = await openActiveSigningKey(users.service.db, Buffer.from(testKeyEncryptionKey, 'base64'), {});
    assert.ok(active);
    serviceKey = { kid: active.kid, privateKey: await importJWK(active.privateJwk, 'EdDSA') as CryptoKey };
  });

  /** Both verifiers, the kit's (over the JWKS) and the service's own (/me), refuse the token. */
  async function assertRefused(bad: string, reason = 'invalid_token') {
    await assert.rejects(verifier.verify(bad), (error: unknown) => {
      assert.ok(error instanceof KitError);
      assert.equal(error.code, 'unauthenticated');
      assert.equal(error.reason, reason);
      return true;
    });
    const answer = await users.client.me(bad);
    assert.equal(answer.status, 401, JSON.stringify(answer.body));
    const problem = answer.body as unknown as Problem;
    assert.equal(problem.code, 'unauthenticated');
    assert.equal(problem.reason, reason);
    // The caller learns that the token is bad, never what jose said about it.
    assert.doesNotMatch(problem.detail, /JWS|JWT|signature verification|alg/i);
  }

  void it('accepts the genuine token (the control for everything below)', async () => {
    assert.equal((await verifier.verify(token)).userId, userId);
    assert.equal((await users.client.me(token)).status, 200);
  });

  void it('refuses an expired token signed with the service key', async () => {
    const expired = await signAccessToken(serviceKey, { userId, issuer, audience, ttlSeconds: 900, issuedAtSeconds: nowSeconds() - 3_600 });
    await assertRefused(expired, 'token_expired');
  });

  void it('accepts a token just past its expiry within the clock tolerance, and refuses it past that', async () => {
    const justExpired = await signAccessToken(serviceKey, { userId, issuer, audience, ttlSeconds: 60, issuedAtSeconds: nowSeconds() - 62 });
    assert.equal((await verifier.verify(justExpired)).userId, userId);
    const longExpired = await signAccessToken(serviceKey, { userId, issuer, audience, ttlSeconds: 60, issuedAtSeconds: nowSeconds() - 70 });
    await assertRefused(longExpired, 'token_expired');
  });

  void it('refuses a token whose signature was tampered with', async () => {
    const [header, payload, signature = ''] = token.split('.');
    const middle = Math.floor(signature.length / 2);
    const flipped = signature[middle] === 'A' ? 'B' : 'A';
    await assertRefused(`${header}.${payload}.${signature.slice(0, middle)}${flipped}${signature.slice(middle + 1)}`);
  });

  void it('refuses a token whose claims were changed after signing', async () => {
    const [header, , signature] = token.split('.');
    const claims = { ...decodeJwt(token), sub: randomUUID() };
    await assertRefused(`${header}.${encodeSegment(claims)}.${signature}`);
  });

  void it('refuses an unsigned token (alg: none)', async () => {
    const header = { alg: 'none', typ: 'at+jwt', kid: serviceKey.kid };
    const claims = { ...decodeJwt(token), sub: randomUUID() };
    await assertRefused(`${encodeSegment(header)}.${encodeSegment(claims)}.`);
  });

  void it('refuses HS256 tokens, with a made-up secret or with the public key as the secret', async () => {
    const claims = decodeJwt(token);
    const jwks = await users.client.jwks();
    const publicX = jwks.body.keys.find((key) => key.kid === serviceKey.kid)?.x ?? '';
    for (const secret of [randomBytes(32), new TextEncoder().encode(publicX), base64url.decode(publicX)]) {
      const hs256 = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: serviceKey.kid }).sign(secret);
      await assertRefused(hs256);
    }
  });

  void it('refuses a token signed by another Ed25519 key that claims the service key id', async () => {
    const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    await assertRefused(await signAccessToken({ kid: serviceKey.kid, privateKey }, { userId, issuer, audience, ttlSeconds: 900, issuedAtSeconds: nowSeconds() }));
  });

  void it('refuses a token from another issuer or for another audience, even signed with the service key', async () => {
    await assertRefused(await signAccessToken(serviceKey, { userId, issuer: 'someone-else', audience, ttlSeconds: 900, issuedAtSeconds: nowSeconds() }));
    await assertRefused(await signAccessToken(serviceKey, { userId, issuer, audience: 'another-shop', ttlSeconds: 900, issuedAtSeconds: nowSeconds() }));
  });

  void it('refuses a token made for other services: each service checks its own name in aud', async () => {
    // For orders only: neither the gateway's verifier nor users (its own name) takes it; an orders verifier does.
    const forOrders = await signAccessToken(serviceKey, { userId, issuer, audience: ['orders'], ttlSeconds: 900, issuedAtSeconds: nowSeconds() });
    await assertRefused(forOrders);
    const ordersVerifier = createTokenVerifier({ jwksUrl: `${users.url}/.well-known/jwks.json`, issuer, audience: 'orders' });
    assert.equal((await ordersVerifier.verify(forOrders)).userId, userId);
    // The old shared audience is no longer anyone's.
    await assertRefused(await signAccessToken(serviceKey, { userId, issuer, audience: 'baton', ttlSeconds: 900, issuedAtSeconds: nowSeconds() }));
  });

  /** A token as users signs them, with the service key, and any claim overridden (undefined: left out). */
  function forge(claims: Record<string, unknown>): Promise<string> {
    const iat = nowSeconds();
    const all: Record<string, unknown> = { iss: issuer, aud: audience, sub: userId, jti: randomUUID(), iat, exp: iat + 900, ...claims };
    for (const key of Object.keys(all)) if (all[key] === undefined) delete all[key];
    return new SignJWT(all).setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: serviceKey.kid }).sign(serviceKey.privateKey);
  }

  void it('accepts a forged-but-well-formed token (the control for the claim checks below)', async () => {
    assert.equal((await verifier.verify(await forge({}))).userId, userId);
    assert.equal((await users.client.me(await forge({}))).status, 200);
  });

  void it('refuses a token dated a year ahead that expires in ten years (the finding)', async () => {
    const year = 365 * 86_400;
    await assertRefused(await forge({ iat: nowSeconds() + year, exp: nowSeconds() + 10 * year }));
  });

  void it('refuses a token whose iat is ahead of now beyond the clock tolerance, and takes one within it', async () => {
    await assertRefused(await forge({ iat: nowSeconds() + 60 }));
    assert.equal((await verifier.verify(await forge({ iat: nowSeconds() + 2 }))).userId, userId);
  });

  void it('refuses a token without iat', async () => {
    await assertRefused(await forge({ iat: undefined }));
  });

  void it('refuses a token that lives longer than the maximum age (exp − iat), though now is within it', async () => {
    await assertRefused(await forge({ exp: nowSeconds() + 3_600 + 60 }));
  });

  void it('refuses a token issued longer ago than the maximum age, though its exp is ahead', async () => {
    // Its exp is a minute ahead, but iat is 3700 s ago, past the 3600 s allowed: expired to the caller.
    await assertRefused(await forge({ iat: nowSeconds() - 3_700, exp: nowSeconds() + 60 }), 'token_expired');
  });

  void it('refuses a token not valid yet (nbf ahead beyond the tolerance), and takes it once nbf is past', async () => {
    await assertRefused(await forge({ nbf: nowSeconds() + 120 }));
    assert.equal((await verifier.verify(await forge({ nbf: nowSeconds() - 1 }))).userId, userId);
  });

  void it('refuses a JWT that is not an access token (no typ), even signed with the service key', async () => {
    const notAccess = await new SignJWT({ sub: userId, jti: randomUUID() }).setProtectedHeader({ alg: 'EdDSA', kid: serviceKey.kid })
      .setIssuer(issuer).setAudience(audience).setIssuedAt().setExpirationTime('5m').sign(serviceKey.privateKey);
    await assertRefused(notAccess);
  });
});

void describe('signing key rotation', () => {
  const suite = createSuiteScope();
  let users: TestUsers;
  before(async () => {
    users = await startUsers(suite, { ADMIN_TOKEN: adminToken });
  });

  void it('refuses to rotate without the admin token, or with a wrong one', async () => {
    const before = await users.client.jwks();
    for (const headers of [{} as Record<string, string>, { authorization: 'Bearer wrong-admin-token-0123456789' }, { authorization: `Bearer ${adminToken}x` }, { authorization: adminToken }]) {
      const answer = await users.client.rotate(headers);
      assert.equal(answer.status, 401, `for ${JSON.stringify(headers)}`);
      assert.equal((answer.body as unknown as Problem).code, 'unauthenticated');
    }
    assert.deepEqual((await users.client.jwks()).body, before.body);
    const onPublicPort = await users.client.send('POST', '/admin/keys/rotate', { headers: { authorization: `Bearer ${adminToken}` } });
    assert.equal(onPublicPort.status, 404, 'the public port has no admin route, even with the token');
    assert.deepEqual((await users.client.jwks()).body, before.body);
  });

  void it('signs with a new key after a rotation, and one verifier accepts tokens of both keys without a restart', async () => {
    // A short cooldown so the test need not wait long: right after a fetch, the verifier refuses
    // unknown key ids without fetching again, for this long.
    const cooldownMs = 200;
    const verifier = createTokenVerifier({ jwksUrl: `${users.url}/.well-known/jwks.json`, issuer, audience: 'orders', cooldownMs });
    const email = uniqueEmail();
    const { user, token: tokenA } = await users.client.signedIn({ email, password, name: 'Rotating' });
    assert.equal((await verifier.verify(tokenA)).userId, user.id);
    const kidA = decodeProtectedHeader(tokenA).kid;

    const rotated = await users.client.rotate();
    assert.equal(rotated.status, 201, JSON.stringify(rotated.body));
    assert.notEqual(rotated.body.kid, kidA);

    const login = await users.client.login(email, password);
    const tokenB = login.body.accessToken;
    assert.equal(decodeProtectedHeader(tokenB).kid, rotated.body.kid);

    const published = (await users.client.jwks()).body.keys.map((key) => key.kid);
    assert.deepEqual(published, [rotated.body.kid, kidA]);

    await sleep(cooldownMs + 50);
    assert.equal((await verifier.verify(tokenB)).userId, user.id);
    assert.equal((await verifier.verify(tokenA)).userId, user.id);
    assert.equal((await users.client.me(tokenA)).status, 200);
    assert.equal((await users.client.me(tokenB)).status, 200);
  });

  void it('erases the private half of a retired key, and keeps exactly one key active', async () => {
    await users.client.rotate();
    const { rows } = await users.service.db.query<{ retired_at: Date | null; has_private: boolean }>(
      'select retired_at, sealed_private_key is not null as has_private from signing_keys');
    assert.equal(rows.filter((row) => row.retired_at === null).length, 1);
    for (const row of rows) assert.equal(row.has_private, row.retired_at === null);
  });

  void it('stops publishing a retired key once every token it signed has expired', async () => {
    const { token } = await users.client.signedIn({ email: uniqueEmail(), password, name: 'Old key' });
    const kid = decodeProtectedHeader(token).kid;
    await users.client.rotate();
    assert.ok((await users.client.jwks()).body.keys.some((key) => key.kid === kid));
    // As if the rotation had been two hours ago: past the token lifetime (15 min) and the slack.
    await users.service.db.query(`update signing_keys set retired_at = now() - interval '2 hours' where kid = $1`, [kid]);
    assert.ok(!(await users.client.jwks()).body.keys.some((key) => key.kid === kid));
    assert.equal((await users.client.me(token)).status, 401);
  });
});
