import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { generateSigningKey } from './signing-keys.ts';
import { KeySealingError, openPrivateJwk, sealPrivateJwk } from './key-sealing.ts';

void describe('sealing a private signing key', () => {
  void it('opens with the same key-encryption key and kid, and the sealed bytes hold no part of the key', async () => {
    const kek = randomBytes(32);
    const { kid, privateJwk } = await generateSigningKey();
    const sealed = sealPrivateJwk(kek, kid, privateJwk);
    assert.deepEqual(openPrivateJwk(kek, kid, sealed), privateJwk);
    const d = Buffer.from(String(privateJwk.d), 'base64url');
    assert.equal(sealed.includes(d), false);
    assert.equal(sealed.includes(Buffer.from(String(privateJwk.d))), false);
    // A fresh nonce each time: sealing twice never gives the same bytes.
    assert.notDeepEqual(sealPrivateJwk(kek, kid, privateJwk), sealed);
  });

  void it('refuses another key-encryption key, another kid, and changed bytes', async () => {
    const kek = randomBytes(32);
    const { kid, privateJwk } = await generateSigningKey();
    const sealed = sealPrivateJwk(kek, kid, privateJwk);
    assert.throws(() => openPrivateJwk(randomBytes(32), kid, sealed), KeySealingError);
    assert.throws(() => openPrivateJwk(kek, `${kid}x`, sealed), KeySealingError);
    const changed = Buffer.from(sealed);
    changed[20] = (changed[20] ?? 0) ^ 1;
    assert.throws(() => openPrivateJwk(kek, kid, changed), KeySealingError);
    assert.throws(() => openPrivateJwk(kek, kid, sealed.subarray(0, 10)), /not in a known format/);
  });
});
