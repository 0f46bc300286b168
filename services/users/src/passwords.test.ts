import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hashPassword, needsRehash, parseStoredHash, verifyPassword } from './passwords.ts';

// Small N keeps these unit tests fast; the service's own cost is tested through its config.
const cheap = { log2N: 10, r: 8, p: 1 };

void describe('password hashes', () => {
  void it('writes scrypt$N$r$p$salt$hash and verifies the password it was made from, only that one', async () => {
    const stored = await hashPassword('correct horse battery staple', cheap);
    assert.match(stored, /^scrypt\$1024\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    assert.equal(await verifyPassword('correct horse battery staple', stored), true);
    assert.equal(await verifyPassword('correct horse battery staplE', stored), false);
    assert.equal(await verifyPassword('', stored), false);
  });

  void it('salts every hash, so one password never hashes the same twice', async () => {
    const [a, b] = await Promise.all([hashPassword('same password', cheap), hashPassword('same password', cheap)]);
    assert.notEqual(a, b);
  });

  void it('treats a password typed with composed or decomposed accents as the same (NFKC)', async () => {
    const stored = await hashPassword('caf\u00e9 au lait', cheap);
    assert.equal(await verifyPassword('cafe\u0301 au lait', stored), true);
  });

  void it('verifies with the parameters stored in the hash, not today\u2019s', async () => {
    const stored = await hashPassword('old password', { log2N: 11, r: 4, p: 2 });
    assert.deepEqual({ ...parseStoredHash(stored), salt: undefined, key: undefined }, { log2N: 11, r: 4, p: 2, salt: undefined, key: undefined });
    assert.equal(await verifyPassword('old password', stored), true);
    assert.equal(needsRehash(stored, cheap), true);
    assert.equal(needsRehash(await hashPassword('x', cheap), cheap), false);
  });

  void it('refuses stored hashes it did not write, including ones that would cost gigabytes', () => {
    const salt = 'A'.repeat(22);
    const key = 'B'.repeat(43);
    for (const bad of [
      '', 'plain text', `bcrypt$1024$8$1$${salt}$${key}`, `scrypt$1000$8$1$${salt}$${key}`,
      `scrypt$${2 ** 30}$8$1$${salt}$${key}`, `scrypt$1024$1000$1$${salt}$${key}`, `scrypt$1024$8$0$${salt}$${key}`,
      `scrypt$1024$8$1$${salt}$${key.slice(2)}`, `scrypt$1024$8$1$$${key}`, `scrypt$1024$8$1$${salt}$${key}$extra`,
    ]) {
      assert.throws(() => parseStoredHash(bad), /format/, `accepted ${bad}`);
    }
  });
});
