import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { createTokenVerifier, tokenRevocationsPage, type TokenVerifier } from '@baton/kit/auth';
import { createHttpClient } from '@baton/kit/http';
import { KitError } from '@baton/kit/errors';
import { addCleanup, createSilentLogger, createSuiteScope, testIdentity } from '@baton/kit/testing';
import { startUsers, uniqueEmail, type Problem, type TestUsers } from './support/users.ts';

const password = 'correct horse battery staple';
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** Until `check` is true, asking again every 50 ms; fails after `timeoutMs`. No timing is asserted: only that it happens. */
async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!await check()) {
    if (Date.now() > deadline) assert.fail(`${what}: not within ${timeoutMs} ms`);
    await sleep(50);
  }
}

async function refusedAs(verifier: TokenVerifier, token: string): Promise<string | undefined> {
  try {
    await verifier.verify(token);
    return undefined;
  } catch (error) {
    assert.ok(error instanceof KitError);
    return error.reason;
  }
}

void describe('sign-out and password change revoke tokens', () => {
  const suite = createSuiteScope();
  let users: TestUsers;
  let verifier: TokenVerifier;

  before(async () => {
    users = await startUsers(suite);
    // The kit's verifier, as the gateway, orders and notifications have it, polling often.
    const client = createHttpClient({ name: 'users', urls: [users.url], logger: createSilentLogger('verifier'), identity: testIdentity.tokens('gateway') });
    verifier = createTokenVerifier({
      jwksUrl: `${users.url}/.well-known/jwks.json`, issuer: 'baton-users', audience: 'gateway',
      revocations: { client, pollIntervalMs: 100, staleAfterMs: 5_000 },
    });
    addCleanup(suite, async () => {
      verifier.close();
      await client.close();
    });
  });

  void it('signs out one token: users refuses it at once, the kit verifier within its poll, and another session lives on', async () => {
    const email = uniqueEmail();
    const { token } = await users.client.signedIn({ email, password, name: 'Leaving' });
    const other = (await users.client.login(email, password)).body.accessToken;
    assert.equal((await verifier.verify(token)).userId !== '', true);

    const out = await users.client.send('POST', '/v1/auth/logout', { headers: bearer(token), json: {} });
    assert.equal(out.status, 204, JSON.stringify(out.body));
    const me = await users.client.me(token);
    assert.equal(me.status, 401);
    assert.equal((me.body as unknown as Problem).reason, 'token_revoked');
    await eventually('the kit verifier refuses the signed-out token', async () => await refusedAs(verifier, token) === 'token_revoked');

    assert.equal((await users.client.me(other)).status, 200);
    assert.equal(await refusedAs(verifier, other), undefined);
    // Signing out again with the revoked token is refused, not a second revocation.
    assert.equal((await users.client.send('POST', '/v1/auth/logout', { headers: bearer(token), json: {} })).status, 401);
  });

  void it('signs out every session with allSessions, and a sign-in after it works', async () => {
    const email = uniqueEmail();
    const { token } = await users.client.signedIn({ email, password, name: 'Everywhere' });
    const other = (await users.client.login(email, password)).body.accessToken;
    assert.equal((await users.client.send('POST', '/v1/auth/logout', { headers: bearer(token), json: { allSessions: true } })).status, 204);
    for (const old of [token, other]) {
      assert.equal((await users.client.me(old)).status, 401);
      await eventually('the kit verifier refuses every older session', async () => await refusedAs(verifier, old) === 'token_revoked');
    }
    // At once, in the same second: the new token is dated at or after the cut-off.
    const fresh = (await users.client.login(email, password)).body.accessToken;
    assert.ok((decodeJwt(fresh).iat ?? 0) >= (decodeJwt(token).iat ?? 0));
    assert.equal((await users.client.me(fresh)).status, 200);
    assert.equal(await refusedAs(verifier, fresh), undefined);
  });

  void it('changes a password with the current one: older tokens revoked, the old password refused, the new one works', async () => {
    const email = uniqueEmail();
    const { token } = await users.client.signedIn({ email, password, name: 'Changing' });
    const change = (body: unknown) => users.client.send('POST', '/v1/users/me/password', { headers: bearer(token), json: body });

    const wrong = await change({ currentPassword: 'not the password', newPassword: 'a brand new passphrase' });
    assert.equal(wrong.status, 403);
    assert.equal((wrong.body as unknown as Problem).reason, 'wrong_password');
    assert.equal((await users.client.me(token)).status, 200, 'a refused change revokes nothing');

    const tooShort = await change({ currentPassword: password, newPassword: 'short' });
    assert.equal(tooShort.status, 400);

    assert.equal((await change({ currentPassword: password, newPassword: 'a brand new passphrase' })).status, 204);
    assert.equal((await users.client.me(token)).status, 401);
    await eventually('the kit verifier refuses the token from before the change', async () => await refusedAs(verifier, token) === 'token_revoked');
    assert.equal((await users.client.login(email, password)).status, 401, 'the old password no longer works');
    const fresh = await users.client.login(email, 'a brand new passphrase');
    assert.equal(fresh.status, 200);
    assert.equal((await users.client.me(fresh.body.accessToken)).status, 200);
    assert.equal(await refusedAs(verifier, fresh.body.accessToken), undefined);
  });

  void it('publishes revocations after a cursor, and prunes those whose tokens have all expired', async () => {
    const { token } = await users.client.signedIn({ email: uniqueEmail(), password, name: 'Feed' });
    const first = tokenRevocationsPage.parse((await users.client.send('GET', '/v1/token-revocations')).body);
    const jti = decodeJwt(token).jti;
    assert.equal((await users.client.send('POST', '/v1/auth/logout', { headers: bearer(token), json: {} })).status, 204);
    const next = tokenRevocationsPage.parse((await users.client.send('GET', `/v1/token-revocations?since=${first.cursor}`)).body);
    assert.deepEqual(next.tokens.map((t) => t.tokenId), [jti]);
    assert.ok(BigInt(next.cursor) > BigInt(first.cursor));
    const after = tokenRevocationsPage.parse((await users.client.send('GET', `/v1/token-revocations?since=${next.cursor}`)).body);
    assert.deepEqual([after.tokens, after.users], [[], []]);

    // As if that token had expired long ago: the next revocation deletes its row.
    await users.service.db.query(`update token_revocations set expires_at = now() - interval '1 second' where token_id = $1`, [jti]);
    const { token: another } = await users.client.signedIn({ email: uniqueEmail(), password, name: 'Later' });
    assert.equal((await users.client.send('POST', '/v1/auth/logout', { headers: bearer(another), json: {} })).status, 204);
    const { rows } = await users.service.db.query('select 1 from token_revocations where token_id = $1', [jti]);
    assert.equal(rows.length, 0);

    assert.equal((await users.client.send('GET', '/v1/token-revocations?since=abc')).status, 400);
  });
});
