import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import pg from 'pg';
import { createSuiteDatabase, createSuiteScope } from '@baton/kit/testing';
import { startUsers, uniqueEmail, type Problem, type TestUsers, type Token } from './support/users.ts';

const password = 'correct horse battery staple';

void describe('sessions: sign-up signs in, refresh tokens rotate, a reuse ends the session', () => {
  const suite = createSuiteScope();
  let users: TestUsers;
  let databaseUrl: string;
  before(async () => {
    databaseUrl = await createSuiteDatabase(suite);
    users = await startUsers(suite, { DATABASE_URL: databaseUrl });
  });

  async function signUp(): Promise<{ id: string; email: string; session: Token }> {
    const email = uniqueEmail('session');
    const answer = await users.client.register({ email, password, name: 'Sasha' });
    assert.equal(answer.status, 201, JSON.stringify(answer.body));
    return { id: answer.body.id, email, session: answer.body.session ?? assert.fail('no session in the answer to a sign-up') };
  }

  void it('answers a sign-up with the account and a session, hashing the password once', async () => {
    const hashesBefore = await users.client.hashCount('hash');
    const verifiesBefore = await users.client.hashCount('verify');
    const { id, session } = await signUp();
    assert.equal(await users.client.hashCount('hash'), hashesBefore + 1);
    assert.equal(await users.client.hashCount('verify'), verifiesBefore, 'no sign-in hash after it');
    assert.equal(session.tokenType, 'Bearer');
    assert.equal(session.expiresIn, 900);
    assert.equal(session.refreshExpiresIn, 14 * 86_400);
    assert.equal(decodeJwt(session.accessToken).sub, id);
    assert.equal(typeof decodeJwt(session.accessToken).sid, 'string', 'the access token names its session');
    const me = await users.client.me(session.accessToken);
    assert.equal(me.status, 200);
    assert.equal(me.body.id, id);
  });

  void it('trades a refresh token once for new tokens in the same session; only its hash is stored', async () => {
    const { id, session } = await signUp();
    const refreshed = await users.client.refresh(session.refreshToken);
    assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
    assert.equal(refreshed.headers.get('cache-control'), 'no-store');
    assert.notEqual(refreshed.body.refreshToken, session.refreshToken, 'a new refresh token each time');
    assert.equal(decodeJwt(refreshed.body.accessToken).sid, decodeJwt(session.accessToken).sid, 'the same session');
    assert.equal((await users.client.me(refreshed.body.accessToken)).status, 200);
    const again = await users.client.refresh(refreshed.body.refreshToken);
    assert.equal(again.status, 200, 'the new one works in its turn');

    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      const { rows } = await client.query<{ token_hash: Buffer }>('select t.token_hash from refresh_tokens t join sessions s on s.id = t.session_id where s.user_id = $1', [id]);
      assert.equal(rows.length, 3);
      const hashes = rows.map((r) => r.token_hash.toString('hex'));
      assert.ok(hashes.includes(createHash('sha256').update(session.refreshToken).digest('hex')));
      assert.ok(!JSON.stringify(rows).includes(session.refreshToken), 'the token itself is not stored');
    } finally {
      await client.end();
    }
  });

  void it('a refresh token used twice ends its session and the user\'s access tokens; another session refreshes and goes on', async () => {
    const { email, session: first } = await signUp();
    const second = (await users.client.login(email, password)).body;
    const rotated = await users.client.refresh(first.refreshToken);
    assert.equal(rotated.status, 200);
    // The thief (or the victim) shows the old one again.
    const reused = await users.client.refresh(first.refreshToken);
    assert.equal(reused.status, 401);
    assert.equal((reused.body as unknown as Problem).reason, 'refresh_token_reused');
    // The session is over for both holders: the rotated refresh token too...
    const afterReuse = await users.client.refresh(rotated.body.refreshToken);
    assert.equal(afterReuse.status, 401);
    assert.equal((afterReuse.body as unknown as Problem).reason, 'session_revoked');
    // ...and the access tokens issued until then.
    const me = await users.client.me(rotated.body.accessToken);
    assert.equal(me.status, 401);
    assert.equal((me.body as unknown as Problem).reason, 'token_revoked');
    // The other session's refresh token still works, and its new access token is accepted.
    const other = await users.client.refresh(second.refreshToken);
    assert.equal(other.status, 200, JSON.stringify(other.body));
    assert.equal((await users.client.me(other.body.accessToken)).status, 200);
  });

  void it('of two refreshes with one token at once, one gets new tokens and the other ends the session', async () => {
    const { session } = await signUp();
    const answers = await Promise.all([users.client.refresh(session.refreshToken), users.client.refresh(session.refreshToken)]);
    assert.deepEqual(answers.map((a) => a.status).toSorted(), [200, 401]);
    const winner = answers.find((a) => a.status === 200)!;
    assert.equal((await users.client.refresh(winner.body.refreshToken)).status, 401, 'the session is over');
  });

  void it('a sign-out ends its session (its refresh token is refused), not the others; allSessions ends all', async () => {
    const { email, session: first } = await signUp();
    const second = (await users.client.login(email, password)).body;
    const third = (await users.client.login(email, password)).body;
    assert.equal((await users.client.logout(first.accessToken)).status, 204);
    const refused = await users.client.refresh(first.refreshToken);
    assert.equal(refused.status, 401);
    assert.equal((refused.body as unknown as Problem).reason, 'session_revoked');
    const stillIn = await users.client.refresh(second.refreshToken);
    assert.equal(stillIn.status, 200);
    assert.equal((await users.client.logout(stillIn.body.accessToken, { allSessions: true })).status, 204);
    for (const token of [stillIn.body.refreshToken, third.refreshToken]) {
      const answer = await users.client.refresh(token);
      assert.equal(answer.status, 401);
      assert.equal((answer.body as unknown as Problem).reason, 'session_revoked');
    }
  });

  void it('a password change ends every session', async () => {
    const { email, session } = await signUp();
    const other = (await users.client.login(email, password)).body;
    const changed = await users.client.send('POST', '/v1/users/me/password', {
      json: { currentPassword: password, newPassword: 'another horse battery staple' }, headers: { authorization: `Bearer ${session.accessToken}` },
    });
    assert.equal(changed.status, 204);
    for (const token of [session.refreshToken, other.refreshToken]) assert.equal((await users.client.refresh(token)).status, 401);
    assert.equal((await users.client.login(email, 'another horse battery staple')).status, 200, 'signing in with the new one opens a new session');
  });

  void it('refuses a token it never gave out, and a body that is not one, naming the field', async () => {
    const unknown = await users.client.refresh('not-a-token-this-service-gave-out');
    assert.equal(unknown.status, 401);
    assert.equal((unknown.body as unknown as Problem).reason, 'invalid_refresh_token');
    const empty = await users.client.send('POST', '/v1/auth/refresh', { json: {} });
    assert.equal(empty.status, 400);
    assert.deepEqual((empty.body as Problem).errors?.map((e) => e.field), ['body.refreshToken']);
  });

  void it('a refresh token past REFRESH_TOKEN_TTL_SECONDS is refused', async (t) => {
    const shortLived = await startUsers(t, { REFRESH_TOKEN_TTL_SECONDS: '1', DATABASE_URL: databaseUrl });
    const answer = await shortLived.client.register({ email: uniqueEmail('brief'), password, name: 'Brief' });
    assert.equal(answer.body.session?.refreshExpiresIn, 1);
    await sleep(1_100);
    const late = await shortLived.client.refresh(answer.body.session?.refreshToken ?? '');
    assert.equal(late.status, 401);
    assert.equal((late.body as unknown as Problem).reason, 'refresh_token_expired');
  });
});
