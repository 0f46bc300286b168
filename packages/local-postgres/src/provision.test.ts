import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { addCleanup } from '@baton/kit/testing';
import { dropDatabases, provisionDatabases, startLocalPostgres } from './index.ts';

async function run(url: string, text: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => {});
  await client.connect();
  try {
    return await client.query(text);
  } finally {
    await client.end();
  }
}

// A server of the test's own, set up as npm start's is (passwords over TCP), whatever
// TEST_POSTGRES_URL names.
void test('provisioning makes what is missing, keeps what exists with its data, and changes every password each time', async (t) => {
  const server = await startLocalPostgres();
  addCleanup(t, () => server.stop());
  const { adminUrl } = server;
  const serviceUrlBase = `postgres://127.0.0.1:${server.port}`;
  const prefix = `t${randomBytes(4).toString('hex')}_`;
  addCleanup(t, () => dropDatabases({ adminUrl, services: ['alpha', 'beta'], prefix }));

  const first = await provisionDatabases({ adminUrl, services: ['alpha', 'beta'], prefix, serviceUrlBase });
  assert.deepEqual(first.map((d) => [d.service, d.database, d.role, d.created]), [
    ['alpha', `${prefix}alpha`, `${prefix}alpha`, { role: true, database: true }],
    ['beta', `${prefix}beta`, `${prefix}beta`, { role: true, database: true }],
  ]);
  const alpha = first[0]!;
  assert.equal(new URL(alpha.url).username, `${prefix}alpha`);
  // A role owns its database, so it can make its tables there.
  await run(alpha.url, 'create table kept (note text); insert into kept values (\'still here\')');

  const second = await provisionDatabases({ adminUrl, services: ['alpha', 'beta'], prefix, serviceUrlBase });
  assert.deepEqual(second.map((d) => d.created), [{ role: false, database: false }, { role: false, database: false }], 'nothing made twice');
  assert.notEqual(second[0]!.url, alpha.url, 'a new password');
  assert.deepEqual((await run(second[0]!.url, 'select note from kept')).rows, [{ note: 'still here' }], 'the data stays');
  await assert.rejects(run(alpha.url, 'select 1'), { code: '28P01' }, 'the old password no longer signs in');
});

void test('names that are not plain lower-case identifiers are refused before anything is made', async () => {
  // Refused before connecting: the server named here does not exist.
  await assert.rejects(provisionDatabases({ adminUrl: 'postgres://postgres@127.0.0.1:1/postgres', services: ['Robert"); drop table students;--'] }), RangeError);
});

void test('a service never gets more than its own role: no admin credentials from the URL\'s query, and an existing role with more powers is refused', async (t) => {
  const server = await startLocalPostgres();
  addCleanup(t, () => server.stop());
  const prefix = `t${randomBytes(4).toString('hex')}_`;
  addCleanup(t, () => dropDatabases({ adminUrl: server.adminUrl, services: ['alpha'], prefix }));
  const base = new URL(`postgres://127.0.0.1:${server.port}`);
  base.searchParams.set('user', 'postgres');
  base.searchParams.set('password', 'the-admins');
  base.searchParams.set('sslmode', 'disable');
  const [alpha] = await provisionDatabases({ adminUrl: server.adminUrl, services: ['alpha'], prefix, serviceUrlBase: base.toString() });
  const url = new URL(alpha!.url);
  assert.equal(url.searchParams.get('user'), null);
  assert.equal(url.searchParams.get('password'), null);
  assert.equal(url.searchParams.get('sslmode'), 'disable', 'other settings are kept');
  assert.deepEqual((await run(alpha!.url, 'select current_user as who')).rows, [{ who: `${prefix}alpha` }]);

  await run(server.adminUrl, `alter role ${prefix}alpha createdb`);
  await assert.rejects(provisionDatabases({ adminUrl: server.adminUrl, services: ['alpha'], prefix }), /can do more than a service should \(CREATEDB\)/);
});
