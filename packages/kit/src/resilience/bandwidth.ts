import { Transform } from 'node:stream';
import { systemClock, type Clock } from './clock.ts';

export interface BandwidthOptions {
  /** What all its streams together may pass on, each second. */
  bytesPerSecond: number;
  /** How far ahead of the rate a burst may run (a quiet budget lets this much through at once). Default 100 ms of the rate. */
  burstMs?: number;
  clock?: Clock;
}

export interface Bandwidth {
  /** A stream that passes its chunks on, unchanged, as fast as the shared budget allows; its wait ends when it is destroyed. */
  throttle(): Transform;
  /**
   * Books `bytes` on the budget and says how long their sender must wait before sending them
   * (0 when the budget has room). Bookings are kept in the order they come, so streams that share
   * the budget share it evenly, chunk by chunk.
   */
  reserve(bytes: number): number;
}

/**
 * A bandwidth bulkhead: a rate in bytes per second that several streams share, so that bulk
 * transfers (uploads passed through a gateway) take a bounded share of a process's CPU and its
 * network however many run at once, and requests beside them keep theirs. A stream that must
 * wait holds its chunk back, and stream backpressure does the rest: the source is read no faster
 * (for a request, TCP tells the client to slow down).
 *
 * Written here rather than taken from npm: the throttling streams there (`stream-throttle`,
 * `throttle`) are unmaintained, and none is shared, cancellable and driven by the kit's clock.
 * The budget is the generic cell rate algorithm: each booking moves a "theoretical arrival time"
 * on by its bytes' share of a second, and a sender waits while the time its booking starts at
 * runs more than `burstMs` ahead of now.
 *
 * @example
 * const uploads = createBandwidth({ bytesPerSecond: 40_000_000 });
 * await pipeline(request, uploads.throttle(), upstreamBody);
 */
export function createBandwidth({ bytesPerSecond, burstMs = 100, clock = systemClock }: BandwidthOptions): Bandwidth {
  if (!(bytesPerSecond > 0)) throw new RangeError(`bytesPerSecond must be above 0, not ${bytesPerSecond}`);
  let theoreticalArrivalMs = Number.NEGATIVE_INFINITY;

  function reserve(bytes: number): number {
    const now = clock.now();
    const startsAt = Math.max(theoreticalArrivalMs, now);
    theoreticalArrivalMs = startsAt + (bytes * 1000) / bytesPerSecond;
    return Math.max(0, startsAt - burstMs - now);
  }

  function throttle(): Transform {
    const stopped = new AbortController();
    return new Transform({
      transform(chunk: Buffer, _encoding, done) {
        const waitMs = reserve(chunk.length);
        if (waitMs <= 0) {
          done(null, chunk);
          return;
        }
        clock.sleep(waitMs, stopped.signal).then(() => done(null, chunk), (error: unknown) => done(error as Error));
      },
      destroy(error, done) {
        stopped.abort(error ?? new Error('the stream was destroyed'));
        done(error);
      },
    });
  }

  return { throttle, reserve };
}
