import { Code, KitError } from '@baton/kit/errors';

export interface AddressThrottleOptions {
  /** Wrong sign-ins an address may make before it must wait. */
  freeFailures: number;
  /** The first wait past the free failures; each further failure doubles it. */
  baseDelayMs: number;
  /** The longest wait; an address quiet this long starts over. */
  maxDelayMs: number;
  /** Addresses remembered at most; the one least recently seen is forgotten first. */
  maxAddresses?: number;
  /** The clock, for tests. */
  now?: () => number;
}

interface Entry {
  failures: number;
  blockedUntilMs: number;
  lastAttemptMs: number;
}

export interface AddressThrottle {
  /** Counts a sign-in attempt from `address`, or throws 429 (with Retry-After) while it must wait. */
  begin(address: string): void;
  /** The attempt from `address` was right: it is no longer counted as a failure. */
  succeeded(address: string): void;
}

/**
 * The per-address half of the sign-in throttle (the per-account half lives in the users service,
 * which knows accounts; only the gateway knows the client's address). Each attempt counts when it
 * starts, so parallel guesses are counted too; past `freeFailures` each further one makes the
 * address wait twice as long, and while it waits the gateway answers 429 itself, before the users
 * service (and its password-hash bulkhead) sees the attempt. A right sign-in takes back its own
 * count only: interleaving right sign-ins cannot wipe out an address's wrong ones.
 *
 * Written here rather than with @fastify/rate-limit, whose windows are fixed: a delay that
 * doubles with each failure is not a rate. Kept in memory, per gateway instance; the map is
 * bounded, oldest forgotten first, so a flood of addresses cannot grow it without end.
 */
export function createAddressThrottle({ freeFailures, baseDelayMs, maxDelayMs, maxAddresses = 100_000, now = Date.now }: AddressThrottleOptions): AddressThrottle {
  const entries = new Map<string, Entry>();
  const remember = (address: string, entry: Entry) => {
    entries.delete(address);
    entries.set(address, entry);
    if (entries.size > maxAddresses) entries.delete(entries.keys().next().value as string);
  };
  return {
    begin(address) {
      const at = now();
      const entry = entries.get(address);
      if (entry !== undefined && entry.blockedUntilMs > at) {
        throw new KitError(Code.ResourceExhausted, 'too many wrong sign-ins from this address; try again later', {
          reason: 'sign_in_throttled',
          retryAfterSeconds: Math.max(1, Math.ceil((entry.blockedUntilMs - at) / 1_000)),
        });
      }
      const failures = (entry === undefined || at - entry.lastAttemptMs > maxDelayMs ? 0 : entry.failures) + 1;
      const delayMs = failures <= freeFailures ? 0 : Math.min(maxDelayMs, baseDelayMs * 2 ** Math.min(failures - freeFailures - 1, 40));
      remember(address, { failures, blockedUntilMs: at + delayMs, lastAttemptMs: at });
    },
    succeeded(address) {
      const entry = entries.get(address);
      if (entry === undefined) return;
      entry.failures = Math.max(0, entry.failures - 1);
      if (entry.failures <= freeFailures) entry.blockedUntilMs = 0;
    },
  };
}
