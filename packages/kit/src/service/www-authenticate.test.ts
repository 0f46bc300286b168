import { test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { Code, KitError } from '../errors/index.ts';
import { installErrorHandling } from './error-handler.ts';
import { authenticateChallenge } from './www-authenticate.ts';

void test('a 401 carries the challenge of what it wants: a bearer token (with invalid_token when one was refused) or a service credential', () => {
  assert.equal(authenticateChallenge('missing_token'), 'Bearer realm="baton"');
  assert.equal(authenticateChallenge(undefined), 'Bearer realm="baton"');
  for (const reason of ['invalid_token', 'token_expired', 'token_revoked', 'account_gone']) {
    assert.equal(authenticateChallenge(reason), 'Bearer realm="baton", error="invalid_token"', reason);
  }
  for (const reason of ['service_token_required', 'service_token_invalid']) {
    assert.equal(authenticateChallenge(reason), 'Baton-Service-Token realm="baton", header="baton-service-token"', reason);
  }
});

void test('every 401 problem has WWW-Authenticate, and no other status has one', async (t) => {
  const app = Fastify();
  installErrorHandling(app);
  app.get('/expired', () => { throw new KitError(Code.Unauthenticated, 'the access token has expired', { reason: 'token_expired' }); });
  app.get('/forbidden', () => { throw new KitError(Code.PermissionDenied, 'not yours'); });
  t.after(() => app.close());
  const expired = await app.inject({ url: '/expired' });
  assert.equal(expired.statusCode, 401);
  assert.equal(expired.headers['www-authenticate'], 'Bearer realm="baton", error="invalid_token"');
  const forbidden = await app.inject({ url: '/forbidden' });
  assert.equal(forbidden.statusCode, 403);
  assert.equal(forbidden.headers['www-authenticate'], undefined);
});
