import type { Queryable, QueryOptions } from '@baton/kit/db';

/** Who did a staff action, and the request it came in on. */
export interface StaffActor {
  /** The staff user's id, from the verified token. */
  userId: string;
  requestId: string;
}

export type StaffAction = 'product.created' | 'product.updated' | 'stock.moved';

/**
 * Writes one line of the staff audit log: who, what, on which product, the change, when. Called
 * inside the transaction of the action itself, so an action is never done without its line, nor
 * a line kept for an action that rolled back.
 */
export async function audit(tx: Queryable, actor: StaffActor, action: StaffAction, sku: string, change: Record<string, unknown>, { signal }: QueryOptions): Promise<void> {
  await tx.query('insert into staff_audit (actor, action, sku, change, request_id) values ($1, $2, $3, $4, $5)',
    [actor.userId, action, sku, JSON.stringify(change), actor.requestId], { signal });
}
