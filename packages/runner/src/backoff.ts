/** How long to wait before restarting a service that crashed. */
export interface BackoffOptions {
  /** The wait after the first crash. */
  initialDelayMs?: number;
  /** The wait never grows beyond this, so a fixed service comes back within it. */
  maxDelayMs?: number;
  /** A process that stayed up this long counts as healthy: its next crash waits `initialDelayMs` again. */
  resetAfterUpMs?: number;
}

export const defaultBackoff: Required<BackoffOptions> = {
  initialDelayMs: 250,
  maxDelayMs: 10_000,
  resetAfterUpMs: 30_000,
};

/**
 * The delay before restart number `attempt` (1 for the first restart after a healthy run):
 * doubling from `initialDelayMs`, capped at `maxDelayMs`.
 *
 * @example
 * restartDelayMs(1) // 250
 * restartDelayMs(3) // 1000
 */
export function restartDelayMs(attempt: number, { initialDelayMs = 250, maxDelayMs = 10_000 }: BackoffOptions = {}): number {
  // The exponent is capped so a long crash loop cannot overflow to Infinity.
  const exponent = Math.min(Math.max(attempt - 1, 0), 30);
  return Math.min(initialDelayMs * 2 ** exponent, maxDelayMs);
}
