import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { addCleanup, testIdentity, testPostgresAdminUrl } from '@baton/kit/testing';
import { dropDatabases } from '@baton/local-postgres';
import { randomPortBase, serviceNames, startStack, type LogLine } from '@baton/runner';

// Every service but the gateway keeps data; the gateway verifies tokens and forwards.
const withData = serviceNames.filter((name) => name !== 'gateway');

// The stack as `npm start` starts it (createStack with its defaults: the embedded PostgreSQL in
// <var>/postgres), read from the server's side: who is connected to what, and who may.

async function query<R extends pg.QueryResultRow>(url: string, text: string, params: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => {});
  await client.connect();
  try {
    return (await client.query<R>(text, params)).rows;
  } finally {
    await client.end();
  }
}

/** The SQLSTATE a connection attempt fails with, or 'connected'. */
async function connectOutcome(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.end();
    return 'connected';
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
}

test('npm start\'s stack: one embedded PostgreSQL, every service that keeps data on its own database as its own role, none for the gateway, and no role can open another\'s database', { timeout: 180_000 }, async (t) => {
  const varDir = await mkdtemp(join(tmpdir(), 'baton-databases-'));
  addCleanup(t, () => rm(varDir, { recursive: true, force: true }));
  const stack = await startStack({ portBase: randomPortBase(), varDir, env: { ...process.env, LOG_LEVEL: 'warn' } });
  addCleanup(t, () => stack.shutdown());

  assert.equal(stack.database.kind, 'embedded');
  const adminUrl = stack.database.adminUrl;
  assert.ok(adminUrl, 'the runner holds the superuser URL (through the socket)');
  assert.match(new URL(adminUrl).searchParams.get('host') ?? '', new RegExp(`^${varDir}/postgres`), 'the superuser comes through the socket in var/postgres');

  // Who is connected to what: each service names itself (application_name) on its connections.
  // A connection still signing in (a pool growing as this runs) has no role or database yet, and
  // says nothing either way: seen once, as a row of nulls.
  const sessions = await query<{ app: string; role: string; db: string }>(adminUrl,
    `select distinct application_name as app, usename as role, datname as db from pg_stat_activity
      where application_name = any($1) and (usename is not null or datname is not null)`, [serviceNames]);
  assert.deepEqual(sessions.filter((s) => s.app === 'gateway'), [], 'the gateway has no database connection');
  for (const name of withData) {
    const own = sessions.filter((s) => s.app === name);
    assert.ok(own.length > 0, `${name} has a connection open`);
    assert.deepEqual(own.map((s) => [s.role, s.db]), own.map(() => [`baton_${name}`, `baton_${name}`]), `${name} is connected to its own database as its own role`);
  }

  // What each role is: it signs in, owns its database, and holds no other power.
  const roles = await query<{ rolname: string; super: boolean; createdb: boolean; createrole: boolean; replication: boolean; bypassrls: boolean; login: boolean }>(adminUrl,
    `select rolname, rolsuper as super, rolcreatedb as createdb, rolcreaterole as createrole, rolreplication as replication, rolbypassrls as bypassrls, rolcanlogin as login
       from pg_roles where rolname = any($1) order by rolname`, [serviceNames.map((name) => `baton_${name}`)]);
  assert.deepEqual(roles.map((role) => role.rolname), withData.map((name) => `baton_${name}`).toSorted(), 'a role for every service but the gateway');
  for (const role of roles) {
    assert.deepEqual({ ...role, rolname: undefined }, { rolname: undefined, super: false, createdb: false, createrole: false, replication: false, bypassrls: false, login: true }, `${role.rolname} can only sign in`);
  }
  const owners = await query<{ db: string; owner: string }>(adminUrl,
    `select datname as db, pg_get_userbyid(datdba) as owner from pg_database where datname like 'baton\\_%' order by datname`);
  assert.deepEqual(owners.map((o) => [o.db, o.owner]), withData.map((name) => [`baton_${name}`, `baton_${name}`]).toSorted((a, b) => a[0]!.localeCompare(b[0]!)),
    'a database for every service but the gateway, each owned by its role');
  assert.equal(stack.database.services.has('gateway'), false, 'nor a URL for the gateway');

  // No role may connect to another's database: by privilege (CONNECT is revoked from PUBLIC)…
  const privileges = await query<{ role: string; db: string; can: boolean }>(adminUrl,
    `select r.rolname as role, d.datname as db, has_database_privilege(r.rolname, d.datname, 'CONNECT') as can
       from pg_roles r cross join pg_database d where r.rolname like 'baton\\_%' and d.datname like 'baton\\_%'`);
  assert.equal(privileges.length, withData.length ** 2);
  for (const { role, db, can } of privileges) assert.equal(can, role === db, `${role} ${can ? 'may' : 'may not'} connect to ${db}`);

  // …and in fact, with a service's own password: over TCP, where services connect, the server
  // refuses it any database but its own; through the socket, the privilege does.
  const users = stack.database.services.get('users');
  assert.ok(users);
  assert.equal(await connectOutcome(users.url), 'connected', 'users reaches its own database');
  const elsewhere = new URL(users.url);
  for (const other of ['baton_orders', 'baton_inventory', 'postgres']) {
    elsewhere.pathname = `/${other}`;
    assert.equal(await connectOutcome(elsewhere.toString()), '28000', `users's role is refused ${other} over TCP (no pg_hba entry)`);
  }
  const throughSocket = new URL(adminUrl);
  throughSocket.username = 'baton_users';
  throughSocket.pathname = '/baton_orders';
  assert.equal(await connectOutcome(throughSocket.toString()), '42501', 'through the socket, users\'s role lacks CONNECT on orders\'s database');
  const wrongPassword = new URL(users.url);
  wrongPassword.password = 'not-the-password';
  assert.equal(await connectOutcome(wrongPassword.toString()), '28P01', 'a wrong password is refused');
});

test('with a server of yours (BATON_DATABASE_URL), the runner creates the databases and roles that are missing and says so; the next start keeps them and their data', { timeout: 180_000 }, async (t) => {
  const adminUrl = await testPostgresAdminUrl();
  const databasePrefix = `yours${randomBytes(3).toString('hex')}_`;
  addCleanup(t, () => dropDatabases({ adminUrl, services: ['users'], prefix: databasePrefix }));
  const varDir = await mkdtemp(join(tmpdir(), 'baton-databases-'));
  addCleanup(t, () => rm(varDir, { recursive: true, force: true }));
  const start = async () => {
    const lines: LogLine[] = [];
    const stack = await startStack({ services: ['users'], portBase: randomPortBase(), varDir, databaseUrl: adminUrl, databasePrefix, env: { ...process.env, LOG_LEVEL: 'warn' }, onLog: (line) => lines.push(line), serviceKeys: { gateway: testIdentity.keyPair('gateway') } });
    const said = lines.find((line) => line.record?.event === 'databases_ready')?.record;
    return { stack, said };
  };

  const first = await start();
  assert.equal(first.stack.database.kind, 'external');
  assert.throws(() => first.stack.status('postgres'), /no embedded PostgreSQL/, 'no server of its own is started');
  assert.deepEqual(first.said?.created, [`${databasePrefix}users`]);
  assert.match(String(first.said?.msg), new RegExp(`^created ${databasePrefix}users on postgres://`));
  // As the gateway calls it, with the gateway's service token.
  const register = await fetch(new URL('/v1/users', first.stack.url('users')), {
    method: 'POST', headers: { 'content-type': 'application/json', ...await testIdentity.headers('gateway', 'users') },
    body: JSON.stringify({ email: 'kept@example.com', password: 'a long enough password', name: 'Kept' }),
  });
  assert.equal(register.status, 201, await register.text());
  await first.stack.shutdown();

  const second = await start();
  addCleanup(t, () => second.stack.shutdown());
  assert.deepEqual(second.said?.created, [], 'nothing is created twice');
  const owner = await query<{ owner: string }>(adminUrl, `select pg_get_userbyid(datdba) as owner from pg_database where datname = $1`, [`${databasePrefix}users`]);
  assert.deepEqual(owner, [{ owner: `${databasePrefix}users` }]);
  const login = await fetch(new URL('/v1/auth/login', second.stack.url('users')), {
    method: 'POST', headers: { 'content-type': 'application/json', ...await testIdentity.headers('gateway', 'users') },
    body: JSON.stringify({ email: 'kept@example.com', password: 'a long enough password' }),
  });
  assert.equal(login.status, 200, `the account made before the restart signs in: ${await login.text()}`);
});
