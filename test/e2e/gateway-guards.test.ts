import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { createSuiteScope } from '@baton/kit/testing';
import { createShopClient } from './shop-client.ts';
import { rpcCount, startShop, type ShopStack } from './shop-stack.ts';

const adminToken = 'e2e-admin-token-0123456789';

// The gateway's guards, on a shop with small limits and short-lived tokens.
describe('the gateway guards the shop', () => {
  const suite = createSuiteScope();
  let shop: ShopStack;
  let api: ReturnType<typeof createShopClient>;

  before(async () => {
    shop = await startShop(suite, {
      gateway: { RATE_LIMIT_PER_USER_PER_MINUTE: '5', RATE_LIMIT_PER_ADDRESS_PER_MINUTE: '40', TOKEN_CLOCK_TOLERANCE_SECONDS: '0' },
      users: { TOKEN_TTL_SECONDS: '2', ADMIN_TOKEN: adminToken, PASSWORD_SCRYPT_LOG2_N: '14' },
    });
    api = createShopClient(shop.gateway);
  });

  test('a signed-in user past its limit gets 429 with Retry-After, and another user is not affected', async (t) => {
    if (shop.note) t.diagnostic(shop.note);
    const [ada, bob] = await Promise.all([api.signUp('Ada'), api.signUp('Bob')]);
    const statuses: number[] = [];
    let limited: Awaited<ReturnType<typeof api.call>> | undefined;
    for (let i = 0; i < 7; i++) {
      const answer = await api.call('GET', '/api/v1/users/me', { token: ada.token });
      statuses.push(answer.status);
      if (answer.status === 429) limited = answer;
    }
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429, 429]);
    assert.ok(Number(limited?.headers.get('retry-after')) >= 1);
    assert.match(limited?.contentType ?? '', /application\/problem\+json/);
    assert.equal((await api.call('GET', '/api/v1/users/me', { token: bob.token })).status, 200);
  });

  test('an address past its limit gets 429 on every route', async () => {
    let status = 0;
    for (let i = 0; i < 60 && status !== 429; i++) status = (await api.call('GET', '/api/v1/products?limit=1')).status;
    assert.equal(status, 429);
    // The window is a minute: let the other tests of this suite run on a fresh stack's budget.
  });
});

// This stack also runs orders on its HTTP setting (UPSTREAM_PROTOCOL=http), where shop.test.ts
// runs the default, gRPC: both ways of calling users and inventory are tested end to end.
describe('tokens expire and keys rotate without a restart; orders on HTTP', () => {
  const suite = createSuiteScope();
  let shop: ShopStack;
  let api: ReturnType<typeof createShopClient>;

  before(async () => {
    shop = await startShop(suite, {
      gateway: { TOKEN_CLOCK_TOLERANCE_SECONDS: '0' },
      users: { TOKEN_TTL_SECONDS: '4', ADMIN_TOKEN: adminToken, PASSWORD_SCRYPT_LOG2_N: '14' },
      orders: { UPSTREAM_PROTOCOL: 'http' },
    });
    api = createShopClient(shop.gateway);
  });

  test('with UPSTREAM_PROTOCOL=http, checkout works: placed, out of stock names the SKU, cancel gives the stock back', async () => {
    const buyer = await api.signUp('Http');
    const before = await api.available('MUG-STONEWARE');
    const placed = await api.order(buyer.token, [{ sku: 'MUG-STONEWARE', quantity: 1 }]);
    assert.equal(placed.status, 201, JSON.stringify(placed.body));
    assert.equal(await api.available('MUG-STONEWARE'), before - 1);
    const short = await api.order(buyer.token, [{ sku: 'MUG-STONEWARE', quantity: 1000 }]);
    assert.equal(short.status, 409);
    assert.deepEqual(short.body.unavailable?.map((line) => line.sku), ['MUG-STONEWARE']);
    const cancelled = await api.call('POST', `/api/v1/orders/${placed.body.id}/cancel`, { token: buyer.token });
    assert.equal(cancelled.status, 200);
    assert.equal(await api.available('MUG-STONEWARE'), before);
    // Over HTTP: inventory's gRPC server saw no reservation at all.
    assert.equal(await rpcCount(shop, 'inventory', 'baton.inventory.v1.InventoryService', 'CreateReservation'), 0);
  });

  test('an expired token gets 401', async () => {
    const ada = await api.signUp('Ada');
    assert.equal((await api.call('GET', '/api/v1/users/me', { token: ada.token })).status, 200);
    await sleep(5_100);
    const expired = await api.call<{ code: string }>('GET', '/api/v1/users/me', { token: ada.token });
    assert.equal(expired.status, 401);
    assert.equal(expired.body.code, 'unauthenticated');
  });

  test('after a key rotation, tokens signed by the new key and the old one both work, with nothing restarted', async () => {
    const before = await api.signUp('Old');
    const gatewayPid = shop.stack.status('gateway').pid;
    const rotated = await fetch(new URL('/admin/keys/rotate', shop.stack.url('users')), { method: 'POST', headers: { authorization: `Bearer ${adminToken}` } });
    assert.equal(rotated.status, 201);
    const { kid } = await rotated.json() as { kid: string };
    const after = await api.signUp('New');
    const header = (token: string) => JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as { kid: string };
    assert.equal(header(after.token).kid, kid);
    assert.notEqual(header(before.token).kid, kid);
    assert.equal((await api.call('GET', '/api/v1/users/me', { token: after.token })).status, 200);
    assert.equal((await api.call('GET', '/api/v1/users/me', { token: before.token })).status, 200);
    assert.equal(shop.stack.status('gateway').pid, gatewayPid);
  });
});
