import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { createTokenVerifier } from '@baton/kit/auth';
import { createSuiteScope, createTestDatabase, testIdentity } from '@baton/kit/testing';
import { startUsers, uniqueEmail, type Problem, type TestUsers } from './support/users.ts';

const password = 'correct horse battery staple';

const staffTwo = uniqueEmail('staff-two');

void describe('registration and reading accounts', () => {
  const suite = createSuiteScope();
  let users: TestUsers;
  before(async () => {
    users = await startUsers(suite, { STAFF_EMAILS: ` Staff@Example.com ,${staffTwo}` });
  });

  void it('creates an account with a normalised email and answers 201 with it', async () => {
    const email = uniqueEmail('Ada');
    const answer = await users.client.register({ email: `  ${email.toUpperCase()} `, password, name: ' Ada Lovelace ' });
    assert.equal(answer.status, 201, JSON.stringify(answer.body));
    assert.deepEqual(Object.keys(answer.body).sort(), ['email', 'id', 'name', 'roles', 'session']);
    assert.deepEqual(answer.body.roles, [], 'a shopper');
    assert.equal(answer.body.email, email.toLowerCase());
    assert.equal(answer.body.name, 'Ada Lovelace');
    assert.equal(answer.headers.get('location'), `/v1/users/${answer.body.id}`);

    const read = await users.client.user(answer.body.id);
    assert.equal(read.status, 200);
    const { session: _session, ...account } = answer.body;
    assert.deepEqual(read.body, account, 'the account as it is read later; the session is the sign-up\'s alone');
  });

  void it('makes an email of STAFF_EMAILS staff when it signs up, whatever its letter case, and its tokens say so', async () => {
    const staff = await users.client.register({ email: 'STAFF@example.com', password, name: 'Stella' });
    assert.equal(staff.status, 201, JSON.stringify(staff.body));
    assert.deepEqual(staff.body.roles, ['staff']);
    const shopper = await users.client.register({ email: uniqueEmail('shopper'), password, name: 'Sam' });
    assert.deepEqual(shopper.body.roles, []);

    const verifier = createTokenVerifier({ jwksUrl: `${users.url}/.well-known/jwks.json`, issuer: 'baton-users', audience: 'inventory' });
    const staffToken = await users.client.login('staff@example.com', password);
    assert.deepEqual(decodeJwt(staffToken.body.accessToken).roles, ['staff']);
    assert.deepEqual((await verifier.verify(staffToken.body.accessToken)).roles, ['staff']);
    const shopperToken = await users.client.login(shopper.body.email, password);
    assert.equal(decodeJwt(shopperToken.body.accessToken).roles, undefined, 'a shopper\'s token carries no roles claim');
    assert.deepEqual((await verifier.verify(shopperToken.body.accessToken)).roles, []);
  });

  void it('stores a self-describing scrypt hash, never the password', async () => {
    const email = uniqueEmail();
    const answer = await users.client.register({ email, password, name: 'Hash' });
    assert.equal(answer.status, 201);
    const { rows } = await users.service.db.query<{ password_hash: string }>('select password_hash from users where id = $1', [answer.body.id]);
    const stored = rows[0]?.password_hash ?? '';
    assert.match(stored, /^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    assert.ok(!stored.includes(password));
  });

  void it('writes user.registered with the account, in its transaction, and serves it on the event feed', async () => {
    const email = uniqueEmail('Events');
    // The caller's trace context goes on in the event: same trace, a span of its own.
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const registered = await fetch(new URL('/v1/users', users.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: `00-${traceId}-00f067aa0ba902b7-01`, ...await testIdentity.headers('gateway', 'users') },
      body: JSON.stringify({ email, password, name: 'Eve' }),
    });
    assert.equal(registered.status, 201);
    const answer = { body: await registered.json() as { id: string } };
    const { rows } = await users.service.db.query<{ type: string; event: { data: { userId: string; email: string }; subjectseq: number; traceparent: string; specversion: string; dataschema: string } }>(
      'select type, event from baton_outbox where aggregate_id = $1', [answer.body.id]);
    assert.equal(rows.length, 1);
    assert.equal(rows[0]?.type, 'user.registered');
    assert.equal(rows[0]?.event.specversion, '1.0');
    assert.equal(rows[0]?.event.dataschema, 'urn:baton:event:user.registered:1');
    assert.match(rows[0]?.event.traceparent ?? '', new RegExp(`^00-${traceId}-(?!00f067aa0ba902b7)[0-9a-f]{16}-01$`));
    assert.deepEqual({ userId: rows[0]?.event.data.userId, email: rows[0]?.event.data.email }, { userId: answer.body.id, email: email.toLowerCase() });

    const taken = await users.client.register({ email, password, name: 'Eve again' });
    assert.equal(taken.status, 409);
    const all = await users.service.db.query<{ n: number }>(`select count(*)::int as n from baton_outbox where event->'data'->>'email' = $1`, [email.toLowerCase()]);
    assert.equal(all.rows[0]?.n, 1, 'a registration that failed wrote no event');

    // No broker is configured here, so the relay stamps it into the HTTP feed.
    let feed: Array<{ event: { subject: string } }> = [];
    for (let i = 0; i < 100 && !feed.some((e) => e.event.subject === answer.body.id); i++) {
      feed = (await users.client.send<{ events: typeof feed }>('GET', '/events/v1/feed?after=0&limit=500')).body.events;
      if (!feed.some((e) => e.event.subject === answer.body.id)) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.ok(feed.some((e) => e.event.subject === answer.body.id), 'the event is on the feed');
  });

  void it('answers 409 naming the email for an email that is taken, whatever its letter case', async () => {
    const email = uniqueEmail();
    assert.equal((await users.client.register({ email, password, name: 'First' })).status, 201);
    for (const again of [email, email.toUpperCase(), ` ${email.replace(/^./, (c) => c.toUpperCase())}\t`]) {
      const answer = await users.client.register({ email: again, password: 'another password', name: 'Second' });
      assert.equal(answer.status, 409, `for ${JSON.stringify(again)}: ${JSON.stringify(answer.body)}`);
      assert.match(answer.contentType, /^application\/problem\+json/);
      const problem = answer.body as unknown as Problem;
      assert.equal(problem.code, 'already_exists');
      assert.deepEqual(problem.errors?.map((e) => e.field), ['body.email']);
    }
  });

  void it('lets exactly one of ten simultaneous registrations of one email through', async () => {
    const email = uniqueEmail('race');
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) =>
      users.client.register({ email: i % 2 === 0 ? email : email.toUpperCase(), password, name: `Racer ${i}` })));
    const statuses = answers.map((a) => a.status).sort();
    assert.deepEqual(statuses, [201, 409, 409, 409, 409, 409, 409, 409, 409, 409]);
    const { rows } = await users.service.db.query('select id from users where email = $1', [email]);
    assert.equal(rows.length, 1);
  });

  void it('answers 404 for a user that does not exist and 400 for an id that is no UUID', async () => {
    const missing = await users.client.user(randomUUID());
    assert.equal(missing.status, 404);
    assert.equal((missing.body as unknown as Problem).code, 'not_found');

    const malformed = await users.client.user('not-a-uuid');
    assert.equal(malformed.status, 400);
    assert.equal((malformed.body as unknown as Problem).errors?.[0]?.field, 'params.id');
  });

  void it('never writes a password to its logs', async () => {
    const secret = `never-logged-${randomUUID()}`;
    await users.client.register({ email: uniqueEmail(), password: secret, name: 'Quiet' });
    await users.client.login(uniqueEmail(), secret);
    // A request the kit logs at info with its fields: the body is refused, and must not be echoed.
    await users.client.send('POST', '/v1/users', { json: { email: 'no-at-sign', password: secret, name: 'Loud' } });
    assert.ok(users.logs.length > 0);
    assert.ok(!JSON.stringify(users.logs).includes(secret));
  });
});

void describe('registrations racing each other', () => {
  // The server runs the ten inserts truly at once on the pool's connections, so the unique
  // constraint faces a real race.
  void it('lets exactly one of ten simultaneous registrations of one email through', async (t) => {
    const url = await createTestDatabase(t);
    if (url === undefined) return;
    const users = await startUsers(t, { DATABASE_URL: url });
    const email = uniqueEmail('race');
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) =>
      users.client.register({ email: i % 2 === 0 ? email : ` ${email.toUpperCase()}`, password, name: `Racer ${i}` })));
    assert.deepEqual(answers.map((a) => a.status).sort(), [201, 409, 409, 409, 409, 409, 409, 409, 409, 409]);
    for (const answer of answers.filter((a) => a.status === 409)) {
      assert.deepEqual((answer.body as unknown as Problem).errors?.map((e) => e.field), ['body.email']);
    }
    const { rows } = await users.service.db.query('select id from users where email = $1', [email]);
    assert.equal(rows.length, 1);
  });
});
