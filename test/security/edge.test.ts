import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startService, type RunningService } from '@baton/kit/service';
import { addCleanup, createSilentLogger, createSuiteScope, sendRaw, testIdentity, type RawAnswer } from '@baton/kit/testing';
import { readConfig } from '../../services/gateway/src/config.ts';
import { gatewayService } from '../../services/gateway/src/service.ts';
import { startServicesBehind, type ServicesBehind } from '../../services/gateway/test/support/services-behind.ts';
import { startUsers, type TestUsers } from '../../services/users/test/support/users.ts';

// The public edge as an attacker meets it: the real gateway, in this process, in front of the
// real users service (on a database of its own) and a recording stand-in for the services that
// own the catalogue, orders and notifications. The gateway trusts this process (127.0.0.1) as
// its proxy, so each test speaks from addresses of its own (X-Forwarded-For) and no test spends
// another's limits; a second gateway, trusting nobody, shows a forged header changes nothing.

const password = 'correct horse battery staple';
const addressLimitPerMinute = 12;
const registrationsPerHour = 3;
const accountFreeFailures = 2;
const accountBaseDelaySeconds = 30;
const addressFreeFailures = 4;

interface Answer {
  status: number;
  headers: Headers;
  contentType: string;
  body: Record<string, unknown> & { errors?: Array<{ field: string; message: string }> };
}

/** Sends a request as it is written: `path` is not normalised (fetch would resolve `//api`). */
async function send(base: string, method: string, path: string, { json, headers = {} }: { json?: unknown; headers?: Record<string, string> } = {}): Promise<Answer> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { ...(json === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(json === undefined ? {} : { body: JSON.stringify(json) }),
  });
  const contentType = response.headers.get('content-type') ?? '';
  const text = await response.text();
  return { status: response.status, headers: response.headers, contentType, body: contentType.includes('json') && text !== '' ? JSON.parse(text) : { text } };
}

/** Over node:http, byte for byte: for paths fetch would re-encode and headers it would refuse. */
const sendPath = (base: string, path: string, headers: Record<string, string> = {}): Promise<RawAnswer> => sendRaw(base, { path, headers });

function assertProblem(answer: { status: number; contentType: string }, status: number, what: string): void {
  assert.equal(answer.status, status, what);
  assert.match(answer.contentType, /^application\/problem\+json/, `${what}: a problem document`);
}

/** An address of its own for each test, from TEST-NET-3 (RFC 5737). */
let lastOctet = 0;
const newAddress = () => `203.0.113.${++lastOctet}`;

void describe('the public edge', () => {
  const suite = createSuiteScope();
  let users: TestUsers;
  let behind: ServicesBehind;
  let gateway: RunningService<undefined>;

  async function startGateway(environment: Record<string, string>): Promise<RunningService<undefined>> {
    const config = readConfig({
      ...testIdentity.env('gateway', []),
      HOST: '127.0.0.1', PORT: '0',
      USERS_URLS: users.url, USERS_JWKS_URL: `${users.url}/.well-known/jwks.json`,
      INVENTORY_URLS: behind.url, ORDERS_URLS: behind.url, NOTIFICATIONS_URLS: behind.url,
      RATE_LIMIT_PER_ADDRESS_PER_MINUTE: String(addressLimitPerMinute),
      REGISTRATIONS_PER_ADDRESS_PER_HOUR: String(registrationsPerHour),
      SIGN_IN_FREE_FAILURES_PER_ADDRESS: String(addressFreeFailures),
      SIGN_IN_BASE_DELAY_MS: '60000',
      ...environment,
    });
    const started = await startService(gatewayService, config, { logger: createSilentLogger('gateway') });
    addCleanup(suite, () => started.shutdown('test over'));
    return started;
  }

  before(async () => {
    users = await startUsers(suite, {
      PASSWORD_SCRYPT_LOG2_N: '14',
      SIGN_IN_FREE_FAILURES: String(accountFreeFailures),
      SIGN_IN_BASE_DELAY_MS: String(accountBaseDelaySeconds * 1_000),
    });
    behind = await startServicesBehind(suite);
    gateway = await startGateway({ TRUSTED_PROXIES: '127.0.0.1, ::1' });
  });

  const from = (address: string, headers: Record<string, string> = {}) => ({ 'x-forwarded-for': address, ...headers });
  const register = (address: string, email: string, overrides: Record<string, unknown> = {}) =>
    send(gateway.url, 'POST', '/api/v1/users', { json: { email, password, name: 'Ada', ...overrides }, headers: from(address) });
  const login = (address: string, email: string, pass: string) =>
    send(gateway.url, 'POST', '/api/v1/auth/login', { json: { email, password: pass }, headers: from(address) });
  const verifyHashes = () => users.client.hashCount('verify');

  void test('encoded, doubled, trailing-slash and case variants of /api paths all count against the one address limit', async () => {
    const address = newAddress();
    const variants = [
      '/%61pi/v1/products', '/api/v1/%70roducts', '/%61%70%69/%76%31/products', '/api/v1/product%73?limit=1',
      '//api/v1/products', '/api//v1/products', '/api/v1/products/', '/API/v1/products',
      '/api/V1/products', '/api/v1/PRODUCTS', '/%2561pi/v1/products', '/api/v1/products/..%2F',
    ];
    assert.equal(variants.length, addressLimitPerMinute);
    const statuses = [];
    for (const path of variants) statuses.push((await send(gateway.url, 'GET', path, { headers: from(address) })).status);
    assert.ok(!statuses.includes(429), `none limited yet: ${statuses.join(' ')}`);
    assert.equal(statuses[0], 200, 'the router decodes /%61pi to /api: the encoded path is the same route');
    const limited = await send(gateway.url, 'GET', '/api/v1/products', { headers: from(address) });
    assertProblem(limited, 429, 'the plain path, after the variants spent the limit');
    assert.equal(limited.body.code, 'rate_limited');
    assert.ok(Number(limited.headers.get('retry-after')) >= 1);
    assertProblem(await send(gateway.url, 'GET', '/%61pi/v1/products', { headers: from(address) }), 429, 'an encoded path past the limit');
  });

  void test('a per-route limit (registration) is keyed on the route the router matched, so encodings share it', async () => {
    const address = newAddress();
    const paths = ['/api/v1/users', '/%61pi/v1/users', '/api/v1/%75sers'];
    assert.equal(paths.length, registrationsPerHour);
    for (const path of paths) {
      const answer = await send(gateway.url, 'POST', path, { json: { email: `${randomUUID()}@example.com`, password, name: 'Ada' }, headers: from(address) });
      assert.equal(answer.status, 201, `${path}: ${JSON.stringify(answer.body)}`);
    }
    const limited = await register(address, `${randomUUID()}@example.com`);
    assertProblem(limited, 429, 'a fourth registration from the address within the hour');
    assert.equal(limited.body.code, 'rate_limited');
    assert.equal((await send(gateway.url, 'GET', '/api/v1/products', { headers: from(address) })).status, 200, 'other routes are not limited by it');
    assert.equal((await register(newAddress(), `${randomUUID()}@example.com`)).status, 201, 'another address may register');
  });

  void test('registration keeps 409 for a taken email (docs/security.md says why), limited per address as above', async () => {
    const email = `${randomUUID()}@example.com`;
    assert.equal((await register(newAddress(), email)).status, 201);
    const taken = await register(newAddress(), email.toUpperCase());
    assertProblem(taken, 409, 'a taken email');
    assert.deepEqual(taken.body.errors?.map((e) => e.field), ['body.email']);
  });

  void test('sign-in is throttled per account whatever the address: past the free failures each wait doubles, answered 429 before any hash, and a right sign-in resets it', async () => {
    const email = `${randomUUID()}@example.com`;
    assert.equal((await register(newAddress(), email)).status, 201);
    const wrong = () => login(newAddress(), email, 'not the password at all');
    for (let i = 0; i <= accountFreeFailures; i++) {
      const answer = await wrong();
      assertProblem(answer, 401, `wrong sign-in ${i + 1}`);
      assert.equal(answer.headers.get('cache-control'), 'no-store');
    }
    const hashesBefore = await verifyHashes();
    assert.ok(hashesBefore > 0, 'the users service\'s hash count is read (the wrong sign-ins above were hashed)');
    const throttled = await wrong();
    assertProblem(throttled, 429, 'the next wrong sign-in, from yet another address');
    assert.equal(throttled.body.code, 'sign_in_throttled');
    const firstWait = Number(throttled.headers.get('retry-after'));
    assert.ok(firstWait >= 1 && firstWait <= accountBaseDelaySeconds, `first wait ${firstWait} s`);
    assertProblem(await login(newAddress(), email, password), 429, 'even the right password while the account waits');
    assert.equal(await verifyHashes(), hashesBefore, 'no password hash was computed for a throttled attempt');

    // The wait is let run out by moving it into the past, not by sleeping.
    const endWait = () => users.service.db.query(`update sign_in_attempts set blocked_until = now() - interval '1 second' where email = $1`, [email]);
    await endWait();
    assertProblem(await wrong(), 401, 'one more wrong sign-in once the wait is over');
    const doubled = Number((await wrong()).headers.get('retry-after'));
    assert.ok(doubled > accountBaseDelaySeconds && doubled <= 2 * accountBaseDelaySeconds, `the next wait doubled: ${doubled} s`);

    await endWait();
    const right = await login(newAddress(), email, password);
    assert.equal(right.status, 200);
    assert.equal(right.headers.get('cache-control'), 'no-store', 'a token answer is not cached');
    for (let i = 0; i <= accountFreeFailures; i++) assertProblem(await wrong(), 401, `after the right sign-in, wrong sign-in ${i + 1} is free again`);
  });

  void test('an unknown email is throttled exactly as a known one, so the throttle does not reveal accounts', async () => {
    const email = `${randomUUID()}@example.com`;
    for (let i = 0; i <= accountFreeFailures; i++) assertProblem(await login(newAddress(), email, 'whatever it is'), 401, `attempt ${i + 1}`);
    const throttled = await login(newAddress(), email, 'whatever it is');
    assertProblem(throttled, 429, 'past the free failures');
    assert.equal(throttled.body.code, 'sign_in_throttled');
  });

  void test('sign-in is throttled per address at the gateway: spraying many accounts from one address meets a wait, before the users service sees it', async () => {
    const address = newAddress();
    for (let i = 0; i <= addressFreeFailures; i++) assertProblem(await login(address, `${randomUUID()}@example.com`, 'guess'), 401, `guess ${i + 1}`);
    const hashesBefore = await verifyHashes();
    assert.ok(hashesBefore > 0, 'the users service\'s hash count is read (the wrong sign-ins above were hashed)');
    const throttled = await login(address, `${randomUUID()}@example.com`, 'guess');
    assertProblem(throttled, 429, 'the next guess from the address');
    assert.equal(throttled.body.code, 'sign_in_throttled');
    assert.ok(Number(throttled.headers.get('retry-after')) >= 1);
    assert.equal(await verifyHashes(), hashesBefore, 'the users service computed nothing for it');
    assertProblem(await login(newAddress(), `${randomUUID()}@example.com`, 'guess'), 401, 'another address is not held up');
  });

  void test('behind a trusted proxy each client address has its own limit; with no proxy trusted, a forged X-Forwarded-For changes nothing', async () => {
    const first = newAddress();
    for (let i = 0; i < addressLimitPerMinute; i++) await send(gateway.url, 'GET', '/api/v1/products', { headers: from(first) });
    assertProblem(await send(gateway.url, 'GET', '/api/v1/products', { headers: from(first) }), 429, 'the first client, past its limit');
    assert.equal((await send(gateway.url, 'GET', '/api/v1/products', { headers: from(newAddress()) })).status, 200, 'another client behind the proxy');

    const untrusting = await startGateway({});
    for (let i = 0; i < addressLimitPerMinute; i++) {
      assert.equal((await send(untrusting.url, 'GET', '/api/v1/products', { headers: from(newAddress()) })).status, 200);
    }
    assertProblem(await send(untrusting.url, 'GET', '/api/v1/products', { headers: from(newAddress()) }), 429,
      'a new forged address each time: still one caller, this socket\'s');
  });

  void test('the gateway does not continue a trace or carry baggage from the internet, and starts its own trace for the services behind', async () => {
    const forgedTraceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const before = behind.received.length;
    const answer = await send(gateway.url, 'GET', '/api/v1/products/COFFEE-1KG', {
      headers: from(newAddress(), { traceparent: `00-${forgedTraceId}-00f067aa0ba902b7-01`, baggage: 'role=admin' }),
    });
    assert.equal(answer.status, 200);
    const sent = behind.received.slice(before).find((r) => r.path === '/v1/products/COFFEE-1KG');
    assert.ok(sent, 'the request reached the service behind');
    assert.match(sent.traceparent ?? '', /^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/, 'a trace context of the gateway\'s own goes on');
    assert.ok(!sent.traceparent?.includes(forgedTraceId), 'not the forged trace');
    assert.equal(sent.baggage, undefined, 'no baggage from outside goes on');
    assert.doesNotMatch(answer.headers.get('traceresponse') ?? '', new RegExp(forgedTraceId));
  });

  void test('hostile input gets a problem document, never a 5xx: NUL, invalid UTF-8, long paths and headers, control characters, breached passwords', async () => {
    const address = newAddress();
    const nul = await login(address, 'ada\u0000@example.com', password);
    assertProblem(nul, 400, 'a NUL in the sign-in email');
    assert.deepEqual(nul.body.errors?.map((e) => e.field), ['body.email']);

    // The gateway and a service behind it: the answers are the kit's, so every service gives them.
    for (const [base, parametric] of [[gateway.url, '/api/v1/products/'], [users.url, '/v1/users/']] as const) {
      assertProblem(await sendPath(base, `${parametric}%ED%A0%80`, from(address)), 400, `${base}: a lone surrogate, percent-encoded`);
      assertProblem(await sendPath(base, '/%ff%fe', from(address)), 400, `${base}: bytes that are not UTF-8`);
      assertProblem(await sendPath(base, `${parametric}${'A'.repeat(500)}`, from(address)), 414, `${base}: a path segment of 500 characters`);
      assertProblem(await sendPath(base, `/api/v1/${'a/'.repeat(20_000)}`, from(address)), 431, `${base}: a path of 40 kB`);
      assertProblem(await sendPath(base, '/api/v1/products', from(address, { 'x-long': 'x'.repeat(20_000) })), 431, `${base}: a header of 20 kB`);
      const many = Object.fromEntries(Array.from({ length: 3_000 }, (_, i) => [`x-h${i}`, 'v']));
      const tooMany = await sendPath(base, '/api/v1/products', from(address, many));
      assert.ok(tooMany.status === 431 || tooMany.status === 400, `${base}: 3000 headers answered ${tooMany.status}`);
      assert.match(tooMany.contentType, /^application\/problem\+json/);
    }

    for (const name of ['Ada\r\nBcc: all@example.com', 'Ada\u0000', 'Ada\tLovelace', 'Ada\u202Eecalevol', 'Ada\u2028Lovelace']) {
      const refused = await register(newAddress(), `${randomUUID()}@example.com`, { name });
      assertProblem(refused, 400, `the name ${JSON.stringify(name)}`);
      assert.deepEqual(refused.body.errors?.map((e) => e.field), ['body.name']);
    }
    for (const common of ['password1', 'Qwertyuiop', 'iloveyou123']) {
      const refused = await register(newAddress(), `${randomUUID()}@example.com`, { password: common });
      assertProblem(refused, 400, `the password ${common}`);
      assert.deepEqual(refused.body.errors?.map((e) => e.field), ['body.password']);
    }
    assert.equal((await register(newAddress(), `${randomUUID()}@example.com`, { name: 'Zoë Ångström-Łukasz 李' })).status, 201, 'a name in any script is fine');
    const email = `${randomUUID()}@example.com`;
    assert.equal((await register(newAddress(), email)).status, 201);
    const { accessToken } = (await login(newAddress(), email, password)).body as { accessToken: string };
    const change = await send(gateway.url, 'POST', '/api/v1/users/me/password', {
      json: { currentPassword: password, newPassword: 'Password123' }, headers: from(newAddress(), { authorization: `Bearer ${accessToken}` }),
    });
    assertProblem(change, 400, 'a breached new password at a password change');
    assert.deepEqual(change.body.errors?.map((e) => e.field), ['body.newPassword']);
  });
});
