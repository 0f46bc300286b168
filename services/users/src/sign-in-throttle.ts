import type { Database, Queryable, QueryOptions } from '@baton/kit/db';
import { Code, KitError } from '@baton/kit/errors';

export interface SignInThrottleOptions {
  /** Wrong sign-ins an account may have before any delay. */
  freeFailures: number;
  /** The first delay after the free failures; each further failure doubles it. */
  baseDelayMs: number;
  /** The longest delay; an account quiet this long starts over. */
  maxDelayMs: number;
}

const pruneEveryMs = 60_000;

/** How long an account must wait after its `failures`-th attempt in a row; 0 while still free. */
export function delayAfterMs(failures: number, { freeFailures, baseDelayMs, maxDelayMs }: SignInThrottleOptions): number {
  if (failures <= freeFailures) return 0;
  // Capped before the power, so a counter in the thousands cannot overflow to Infinity.
  return Math.min(maxDelayMs, baseDelayMs * 2 ** Math.min(failures - freeFailures - 1, 40));
}

/**
 * The per-account sign-in throttle, kept in the users database (the one place that knows
 * accounts, shared by every users instance). An attempt is counted *before* its password hash is
 * computed, in one statement that also refuses it while the account must wait: a burst of
 * parallel guesses at one account gets its few free attempts and then 429s, and never occupies
 * the password-hash bulkhead. A right sign-in resets the count. The clock is the database's, one
 * for every instance.
 */
export function createSignInThrottle(options: SignInThrottleOptions) {
  let lastPrunedMs = Number.NEGATIVE_INFINITY;
  return {
    /** Counts an attempt at `email` (normalised), or throws 429 with Retry-After while it must wait. */
    async begin(db: Database, email: string, queryOptions: QueryOptions): Promise<void> {
      // Rows quiet for longer than the longest wait would start over anyway: deleting them
      // changes no answer, and keeps guesses at made-up emails from growing the table for ever.
      if (performance.now() - lastPrunedMs >= pruneEveryMs) {
        lastPrunedMs = performance.now();
        await db.query(
          `delete from sign_in_attempts
            where last_attempt_at < now() - make_interval(secs => $1::float8 / 1000) and (blocked_until is null or blocked_until < now())`,
          [options.maxDelayMs], queryOptions);
      }
      // The row is locked for the check and the count, so parallel attempts at one account are
      // counted one after another: no burst slips past the limit between a read and a write.
      await db.transaction(async (tx) => {
        await tx.query('insert into sign_in_attempts (email, failures) values ($1, 0) on conflict (email) do nothing', [email], queryOptions);
        const { rows: [row] } = await tx.query<{ failures: number; wait_ms: number; quiet: boolean }>(
          `select failures,
                  greatest(0, extract(epoch from coalesce(blocked_until, now()) - now()) * 1000)::float8 as wait_ms,
                  last_attempt_at < now() - make_interval(secs => $2::float8 / 1000) as quiet
             from sign_in_attempts where email = $1 for update`,
          [email, options.maxDelayMs], queryOptions);
        if (row === undefined) throw new Error('the sign_in_attempts row just written is gone');
        if (row.wait_ms > 0) throw tooManyFailures(row.wait_ms);
        const failures = (row.quiet ? 0 : row.failures) + 1;
        await tx.query(
          `update sign_in_attempts set failures = $2, last_attempt_at = now(),
             blocked_until = case when $3::float8 > 0 then now() + make_interval(secs => $3::float8 / 1000) end
           where email = $1`,
          [email, failures, delayAfterMs(failures, options)], queryOptions);
      }, queryOptions);
    },
    /** The attempt was right: the account starts over. */
    async succeeded(db: Queryable, email: string, queryOptions: QueryOptions): Promise<void> {
      await db.query('delete from sign_in_attempts where email = $1', [email], queryOptions);
    },
  };
}

export type SignInThrottle = ReturnType<typeof createSignInThrottle>;

function tooManyFailures(waitMs: number): KitError {
  return new KitError(Code.ResourceExhausted, 'too many wrong sign-ins for this account; try again later', {
    reason: 'sign_in_throttled',
    retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1_000)),
  });
}
