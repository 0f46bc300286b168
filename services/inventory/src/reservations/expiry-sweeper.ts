import type { Database } from '@baton/kit/db';
import type { Logger } from '@baton/kit/telemetry';
import { expireDue } from './expire-due.ts';

export interface ExpirySweeperOptions {
  db: Database;
  logger: Logger;
  sweepIntervalMs: number;
  batchSize?: number;
  /** The longest wait after failed sweeps (it doubles from `sweepIntervalMs` up to this). */
  maxBackoffMs?: number;
}

export interface ExpirySweeper {
  /** Stops the timer, cancels a sweep in progress and waits for it to end. */
  stop(): Promise<void>;
}

/**
 * Every `sweepIntervalMs`, gives back the stock of held reservations whose TTL ran out. A
 * backlog is drained in batches within one sweep. The next sweep is scheduled only when this
 * one ended, so sweeps never overlap; a failed sweep (the database down, say) is logged and the
 * next one tries again, after a wait that doubles with each failure in a row.
 */
export function startExpirySweeper({ db, logger, sweepIntervalMs, batchSize = 100, maxBackoffMs = 30_000 }: ExpirySweeperOptions): ExpirySweeper {
  const stopping = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let sweeping: Promise<void> = Promise.resolve();
  let failures = 0;

  async function sweep(): Promise<void> {
    try {
      let expired: number;
      do {
        expired = await expireDue(db, { batchSize }, { signal: stopping.signal });
        if (expired > 0) logger.info({ expired }, 'expired reservations released their stock');
      } while (expired === batchSize && !stopping.signal.aborted);
      failures = 0;
    } catch (error) {
      if (stopping.signal.aborted) return;
      failures += 1;
      logger.warn({ err: error, failures, retry_in_ms: delayMs() }, 'expiry sweep failed; the next one will try again');
    }
  }

  function delayMs(): number {
    return failures === 0 ? sweepIntervalMs : Math.min(Math.max(sweepIntervalMs, maxBackoffMs), sweepIntervalMs * 2 ** failures);
  }

  function scheduleNext(): void {
    if (stopping.signal.aborted) return;
    timer = setTimeout(function onSweepDue() {
      sweeping = sweep().finally(scheduleNext);
    }, delayMs());
    // The sweeper alone must not keep a process alive; the service's close stops it anyway.
    timer.unref();
  }

  scheduleNext();
  return {
    async stop() {
      stopping.abort();
      clearTimeout(timer);
      await sweeping;
    },
  };
}
