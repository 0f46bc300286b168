import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { SignJWT } from 'jose';
import { Code, KitError } from '../../errors/index.ts';
import { generateServiceKeyPair, parseServiceKey, parseServiceTrust, type ServiceKey, type ServiceTrust } from './keys.ts';
import { createServiceTokenMinter, mintServiceToken } from './minter.ts';
import { checkCaller } from './service-identity.ts';
import { createServiceTokenVerifier } from './verifier.ts';

function keyOf(pair: ReturnType<typeof generateServiceKeyPair>): ServiceKey {
  const parsed = parseServiceKey(JSON.stringify(pair.privateJwk));
  assert.ok(!('problem' in parsed));
  return parsed;
}

function trustOf(entries: Record<string, Array<ReturnType<typeof generateServiceKeyPair>>>): ServiceTrust {
  const parsed = parseServiceTrust(JSON.stringify(Object.fromEntries(Object.entries(entries).map(([caller, pairs]) => [caller, pairs.map((pair) => pair.publicJwk)]))));
  assert.ok(!('problem' in parsed));
  return parsed;
}

const orders = generateServiceKeyPair('orders');
const gateway = generateServiceKeyPair('gateway');
const nowSeconds = () => Math.floor(Date.now() / 1000);

async function refused(promise: Promise<unknown>): Promise<KitError> {
  try {
    await promise;
  } catch (error) {
    return KitError.from(error);
  }
  return assert.fail('the token was accepted');
}

void describe('service tokens: minting', () => {
  test('a caller reuses its token for a callee, renews it in the background near its end, and mints anew after it', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000_000_000 });
    const minter = createServiceTokenMinter({ service: 'orders', key: keyOf(orders), lifetimeSeconds: 300, renewBeforeSeconds: 60 });
    const first = await minter.tokenFor('inventory');
    assert.equal(minter.tokenFor('inventory'), first, 'the cached token, as a plain string: no signing, no promise');
    assert.notEqual(await minter.tokenFor('users'), first, 'one token per callee');

    // Signing runs off the thread: wait for it on the real clock (the mocked one stands still).
    const waitWhileFirst = async (forMs: number) => {
      const untilMs = performance.now() + forMs;
      while (minter.tokenFor('inventory') === first && performance.now() < untilMs) await new Promise((resolve) => setImmediate(resolve));
    };
    t.mock.timers.tick(239_000); // 61 s left: nothing to do yet
    await waitWhileFirst(100); // a signature takes a millisecond or so
    assert.equal(minter.tokenFor('inventory'), first, 'no renewal began');

    t.mock.timers.tick(11_000); // 50 s left: renewal starts, the old token still goes
    assert.equal(minter.tokenFor('inventory'), first);
    await waitWhileFirst(5_000);
    const renewed = minter.tokenFor('inventory');
    assert.equal(typeof renewed, 'string');
    assert.notEqual(renewed, first, 'the next call has the renewed token');

    t.mock.timers.tick(10 * 60_000); // long past: nothing valid, the call waits for a new one
    const fresh = minter.tokenFor('inventory');
    assert.equal(typeof fresh, 'object');
    assert.notEqual(await fresh, renewed);
  });

  test('a token is not sent in its last second, nor after the callee refused it', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000_000_000 });
    const minter = createServiceTokenMinter({ service: 'orders', key: keyOf(orders), lifetimeSeconds: 300, renewBeforeSeconds: 0 });
    const first = await minter.tokenFor('inventory');
    t.mock.timers.tick(298_999);
    assert.equal(minter.tokenFor('inventory'), first);
    t.mock.timers.tick(1);
    const next = minter.tokenFor('inventory');
    assert.equal(typeof next, 'object', 'a new one is signed');
    const second = await next;
    minter.forget?.('inventory');
    const third = minter.tokenFor('inventory');
    assert.equal(typeof third, 'object');
    assert.notEqual(await third, second);
  });

  test('its token says who calls whom, with its own typ, and lives the lifetime', async () => {
    const minter = createServiceTokenMinter({ service: 'orders', key: keyOf(orders) });
    const token = await minter.tokenFor('inventory');
    const [header, payload] = token.split('.').slice(0, 2).map((part) => JSON.parse(Buffer.from(part, 'base64url').toString()) as Record<string, unknown>);
    assert.deepEqual(header, { alg: 'EdDSA', typ: 'svc+jwt', kid: orders.privateJwk.kid });
    assert.equal(payload?.iss, 'orders');
    assert.equal(payload?.sub, 'orders');
    assert.equal(payload?.aud, 'inventory');
    assert.equal(Number(payload?.exp) - Number(payload?.iat), 300);
    assert.match(String(payload?.jti), /^[\w-]{16}$/);
  });
});

void describe('service tokens: verifying', () => {
  const verifier = () => createServiceTokenVerifier({ service: 'inventory', trust: trustOf({ orders: [orders], gateway: [gateway] }) });
  const mint = (options: { service?: string; pair?: ReturnType<typeof generateServiceKeyPair>; audience?: string; issuedAtSeconds?: number; lifetimeSeconds?: number } = {}) =>
    mintServiceToken({ service: options.service ?? 'orders', key: keyOf(options.pair ?? orders), audience: options.audience ?? 'inventory', issuedAtSeconds: options.issuedAtSeconds ?? nowSeconds(), lifetimeSeconds: options.lifetimeSeconds ?? 300 });

  test('accepts a caller\'s token, then knows it without verifying again until it expires', async () => {
    const check = verifier();
    const token = await mint();
    assert.equal(check.cached(token), undefined);
    assert.equal(await check.verify(token), 'orders');
    assert.equal(check.cached(token), 'orders');
  });

  test('a token that ends as one it knows, with other claims, is not known: it is verified, and refused', async () => {
    const check = verifier();
    const token = await mint();
    assert.equal(await check.verify(token), 'orders');
    // The same signature (so the same last characters) under a payload naming the gateway.
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const forged = [header, Buffer.from(JSON.stringify({ ...claims, iss: 'gateway', sub: 'gateway' })).toString('base64url'), signature].join('.');
    assert.equal(forged.slice(-16), token.slice(-16));
    assert.equal(check.cached(forged), undefined);
    assert.equal((await refused(check.verify(forged))).reason, 'service_token_invalid');
    assert.equal(check.cached(token), 'orders');
  });

  test('forgets a remembered token once it has expired', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: Date.now() });
    const check = createServiceTokenVerifier({ service: 'inventory', trust: trustOf({ orders: [orders] }) });
    const token = await mint({ issuedAtSeconds: nowSeconds() });
    await check.verify(token);
    t.mock.timers.tick(329_000); // before exp and the clock skew
    assert.equal(check.cached(token), 'orders');
    t.mock.timers.tick(2_000); // past them
    assert.equal(check.cached(token), undefined);
    assert.equal((await refused(check.verify(token))).code, Code.Unauthenticated);
  });

  test('remembers a bounded number of tokens, the oldest going first', async () => {
    const check = createServiceTokenVerifier({ service: 'inventory', trust: trustOf({ orders: [orders] }), cacheSize: 2 });
    const tokens = await Promise.all([mint(), mint(), mint()]);
    for (const token of tokens) await check.verify(token);
    assert.equal(check.cached(tokens[0] ?? ''), undefined);
    assert.equal(check.cached(tokens[2] ?? ''), 'orders');
  });

  const refusals: Array<[string, () => Promise<string>]> = [
    ['an expired token', () => mint({ issuedAtSeconds: nowSeconds() - 3_600 })],
    ['a token issued an hour ahead', () => mint({ issuedAtSeconds: nowSeconds() + 3_600 })],
    ['a token claiming a lifetime longer than the maximum', () => mint({ lifetimeSeconds: 3_600 })],
    ['a token for another audience', () => mint({ audience: 'users' })],
    ['a token of a caller it does not trust at all', () => mint({ service: 'notifications', pair: generateServiceKeyPair('notifications') })],
    ['a token naming orders signed by a key not trusted for it', () => mint({ pair: generateServiceKeyPair('orders') })],
    ['a token naming orders signed with the gateway\'s key (and its kid)', () => mint({ pair: gateway })],
    ['a tampered token', async () => `${(await mint()).slice(0, -4)}AAAA`],
    ['something that is no JWT', async () => 'not-a-token'],
    ['a JWT of the orders key with a user access token\'s typ', () => new SignJWT({}).setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: orders.privateJwk.kid })
      .setIssuer('orders').setSubject('orders').setAudience('inventory').setIssuedAt().setExpirationTime('5m').setJti('x').sign(keyOf(orders).privateKey)],
    ['a JWT of the orders key without a jti', () => new SignJWT({}).setProtectedHeader({ alg: 'EdDSA', typ: 'svc+jwt', kid: orders.privateJwk.kid })
      .setIssuer('orders').setSubject('orders').setAudience('inventory').setIssuedAt().setExpirationTime('5m').sign(keyOf(orders).privateKey)],
    ['a JWT of the orders key whose subject is another service', () => new SignJWT({}).setProtectedHeader({ alg: 'EdDSA', typ: 'svc+jwt', kid: orders.privateJwk.kid })
      .setIssuer('orders').setSubject('gateway').setAudience('inventory').setIssuedAt().setExpirationTime('5m').setJti('x').sign(keyOf(orders).privateKey)],
    ['an HS256 token keyed with the public key', () => new SignJWT({}).setProtectedHeader({ alg: 'HS256', typ: 'svc+jwt', kid: orders.privateJwk.kid })
      .setIssuer('orders').setSubject('orders').setAudience('inventory').setIssuedAt().setExpirationTime('5m').setJti('x').sign(Buffer.from(orders.publicJwk.x))],
  ];
  for (const [name, make] of refusals) {
    test(`refuses ${name} as unauthenticated`, async () => {
      const error = await refused(verifier().verify(await make()));
      assert.equal(error.code, Code.Unauthenticated);
      assert.equal(error.reason, 'service_token_invalid');
    });
  }

  test('checkCaller: public lets anyone in; no token is 401; a caller the route does not name is 403', async () => {
    const check = verifier();
    assert.equal(checkCaller(check, 'public', undefined), undefined);
    assert.equal(KitError.from(catching(() => checkCaller(check, ['orders'], undefined))).reason, 'service_token_required');
    const token = await mint({ service: 'gateway', pair: gateway });
    const denied = await refused(Promise.resolve().then(() => checkCaller(check, ['orders'], token)));
    assert.equal(denied.code, Code.PermissionDenied);
    assert.equal(await checkCaller(check, 'any-service', token), 'gateway');
    assert.equal(checkCaller(check, ['gateway'], token), 'gateway', 'a known token answers at once, with no promise');
  });
});

void describe('service keys in config', () => {
  test('SERVICE_KEY must be a private Ed25519 JWK with a kid', () => {
    assert.ok('problem' in parseServiceKey(JSON.stringify(orders.publicJwk)));
    assert.ok('problem' in parseServiceKey(JSON.stringify({ ...orders.privateJwk, kid: undefined })));
    assert.ok('problem' in parseServiceKey('not json'));
    assert.equal((parseServiceKey(JSON.stringify(orders.privateJwk)) as ServiceKey).kid, orders.privateJwk.kid);
  });

  test('SERVICE_TRUST holds public keys only, with a kid each, several per caller during a rotation', () => {
    assert.ok('problem' in parseServiceTrust(JSON.stringify({ orders: [orders.privateJwk] })), 'a private key is refused');
    assert.ok('problem' in parseServiceTrust(JSON.stringify({ orders: [] })));
    assert.ok('problem' in parseServiceTrust(JSON.stringify([orders.publicJwk])));
    const next = generateServiceKeyPair('orders');
    const trust = trustOf({ orders: [orders, next] });
    assert.deepEqual([...(trust.get('orders')?.keys() ?? [])], [orders.publicJwk.kid, next.publicJwk.kid]);
    assert.ok(createPrivateKey({ key: { ...orders.privateJwk }, format: 'jwk' }));
  });
});

function catching(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return assert.fail('it did not throw');
}
