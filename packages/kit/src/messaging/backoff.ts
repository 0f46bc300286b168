/**
 * The delay before delivery `attempt + 1` after `attempt` failed: doubling from `baseMs`, capped
 * at `maxMs`, with up to 20% jitter so many failed messages do not come back all at once.
 */
export function retryDelayMs(attempt: number, { baseMs, maxMs }: { baseMs: number; maxMs: number }, random = Math.random): number {
  const exponential = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exponential * (0.8 + 0.2 * random()));
}
