import { detachedTimeout } from './detached-timer.ts';

export interface VerifiedTokenCacheOptions {
  /** How many verified tokens are remembered; past it, the one remembered first goes. */
  maxEntries: number;
  /** Wall-clock milliseconds, as tokens speak of time. */
  now?: () => number;
}

export interface VerifiedTokenCache<V> {
  /** What a token verified before says, until the time it was remembered for; else undefined. */
  get(token: string): V | undefined;
  /** Remembers what a token's verification said, until `validUntilMs` (wall clock). */
  remember(token: string, value: V, validUntilMs: number): void;
  readonly size: number;
  /** Forgets everything, and stops the timers that would have. */
  close(): void;
}

interface Entry<V> {
  token: string;
  value: V;
  timer: NodeJS.Timeout;
}

/** How much of a token's end keys an entry: for a JWT, 96 bits of its signature. */
const keyChars = 16;

/** The entries looked at before the map. */
const recentSlots = 4;

/** setTimeout's longest delay; an entry meant to live longer is forgotten then, and verified again. */
const maxTimerMs = 2 ** 31 - 1;

/**
 * Tokens already verified (access tokens and service tokens alike), so that a token sent again
 * costs no signature check, each only as long as its verification said.
 *
 * Written by hand because it is on the path of every request a service takes (issue 18), and
 * what it costs there is memory touched, not work: CPU profiles of `service-identity` in bench/
 * (a call between two services, ~90 µs of CPU, of which identity is allowed 5%) had a lookup in a
 * Map with a clock read at 0.5-0.7 µs of self time a call, keyed by the whole token or by its end
 * alike, several times what the same lines cost in a loop. So:
 * - it is keyed by the token's last characters, not the token: a Map hashes a string key in
 *   full, and each request brings its token as a new string of hundreds of characters. An entry
 *   holds the whole token and a hit must equal it, so a token that only ends like one verified
 *   (a tampered copy) misses and is verified like any other; only verified tokens are remembered;
 * - the few entries hit last are compared before the map is looked in: a service has a handful
 *   of callers, each sending one service token for minutes;
 * - nothing reads a clock on a hit: each entry is forgotten by a timer when it stops being valid
 *   (late by the event loop's lag at most, which a caller would see as much as a slow answer).
 *
 * Bounded: past `maxEntries` the entry remembered first goes (a least-recently-used order would
 * cost two more map operations on every hit).
 *
 * @example
 * const cache = createVerifiedTokenCache<string>({ maxEntries: 1_024 });
 * cache.remember(token, 'orders', (exp + clockSkewSeconds) * 1000);
 * const caller = cache.get(token);
 */
export function createVerifiedTokenCache<V>({ maxEntries, now = () => Date.now() }: VerifiedTokenCacheOptions): VerifiedTokenCache<V> {
  const entries = new Map<string, Entry<V>>();
  const recent: Array<Entry<V> | undefined> = Array.from({ length: recentSlots }, () => undefined);
  let nextSlot = 0;
  const keyOf = (token: string) => token.slice(-keyChars);

  function forget(key: string, entry: Entry<V>): void {
    clearTimeout(entry.timer);
    if (entries.get(key) === entry) entries.delete(key);
    for (let i = 0; i < recentSlots; i++) if (recent[i] === entry) recent[i] = undefined;
  }

  return {
    get(token) {
      for (let i = 0; i < recentSlots; i++) {
        const entry = recent[i];
        if (entry !== undefined && entry.token === token) return entry.value;
      }
      const entry = entries.get(keyOf(token));
      if (entry === undefined || entry.token !== token) return undefined;
      recent[nextSlot] = entry;
      nextSlot = (nextSlot + 1) % recentSlots;
      return entry.value;
    },
    remember(token, value, validUntilMs) {
      const key = keyOf(token);
      const known = entries.get(key);
      if (known !== undefined) forget(key, known);
      const remainingMs = validUntilMs - now();
      if (remainingMs <= 0) return;
      if (entries.size >= maxEntries) {
        const oldest = entries.entries().next();
        if (oldest.done !== true) forget(...oldest.value);
      }
      const entry: Entry<V> = { token, value, timer: detachedTimeout(() => forget(key, entry), Math.min(remainingMs, maxTimerMs)) };
      entries.set(key, entry);
    },
    get size() {
      return entries.size;
    },
    close() {
      for (const [key, entry] of entries) forget(key, entry);
    },
  };
}
