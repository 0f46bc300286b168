import type { VerifiedToken } from './access-token.ts';

export interface VerifiedTokenCacheOptions {
  /** How many verified tokens are remembered; past it, the one used least recently goes. */
  maxEntries: number;
  /** The same tolerance the verification allowed: an entry lasts while the token would verify. */
  clockToleranceSeconds: number;
  /** The same maximum age the verification checked (the time since `iat`). */
  maxAgeSeconds: number;
  now?: () => number;
}

export interface VerifiedTokenCache {
  /** What a token verified before says, while its claims of time would still pass; else undefined. */
  get(token: string): VerifiedToken | undefined;
  remember(token: string, verified: VerifiedToken): void;
  readonly size: number;
}

/**
 * Access tokens already verified, keyed by the token's text, each only as long as a verification
 * would still accept it: until `exp` and until `iat` + the maximum age, with the same clock
 * tolerance. Past that the entry is dropped and the token verified again, which refuses it with
 * the reason the caller should hear. What does not depend on the text alone, revocation, is not
 * cached: the verifier checks it on every use. Bounded, least recently used first out.
 */
export function createVerifiedTokenCache({ maxEntries, clockToleranceSeconds, maxAgeSeconds, now = Date.now }: VerifiedTokenCacheOptions): VerifiedTokenCache {
  const entries = new Map<string, { verified: VerifiedToken; validUntilMs: number }>();
  return {
    get(token) {
      const entry = entries.get(token);
      if (entry === undefined) return undefined;
      entries.delete(token);
      if (now() >= entry.validUntilMs) return undefined;
      entries.set(token, entry);
      return entry.verified;
    },
    remember(token, verified) {
      const validUntilMs = Math.min(verified.expiresAt.getTime(), verified.issuedAt.getTime() + maxAgeSeconds * 1_000) + clockToleranceSeconds * 1_000;
      entries.delete(token);
      if (entries.size >= maxEntries) {
        const oldest = entries.keys().next();
        if (oldest.done !== true) entries.delete(oldest.value);
      }
      entries.set(token, { verified, validUntilMs });
    },
    get size() {
      return entries.size;
    },
  };
}
