import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { loadConfig, serviceConfigFields, z } from '../config/index.ts';
import { addCleanup, createSilentLogger, createSuiteScope, sendRaw, type CleanupScope, type RawAnswer } from '../testing/index.ts';
import { startService, type StatelessServiceDefinition } from './index.ts';

// The admin listener of a service: /metrics and /admin/* there and only there, each behind the
// service's own admin token, loopback by default, closed with the service.

const schema = z.object(serviceConfigFields({ name: 'kit-admin', port: 0 }));
type Config = z.output<typeof schema>;
const tokenA = 'admin-token-of-service-a-0123456789';
const tokenB = 'admin-token-of-service-b-0123456789';

const definition: StatelessServiceDefinition<Config> = {
  name: 'kit-admin',
  setup(app, { adminApp }) {
    app.get('/v1/things', async () => ({ things: [] }));
    adminApp.post('/admin/things/reindex', async () => ({ reindexed: true }));
  },
};

async function start(scope: CleanupScope, environment: Record<string, string>, service: StatelessServiceDefinition<Config> = definition) {
  const config = loadConfig(schema, { HOST: '127.0.0.1', PORT: '0', SHUTDOWN_NOTICE_MS: '0', ...environment });
  const running = await startService(service, config, { logger: createSilentLogger('kit-admin') });
  addCleanup(scope, () => running.shutdown('test over'));
  return running;
}

/** One request whose path is sent byte for byte as given (fetch would normalise some). */
const send = (base: string, method: string, path: string, headers: Record<string, string> = {}): Promise<RawAnswer> => sendRaw(base, { method, path, headers });

function assertProblem(answer: RawAnswer, status: number, code: string): void {
  assert.equal(answer.status, status, answer.body);
  assert.match(answer.contentType, /^application\/problem\+json/);
  assert.equal((JSON.parse(answer.body) as { code: string }).code, code);
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

void describe('the admin listener', () => {
  const suite = createSuiteScope();
  let a: Awaited<ReturnType<typeof start>>;
  let b: Awaited<ReturnType<typeof start>>;
  test.before(async () => {
    [a, b] = await Promise.all([start(suite, { ADMIN_TOKEN: tokenA }), start(suite, { ADMIN_TOKEN: tokenB })]);
  });

  void test('is a port of its own, apart from the service\'s', () => {
    assert.notEqual(a.adminUrl, a.url);
    assert.match(a.adminUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
  });

  void test('the service\'s own port answers 404 problem+json for /metrics and every /admin/ path, however written', async () => {
    for (const path of ['/metrics', '/metrics/', '/metrics?x=1', '/admin/faults', '/admin/faults/', '/%61dmin/faults', '/admin%2Ffaults', '/%2Fadmin/faults',
      '//admin/faults', '/./admin/faults', '/ADMIN/faults', '/admin/things/reindex', '/%6detrics']) {
      assertProblem(await send(a.url, 'GET', path, bearer(tokenA)), 404, 'not_found');
    }
    assertProblem(await send(a.url, 'PUT', '/admin/faults', bearer(tokenA)), 404, 'not_found');
    assertProblem(await send(a.url, 'POST', '/admin/things/reindex', bearer(tokenA)), 404, 'not_found');
    assert.equal((await send(a.url, 'GET', '/v1/things')).status, 200, 'the service\'s own routes are there');
    assert.equal((await send(a.url, 'GET', '/readyz')).status, 200, 'so are its probes');
  });

  void test('serves /metrics without a token, and /admin/* only with this service\'s token (401 problem+json otherwise)', async () => {
    const metrics = await send(a.adminUrl, 'GET', '/metrics');
    assert.equal(metrics.status, 200);
    assert.match(metrics.body, /^# HELP /m);
    for (const headers of [{}, bearer(tokenB), bearer(`${tokenA}x`), { authorization: tokenA }, bearer(''), { authorization: `Basic ${tokenA}` }]) {
      assertProblem(await send(a.adminUrl, 'GET', '/admin/faults', headers), 401, 'unauthenticated');
      assertProblem(await send(a.adminUrl, 'POST', '/admin/things/reindex', headers), 401, 'unauthenticated');
    }
    assert.equal(JSON.parse((await send(a.adminUrl, 'GET', '/admin/faults')).body).reason, 'admin_token_required');
    assert.equal((await send(a.adminUrl, 'GET', '/admin/faults', bearer(tokenA))).status, 200);
    assert.deepEqual(JSON.parse((await send(a.adminUrl, 'POST', '/admin/things/reindex', bearer(tokenA))).body), { reindexed: true });
    assert.equal((await send(b.adminUrl, 'GET', '/admin/faults', bearer(tokenB))).status, 200, 'and the other service\'s with its own');
    // The same figures as JSON, for the runner's console: behind the token like every /admin/ route.
    assertProblem(await send(a.adminUrl, 'GET', '/admin/metrics.json'), 401, 'unauthenticated');
    const families = JSON.parse((await send(a.adminUrl, 'GET', '/admin/metrics.json', bearer(tokenA))).body) as Array<{ name: string; values: unknown[] }>;
    assert.ok(families.some((f) => f.name === 'http_server_requests_total' && f.values.length > 0), families.map((f) => f.name).join(', '));
    assertProblem(await send(b.adminUrl, 'GET', '/admin/faults', bearer(tokenA)), 401, 'unauthenticated');
  });

  void test('an unknown path is refused without the token (nothing says which exist), and is a 404 with it; nothing but /metrics and /admin/* is there', async () => {
    assertProblem(await send(a.adminUrl, 'GET', '/admin/no-such-thing'), 401, 'unauthenticated');
    assertProblem(await send(a.adminUrl, 'GET', '/admin/no-such-thing', bearer(tokenA)), 404, 'not_found');
    for (const path of ['/healthz', '/readyz', '/v1/things', '/']) assertProblem(await send(a.adminUrl, 'GET', path, bearer(tokenA)), 404, 'not_found');
  });
});

void test('without an admin token every /admin/* request is refused, the empty bearer included; /metrics still answers', async (t) => {
  const service = await start(t, {});
  for (const headers of [{}, bearer(''), { authorization: 'Bearer' }, bearer('undefined')]) {
    assertProblem(await send(service.adminUrl, 'GET', '/admin/faults', headers), 401, 'unauthenticated');
  }
  assert.equal((await send(service.adminUrl, 'GET', '/metrics')).status, 200);
});

void test('it binds to loopback by default, even when the service\'s own port listens on every address', async (t) => {
  const service = await start(t, { HOST: '0.0.0.0' });
  assert.equal((service.adminApp.server.address() as { address: string }).address, '127.0.0.1');
  assert.equal((service.app.server.address() as { address: string }).address, '0.0.0.0');
  const adminPort = Number(new URL(service.adminUrl).port);
  const publicPort = (service.app.server.address() as { port: number }).port;
  // From another address of this host, as a neighbour on the network would come: the public
  // port answers, the admin port refuses the connection.
  const outward = Object.values(networkInterfaces()).flat().find((address) => address !== undefined && !address.internal && address.family === 'IPv4');
  if (outward === undefined) {
    t.diagnostic('this host has no non-loopback IPv4 address: the refusal from outside is not tried');
    return;
  }
  assert.equal((await send(`http://${outward.address}:${publicPort}`, 'GET', '/healthz')).status, 200);
  const socket = connect({ host: outward.address, port: adminPort });
  const [error] = await once(socket, 'error') as [NodeJS.ErrnoException];
  assert.equal(error.code, 'ECONNREFUSED');
});

void test('ADMIN_HOST and ADMIN_PORT put it where they say', async (t) => {
  const probe = await start(t, {});
  const port = Number(new URL(probe.adminUrl).port);
  await probe.shutdown('its port is for the next one');
  const service = await start(t, { ADMIN_HOST: 'localhost', ADMIN_PORT: String(port) });
  assert.equal(new URL(service.adminUrl).port, String(port));
});

void test('a route under /admin/ or at /metrics on the service\'s own port fails the start, as does any other route on the admin listener', async (t) => {
  const onPublic: StatelessServiceDefinition<Config> = { name: 'kit-admin', setup: (app) => void app.post('/admin/oops', async () => ({})) };
  await assert.rejects(start(t, {}, onPublic), /\/admin\/oops belongs on the admin listener/);
  const metricsOnPublic: StatelessServiceDefinition<Config> = { name: 'kit-admin', setup: (app) => void app.get('/metrics', async () => '') };
  await assert.rejects(start(t, {}, metricsOnPublic), /\/metrics belongs on the admin listener/);
  const publicOnAdmin: StatelessServiceDefinition<Config> = { name: 'kit-admin', setup: (_app, { adminApp }) => void adminApp.get('/v1/things', async () => ({})) };
  await assert.rejects(start(t, {}, publicOnAdmin), /serves \/metrics and \/admin\/\* only, not \/v1\/things/);
});

void test('it closes with the service: an idle keep-alive connection is closed and the port no longer listens', async (t) => {
  const service = await start(t, { ADMIN_TOKEN: tokenA });
  const { port } = new URL(service.adminUrl);
  const socket = connect({ host: '127.0.0.1', port: Number(port) });
  await once(socket, 'connect');
  const closed = once(socket, 'close');
  socket.write(`GET /metrics HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n`);
  await once(socket, 'data');
  assert.deepEqual(await service.shutdown('test'), { clean: true });
  await closed;
  const again = connect({ host: '127.0.0.1', port: Number(port) });
  const [error] = await once(again, 'error') as [NodeJS.ErrnoException];
  assert.equal(error.code, 'ECONNREFUSED');
});
