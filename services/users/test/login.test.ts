import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { createTokenVerifier } from '@baton/kit/auth';
import { createSuiteScope } from '@baton/kit/testing';
import { startUsers, uniqueEmail, type Problem, type TestUsers } from './support/users.ts';

const password = 'correct horse battery staple';

function withoutRequestId(problem: Problem): Omit<Problem, 'request_id'> {
  const { request_id: _requestId, ...rest } = problem;
  return rest;
}

void describe('signing in', () => {
  const suite = createSuiteScope();
  let users: TestUsers;
  before(async () => {
    users = await startUsers(suite);
  });

  void it('answers a right password with a bearer token the kit verifier accepts', async () => {
    const email = uniqueEmail();
    const registered = await users.client.register({ email, password, name: 'Ada' });
    const answer = await users.client.login(` ${email.toUpperCase()}`, password);
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.equal(answer.body.tokenType, 'Bearer');
    assert.equal(answer.body.expiresIn, 900);

    const verifier = createTokenVerifier({ jwksUrl: `${users.url}/.well-known/jwks.json`, issuer: 'baton-users', audience: 'notifications' });
    const verified = await verifier.verify(answer.body.accessToken);
    assert.equal(verified.userId, registered.body.id);

    const header = decodeProtectedHeader(answer.body.accessToken);
    const claims = decodeJwt(answer.body.accessToken);
    assert.equal(header.alg, 'EdDSA');
    assert.equal(header.typ, 'at+jwt');
    const jwks = await users.client.jwks();
    assert.ok(jwks.body.keys.some((key) => key.kid === header.kid), 'the token names a published key');
    assert.deepEqual(Object.keys(claims).sort(), ['aud', 'exp', 'iat', 'iss', 'jti', 'sid', 'sub']);
    assert.equal(claims.iss, 'baton-users');
    // One audience per service it is for, by default every service that checks tokens.
    assert.deepEqual(claims.aud, ['gateway', 'users', 'inventory', 'orders', 'notifications', 'media']);
    assert.equal(claims.sub, registered.body.id);
    assert.equal((claims.exp ?? 0) - (claims.iat ?? 0), 900);
    assert.equal(verified.tokenId, claims.jti);
    assert.equal(verified.expiresAt.getTime(), (claims.exp ?? 0) * 1_000);
  });

  void it('gives a wrong password and an unknown email the same 401, after hashing for both', async () => {
    const email = uniqueEmail();
    await users.client.register({ email, password, name: 'Grace' });

    const verifiesBefore = await users.client.hashCount('verify');
    const wrongPassword = await users.client.login(email, 'not the password');
    const afterWrongPassword = await users.client.hashCount('verify');
    const unknownEmail = await users.client.login(uniqueEmail('nobody'), 'not the password');
    const afterUnknownEmail = await users.client.hashCount('verify');

    assert.equal(wrongPassword.status, 401);
    assert.equal(unknownEmail.status, 401);
    assert.equal(wrongPassword.contentType, unknownEmail.contentType);
    assert.deepEqual(withoutRequestId(unknownEmail.body as unknown as Problem), withoutRequestId(wrongPassword.body as unknown as Problem));
    assert.equal((wrongPassword.body as unknown as Problem).code, 'unauthenticated');
    // One scrypt hash each: the unknown email was checked against the dummy hash.
    assert.equal(afterWrongPassword - verifiesBefore, 1);
    assert.equal(afterUnknownEmail - afterWrongPassword, 1);
  });

  void it('answers a malformed email at sign-in like any unknown one', async () => {
    const wrong = await users.client.login(uniqueEmail(), 'not the password');
    const malformed = await users.client.login('not an email at all', 'not the password');
    assert.equal(malformed.status, 401);
    assert.deepEqual(withoutRequestId(malformed.body as unknown as Problem), withoutRequestId(wrong.body as unknown as Problem));
  });

  void it('serves /v1/users/me to the bearer of a token, and 401 without one', async () => {
    const { user, token } = await users.client.signedIn({ email: uniqueEmail(), password, name: 'Me' });
    const me = await users.client.me(token);
    assert.equal(me.status, 200);
    assert.deepEqual(me.body, user);

    for (const headers of [{} as Record<string, string>, { authorization: `Basic ${Buffer.from('me:pw').toString('base64')}` }, { authorization: 'Bearer' }, { authorization: 'Bearer not a token' }, { authorization: 'Bearer a.b.c' }]) {
      const answer = await users.client.send<Problem>('GET', '/v1/users/me', { headers });
      assert.equal(answer.status, 401, `for ${JSON.stringify(headers)}`);
      assert.match(answer.contentType, /^application\/problem\+json/);
      assert.equal(answer.body.code, 'unauthenticated');
    }
  });

  void it('answers 401 to a valid token for an account that is gone', async () => {
    const { user, token } = await users.client.signedIn({ email: uniqueEmail(), password, name: 'Gone' });
    await users.service.db.query('delete from users where id = $1', [user.id]);
    const answer = await users.client.me(token);
    assert.equal(answer.status, 401);
    assert.equal((answer.body as unknown as Problem).reason, 'account_gone');
  });

  void it('refuses every key rotation without an ADMIN_TOKEN, and has no such route on its public port', async () => {
    const before = await users.client.jwks();
    for (const headers of [{} as Record<string, string>, { authorization: 'Bearer anything-at-all-here' }, { authorization: 'Bearer ' }]) {
      const answer = await users.client.rotate(headers);
      assert.equal(answer.status, 401);
      assert.equal((answer.body as unknown as Problem).reason, 'admin_token_required');
    }
    assert.equal((await users.client.send('POST', '/admin/keys/rotate', { headers: { authorization: 'Bearer anything-at-all-here' } })).status, 404);
    assert.deepEqual((await users.client.jwks()).body, before.body, 'no key was rotated');
  });

  void it('never writes a token to its logs', async () => {
    const { token } = await users.client.signedIn({ email: uniqueEmail(), password, name: 'Quiet' });
    await users.client.me(token);
    await users.client.me(`${token}x`);
    const signature = token.split('.')[2] ?? '';
    assert.ok(signature.length > 20);
    assert.ok(!JSON.stringify(users.logs).includes(signature));
  });
});
