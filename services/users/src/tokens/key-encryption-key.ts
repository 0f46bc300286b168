import { readFileSync } from 'node:fs';
import { keyEncryptionKeyBytes } from './key-sealing.ts';

export interface KeyEncryptionKeySource {
  TOKEN_KEY_ENCRYPTION_KEY?: string | undefined;
  TOKEN_KEY_ENCRYPTION_KEY_FILE?: string | undefined;
  TOKEN_KEY_ENCRYPTION_KEY_PREVIOUS?: string | undefined;
  TOKEN_KEY_ENCRYPTION_KEY_PREVIOUS_FILE?: string | undefined;
}

/**
 * The key-encryption key, from TOKEN_KEY_ENCRYPTION_KEY (base64 of 32 random bytes) or
 * TOKEN_KEY_ENCRYPTION_KEY_FILE (a file holding that, such as a mounted Kubernetes Secret;
 * surrounding white space is ignored). Throws an Error naming what is wrong, never the value.
 * The config schema calls it, so a bad or missing key stops the start.
 */
export function readKeyEncryptionKey(source: KeyEncryptionKeySource): Buffer {
  const key = readKey(source.TOKEN_KEY_ENCRYPTION_KEY, source.TOKEN_KEY_ENCRYPTION_KEY_FILE, 'TOKEN_KEY_ENCRYPTION_KEY');
  if (key === undefined) {
    throw new Error('required, not set: the key that encrypts the token signing keys at rest (base64 of 32 random bytes: `openssl rand -base64 32`), '
      + 'in TOKEN_KEY_ENCRYPTION_KEY or a file named by TOKEN_KEY_ENCRYPTION_KEY_FILE; `npm start` makes one for development');
  }
  return key;
}

/**
 * The key-encryption key being replaced, while a new one is rolled out: the active signing key
 * sealed with it is sealed again with the new one at start. Optional.
 */
export function readPreviousKeyEncryptionKey(source: KeyEncryptionKeySource): Buffer | undefined {
  return readKey(source.TOKEN_KEY_ENCRYPTION_KEY_PREVIOUS, source.TOKEN_KEY_ENCRYPTION_KEY_PREVIOUS_FILE, 'TOKEN_KEY_ENCRYPTION_KEY_PREVIOUS');
}

function readKey(inline: string | undefined, file: string | undefined, variable: string): Buffer | undefined {
  if (inline !== undefined && file !== undefined) throw new Error(`set ${variable} or ${variable}_FILE, not both`);
  let encoded = inline;
  if (file !== undefined) {
    try {
      encoded = readFileSync(file, 'utf8');
    } catch (error) {
      throw new Error(`${variable}_FILE cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`, { cause: error });
    }
  }
  if (encoded === undefined) return undefined;
  const trimmed = encoded.trim();
  const key = Buffer.from(trimmed, 'base64');
  // Buffer.from skips characters that are not base64, so the length alone would not catch typos.
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed) || key.length !== keyEncryptionKeyBytes) {
    throw new Error(`expected base64 of exactly ${keyEncryptionKeyBytes} bytes (\`openssl rand -base64 32\`)`);
  }
  return key;
}
