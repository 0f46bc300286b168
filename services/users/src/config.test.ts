import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError } from '@baton/kit/config';
import { createTempDir, testIdentity } from '@baton/kit/testing';
import { readConfig } from './config.ts';
import { readKeyEncryptionKey } from './tokens/key-encryption-key.ts';

// Read, never connected to: these tests only load the config.
const databaseUrl = 'postgres://users@127.0.0.1:5432/users';
const keyEncryptionKey = randomBytes(32).toString('base64');
const identity = testIdentity.env('users');

function problemsOf(environment: Record<string, string>): string[] {
  try {
    readConfig({ DATABASE_URL: databaseUrl, TOKEN_KEY_ENCRYPTION_KEY: keyEncryptionKey, ...identity, ...environment });
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.problems.map((p) => p.variable).sort();
  }
  return [];
}

void describe('the users config', () => {
  void it('has defaults for every token and password setting', () => {
    const config = readConfig({ DATABASE_URL: databaseUrl, TOKEN_KEY_ENCRYPTION_KEY: keyEncryptionKey, ...identity });
    assert.equal(config.PORT, 8081);
    assert.equal(config.TOKEN_TTL_SECONDS, 900);
    assert.equal(config.TOKEN_ISSUER, 'baton-users');
    assert.equal(config.TOKEN_AUDIENCE, 'users');
    assert.deepEqual(config.TOKEN_AUDIENCES, ['gateway', 'users', 'inventory', 'orders', 'notifications', 'media']);
    assert.equal(config.TOKEN_MAX_AGE_SECONDS, 3_600);
    assert.equal(config.PASSWORD_SCRYPT_LOG2_N, 15);
    assert.equal(config.PASSWORD_HASH_CONCURRENCY, 2);
    assert.equal(config.ADMIN_TOKEN, undefined);
  });

  void it('refuses a cost too cheap to protect a stolen table, or too dear to serve, and every other bad value at once', () => {
    assert.deepEqual(problemsOf({ PASSWORD_SCRYPT_LOG2_N: '12' }), ['PASSWORD_SCRYPT_LOG2_N']);
    assert.deepEqual(problemsOf({ PASSWORD_SCRYPT_LOG2_N: '21' }), ['PASSWORD_SCRYPT_LOG2_N']);
    assert.deepEqual(problemsOf({ TOKEN_TTL_SECONDS: '0', PASSWORD_HASH_CONCURRENCY: 'many', ADMIN_TOKEN: 'short' }),
      ['ADMIN_TOKEN', 'PASSWORD_HASH_CONCURRENCY', 'TOKEN_TTL_SECONDS']);
    assert.deepEqual(problemsOf({ TOKEN_TTL_SECONDS: '604800' }), ['TOKEN_TTL_SECONDS']);
    assert.deepEqual(problemsOf({ TOKEN_TTL_SECONDS: '7200' }), ['TOKEN_MAX_AGE_SECONDS']);
    assert.deepEqual(problemsOf({ STAFF_EMAILS: 'staff@example.com,not-an-email' }), ['STAFF_EMAILS']);
  });

  void it('reads STAFF_EMAILS as a set of lower-cased emails, empty by default', () => {
    assert.deepEqual([...readConfig({ DATABASE_URL: databaseUrl, TOKEN_KEY_ENCRYPTION_KEY: keyEncryptionKey, ...identity }).STAFF_EMAILS], []);
    const config = readConfig({ DATABASE_URL: databaseUrl, TOKEN_KEY_ENCRYPTION_KEY: keyEncryptionKey, ...identity, STAFF_EMAILS: ' Ada@Example.com, ,grace@example.com' });
    assert.deepEqual([...config.STAFF_EMAILS], ['ada@example.com', 'grace@example.com']);
  });

  void it('will not start without a key-encryption key, and says what it wants without echoing it', () => {
    const problems = (environment: Record<string, string | undefined>) => {
      try {
        readConfig({ DATABASE_URL: databaseUrl, ...identity, ...environment });
        return [];
      } catch (error) {
        assert.ok(error instanceof ConfigError);
        return error.problems;
      }
    };
    const [missing] = problems({});
    assert.equal(missing?.variable, 'TOKEN_KEY_ENCRYPTION_KEY');
    assert.match(missing?.problem ?? '', /required, not set.*openssl rand -base64 32/);
    const short = randomBytes(16).toString('base64');
    const [tooShort] = problems({ TOKEN_KEY_ENCRYPTION_KEY: short });
    assert.match(tooShort?.problem ?? '', /exactly 32 bytes/);
    assert.doesNotMatch(JSON.stringify(tooShort), new RegExp(short.replace(/[+/=]/g, '.')));
    assert.equal(problems({ TOKEN_KEY_ENCRYPTION_KEY: keyEncryptionKey, TOKEN_KEY_ENCRYPTION_KEY_FILE: '/nonexistent' }).length, 1);
    const [unreadable] = problems({ TOKEN_KEY_ENCRYPTION_KEY_FILE: '/nonexistent/kek' });
    assert.equal(unreadable?.variable, 'TOKEN_KEY_ENCRYPTION_KEY_FILE');
    assert.match(unreadable?.problem ?? '', /cannot be read \(ENOENT\)/);
  });

  void it('reads the key-encryption key from a file (a mounted secret), white space around it ignored', async (t) => {
    const folder = await createTempDir(t, 'users-kek-');
    const file = join(folder, 'kek');
    await writeFile(file, `${keyEncryptionKey}\n`, { mode: 0o600 });
    const config = readConfig({ DATABASE_URL: databaseUrl, TOKEN_KEY_ENCRYPTION_KEY_FILE: file, ...identity });
    assert.deepEqual(readKeyEncryptionKey(config), Buffer.from(keyEncryptionKey, 'base64'));
  });
});
