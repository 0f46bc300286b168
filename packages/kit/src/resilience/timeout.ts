import { Code, KitError } from '../errors/index.ts';
import { type Clock, systemClock } from './clock.ts';
import { signalUntil } from './deadline.ts';
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
    execute: async function executeWithTimeout<T>(fn: (context: PolicyContext) => Promise<T>, signal?: AbortSignal): Promise<T> {
      if (signal?.aborted) throw KitError.from(signal.reason);
      const finished = new AbortController();
      const inner = signalUntil(clock.now() + timeoutMs, {
        clock,
        parent: signal,
        cancel: finished.signal,
        reason: () => new KitError(Code.DeadlineExceeded, `the call timed out after ${timeoutMs} ms`, { reason: 'timeout' }),
      });
      let onAbort: (() => void) | undefined;
      try {
        return await new Promise<T>((resolve, reject) => {
          onAbort = () => reject(KitError.from(inner.reason));
          inner.addEventListener('abort', onAbort, { once: true });
          if (inner.aborted) onAbort();
          // Called inside a promise so a function that throws synchronously is caught the same way.
          Promise.resolve()
            .then(() => {
              // Already timed out (a zero budget): the promise is settled, so do no work at all.
              inner.throwIfAborted();
              return fn({ signal: inner, attempt: 1 });
            })
            .then(resolve, (error: unknown) => reject(KitError.from(error)));
        });
      } finally {
        if (onAbort !== undefined) inner.removeEventListener('abort', onAbort);
        finished.abort();
      }
    },
  };
}
