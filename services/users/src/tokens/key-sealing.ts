import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { JWK } from 'jose';

/**
 * Private signing keys at rest: AES-256-GCM under the key-encryption key (TOKEN_KEY_ENCRYPTION_KEY),
 * with the key's `kid` as associated data, so a sealed key moved to another row does not open.
 * node:crypto's AEAD is used directly: the format is Baton's own (one version byte, a 12-byte
 * random nonce, the ciphertext, the 16-byte tag), small enough that a library adds nothing.
 */
const formatVersion = 1;
const nonceBytes = 12;
const tagBytes = 16;
export const keyEncryptionKeyBytes = 32;

export class KeySealingError extends Error {
  override readonly name = 'KeySealingError';
}

export function sealPrivateJwk(keyEncryptionKey: Buffer, kid: string, privateJwk: JWK): Buffer {
  const nonce = randomBytes(nonceBytes);
  const cipher = createCipheriv('aes-256-gcm', keyEncryptionKey, nonce, { authTagLength: tagBytes });
  cipher.setAAD(Buffer.from(kid, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(JSON.stringify(privateJwk), 'utf8'), cipher.final()]);
  return Buffer.concat([Buffer.of(formatVersion), nonce, ciphertext, cipher.getAuthTag()]);
}

/** Throws KeySealingError when the key-encryption key is not the one that sealed it, or the bytes were changed. */
export function openPrivateJwk(keyEncryptionKey: Buffer, kid: string, sealed: Buffer): JWK {
  if (sealed.length < 1 + nonceBytes + tagBytes || sealed[0] !== formatVersion) {
    throw new KeySealingError(`the sealed private key of ${kid} is not in a known format`);
  }
  const nonce = sealed.subarray(1, 1 + nonceBytes);
  const tag = sealed.subarray(sealed.length - tagBytes);
  const decipher = createDecipheriv('aes-256-gcm', keyEncryptionKey, nonce, { authTagLength: tagBytes });
  decipher.setAAD(Buffer.from(kid, 'utf8'));
  decipher.setAuthTag(tag);
  try {
    const plain = Buffer.concat([decipher.update(sealed.subarray(1 + nonceBytes, sealed.length - tagBytes)), decipher.final()]);
    return JSON.parse(plain.toString('utf8')) as JWK;
  } catch (error) {
    throw new KeySealingError(`the private key of ${kid} does not open with this TOKEN_KEY_ENCRYPTION_KEY (another key sealed it, or it was changed; while changing keys, give the old one as TOKEN_KEY_ENCRYPTION_KEY_PREVIOUS)`, { cause: error });
  }
}
