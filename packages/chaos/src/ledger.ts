/** A shopper's notifications, as the public API lists them. */
export interface SeenNotification {
  type: string;
  orderId?: string | null;
}

export interface LedgerCheck {
  /** Orders the shop acknowledged (201). */
  acknowledged: number;
  /** Acknowledged orders no notification names: an event lost on its way. */
  missing: string[];
  /** An event told twice (the same order and type in two notifications): a duplicate let through. */
  duplicated: string[];
  /**
   * Orders notifications name that the shopper was never given a 201 for. Each checkout whose
   * answer was lost (503, 504, no answer) may have made one, so these are a failure only past
   * that many (the verdict's check).
   */
  unexpected: string[];
}

/**
 * Jepsen's idea on the events: every order the shop acknowledged has its notification, no event
 * is told twice, and none is told of an order nobody was told exists. Checked per shopper,
 * against the orders that shopper was given a 201 for.
 */
export function checkLedger(shoppers: ReadonlyArray<{ placed: readonly string[] }>, notifications: ReadonlyArray<readonly SeenNotification[]>): LedgerCheck {
  const result: LedgerCheck = { acknowledged: 0, missing: [], duplicated: [], unexpected: [] };
  for (const [i, shopper] of shoppers.entries()) {
    const seen = new Map<string, number>();
    const named = new Set<string>();
    for (const notification of notifications[i] ?? []) {
      if (notification.orderId === undefined || notification.orderId === null) continue;
      named.add(notification.orderId);
      const key = `${notification.orderId} ${notification.type}`;
      seen.set(key, (seen.get(key) ?? 0) + 1);
    }
    result.acknowledged += shopper.placed.length;
    const placed = new Set(shopper.placed);
    result.missing.push(...shopper.placed.filter((id) => !named.has(id)));
    result.duplicated.push(...[...seen].filter(([, count]) => count > 1).map(([key]) => key));
    result.unexpected.push(...[...named].filter((id) => !placed.has(id)));
  }
  return result;
}
