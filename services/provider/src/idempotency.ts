import { createHash } from 'node:crypto';
import type { Database, Queryable, QueryOptions } from '@baton/kit/db';
import { StripeError } from './stripe-error.ts';

export interface Answer {
  status: number;
  body: unknown;
}

/** What makes two requests the same one: method, path and parameters. */
export function requestHashOf(method: string, path: string, params: unknown): string {
  return createHash('sha256').update(`${method} ${path} ${JSON.stringify(params)}`).digest('hex');
}

/**
 * Stripe's idempotency, in one transaction with the work: the first request with a key does it
 * and keeps its answer under the key as it commits; the same key with the same request gets
 * that answer again (`replayed`), with another request a 400 idempotency_error. A second request
 * that comes while the first is still running waits for it (on the key's row), then replays
 * it; if the first failed, nothing was kept and the second does the work.
 */
export async function idempotent(db: Database, key: string | undefined, requestHash: string, work: (tx: Queryable) => Promise<Answer>, options: QueryOptions): Promise<Answer & { replayed: boolean }> {
  return db.transaction(async (tx) => {
    if (key === undefined) return { ...await work(tx), replayed: false };
    const claimed = await tx.query('insert into idempotency_keys (key, request_hash, status) values ($1, $2, 0) on conflict (key) do nothing', [key, requestHash], options);
    if (claimed.rowCount === 0) {
      const { rows: [first] } = await tx.query<{ request_hash: string; status: number; body: unknown }>(
        'select request_hash, status, body from idempotency_keys where key = $1', [key], options);
      if (first!.request_hash !== requestHash) {
        throw new StripeError(400, {
          type: 'idempotency_error',
          message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
        });
      }
      return { status: first!.status, body: first!.body, replayed: true };
    }
    const answer = await work(tx);
    await tx.query('update idempotency_keys set status = $2, body = $3 where key = $1', [key, answer.status, JSON.stringify(answer.body)], options);
    return { ...answer, replayed: false };
  }, options);
}
