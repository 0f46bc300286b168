import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { addCleanup, createTempDir, createTestDatabase } from '../testing/index.ts';
import { migrate, openPostgres, type Database } from './index.ts';

async function open(t: TestContext): Promise<Database | undefined> {
  const url = await createTestDatabase(t);
  if (url === undefined) return undefined;
  const db = openPostgres({ url, applicationName: 'baton-migrate-test' });
  addCleanup(t, () => db.close());
  return db;
}

async function migrationsDir(t: TestContext, files: Record<string, string>): Promise<string> {
  const dir = await createTempDir(t, 'baton-migrations-');
  await addFiles(dir, files);
  return dir;
}

async function addFiles(dir: string, files: Record<string, string>): Promise<void> {
  for (const [name, sql] of Object.entries(files)) await writeFile(join(dir, name), sql);
}

async function tablesOf(db: Database): Promise<string[]> {
  const { rows } = await db.query<{ table_name: string }>(
    `select table_name from information_schema.tables where table_schema = 'public' order by table_name`);
  return rows.map((row) => row.table_name);
}

async function recordedVersions(db: Database): Promise<string[]> {
  if (!(await tablesOf(db)).includes('baton_migrations')) return [];
  const { rows } = await db.query<{ version: string }>('select version from baton_migrations order by version');
  return rows.map((row) => row.version);
}

void describe('migrate', () => {
  void test('applies the files in name order, and a second run applies nothing', async (t) => {
    const db = await open(t);
    if (db === undefined) return;
    // Written out of order, with 0010 after 0002 only when sorted as names; other files are not migrations.
    const dir = await migrationsDir(t, {
      '0010_third.sql': `insert into steps (name) values ('third');`,
      '0002_second.sql': `insert into steps (name) values ('second');`,
      '0001_first.sql': `create table steps (id serial primary key, name text not null);
                         insert into steps (name) values ('first');`,
      'README.md': 'not a migration',
      'draft.sql': 'this is not valid sql and is not a migration either',
    });

    const first = await migrate(db, dir);
    assert.deepEqual(first.applied, ['0001_first.sql', '0002_second.sql', '0010_third.sql']);
    const { rows } = await db.query<{ name: string }>('select name from steps order by id');
    assert.deepEqual(rows.map((row) => row.name), ['first', 'second', 'third']);
    assert.deepEqual(await recordedVersions(db), ['0001_first.sql', '0002_second.sql', '0010_third.sql']);

    const second = await migrate(db, dir);
    assert.deepEqual(second.applied, []);
    const again = await db.query<{ count: number }>('select count(*)::int as count from steps');
    assert.equal(again.rows[0]?.count, 3, 'nothing ran twice');

    await addFiles(dir, { '0011_fourth.sql': `insert into steps (name) values ('fourth');` });
    const third = await migrate(db, dir);
    assert.deepEqual(third.applied, ['0011_fourth.sql'], 'a new file is applied alone');
  });

  void test('a failing migration rolls back every file of the run', async (t) => {
    const db = await open(t);
    if (db === undefined) return;
    const dir = await migrationsDir(t, {
      '0001_accounts.sql': 'create table accounts (id integer primary key);',
    });
    assert.deepEqual((await migrate(db, dir)).applied, ['0001_accounts.sql']);

    await addFiles(dir, {
      '0002_orders.sql': `create table orders (id integer primary key);
                          insert into accounts (id) values (1);`,
      '0003_broken.sql': 'create table broken (id integer primary key); select * from no_such_table;',
    });
    await assert.rejects(migrate(db, dir), /no_such_table/);

    assert.deepEqual(await tablesOf(db), ['accounts', 'baton_migrations'], 'neither 0002 nor 0003 left a table');
    const accounts = await db.query('select * from accounts');
    assert.equal(accounts.rowCount, 0, "0002's insert was rolled back too");
    assert.deepEqual(await recordedVersions(db), ['0001_accounts.sql']);

    await addFiles(dir, { '0003_broken.sql': 'create table broken (id integer primary key);' });
    assert.deepEqual((await migrate(db, dir)).applied, ['0002_orders.sql', '0003_broken.sql'], 'once fixed, the run applies');
  });

  void test('a failure in the very first run leaves the database untouched', async (t) => {
    const db = await open(t);
    if (db === undefined) return;
    const dir = await migrationsDir(t, {
      '0001_ok.sql': 'create table ok (id integer primary key);',
      '0002_fails.sql': 'insert into ok (id) values (1), (1);',
    });
    await assert.rejects(migrate(db, dir), /duplicate key|unique/i);
    assert.deepEqual(await tablesOf(db), [], 'not even the bookkeeping table remains');
  });
});
