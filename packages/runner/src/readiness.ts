import { setTimeout as sleep } from 'node:timers/promises';

export interface WaitUntilReadyOptions {
  /** Stops the wait: the process exited, the stack is stopping, or time ran out. */
  signal: AbortSignal;
  pollIntervalMs?: number;
  /** One probe's budget; a service that is starting may accept a connection and not answer yet. */
  requestTimeoutMs?: number;
}

/** Whether `GET <baseUrl>/readyz` answers 200 within `requestTimeoutMs`. */
export async function isReady(baseUrl: string, { signal, requestTimeoutMs = 1_000 }: Omit<WaitUntilReadyOptions, 'pollIntervalMs'>): Promise<boolean> {
  try {
    const response = await fetch(new URL('/readyz', baseUrl), {
      signal: AbortSignal.any([signal, AbortSignal.timeout(requestTimeoutMs)]),
    });
    // The body is not needed; cancelling it frees the connection at once.
    await response.body?.cancel();
    return response.status === 200;
  } catch {
    // Refused while the process starts, or a probe that timed out: both mean "not yet".
    return false;
  }
}

/**
 * Polls `GET <baseUrl>/readyz` until it answers 200. Rejects only when `signal` aborts, with
 * the signal's reason; the caller decides how long "ready" may take.
 */
export async function waitUntilReady(baseUrl: string, { signal, pollIntervalMs = 100, requestTimeoutMs = 1_000 }: WaitUntilReadyOptions): Promise<void> {
  for (;;) {
    signal.throwIfAborted();
    if (await isReady(baseUrl, { signal, requestTimeoutMs })) return;
    await sleep(pollIntervalMs, undefined, { signal });
  }
}
