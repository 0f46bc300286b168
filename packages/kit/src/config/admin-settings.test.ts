import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTempDir } from '../testing/index.ts';
import { adminSettingsOf } from './admin-settings.ts';
import { ConfigError, loadConfig, serviceConfigFields, z } from './index.ts';

const schema = z.object(serviceConfigFields({ name: 'users-like', port: 8081 }));
const settingsOf = (environment: Record<string, string>) => adminSettingsOf(loadConfig(schema, environment));

function problemsOf(run: () => unknown): Array<{ variable: string; problem: string }> {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  assert.fail('expected a ConfigError');
}

test('the admin listener is on loopback, PORT + 2000, with no token unless told otherwise', () => {
  assert.deepEqual(settingsOf({}), { host: '127.0.0.1', port: 10_081, token: undefined });
  assert.deepEqual(settingsOf({ PORT: '18081' }), { host: '127.0.0.1', port: 20_081, token: undefined });
  assert.equal(settingsOf({ PORT: '0' }).port, 0, 'a service on a free port gets a free admin port too');
  assert.deepEqual(settingsOf({ ADMIN_HOST: '10.1.2.3', ADMIN_PORT: '9999', ADMIN_TOKEN: 'a-token-of-16-chars+' }), { host: '10.1.2.3', port: 9_999, token: 'a-token-of-16-chars+' });
  assert.deepEqual(problemsOf(() => settingsOf({ PORT: '64000' })).map((p) => p.variable), ['ADMIN_PORT']);
  assert.deepEqual(problemsOf(() => settingsOf({ ADMIN_PORT: '70000' })).map((p) => p.variable), ['ADMIN_PORT']);
});

test('ADMIN_TOKEN_FILE is read once, without its trailing newline; unreadable, short, or beside ADMIN_TOKEN it is a config error that shows no token', async (t) => {
  const dir = await createTempDir(t);
  const file = join(dir, 'admin-token');
  await writeFile(file, 'sekrit-from-a-mounted-file\n', { mode: 0o600 });
  assert.equal(settingsOf({ ADMIN_TOKEN_FILE: file }).token, 'sekrit-from-a-mounted-file');

  const short = join(dir, 'short');
  await writeFile(short, 'sekrit\n');
  const problems = [
    ...problemsOf(() => settingsOf({ ADMIN_TOKEN_FILE: join(dir, 'missing') })),
    ...problemsOf(() => settingsOf({ ADMIN_TOKEN_FILE: short })),
    ...problemsOf(() => settingsOf({ ADMIN_TOKEN_FILE: file, ADMIN_TOKEN: 'sekrit-in-the-environment' })),
  ];
  assert.deepEqual(problems.map((p) => p.variable), ['ADMIN_TOKEN_FILE', 'ADMIN_TOKEN_FILE', 'ADMIN_TOKEN_FILE']);
  assert.match(problems[0]?.problem ?? '', /ENOENT/);
  assert.doesNotMatch(JSON.stringify(problems), /sekrit/);
});
