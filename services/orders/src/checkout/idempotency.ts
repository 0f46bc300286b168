import { createHash, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Database, Queryable, QueryOptions } from '@baton/kit/db';
import { Code, KitError } from '@baton/kit/errors';

export interface StoredResponse {
  status: number;
  body: unknown;
  /** True when this is the stored answer of an earlier request with the same key, sent again. */
  replayed?: boolean;
}

export type Claim =
  /** `claimedAtMs` (performance.now()) is when this request took the key: it goes stale `staleAfterSeconds` later. */
  | { kind: 'owner'; orderId: string; claimedAtMs: number }
  | { kind: 'replay'; response: StoredResponse };

/** Requests that started this long ago and never finished belong to a crashed process (the default). */
const defaultStaleAfterSeconds = 30;
const pollIntervalMs = 50;

/** A stable hash of the request body: the same items in any key order hash the same. */
export function requestHash(body: unknown): string {
  return createHash('sha256').update(canonicalJson(body)).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * Idempotency keys, stored in the orders database. Written by hand because the rule is the
 * heart of checkout: the first request with a key owns it (an insert that wins the primary
 * key), later ones with the same body wait for and replay its answer, and one with another
 * body is refused with 422. Final answers are kept; answers that say "try again" (5xx) drop the
 * key so a retry can do the work.
 */
export function createIdempotencyStore(db: Database, { staleAfterSeconds = defaultStaleAfterSeconds }: { staleAfterSeconds?: number } = {}) {
  async function claim(userId: string, key: string, hash: string, options: QueryOptions): Promise<Claim> {
    for (;;) {
      const orderId = randomUUID();
      const inserted = await db.query<{ order_id: string }>(
        `insert into idempotency_keys (user_id, key, request_hash, order_id, state)
         values ($1, $2, $3, $4, 'started') on conflict do nothing returning order_id`,
        [userId, key, hash, orderId], options);
      if (inserted.rows[0]) return { kind: 'owner', orderId: inserted.rows[0].order_id, claimedAtMs: performance.now() };

      const { rows } = await db.query<{ request_hash: string; order_id: string; state: string; response_status: number | null; response_body: unknown; stale: boolean }>(
        `select request_hash, order_id, state, response_status, response_body,
                updated_at < now() - make_interval(secs => $3) as stale
         from idempotency_keys where user_id = $1 and key = $2`,
        [userId, key, staleAfterSeconds], options);
      const row = rows[0];
      if (!row) continue; // Released between our insert and select: try to own it again.
      if (row.request_hash !== hash) {
        throw new KitError(Code.FailedPrecondition, 'this Idempotency-Key was used with a different request', {
          reason: 'idempotency_key_reused', fields: [{ field: 'headers.idempotency-key', message: 'already used with another body' }],
        });
      }
      if (row.state === 'completed' && row.response_status !== null) {
        const body = typeof row.response_body === 'string' ? JSON.parse(row.response_body) as unknown : row.response_body;
        return { kind: 'replay', response: { status: row.response_status, body, replayed: true } };
      }
      if (row.stale) {
        // The owner died mid-way. Taking over is safe: the order id stays the same, and
        // inventory's reservation for that order id is idempotent.
        const taken = await db.query(
          `update idempotency_keys set updated_at = now() where user_id = $1 and key = $2 and state = 'started'
             and updated_at < now() - make_interval(secs => $3)`, [userId, key, staleAfterSeconds], options);
        if (taken.rowCount > 0) return { kind: 'owner', orderId: row.order_id, claimedAtMs: performance.now() };
      }
      // Another request with this key is at work: wait for its answer within our own deadline.
      await sleep(pollIntervalMs, undefined, options.signal ? { signal: options.signal } : {});
    }
  }

  /** Stores the answer; pass `tx` to store it in the same transaction as the work it answers. */
  async function complete(userId: string, key: string, response: StoredResponse, { tx = db, ...options }: QueryOptions & { tx?: Queryable }): Promise<void> {
    await tx.query(
      `update idempotency_keys set state = 'completed', response_status = $3, response_body = $4::jsonb, updated_at = now()
       where user_id = $1 and key = $2`,
      [userId, key, response.status, JSON.stringify(response.body)], options);
  }

  /** Frees a key still at work; with `orderId`, only while it is still that order's (a retry may own it by now). */
  async function release(userId: string, key: string, options: QueryOptions & { orderId?: string } = {}): Promise<void> {
    const { orderId, ...queryOptions } = options;
    await db.query(`delete from idempotency_keys where user_id = $1 and key = $2 and state = 'started' and ($3::uuid is null or order_id = $3::uuid)`,
      [userId, key, orderId ?? null], queryOptions);
  }

  /**
   * Settles a key whose request failed with a "try again" answer: `settle` (by default, freeing
   * the key) now when the database answers, else in the background as soon as it does again, so
   * a client's retry does the work, or gets the answer, instead of waiting on a key nobody works
   * on until it goes stale (it waited 8 s for a 504 after PostgreSQL restarted). Resolves once
   * the first try settled. Tries until well before the key goes stale (counted from
   * `claimedAtMs`, when this request took it): after that a retry may take it over, and settling
   * would free or answer another request's key. `onGiveUp` hears when it stops.
   */
  async function settleSoon(userId: string, key: string, { claimedAtMs, onGiveUp, settle = () => release(userId, key, { signal: AbortSignal.timeout(2_000) }) }: {
    claimedAtMs: number;
    onGiveUp?: (error: unknown) => void;
    /** What settles the key; throws while it cannot be done yet. */
    settle?: () => Promise<void>;
  }): Promise<void> {
    const giveUpAt = claimedAtMs + staleAfterSeconds * 1_000 * 0.8;
    if (performance.now() >= giveUpAt) {
      onGiveUp?.(new Error('the key may be stale already; it is left to go stale'));
      return;
    }
    const attempt = () => settle().then(() => true, (error: unknown) => error);
    let outcome = await attempt();
    if (outcome === true) return;
    void (async function settleWhenTheDatabaseIsBack() {
      for (let delayMs = 250; outcome !== true; delayMs = Math.min(delayMs * 2, 2_000)) {
        if (performance.now() + delayMs >= giveUpAt) {
          onGiveUp?.(outcome);
          return;
        }
        await sleep(delayMs, undefined, { ref: false });
        outcome = await attempt();
      }
    })();
  }

  return { claim, complete, release, settleSoon };
}

export type IdempotencyStore = ReturnType<typeof createIdempotencyStore>;
