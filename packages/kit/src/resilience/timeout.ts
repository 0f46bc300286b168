import { Code, KitError } from '../errors/index.ts';
import { type Clock, systemClock } from './clock.ts';
import { createCallSignal } from './deadline.ts';
import type { Policy, PolicyContext } from './policy.ts';

export interface TimeoutOptions {
  clock?: Clock;
}

/**
 * Gives each call at most `timeoutMs`. The function gets a signal that fires at the timeout or
 * when the caller's signal does, and carries the nearer deadline for the next hop's header.
 *
 * The policy does not wait for the function to notice: at the timeout it rejects with
 * `deadline_exceeded` even if the function ignores its signal, because a call that cannot hang
 * must not depend on every callee behaving. When the caller aborts, it rejects with the
 * caller's reason, normalised by `KitError.from`.
 *
 * @example
 * const timeout = createTimeout(2_000);
 * await timeout.execute(({ signal }) => fetch(url, { signal }), request.signal);
 */
export function createTimeout(timeoutMs: number, { clock = systemClock }: TimeoutOptions = {}): Policy {
  return {
    // Not an async function: one promise per call instead of three, on the hot path of every call.
    execute: function executeWithTimeout<T>(fn: (context: PolicyContext) => Promise<T>, signal?: AbortSignal): Promise<T> {
      if (signal?.aborted) return Promise.reject(KitError.from(signal.reason));
      return new Promise<T>((resolve, reject) => {
        const call = createCallSignal(clock.now() + timeoutMs, {
          clock,
          parent: signal,
          reason: () => new KitError(Code.DeadlineExceeded, `the call timed out after ${timeoutMs} ms`, { reason: 'timeout' }),
          onAbort: (reason) => reject(KitError.from(reason)),
        });
        // Already timed out (a zero budget): rejected above, so do no work at all.
        if (call.signal.aborted) return;
        let work: Promise<T>;
        try {
          work = fn({ signal: call.signal, attempt: 1 });
        } catch (error) {
          // A function that throws synchronously ends the same way as one that rejects.
          work = Promise.reject(error);
        }
        work.then(
          (value) => {
            call.dispose();
            resolve(value);
          },
          (error: unknown) => {
            call.dispose();
            reject(KitError.from(error));
          },
        );
      });
    },
  };
}
