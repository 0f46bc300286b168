import { Code, KitError } from '../errors/index.ts';
import type { Policy, PolicyContext } from './policy.ts';
import { policyDefaults } from './defaults.ts';

export interface BulkheadOptions {
  maxConcurrent?: number;
  /** Calls that may wait for a slot; past that, calls are rejected at once. */
  maxQueue?: number;
  /** Called for each rejected call, for a counter. */
  onReject?: () => void;
}

export interface Bulkhead extends Policy {
  readonly running: number;
  readonly queued: number;
}

interface Waiter {
  admit(): void;
}

/**
 * Caps the calls in flight to one dependency, so a slow dependency ties up at most
 * `maxConcurrent` of this service's calls (and their memory and sockets) instead of all of them.
 * Up to `maxQueue` more wait in order of arrival; past that a call is rejected at once with
 * `unavailable` / `bulkhead_full`, because a long queue only turns overload into latency.
 * A waiting call whose signal aborts leaves the queue at once.
 *
 * It needs no clock: a waiting call is bounded by its own signal (its deadline), not by a
 * timer of the bulkhead's.
 *
 * @example
 * const bulkhead = createBulkhead({ maxConcurrent: 16, onReject: () => rejected.inc() });
 * await bulkhead.execute(({ signal }) => search(query, { signal }), signal);
 */
export function createBulkhead({ maxConcurrent = policyDefaults.bulkhead.maxConcurrent, maxQueue = policyDefaults.bulkhead.maxQueue, onReject }: BulkheadOptions = {}): Bulkhead {
  let running = 0;
  // A Set keeps insertion order (FIFO) and removes an aborted waiter in O(1).
  const waiters = new Set<Waiter>();

  function waitForSlot(signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        waiters.delete(waiter);
        reject(KitError.from(signal?.reason));
      };
      const waiter: Waiter = {
        admit: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      waiters.add(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  // A finished call hands its slot straight to the first waiter, so `running` never dips and
  // a newcomer cannot overtake the queue.
  function release(): void {
    const next = waiters.values().next();
    if (next.done === true) {
      running--;
      return;
    }
    waiters.delete(next.value);
    next.value.admit();
  }

  return {
    get running() {
      return running;
    },
    get queued() {
      return waiters.size;
    },
    // Not an async function: on the hot path of every call, one promise instead of three.
    execute: function executeInBulkhead<T>(fn: (context: PolicyContext) => Promise<T>, signal?: AbortSignal): Promise<T> {
      if (signal?.aborted) return Promise.reject(KitError.from(signal.reason));
      const run = (): Promise<T> => {
        let work: Promise<T>;
        try {
          work = fn({ signal: signal ?? new AbortController().signal, attempt: 1 });
        } catch (thrown) {
          work = Promise.reject(thrown);
        }
        return work.then(
          (result) => {
            release();
            return result;
          },
          (thrown: unknown) => {
            release();
            throw KitError.from(thrown);
          },
        );
      };
      if (running < maxConcurrent) {
        running++;
        return run();
      }
      if (waiters.size < maxQueue) return waitForSlot(signal).then(run);
      onReject?.();
      return Promise.reject(new KitError(Code.Unavailable, 'too many calls to this dependency at once', { reason: 'bulkhead_full', retryAfterSeconds: 1 }));
    },
  };
}
