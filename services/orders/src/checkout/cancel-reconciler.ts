import type { Database } from '@baton/kit/db';
import { KitError } from '@baton/kit/errors';
import type { Logger } from '@baton/kit/telemetry';
import type { OrderEvents } from '../events/order-events.ts';
import type { InventoryApi, PaymentApi } from '../upstreams/upstreams.ts';
import { cancelOrder } from './cancel-order.ts';
import { startPasses } from './reconciler.ts';

export interface CancelReconcilerOptions {
  intervalMs?: number;
  /** A cancel younger than this is still its own request's to finish. */
  graceSeconds?: number;
  batchSize?: number;
  callBudgetMs?: number;
  maxBackoffMs?: number;
}

/**
 * Finishes the cancels that were asked for and cut short: the money given back but the stock
 * not (inventory down), or neither, and the shopper never asked again. Each is cancelled as its
 * shopper's retry would cancel it (`cancelOrder` is idempotent, its calls too); one that still
 * cannot be finished waits for the next pass, and the rest of that pass with it (the service it
 * needs is struggling).
 */
export function startCancelReconciler(
  deps: { db: Database; inventory: InventoryApi; events: OrderEvents; logger: Logger; saga?: { payment: PaymentApi } | undefined },
  { intervalMs = 2_000, graceSeconds = 5, batchSize = 50, callBudgetMs = 5_000, maxBackoffMs = 30_000 }: CancelReconcilerOptions = {},
): { stop(): Promise<void> } {
  return startPasses(deps.logger, { intervalMs, maxBackoffMs }, async function finishCancels(stopping): Promise<void> {
    const { rows } = await deps.db.query<{ id: string; user_id: string }>(
      `select id, user_id from orders where cancel_requested_at is not null and status <> 'cancelled'
         and cancel_requested_at < now() - make_interval(secs => $1) order by cancel_requested_at limit $2`,
      [graceSeconds, batchSize], { signal: stopping });
    for (const { id, user_id: userId } of rows) {
      if (stopping.aborted) return;
      try {
        await cancelOrder(deps, userId, id, { signal: AbortSignal.any([stopping, AbortSignal.timeout(callBudgetMs)]) });
        deps.logger.info({ order_id: id }, 'a cancel cut short was finished');
      } catch (error) {
        const kitError = KitError.from(error);
        deps.logger.warn({ order_id: id, code: kitError.code, reason: kitError.reason }, 'could not finish a cancel yet');
        return;
      }
    }
  });
}
