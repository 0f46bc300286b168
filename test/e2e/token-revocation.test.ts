import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { createSuiteScope, testIdentity } from '@baton/kit/testing';
import { createShopClient } from './shop-client.ts';
import { startShop, type ShopStack } from './shop-stack.ts';

const password = 'correct horse battery staple';
// Every verifier polls the users service for revocations this often here (the default is 15 s).
const fastPoll = { TOKEN_REVOCATIONS_POLL_MS: '200' };

/** Until `check` is true, asking again every 100 ms; fails after `timeoutMs`. Only that it happens is asserted, not when. */
async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!await check()) {
    if (Date.now() > deadline) assert.fail(`${what}: not within ${timeoutMs} ms`);
    await sleep(100);
  }
}

// A revoked token is refused by every service that checks tokens, each on its own: the gateway,
// and orders, notifications and users called directly, as an attacker inside would.
describe('revoked tokens, across the shop', () => {
  const suite = createSuiteScope();
  let shop: ShopStack;
  let api: ReturnType<typeof createShopClient>;

  before(async () => {
    shop = await startShop(suite, {
      gateway: fastPoll,
      orders: fastPoll,
      notifications: fastPoll,
      users: { PASSWORD_SCRYPT_LOG2_N: '14' },
    });
    api = createShopClient(shop.gateway);
  });

  /** Where each service answers a request with a token: the gateway's API and each service's own route. */
  function statusesFor(token: string): Promise<Record<string, number>> {
    // Each service's own route as the gateway calls it, with the gateway's service token.
    const direct = async (service: 'users' | 'orders' | 'notifications', path: string) =>
      createShopClient(shop.stack.url(service)).call('GET', path, { token, headers: await testIdentity.headers('gateway', service) }).then((answer) => [service, answer.status] as const);
    return Promise.all([
      api.call('GET', '/api/v1/orders', { token }).then((answer) => ['gateway', answer.status] as const),
      direct('users', '/v1/users/me'),
      direct('orders', '/v1/orders'),
      direct('notifications', '/v1/notifications'),
    ]).then(Object.fromEntries);
  }
  const everywhere = (status: number) => ({ gateway: status, users: status, orders: status, notifications: status });

  test('sign-out through the gateway: every service refuses the token, and another session is untouched', async () => {
    const ada = await api.signUp('Ada');
    const other = await api.call<{ accessToken: string }>('POST', '/api/v1/auth/login', { body: { email: ada.email, password } });
    assert.deepEqual(await statusesFor(ada.token), everywhere(200));

    const out = await api.call('POST', '/api/v1/auth/logout', { token: ada.token, body: {} });
    assert.equal(out.status, 204, JSON.stringify(out.body));
    await eventually('every service refuses the signed-out token', async () => JSON.stringify(await statusesFor(ada.token)) === JSON.stringify(everywhere(401)));
    const refused = await api.call('GET', '/api/v1/orders', { token: ada.token });
    assert.equal(refused.body.code, 'token_revoked');
    assert.match(refused.contentType, /application\/problem\+json/);
    assert.deepEqual(await statusesFor(other.body.accessToken), everywhere(200));
  });

  test('sign-out with no body at all (a bare POST, as a sign-out button sends) is 204 and revokes the token', async () => {
    const eve = await api.signUp('Eve');
    const out = await fetch(new URL('/api/v1/auth/logout', shop.gateway), { method: 'POST', headers: { authorization: `Bearer ${eve.token}` } });
    assert.equal(out.status, 204, await out.text());
    await eventually('the gateway refuses the signed-out token', async () => (await statusesFor(eve.token)).gateway === 401);
  });

  test('a password change through the gateway revokes every older token everywhere; the old password is refused, the new one works', async () => {
    const bob = await api.signUp('Bob');
    const wrong = await api.call('POST', '/api/v1/users/me/password', { token: bob.token, body: { currentPassword: 'not it at all', newPassword: 'another good passphrase' } });
    assert.equal(wrong.status, 403);
    const changed = await api.call('POST', '/api/v1/users/me/password', { token: bob.token, body: { currentPassword: password, newPassword: 'another good passphrase' } });
    assert.equal(changed.status, 204, JSON.stringify(changed.body));
    await eventually('every service refuses the token from before the change', async () => JSON.stringify(await statusesFor(bob.token)) === JSON.stringify(everywhere(401)));
    assert.equal((await api.call('POST', '/api/v1/auth/login', { body: { email: bob.email, password } })).status, 401);
    const fresh = await api.call<{ accessToken: string }>('POST', '/api/v1/auth/login', { body: { email: bob.email, password: 'another good passphrase' } });
    assert.equal(fresh.status, 200);
    assert.deepEqual(await statusesFor(fresh.body.accessToken), everywhere(200));
  });

  test('the public document describes both routes', async () => {
    const doc = await api.call<{ paths: Record<string, Record<string, unknown>> }>('GET', '/api/v1/docs/json');
    assert.equal(doc.status, 200);
    assert.ok(doc.body.paths['/api/v1/auth/logout']?.post, 'logout documented');
    assert.ok(doc.body.paths['/api/v1/users/me/password']?.post, 'password change documented');
  });
});
