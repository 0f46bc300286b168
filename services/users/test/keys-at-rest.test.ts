import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { decodeProtectedHeader } from 'jose';
import { migrate, openPostgres } from '@baton/kit/db';
import { addCleanup, createTempDir, createTestDatabase } from '@baton/kit/testing';
import { generateSigningKey } from '../src/tokens/signing-keys.ts';
import { startUsers, testKeyEncryptionKey, uniqueEmail } from './support/users.ts';

const migrationsDir = fileURLToPath(new URL('../migrations/', import.meta.url));
const password = 'correct horse battery staple';

void describe('the signing key at rest', () => {
  void it('is kept sealed: no row holds a private key in plain text, and the key-encryption key is in no log line', async (t) => {
    const users = await startUsers(t);
    await users.client.signedIn({ email: uniqueEmail(), password, name: 'Sealed' });
    const { rows } = await users.service.db.query<{ private_jwk: unknown; sealed: Buffer | null; row: string }>(
      'select private_jwk, sealed_private_key as sealed, signing_keys::text as row from signing_keys');
    assert.equal(rows.length, 1);
    assert.equal(rows[0]?.private_jwk, null);
    assert.ok(rows[0]?.sealed instanceof Buffer);
    assert.doesNotMatch(rows[0]?.row ?? '', /"d"/);
    // A plain-text key cannot be written any more, by a bug or an old replica.
    const { publicJwk, privateJwk, kid } = await generateSigningKey();
    await assert.rejects(users.service.db.query(
      `insert into signing_keys (kid, private_jwk, public_jwk, retired_at) values ($1, $2, $3, now())`,
      [kid, JSON.stringify(privateJwk), JSON.stringify(publicJwk)]), /signing_keys_never_plain/);
    assert.ok(users.logs.length > 0);
    for (const line of users.logs) assert.doesNotMatch(JSON.stringify(line), new RegExp(testKeyEncryptionKey.slice(0, 20).replace(/[+/]/g, '.')));
  });

  void it('will not start with a key-encryption key that does not open the active key', async (t) => {
    const databaseUrl = await createTestDatabase(t);
    if (databaseUrl === undefined) return;
    const first = await startUsers(t, { DATABASE_URL: databaseUrl });
    await first.service.shutdown('restarting with another key');
    await assert.rejects(startUsers(t, { DATABASE_URL: databaseUrl, TOKEN_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64') }),
      /does not open with this TOKEN_KEY_ENCRYPTION_KEY/);
  });

  void it('changes key-encryption key without a new signing key: the active key is sealed again from the previous one', async (t) => {
    const databaseUrl = await createTestDatabase(t);
    if (databaseUrl === undefined) return;
    const first = await startUsers(t, { DATABASE_URL: databaseUrl });
    const email = uniqueEmail();
    const { token } = await first.client.signedIn({ email, password, name: 'Rekeyed' });
    await first.service.shutdown('changing the key-encryption key');

    const newKey = randomBytes(32).toString('base64');
    const second = await startUsers(t, { DATABASE_URL: databaseUrl, TOKEN_KEY_ENCRYPTION_KEY: newKey, TOKEN_KEY_ENCRYPTION_KEY_PREVIOUS: testKeyEncryptionKey });
    assert.ok(second.logs.some((line) => /sealed the active signing key again/.test(String(line.msg))));
    const again = await second.client.login(email, password);
    assert.equal(again.status, 200);
    assert.equal(decodeProtectedHeader(again.body.accessToken).kid, decodeProtectedHeader(token).kid, 'the same signing key, sealed anew');
    await second.service.shutdown('the previous key is no longer needed');

    // The new key alone opens it now; the old one alone no longer does.
    const third = await startUsers(t, { DATABASE_URL: databaseUrl, TOKEN_KEY_ENCRYPTION_KEY: newKey });
    assert.equal((await third.client.me(token)).status, 200);
    await third.service.shutdown('done');
    await assert.rejects(startUsers(t, { DATABASE_URL: databaseUrl }), /does not open with this TOKEN_KEY_ENCRYPTION_KEY/);
  });

  void it('retires a key an earlier version kept in plain text: a new sealed key signs, the old one still verifies its tokens', async (t) => {
    const databaseUrl = await createTestDatabase(t);
    if (databaseUrl === undefined) return;
    // The database as the version before sealing left it: migrations 0001 and 0002, a plain key.
    const earlier = await createTempDir(t, 'users-migrations-');
    await mkdir(earlier, { recursive: true });
    for (const name of ['0001_users.sql', '0002_signing_keys.sql']) await copyFile(join(migrationsDir, name), join(earlier, name));
    const db = openPostgres({ url: databaseUrl });
    addCleanup(t, () => db.close());
    await migrate(db, earlier);
    const plain = await generateSigningKey();
    await db.query('insert into signing_keys (kid, private_jwk, public_jwk) values ($1, $2, $3)',
      [plain.kid, JSON.stringify(plain.privateJwk), JSON.stringify(plain.publicJwk)]);

    const users = await startUsers(t, { DATABASE_URL: databaseUrl });
    const { rows } = await db.query<{ kid: string; retired: boolean; plain: boolean; sealed: boolean }>(
      'select kid, retired_at is not null as retired, private_jwk is not null as plain, sealed_private_key is not null as sealed from signing_keys order by created_at');
    assert.deepEqual(rows.map(({ retired, plain: p, sealed }) => ({ retired, plain: p, sealed })), [
      { retired: true, plain: false, sealed: false },
      { retired: false, plain: false, sealed: true },
    ]);
    assert.equal(rows[0]?.kid, plain.kid);
    const { token } = await users.client.signedIn({ email: uniqueEmail(), password, name: 'After' });
    assert.equal(decodeProtectedHeader(token).kid, rows[1]?.kid);
    // The retired key is still published for the tokens it signed before.
    assert.deepEqual((await users.client.jwks()).body.keys.map((key) => key.kid), [rows[1]?.kid, plain.kid]);
  });
});
