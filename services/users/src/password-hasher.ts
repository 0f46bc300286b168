import { randomBytes } from 'node:crypto';
import { Code, KitError } from '@baton/kit/errors';
import { createBulkhead } from '@baton/kit/resilience';
import { hashPassword, needsRehash, verifyPassword, type ScryptParameters } from './passwords.ts';

export interface PasswordHasherOptions {
  /** scrypt's cost N as a power of two; r and p are fixed (see passwords.ts). */
  log2N: number;
  /** How many hashes may run at once; the others wait in line, within their deadline. */
  maxConcurrent: number;
  /** Called once for every hash computed, real or dummy (a metric counts them). */
  onHash?: (purpose: 'hash' | 'verify') => void;
}

export interface PasswordHasher {
  hash(password: string, options: { signal: AbortSignal }): Promise<string>;
  /**
   * Whether `password` matches `stored`. With no stored hash (no such user) the same work is
   * done against a dummy hash and the answer is false, so the time taken does not tell a
   * caller whether an account exists.
   */
  verify(password: string, stored: string | undefined, options: { signal: AbortSignal }): Promise<boolean>;
  /** Whether a stored hash was made with other parameters than today's. */
  needsRehash(stored: string): boolean;
}

/**
 * The service's password hashing: scrypt with the configured cost, at most `maxConcurrent` at
 * a time. Each hash holds a thread of libuv's small pool and tens of MiB for ~100 ms, so a
 * burst of sign-ins waits in a short line here instead of starving the pool (which file and
 * DNS work also need) or the memory; past the line, callers get a 503 with Retry-After.
 */
export async function createPasswordHasher({ log2N, maxConcurrent, onHash }: PasswordHasherOptions): Promise<PasswordHasher> {
  const parameters: ScryptParameters = { log2N, r: 8, p: 1 };
  const bulkhead = createBulkhead({ maxConcurrent, maxQueue: 16 * maxConcurrent });
  // Made once, with today's parameters, from a password nobody knows: verifying against it
  // costs exactly what verifying a real user's password costs.
  const dummyHash = await hashPassword(randomBytes(32).toString('base64url'), parameters);

  async function limited<T>(purpose: 'hash' | 'verify', work: () => Promise<T>, signal: AbortSignal): Promise<T> {
    try {
      return await bulkhead.execute(async () => {
        // A hash cannot be stopped once it runs on the pool; a request whose caller left while
        // it waited in line does not start one.
        signal.throwIfAborted();
        const result = await work();
        onHash?.(purpose);
        return result;
      }, signal);
    } catch (error) {
      const kitError = KitError.from(error);
      if (kitError.reason === 'bulkhead_full') {
        throw new KitError(Code.Unavailable, 'too many sign-ins at once; try again shortly', { reason: 'overloaded', retryAfterSeconds: 1, cause: error });
      }
      throw kitError;
    }
  }

  return {
    hash: (password, { signal }) => limited('hash', () => hashPassword(password, parameters), signal),
    verify: (password, stored, { signal }) => limited('verify', async () => {
      const matches = await verifyPassword(password, stored ?? dummyHash);
      return stored !== undefined && matches;
    }, signal),
    needsRehash: (stored) => needsRehash(stored, parameters),
  };
}
