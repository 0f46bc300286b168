import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig, serviceConfigFields, z } from '../config/index.ts';
import { createSilentLogger } from '../testing/index.ts';
import { createHttpServer } from './http-server.ts';
import { defaultServiceLimits, limitsOf } from './service-limits.ts';

const configSchema = z.object(serviceConfigFields({ name: 'limits-test', port: 0 }));
const required = { DATABASE_URL: 'postgres://127.0.0.1:5432/limits_test' };

void test('with no variable set, a service runs with the default limits', () => {
  assert.deepEqual(limitsOf(loadConfig(configSchema, required)), defaultServiceLimits);
});

void test('every limit an operator may set is read from its variable; code overrides win over both', () => {
  const config = loadConfig(configSchema, {
    ...required,
    BODY_LIMIT_BYTES: '2048',
    REQUEST_RECEIVE_TIMEOUT_MS: '5000',
    KEEP_ALIVE_TIMEOUT_MS: '65000',
    REQUEST_DEADLINE_MS: '3000',
    LOAD_SHEDDING: 'false',
    LOAD_SHEDDING_INITIAL_LIMIT: '50',
    LOAD_SHEDDING_MIN_LIMIT: '5',
    SHUTDOWN_TIMEOUT_MS: '2500',
    SHUTDOWN_DRAIN_DELAY_MS: '100',
  });
  assert.deepEqual(limitsOf(config, { deadlineAnswerGraceMs: 20 }), {
    ...defaultServiceLimits,
    bodyLimitBytes: 2_048,
    requestReceiveTimeoutMs: 5_000,
    keepAliveTimeoutMs: 65_000,
    requestDeadlineMs: 3_000,
    loadShedding: false,
    shedInitialLimit: 50,
    shedMinLimit: 5,
    shutdownTimeoutMs: 2_500,
    shutdownDrainDelayMs: 100,
    deadlineAnswerGraceMs: 20,
  });
});

void test('the HTTP server takes its body limit, receive timeout and keep-alive from the limits', async (t) => {
  const app = createHttpServer(createSilentLogger('limits-test'), { bodyLimitBytes: 1_024, requestReceiveTimeoutMs: 5_000, keepAliveTimeoutMs: 65_000 });
  app.post('/echo', async (request) => request.body);
  t.after(() => app.close());
  await app.ready();
  // The body's timeout is the kit's own (receive-timeout.test.ts); Node keeps the headers'.
  assert.equal(app.server.requestTimeout, 0);
  assert.equal(app.server.headersTimeout, 5_000);
  assert.equal(app.server.keepAliveTimeout, 65_000);
  const small = await app.inject({ method: 'POST', url: '/echo', payload: { padding: 'x'.repeat(512) } });
  assert.equal(small.statusCode, 200);
  const large = await app.inject({ method: 'POST', url: '/echo', payload: { padding: 'x'.repeat(2_048) } });
  assert.equal(large.statusCode, 413);
});
