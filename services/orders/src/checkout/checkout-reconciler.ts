import { beforeThePivot, takeStaleCheckouts } from './checkout-store.ts';
import { startPasses } from './reconciler.ts';
import { driveCheckout, giveUp, type SagaDeps } from './saga.ts';

export interface CheckoutReconcilerOptions {
  intervalMs: number;
  /** A checkout nobody has moved for this long has lost its driver: above the checkout deadline. */
  staleAfterMs: number;
  /** A checkout not past its pivot by this age is given up (compensated) rather than pushed on. */
  giveUpAfterMs: number;
  /** The budget of each call it makes for one checkout. */
  callBudgetMs: number;
  batchSize?: number;
  maxBackoffMs?: number;
}

/**
 * Finishes the checkouts whose driver died (the orders process crashed, or a request gave up
 * mid-way): each is taken up at the step it was written at and driven on, as far as its calls
 * can be made now; the rest on a later pass. One still short of its pivot after `giveUpAfterMs`
 * is compensated instead, and its Idempotency-Key freed for the shopper's retry.
 */
export function startCheckoutReconciler(deps: SagaDeps, { intervalMs, staleAfterMs, giveUpAfterMs, callBudgetMs, batchSize = 20, maxBackoffMs = 30_000 }: CheckoutReconcilerOptions): { stop(): Promise<void> } {
  return startPasses(deps.logger, { intervalMs, maxBackoffMs }, async function reconcileCheckouts(stopping) {
    const checkouts = await takeStaleCheckouts(deps.db, { staleAfterMs, limit: batchSize }, { signal: stopping });
    for (const taken of checkouts) {
      if (stopping.aborted) return;
      const old = Date.now() - taken.createdAt.getTime() > giveUpAfterMs;
      const checkout = old && beforeThePivot.has(taken.step) ? await giveUp(deps, taken) : taken;
      const ended = await driveCheckout(deps, checkout, 'reconciler', { signal: AbortSignal.any([stopping, AbortSignal.timeout(callBudgetMs)]) });
      deps.logger.info({ order_id: ended.orderId, from: taken.step, to: ended.step }, 'reconciler took up a checkout');
      // Given up: its shopper's retry places the order afresh.
      if ((ended.step === 'failed' || ended.step === 'compensating') && (ended.failure?.status ?? 0) >= 500) {
        await deps.idempotency.release(ended.userId, ended.idempotencyKey, { orderId: ended.orderId, signal: stopping });
      }
    }
  });
}
