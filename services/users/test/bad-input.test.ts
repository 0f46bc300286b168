import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { createSuiteScope } from '@baton/kit/testing';
import { startUsers, type Problem, type TestUsers } from './support/users.ts';

const email = 'careful@example.com';
const password = 'correct horse battery staple';
const name = 'Careful';

interface BadRequest {
  name: string;
  path: string;
  status: number;
  body?: unknown;
  raw?: string;
  contentType?: string;
  field?: string;
}

// Each case is something a careless or hostile caller could send. Every one must be refused
// with a 4xx problem document that says what was wrong, before any password is hashed.
const cases: BadRequest[] = [
  { name: 'malformed JSON', path: '/v1/users', status: 400, raw: `{"email": "${email}", "password": `, field: 'body' },
  { name: 'an empty body', path: '/v1/users', status: 400, raw: '' },
  { name: 'JSON that is not an object', path: '/v1/users', status: 400, raw: '["a", "b"]' },
  { name: 'JSON null', path: '/v1/users', status: 400, raw: 'null' },
  { name: 'a form body', path: '/v1/users', status: 415, raw: `email=${email}`, contentType: 'application/x-www-form-urlencoded' },
  { name: 'no email', path: '/v1/users', status: 400, body: { password, name }, field: 'body.email' },
  { name: 'an email without an @', path: '/v1/users', status: 400, body: { email: 'careful.example.com', password, name }, field: 'body.email' },
  { name: 'an email that is a number', path: '/v1/users', status: 400, body: { email: 42, password, name }, field: 'body.email' },
  { name: 'an email of 300 characters', path: '/v1/users', status: 400, body: { email: `${'a'.repeat(290)}@example.com`, password, name }, field: 'body.email' },
  { name: 'a password of 7 characters', path: '/v1/users', status: 400, body: { email, password: '1234567', name }, field: 'body.password' },
  { name: 'a password of 257 characters', path: '/v1/users', status: 400, body: { email, password: 'p'.repeat(257), name }, field: 'body.password' },
  { name: 'a password that is an object', path: '/v1/users', status: 400, body: { email, password: { $gt: '' }, name }, field: 'body.password' },
  { name: 'an empty name', path: '/v1/users', status: 400, body: { email, password, name: '   ' }, field: 'body.name' },
  { name: 'a name that is an array', path: '/v1/users', status: 400, body: { email, password, name: ['Ada'] }, field: 'body.name' },
  { name: 'an unknown field', path: '/v1/users', status: 400, body: { email, password, name, isAdmin: true } },
  { name: 'a 2 MB body', path: '/v1/users', status: 413, raw: JSON.stringify({ email, password, name: 'x'.repeat(2 * 1024 * 1024) }) },
  { name: 'a 20 kB body', path: '/v1/users', status: 413, raw: JSON.stringify({ email, password, name: 'x'.repeat(20 * 1024) }) },
  { name: 'a login with malformed JSON', path: '/v1/auth/login', status: 400, raw: '{"email":', field: 'body' },
  { name: 'a login without a password', path: '/v1/auth/login', status: 400, body: { email }, field: 'body.password' },
  { name: 'a login whose password is a number', path: '/v1/auth/login', status: 400, body: { email, password: 12345678 }, field: 'body.password' },
  { name: 'a login with a password of 257 characters', path: '/v1/auth/login', status: 400, body: { email, password: 'p'.repeat(257) }, field: 'body.password' },
  { name: 'a login with an unknown field', path: '/v1/auth/login', status: 400, body: { email, password, remember: true } },
  { name: 'a 2 MB login', path: '/v1/auth/login', status: 413, raw: JSON.stringify({ email, password: 'x'.repeat(2 * 1024 * 1024) }) },
  // PostgreSQL's text cannot hold NUL: these reached the database and came back as 500s.
  { name: 'a name with a NUL character', path: '/v1/users', status: 400, body: { email, password, name: 'a\u0000b' }, field: 'body.name' },
  { name: 'a login email with a NUL character', path: '/v1/auth/login', status: 400, body: { email: 'bob\u0000@example.com', password }, field: 'body.email' },
];

void describe('bad input to the users API', () => {
  const suite = createSuiteScope();
  let users: TestUsers;
  let hashesBefore: number;
  before(async () => {
    users = await startUsers(suite);
    hashesBefore = (await users.client.hashCount('hash')) + (await users.client.hashCount('verify'));
  });

  for (const bad of cases) {
    void it(`answers ${bad.status} to ${bad.name}`, async () => {
      const answer = await users.client.send('POST', bad.path, bad.raw === undefined
        ? { json: bad.body }
        : { body: bad.raw, headers: { 'content-type': bad.contentType ?? 'application/json' } });
      assert.equal(answer.status, bad.status, JSON.stringify(answer.body));
      assert.match(answer.contentType, /^application\/problem\+json/);
      const problem = answer.body as Problem;
      assert.equal(problem.status, bad.status);
      assert.equal(typeof problem.detail, 'string');
      if (bad.field !== undefined) {
        assert.ok(problem.errors?.some((e) => e.field === bad.field), `no error for ${bad.field}: ${JSON.stringify(problem.errors)}`);
      }
    });
  }

  void it('hashed no password for any of it, and is still healthy', async () => {
    const hashesAfter = (await users.client.hashCount('hash')) + (await users.client.hashCount('verify'));
    assert.equal(hashesAfter, hashesBefore);
    assert.equal((await users.client.send('GET', '/healthz')).status, 200);
    const { rows } = await users.service.db.query('select 1 from users');
    assert.equal(rows.length, 0);
  });
});
