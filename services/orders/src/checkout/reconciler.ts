import type { Database } from '@baton/kit/db';
import { Code, KitError } from '@baton/kit/errors';
import type { Logger } from '@baton/kit/telemetry';
import { addOrderCancelled, type OrderEvents } from '../events/order-events.ts';
import type { InventoryApi } from '../upstreams/upstreams.ts';

export interface ReconcilerOptions {
  intervalMs?: number;
  /** Orders younger than this are still being confirmed by their own request. */
  graceSeconds?: number;
  batchSize?: number;
  callBudgetMs?: number;
}

/**
 * Confirms the reservations of stored orders whose confirmation failed at checkout (inventory
 * was briefly unreachable). If inventory says the reservation is gone (it expired first), the
 * order cannot be fulfilled and is cancelled, loudly.
 */
export function startReservationReconciler(
  deps: { db: Database; inventory: InventoryApi; logger: Logger; events: OrderEvents },
  { intervalMs = 2_000, graceSeconds = 5, batchSize = 50, callBudgetMs = 2_000 }: ReconcilerOptions = {},
): { stop(): Promise<void> } {
  const stopping = new AbortController();
  let running: Promise<void> = Promise.resolve();

  async function pass(): Promise<void> {
    const { rows } = await deps.db.query<{ id: string }>(
      `select id from orders where status = 'confirmed' and not reservation_confirmed
         and created_at < now() - make_interval(secs => $1) order by created_at limit $2`,
      [graceSeconds, batchSize], { signal: stopping.signal });
    for (const { id } of rows) {
      if (stopping.signal.aborted) return;
      try {
        await deps.inventory.confirm(id, { signal: AbortSignal.any([stopping.signal, AbortSignal.timeout(callBudgetMs)]) });
        await deps.db.query('update orders set reservation_confirmed = true where id = $1', [id]);
      } catch (error) {
        const kitError = KitError.from(error);
        if (kitError.code === Code.Aborted || kitError.code === Code.NotFound) {
          await deps.db.transaction(async (tx) => {
            const { rows: cancelled } = await tx.query<{ user_id: string }>(
              `update orders set status = 'cancelled' where id = $1 and status = 'confirmed' returning user_id`, [id]);
            if (cancelled[0]) await addOrderCancelled(tx, deps.events, { id, userId: cancelled[0].user_id }, 'reservation_lost', {});
          });
          deps.events.committed();
          deps.logger.error({ order_id: id, code: kitError.code }, 'reservation lost before it was confirmed; order cancelled');
        } else {
          deps.logger.warn({ order_id: id, code: kitError.code }, 'could not confirm a reservation yet');
          return; // Inventory is struggling: try the rest on the next pass.
        }
      }
    }
  }

  const timer = setInterval(() => {
    running = running.then(pass).catch((error: unknown) => {
      if (!stopping.signal.aborted) deps.logger.warn({ err: error }, 'reconciler pass failed');
    });
  }, intervalMs);
  timer.unref();

  return {
    async stop() {
      clearInterval(timer);
      stopping.abort();
      await running;
    },
  };
}
