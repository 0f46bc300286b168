import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '@baton/kit/config';
import { testIdentity } from '@baton/kit/testing';
import { readConfig } from './config.ts';

// Read, never connected to: these tests only load the config.
const databaseUrl = 'postgres://users@127.0.0.1:5432/users';
const identity = testIdentity.env('users');

function problemsOf(environment: Record<string, string>): string[] {
  try {
    readConfig({ DATABASE_URL: databaseUrl, ...identity, ...environment });
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.problems.map((p) => p.variable).sort();
  }
  return [];
}

void describe('the users config', () => {
  void it('has defaults for every token and password setting', () => {
    const config = readConfig({ DATABASE_URL: databaseUrl, ...identity });
    assert.equal(config.PORT, 8081);
    assert.equal(config.TOKEN_TTL_SECONDS, 900);
    assert.equal(config.TOKEN_ISSUER, 'baton-users');
    assert.equal(config.TOKEN_AUDIENCE, 'baton');
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
  });
});
