import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, databaseConfigFields, env, loadConfig, serviceConfigFields, z } from './index.ts';

// The shape of the orders service's config: the shared fields plus two required URL lists.
// (The kit cannot import a service, so the schema is restated here.)
const ordersLikeSchema = z.object({
  ...serviceConfigFields({ name: 'orders', port: 8083 }),
  ...databaseConfigFields(),
  USERS_URLS: env.urlList(),
  INVENTORY_URLS: env.urlList(),
});

const complete = {
  DATABASE_URL: 'postgres://orders@127.0.0.1:5432/orders',
  USERS_URLS: 'http://127.0.0.1:8081',
  INVENTORY_URLS: 'http://127.0.0.1:8082,http://127.0.0.1:9082',
};

function configErrorOf(environment: Record<string, string | undefined>): ConfigError {
  try {
    loadConfig(ordersLikeSchema, environment);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error;
  }
  assert.fail('loadConfig accepted an invalid environment');
}

function variablesOf(error: ConfigError): string[] {
  return error.problems.map((p) => p.variable).sort();
}

void describe('loadConfig', () => {
  void test('names every missing required variable at once', () => {
    const error = configErrorOf({});
    assert.deepEqual(variablesOf(error), ['DATABASE_URL', 'INVENTORY_URLS', 'USERS_URLS']);
    for (const problem of error.problems) assert.equal(problem.problem, 'required, not set');
    assert.match(error.message, /DATABASE_URL/);
    assert.match(error.message, /USERS_URLS/);
    assert.match(error.message, /INVENTORY_URLS/);
  });

  void test('reports a bad PORT and the missing variables together', () => {
    const error = configErrorOf({ PORT: 'abc', DATABASE_URL: complete.DATABASE_URL, USERS_URLS: complete.USERS_URLS });
    assert.deepEqual(variablesOf(error), ['INVENTORY_URLS', 'PORT']);
    assert.equal(error.problems.find((p) => p.variable === 'PORT')?.problem, 'expected a TCP port number');
    assert.equal(error.problems.find((p) => p.variable === 'INVENTORY_URLS')?.problem, 'required, not set');
  });

  void test('rejects ports out of range and fractional ports', () => {
    for (const port of ['65536', '-1', '80.5']) {
      assert.deepEqual(variablesOf(configErrorOf({ ...complete, PORT: port })), ['PORT'], `PORT=${port}`);
    }
  });

  void test('an empty string counts as unset: required ones are missing, optional ones take their default', () => {
    const error = configErrorOf({ ...complete, USERS_URLS: '', DATABASE_URL: '' });
    assert.deepEqual(error.problems, [
      { variable: 'DATABASE_URL', problem: 'required, not set' },
      { variable: 'USERS_URLS', problem: 'required, not set' },
    ]);

    const config = loadConfig(ordersLikeSchema, { ...complete, PORT: '', LOG_LEVEL: '', OTEL_EXPORTER_OTLP_ENDPOINT: '' });
    assert.equal(config.PORT, 8083);
    assert.equal(config.LOG_LEVEL, 'info');
    assert.equal(config.OTEL_EXPORTER_OTLP_ENDPOINT, undefined);
  });

  void test('applies the defaults and parses what is set', () => {
    const config = loadConfig(ordersLikeSchema, complete);
    assert.equal(config.HOST, '127.0.0.1');
    assert.equal(config.PORT, 8083);
    assert.equal(config.LOG_LEVEL, 'info');
    assert.equal(config.SHUTDOWN_TIMEOUT_MS, 10_000);
    assert.equal(config.SHUTDOWN_DRAIN_DELAY_MS, 0);
    assert.equal(config.REQUEST_DEADLINE_MS, 10_000);
    assert.equal(config.LOAD_SHEDDING, true);
    assert.equal(config.DATABASE_URL, 'postgres://orders@127.0.0.1:5432/orders');
    assert.deepEqual(config.USERS_URLS, ['http://127.0.0.1:8081']);
    assert.deepEqual(config.INVENTORY_URLS, ['http://127.0.0.1:8082', 'http://127.0.0.1:9082']);

    const set = loadConfig(ordersLikeSchema, { ...complete, PORT: '9000', LOAD_SHEDDING: 'false', SHUTDOWN_TIMEOUT_MS: '2500' });
    assert.equal(set.PORT, 9000);
    assert.equal(set.LOAD_SHEDDING, false);
    assert.equal(set.SHUTDOWN_TIMEOUT_MS, 2500);
  });

  void test('ignores variables the schema does not name', () => {
    const config = loadConfig(ordersLikeSchema, { ...complete, PATH: '/usr/bin', SOMETHING_ELSE: 'x' });
    assert.equal(Object.hasOwn(config, 'PATH'), false);
    assert.equal(Object.hasOwn(config, 'SOMETHING_ELSE'), false);
  });

  void test('returns a frozen object', () => {
    const config = loadConfig(ordersLikeSchema, complete);
    assert.ok(Object.isFrozen(config));
    assert.throws(() => {
      (config as { PORT: number }).PORT = 1;
    }, TypeError);
    assert.equal(config.PORT, 8083);
  });

  void test('never puts the value of a bad variable in the error', () => {
    const secrets = {
      PORT: 'port-sekrit-1',
      DATABASE_URL: 'not a url sekrit-2',
      ADMIN_TOKEN: 'sekrit-3',
      LOAD_SHEDDING: 'sekrit-4',
      USERS_URLS: 'http://ok.example, sekrit-5 not a url',
      FAULTS: '{"sekrit-6": ',
    };
    const error = configErrorOf({ ...complete, ...secrets });
    assert.deepEqual(variablesOf(error), Object.keys(secrets).sort());
    const everything = [error.message, String(error.stack), JSON.stringify(error.problems), JSON.stringify(error)].join('\n');
    for (const [variable, value] of Object.entries(secrets)) {
      assert.ok(!everything.includes(value), `the value of ${variable} leaked into the error`);
    }
    assert.doesNotMatch(everything, /sekrit/);
  });
});

void describe('a variable given as a file (<NAME>_FILE, as a Kubernetes Secret is mounted)', () => {
  test('is read from the file, trimmed; the variable itself wins when both are set', (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'baton-config-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'database-url');
    writeFileSync(file, 'postgres://orders@db.example:5432/orders\n');
    assert.equal(loadConfig(ordersLikeSchema, { ...complete, DATABASE_URL: undefined, DATABASE_URL_FILE: file }).DATABASE_URL, 'postgres://orders@db.example:5432/orders');
    assert.equal(loadConfig(ordersLikeSchema, { ...complete, DATABASE_URL_FILE: file }).DATABASE_URL, complete.DATABASE_URL);
  });

  test('a file that cannot be read is named as the problem, and nothing else is said of it', () => {
    const error = configErrorOf({ ...complete, DATABASE_URL: undefined, DATABASE_URL_FILE: '/nonexistent/secret' });
    assert.deepEqual(variablesOf(error), ['DATABASE_URL_FILE']);
  });
});
