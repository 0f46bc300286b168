/**
 * Waits that end early when told: the relay idling between passes (woken by a commit) and the
 * feed's held reads (woken when the relay publishes). Each wait ends after at most its time,
 * when its signal fires, when `wakeAll` is called, or once the list is closed. Written here, not
 * taken from a library, because it is a set of callbacks, nothing more: one timer per wait, no
 * promise chain, no AbortController per wait (an abort builds a DOMException, which the
 * checkout profile showed when every commit woke the relay with one; issue 18).
 */
export interface WakeList {
  /** Resolves after at most `ms`, sooner when woken, when `signal` fires, or on close. */
  wait(ms: number, signal: AbortSignal): Promise<void>;
  /** Every wait under way ends now. */
  wakeAll(): void;
  /** Every wait under way ends now, and later waits return at once. */
  close(): void;
  /** True once closed. */
  readonly closed: boolean;
}

export function createWakeList(): WakeList {
  const waiting = new Set<() => void>();
  let closed = false;
  const wakeAll = () => {
    for (const wakeUp of [...waiting]) wakeUp();
  };
  return {
    wait(ms, signal) {
      if (closed || signal.aborted) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const wakeUp = () => {
          clearTimeout(timer);
          waiting.delete(wakeUp);
          signal.removeEventListener('abort', wakeUp);
          resolve();
        };
        const timer = setTimeout(wakeUp, ms);
        waiting.add(wakeUp);
        signal.addEventListener('abort', wakeUp, { once: true });
      });
    },
    wakeAll,
    close() {
      closed = true;
      wakeAll();
    },
    get closed() {
      return closed;
    },
  };
}
