import type { Database } from '@baton/kit/db';
import type { Logger } from '@baton/kit/telemetry';
import { expireDue } from './expire-due.ts';

export interface ExpirySweeperOptions {
  db: Database;
  logger: Logger;
  sweepIntervalMs: number;
  batchSize?: number;
}

export interface ExpirySweeper {
  /** Stops the timer, cancels a sweep in progress and waits for it to end. */
  stop(): Promise<void>;
}

/**
 * Every `sweepIntervalMs`, gives back the stock of held reservations whose TTL ran out. A
 * backlog is drained in batches within one sweep. The next sweep is scheduled only when this
 * one ended, so sweeps never overlap; a failed sweep is logged and the next one tries again.
 */
export function startExpirySweeper({ db, logger, sweepIntervalMs, batchSize = 100 }: ExpirySweeperOptions): ExpirySweeper {
  const stopping = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let sweeping: Promise<void> = Promise.resolve();

  async function sweep(): Promise<void> {
    try {
      let expired: number;
      do {
        expired = await expireDue(db, { batchSize }, { signal: stopping.signal });
        if (expired > 0) logger.info({ expired }, 'expired reservations released their stock');
      } while (expired === batchSize && !stopping.signal.aborted);
    } catch (error) {
      if (!stopping.signal.aborted) logger.warn({ err: error }, 'expiry sweep failed; the next one will try again');
    }
  }

  function scheduleNext(): void {
    if (stopping.signal.aborted) return;
    timer = setTimeout(function onSweepDue() {
      sweeping = sweep().finally(scheduleNext);
    }, sweepIntervalMs);
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
