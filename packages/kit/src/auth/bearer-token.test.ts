import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KitError } from '../errors/index.ts';
import { bearerTokenOf } from './bearer-token.ts';
import { checkAdminToken } from './admin-token.ts';

const jwt = 'eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl';

function assertUnauthenticated(fn: () => unknown, reason: string) {
  assert.throws(fn, (error: unknown) => error instanceof KitError && error.code === 'unauthenticated' && error.reason === reason);
}

void describe('bearerTokenOf', () => {
  void it('takes the token of a bearer header, whatever the letter case of the scheme', () => {
    assert.equal(bearerTokenOf(`Bearer ${jwt}`), jwt);
    assert.equal(bearerTokenOf(`bearer ${jwt}`), jwt);
    assert.equal(bearerTokenOf(`BEARER  ${jwt}`), jwt);
  });

  void it('refuses a missing header as missing_token', () => {
    assertUnauthenticated(() => bearerTokenOf(undefined), 'missing_token');
    assertUnauthenticated(() => bearerTokenOf(''), 'missing_token');
  });

  void it('refuses anything that is not a bearer token as invalid_token', () => {
    for (const header of ['Bearer', 'Bearer ', `Basic ${jwt}`, jwt, `Bearer ${jwt} extra`, 'Bearer a,b', `Bearer ${jwt}\n`, `Bearer ${'a'.repeat(5_000)}`]) {
      assertUnauthenticated(() => bearerTokenOf(header), 'invalid_token');
    }
  });
});

void describe('checkAdminToken', () => {
  const adminToken = 'an-admin-token-of-some-length';

  void it('lets the exact bearer header through', () => {
    checkAdminToken(`Bearer ${adminToken}`, adminToken);
  });

  void it('refuses a missing, different, longer, shorter or unprefixed token', () => {
    for (const header of [undefined, '', `Bearer ${adminToken}x`, `Bearer ${adminToken.slice(1)}`, adminToken, `bearer ${adminToken}`, 'Bearer ']) {
      assertUnauthenticated(() => checkAdminToken(header, adminToken), 'admin_token_required');
    }
  });

  void it('without a configured token refuses everything, the empty bearer header included', () => {
    for (const header of [undefined, '', 'Bearer ', 'Bearer undefined', `Bearer ${adminToken}`]) {
      assertUnauthenticated(() => checkAdminToken(header, undefined), 'admin_token_required');
    }
  });
});
