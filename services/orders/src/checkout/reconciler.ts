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
  /** The longest wait after failed passes (it doubles from `intervalMs` up to this). */
  maxBackoffMs?: number;
}

/**
 * Confirms the reservations of stored orders whose confirmation failed at checkout (inventory
 * was briefly unreachable). If inventory says the reservation is gone (it expired first), the
 * order cannot be fulfilled and is cancelled, loudly. A pass that fails (the database down, say)
 * is logged, and the next waits twice as long as the last, up to `maxBackoffMs`.
 */
export function startReservationReconciler(
  deps: { db: Database; inventory: InventoryApi; logger: Logger; events: OrderEvents },
  { intervalMs = 2_000, graceSeconds = 5, batchSize = 50, callBudgetMs = 2_000, maxBackoffMs = 30_000 }: ReconcilerOptions = {},
): { stop(): Promise<void> } {
  return startPasses(deps.logger, { intervalMs, maxBackoffMs }, async function pass(stopping): Promise<void> {
    const { rows } = await deps.db.query<{ id: string }>(
      `select id from orders where status = 'confirmed' and not reservation_confirmed
         and created_at < now() - make_interval(secs => $1) order by created_at limit $2`,
      [graceSeconds, batchSize], { signal: stopping });
    for (const { id } of rows) {
      if (stopping.aborted) return;
      try {
        await deps.inventory.confirm(id, { signal: AbortSignal.any([stopping, AbortSignal.timeout(callBudgetMs)]) });
        await deps.db.query('update orders set reservation_confirmed = true where id = $1', [id]);
      } catch (error) {
        const kitError = KitError.from(error);
        if (kitError.code === Code.Aborted || kitError.code === Code.NotFound) {
          await deps.db.transaction(async (tx) => {
            const { rows: cancelled } = await tx.query<{ user_id: string }>(
              `update orders set status = 'cancelled', updated_at = now(), cancelled_at = now() where id = $1 and status = 'confirmed' returning user_id`, [id]);
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
  });
}

/**
 * Runs `pass` every `intervalMs`, the next scheduled when the last ended, so passes never
 * overlap. A pass that fails (the database down, say) is logged, and the next waits twice as
 * long as the last, up to `maxBackoffMs`. `stop` ends the waiting and waits for a pass under way.
 */
export function startPasses(logger: Logger, { intervalMs, maxBackoffMs }: { intervalMs: number; maxBackoffMs: number }, pass: (stopping: AbortSignal) => Promise<void>): { stop(): Promise<void> } {
  const stopping = new AbortController();
  let running: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  let failures = 0;
  const delayMs = () => (failures === 0 ? intervalMs : Math.min(Math.max(intervalMs, maxBackoffMs), intervalMs * 2 ** failures));

  function scheduleNext(): void {
    if (stopping.signal.aborted) return;
    timer = setTimeout(function onPassDue() {
      running = pass(stopping.signal).then(() => {
        failures = 0;
      }, (error: unknown) => {
        if (stopping.signal.aborted) return;
        failures += 1;
        logger.warn({ err: error, failures, retry_in_ms: delayMs() }, 'reconciler pass failed; the next one will try again');
      }).finally(scheduleNext);
    }, delayMs());
    timer.unref();
  }

  scheduleNext();
  return {
    async stop() {
      stopping.abort();
      clearTimeout(timer);
      await running;
    },
  };
}
