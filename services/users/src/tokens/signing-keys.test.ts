import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, it, type TestContext } from 'node:test';
import { migrate, openPostgres, type Database } from '@baton/kit/db';
import { addCleanup, createTestDatabase } from '@baton/kit/testing';
import { randomBytes } from 'node:crypto';
import { ensureSigningKey, listPublishedKeys, rotateSigningKey } from './signing-keys.ts';

const keyEncryptionKey = randomBytes(32);

const migrationsDir = fileURLToPath(new URL('../../migrations/', import.meta.url));

async function openTestDatabase(t: TestContext): Promise<Database | undefined> {
  const url = await createTestDatabase(t);
  if (url === undefined) return undefined;
  const db = openPostgres({ url });
  addCleanup(t, () => db.close());
  await migrate(db, migrationsDir);
  return db;
}

async function activeKids(db: Database): Promise<string[]> {
  const { rows } = await db.query<{ kid: string }>('select kid from signing_keys where retired_at is null');
  return rows.map((row) => row.kid);
}

void describe('signing keys', () => {
  void it('makes exactly one first key when replicas start at the same time', async (t) => {
    const db = await openTestDatabase(t);
    if (db === undefined) return;
    const results = await Promise.all(Array.from({ length: 4 }, () => ensureSigningKey(db, keyEncryptionKey)));
    assert.equal(results.filter((r) => r.created).length, 1);
    assert.equal((await activeKids(db)).length, 1);
    assert.deepEqual(await ensureSigningKey(db, keyEncryptionKey), { created: false });
  });

  void it('lets simultaneous rotations each take their turn, leaving one active key', async (t) => {
    const db = await openTestDatabase(t);
    if (db === undefined) return;
    await ensureSigningKey(db, keyEncryptionKey);
    const rotated = await Promise.all(Array.from({ length: 3 }, () => rotateSigningKey(db, keyEncryptionKey)));
    const active = await activeKids(db);
    assert.equal(active.length, 1);
    assert.ok(rotated.some((r) => r.kid === active[0]));
    const published = await listPublishedKeys(db, { retiredForSeconds: 960 }, {});
    assert.equal(published.length, 4);
    for (const key of published) assert.equal((key as unknown as Record<string, unknown>).d, undefined);
  });
});
