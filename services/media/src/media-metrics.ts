import { Gauge, Histogram, type Registry } from 'prom-client';
import type { Database } from '@baton/kit/db';
import { KitError } from '@baton/kit/errors';
import { readAtScrape } from '@baton/kit/telemetry';
import { renderQueue } from './images/image-records.ts';
import type { Renderer } from './images/render-sizes.ts';

export interface MediaMetrics {
  /** Times one upload from its first byte to its answer, and counts its outcome. */
  upload<T>(declaredBytes: number, work: () => Promise<T>): Promise<T>;
}

// Uploads take from milliseconds (a thumbnail on a LAN) to minutes (50 MB on a slow line).
const uploadBucketsSeconds = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

/**
 * Media's own metrics, beside the kit's: uploads in flight (and their declared bytes), how long
 * uploads take and how they end, and the thumbnail queue, its depth and its lag read from the
 * database at each scrape (the images still waiting for their sizes: the truth, whichever
 * instance renders them), with the renders running and waiting in this process.
 */
export function createMediaMetrics({ registry, db, renderer }: { registry: Registry; db: Database; renderer: Renderer }): MediaMetrics {
  const inFlight = new Gauge({ name: 'media_uploads_in_flight', help: 'Uploads being received now.', registers: [registry] });
  const bytesInFlight = new Gauge({ name: 'media_upload_bytes_in_flight', help: 'Bytes of the uploads being received now, as their Content-Length declares them.', registers: [registry] });
  const durations = new Histogram({ name: 'media_upload_duration_seconds', help: 'How long uploads took, first byte to answer, by outcome (ok, or the error\'s code).', labelNames: ['outcome'], buckets: uploadBucketsSeconds, registers: [registry] });
  // Both queue gauges read one query per scrape: the first to collect asks, the other shares it.
  // A read that fails or takes too long leaves both at their last values (readAtScrape): a slow
  // database does not fail the scrape.
  let queue = { depth: 0, oldestAgeSeconds: 0 };
  let asked: { atMs: number; read: Promise<void> } | undefined;
  const readQueue = () => {
    const nowMs = performance.now();
    if (asked === undefined || nowMs - asked.atMs > 1_000) {
      asked = { atMs: nowMs, read: readAtScrape(async (signal) => { queue = await renderQueue(db, { signal }); }) };
    }
    return asked.read;
  };
  new Gauge({
    name: 'media_thumbnail_queue_depth', help: 'Images whose sizes are still to be rendered.', registers: [registry],
    async collect() {
      await readQueue();
      this.set(queue.depth);
    },
  });
  new Gauge({
    name: 'media_thumbnail_lag_seconds', help: 'How long the oldest image still without its sizes has waited (0 with none waiting).', registers: [registry],
    async collect() {
      await readQueue();
      this.set(queue.oldestAgeSeconds);
    },
  });
  new Gauge({
    name: 'media_renders', help: 'Renders in this process, running or waiting for a turn.', labelNames: ['state'], registers: [registry],
    collect() {
      this.set({ state: 'running' }, renderer.running);
      this.set({ state: 'queued' }, renderer.queued);
    },
  });
  return {
    async upload(declaredBytes, work) {
      const bytes = Number.isFinite(declaredBytes) ? declaredBytes : 0;
      inFlight.inc();
      bytesInFlight.inc(bytes);
      const stopTimer = durations.startTimer();
      let outcome = 'ok';
      try {
        return await work();
      } catch (error) {
        outcome = KitError.from(error).code;
        throw error;
      } finally {
        stopTimer({ outcome });
        inFlight.dec();
        bytesInFlight.dec(bytes);
      }
    },
  };
}
