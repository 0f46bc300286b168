import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { createSuiteScope, sendRaw, type RawAnswer } from '@baton/kit/testing';
import { serviceNames } from '@baton/runner';
import { startShop, type ShopStack } from '../e2e/shop-stack.ts';

// The attacker's view of the admin surface, against the running shop: whoever reaches a
// service's port (the gateway's from the internet, the others' from the network) finds no
// metrics and no admin route there; each service's admin listener is on loopback, and only
// that service's own token opens its /admin routes.

/** One request whose path is sent byte for byte as given (fetch would normalise some). */
const send = (base: string, method: string, path: string, headers: Record<string, string> = {}): Promise<RawAnswer> => sendRaw(base, { method, path, headers });

function assertProblem(answer: RawAnswer, status: number, code: string, what: string): void {
  assert.equal(answer.status, status, `${what}: ${answer.body}`);
  assert.match(answer.contentType, /^application\/problem\+json/, what);
  assert.equal((JSON.parse(answer.body) as { code: string }).code, code, what);
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

// How an attacker writes /metrics and /admin/... to slip past a check on the raw path.
const hiddenAdminPaths = [
  '/metrics', '/metrics/', '/metrics?format=text', '/%6detrics', '/%6Detrics', '//metrics', '/./metrics',
  '/admin/faults', '/admin/faults/', '/%61dmin/faults', '/%61%64%6d%69%6e/faults', '/admin%2Ffaults', '/%2Fadmin/faults', '//admin/faults',
  '/./admin/faults', '/api/../admin/faults', '/ADMIN/faults', '/admin/keys/rotate', '/admin/dead-letters',
];

describe('public and admin listeners, as an attacker finds them', () => {
  const suite = createSuiteScope();
  let shop: ShopStack;
  before(async () => {
    shop = await startShop(suite, {}, { payment: true, media: true });
  });

  test('the gateway\'s public port answers 404 problem+json for /metrics and /admin/*, however written, even with the gateway\'s own admin token', async () => {
    for (const path of hiddenAdminPaths) {
      for (const method of ['GET', 'PUT', 'POST', 'DELETE']) {
        assertProblem(await send(shop.gateway, method, path), 404, 'not_found', `${method} ${path}`);
      }
      assertProblem(await send(shop.gateway, 'GET', path, bearer(shop.stack.adminToken('gateway'))), 404, 'not_found', `GET ${path} with the token`);
    }
  });

  test('no service\'s own port serves /metrics or /admin/* either', async () => {
    for (const name of serviceNames) {
      for (const path of ['/metrics', '/admin/faults', '/%61dmin/faults', '/admin/keys/rotate', '/admin/dead-letters']) {
        assertProblem(await send(shop.stack.url(name), 'GET', path, bearer(shop.stack.adminToken(name))), 404, 'not_found', `${name} ${path}`);
      }
    }
  });

  test('each admin listener is on loopback: from this host\'s network address it refuses the connection', async (t) => {
    const outward = Object.values(networkInterfaces()).flat().find((address) => address !== undefined && !address.internal && address.family === 'IPv4');
    for (const name of serviceNames) assert.equal(new URL(shop.stack.adminUrl(name)).hostname, '127.0.0.1');
    if (outward === undefined) {
      t.diagnostic('this host has no non-loopback IPv4 address: the refusal from outside is not tried');
      return;
    }
    for (const name of serviceNames) {
      const socket = connect({ host: outward.address, port: Number(new URL(shop.stack.adminUrl(name)).port) });
      const [error] = await once(socket, 'error') as [NodeJS.ErrnoException];
      assert.equal(error.code, 'ECONNREFUSED', name);
    }
  });

  test('/metrics is on each admin listener without a token; /admin/* wants that service\'s own token: a missing, wrong or another service\'s is 401 problem+json', async () => {
    const tokens = serviceNames.map((name) => shop.stack.adminToken(name));
    assert.equal(new Set(tokens).size, serviceNames.length, 'every service has a token of its own');
    for (const name of serviceNames) {
      const admin = shop.stack.adminUrl(name);
      const metrics = await send(admin, 'GET', '/metrics');
      assert.equal(metrics.status, 200, name);
      assert.match(metrics.body, /^http_server_requests_total/m, name);

      assert.equal((await send(admin, 'GET', '/admin/faults', bearer(shop.stack.adminToken(name)))).status, 200, `${name} with its own token`);
      const refused: Array<[string, Record<string, string>]> = [
        ['no token', {}],
        ['an empty bearer', { authorization: 'Bearer ' }],
        ['a wrong token', bearer('x'.repeat(43))],
        ['its token without Bearer', { authorization: shop.stack.adminToken(name) }],
        ...serviceNames.filter((other) => other !== name).map((other): [string, Record<string, string>] => [`${other}'s token`, bearer(shop.stack.adminToken(other))]),
      ];
      for (const [what, headers] of refused) {
        const answer = await send(admin, 'PUT', '/admin/faults', { ...headers, 'content-type': 'application/json' });
        assertProblem(answer, 401, 'unauthenticated', `${name} with ${what}`);
        assert.equal((JSON.parse(answer.body) as { reason: string }).reason, 'admin_token_required');
      }
    }
    // The admin routes of users and notifications answer only their own service's token too.
    assertProblem(await send(shop.stack.adminUrl('users'), 'POST', '/admin/keys/rotate', bearer(shop.stack.adminToken('gateway'))), 401, 'unauthenticated', 'key rotation with the gateway\'s token');
    assertProblem(await send(shop.stack.adminUrl('notifications'), 'GET', '/admin/dead-letters', bearer(shop.stack.adminToken('users'))), 401, 'unauthenticated', 'dead letters with users\' token');
    assert.equal((await send(shop.stack.adminUrl('notifications'), 'GET', '/admin/dead-letters', bearer(shop.stack.adminToken('notifications')))).status, 200);
  });
});
