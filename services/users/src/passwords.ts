import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/**
 * scrypt's parameters. N (the cost) sets memory and time together, 128·N·r bytes: with N = 2^15
 * and r = 8 that is 32 MiB and about 100 ms a hash, which is what makes guessing a stolen
 * hash expensive even on GPUs, whose cores have little memory each. r = 8 is the block size
 * scrypt's authors chose for today's memory; p = 1 because more parallelism inside one hash
 * only helps an attacker who has the cores to spare.
 */
export interface ScryptParameters {
  log2N: number;
  r: number;
  p: number;
}

const saltBytes = 16;
const keyBytes = 32;

// Bounds on what a stored hash may ask for, so that a corrupt or planted row cannot make one
// sign-in take gigabytes of memory.
const maxLog2N = 20;
const maxR = 32;
const maxP = 16;

function deriveKey(password: string, salt: Buffer, { log2N, r, p }: ScryptParameters): Promise<Buffer> {
  const N = 2 ** log2N;
  // Node refuses a hash that needs more than `maxmem` (32 MiB by default, which N = 2^15 and
  // r = 8 just exceed), so the limit is set from the parameters, with room to spare.
  const options: ScryptOptions = { N, r, p, maxmem: 256 * N * r };
  // NFKC first, so a password typed on another keyboard, where "é" is one code point or two,
  // still matches (as NIST SP 800-63B asks).
  const input = password.normalize('NFKC');
  return new Promise((resolve, reject) => {
    // The async scrypt runs on libuv's thread pool: the event loop keeps serving meanwhile.
    scrypt(input, salt, keyBytes, options, (error, key) => (error === null ? resolve(key) : reject(error)));
  });
}

/**
 * Hashes a password into a self-describing string, `scrypt$N$r$p$salt$hash` (salt and hash in
 * base64url), so the parameters can change later without breaking a stored hash.
 *
 * @example
 * const stored = await hashPassword('correct horse battery staple', { log2N: 15, r: 8, p: 1 });
 */
export async function hashPassword(password: string, parameters: ScryptParameters): Promise<string> {
  const salt = randomBytes(saltBytes);
  const key = await deriveKey(password, salt, parameters);
  return ['scrypt', 2 ** parameters.log2N, parameters.r, parameters.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

interface StoredHash extends ScryptParameters {
  salt: Buffer;
  key: Buffer;
}

/** Reads a stored hash; throws on anything it did not write, which would be a bug or corruption. */
export function parseStoredHash(stored: string): StoredHash {
  const [scheme, nText, rText, pText, saltText, keyText, ...rest] = stored.split('$');
  const N = Number(nText);
  const r = Number(rText);
  const p = Number(pText);
  const log2N = Math.log2(N);
  const salt = Buffer.from(saltText ?? '', 'base64url');
  const key = Buffer.from(keyText ?? '', 'base64url');
  const valid = scheme === 'scrypt' && rest.length === 0
    && Number.isInteger(log2N) && log2N >= 1 && log2N <= maxLog2N
    && Number.isInteger(r) && r >= 1 && r <= maxR
    && Number.isInteger(p) && p >= 1 && p <= maxP
    && salt.length >= saltBytes && key.length === keyBytes;
  if (!valid) throw new Error('a stored password hash is not in the scrypt$N$r$p$salt$hash format');
  return { log2N, r, p, salt, key };
}

/** Whether `password` is the one `stored` was made from; the comparison takes constant time. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const expected = parseStoredHash(stored);
  const actual = await deriveKey(password, expected.salt, expected);
  return timingSafeEqual(actual, expected.key);
}

/** Whether a stored hash was made with other parameters than today's, and should be redone. */
export function needsRehash(stored: string, { log2N, r, p }: ScryptParameters): boolean {
  const current = parseStoredHash(stored);
  return current.log2N !== log2N || current.r !== r || current.p !== p;
}
