import type { Clock } from '../resilience/index.ts';

/** A clock that only moves when a test says so. */
export interface FakeClock extends Clock {
  /**
   * Moves time forward by `ms`, waking every sleeper that falls due on the way, earliest first,
   * and letting the code each one resumes run before the next (so it may schedule new sleeps).
   */
  advance(ms: number): Promise<void>;
  /** Sleeps not yet due; a test can assert that nothing is left waiting. */
  readonly pendingSleeps: number;
}

interface Sleeper {
  dueMs: number;
  order: number;
  wake(): void;
}

// setImmediate runs after every queued promise callback: one turn lets resumed code settle.
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * A fake clock for tests: time stands still until `advance()`, so a test of a five-second
 * breaker or a backoff runs in microseconds and cannot flake on a slow machine.
 *
 * @example
 * const clock = createFakeClock();
 * const sleeping = clock.sleep(1_000);
 * await clock.advance(1_000); // `sleeping` is now resolved
 */
export function createFakeClock({ startMs = 0 }: { startMs?: number } = {}): FakeClock {
  let nowMs = startMs;
  let order = 0;
  const sleepers = new Set<Sleeper>();

  function nextDue(untilMs: number): Sleeper | undefined {
    let next: Sleeper | undefined;
    for (const sleeper of sleepers) {
      if (sleeper.dueMs > untilMs) continue;
      if (next === undefined || sleeper.dueMs < next.dueMs || (sleeper.dueMs === next.dueMs && sleeper.order < next.order)) next = sleeper;
    }
    return next;
  }

  return {
    now: () => nowMs,
    get pendingSleeps() {
      return sleepers.size;
    },
    sleep: function sleep(ms: number, signal?: AbortSignal): Promise<void> {
      if (signal?.aborted) return Promise.reject(signal.reason as Error);
      if (!(ms > 0)) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const onAbort = () => {
          sleepers.delete(sleeper);
          reject(signal?.reason as Error);
        };
        const sleeper: Sleeper = {
          dueMs: nowMs + ms,
          order: order++,
          wake: () => {
            signal?.removeEventListener('abort', onAbort);
            resolve();
          },
        };
        sleepers.add(sleeper);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    },
    advance: async function advance(ms: number): Promise<void> {
      const targetMs = nowMs + ms;
      await settle();
      for (let sleeper = nextDue(targetMs); sleeper !== undefined; sleeper = nextDue(targetMs)) {
        nowMs = Math.max(nowMs, sleeper.dueMs);
        sleepers.delete(sleeper);
        sleeper.wake();
        await settle();
      }
      nowMs = targetMs;
      await settle();
    },
  };
}
