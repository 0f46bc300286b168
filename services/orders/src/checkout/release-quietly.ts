import type { Logger } from '@baton/kit/telemetry';
import type { InventoryApi } from '../upstreams/upstreams.ts';

/** The budget of a compensating release: its own, since the request's may be spent already. */
export const releaseBudgetMs = 2_000;

/**
 * Gives a reservation back after a failed checkout. It never throws: if inventory cannot be
 * reached, the held reservation expires by its TTL and the stock returns anyway.
 */
export async function releaseQuietly(deps: { inventory: InventoryApi; logger: Logger }, orderId: string): Promise<void> {
  try {
    await deps.inventory.release(orderId, { signal: AbortSignal.timeout(releaseBudgetMs) });
  } catch (error) {
    deps.logger.warn({ err: error, order_id: orderId }, 'could not release a reservation; it will expire by itself');
  }
}
