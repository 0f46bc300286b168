/**
 * The feed readers held by a publisher while its feed has nothing new for them (a long poll,
 * `waitMs` on the feed route): each waits until this process publishes (`advanced`, called by
 * the relay once a pass has committed), a recheck interval passes (another replica may have
 * published into the same database), its request's signal fires, or the service closes. Written
 * here, not taken from a library, because it is a set of callbacks on the relay's commit, nothing
 * more: one timer per reader, no promise chain, no AbortController per wait.
 */
export interface FeedWaiters {
  /** Resolves after at most `ms`, sooner when the feed may have grown, `signal` fires, or on close. */
  wait(ms: number, signal: AbortSignal): Promise<void>;
  /** This process published events: every reader held looks again now. */
  advanced(): void;
  /** The service is closing: every reader held answers now, and later waits return at once. */
  close(): void;
  /** True once closed. */
  readonly closed: boolean;
}

export function createFeedWaiters(): FeedWaiters {
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
    advanced: wakeAll,
    close() {
      closed = true;
      wakeAll();
    },
    get closed() {
      return closed;
    },
  };
}
