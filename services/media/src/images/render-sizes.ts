import type { Readable } from 'node:stream';
import sharp, { type OutputInfo } from 'sharp';
import { createBulkhead } from '@baton/kit/resilience';
import type { BlobStore, StoredBlob } from '../store/blob-store.ts';
import { letGo } from '../store/file-writer.ts';
import { withLocalCopy } from './local-original.ts';
import { imageError } from './image-check.ts';

/** The widths every image is rendered at, as WebP; an image narrower than one is not enlarged. */
export const imageWidths = [320, 640, 1280] as const;

export interface RenderedSize extends StoredBlob {
  key: string;
  /** The size's name, the width it was asked for (one of imageWidths): its URL's. */
  size: number;
  /** What it is: narrower than its name when the original was. */
  width: number;
  height: number;
}

export interface Renderer {
  /** Renders an original's sizes into the store: queued behind the renders already running. */
  render(imageId: string, originalKey: string, options: { signal: AbortSignal }): Promise<RenderedSize[]>;
  /** Renders running now, and waiting: the thumbnail queue's depth. */
  readonly running: number;
  readonly queued: number;
}

export interface RendererOptions {
  store: BlobStore;
  /** Images with more pixels are not decoded (sharp's `limitInputPixels`). */
  maxPixels: number;
  /** Renders at once; each uses one libvips thread, so checkout keeps the other core. */
  concurrency: number;
  /** Largest a rendered size may be. */
  maxSizeBytes?: number;
}

export const sizeKey = (imageId: string, width: number) => `sizes/${imageId}/${width}.webp`;

/**
 * Renders the sizes of uploaded images, out of band: the original is read from a file (the
 * store's own, or a copy: local-original.ts) in strips and decoded once, to the largest width;
 * each width is encoded from that and streamed into the store, one after another. At most
 * `concurrency` renders run, the rest wait in order (the kit's bulkhead, with the queue as
 * deep as the uploads waiting), and libvips gets one thread per render: a burst of uploads
 * takes a bounded share of the CPU instead of all of it.
 */
export function createRenderer({ store, maxPixels, concurrency, maxSizeBytes = 20 * 1024 * 1024 }: RendererOptions): Renderer {
  sharp.concurrency(1);
  // Each original is rendered once: libvips's cache of operations (up to 50 MB by default)
  // would only keep what no render asks for again.
  sharp.cache(false);
  const bulkhead = createBulkhead({ maxConcurrent: concurrency, maxQueue: Number.MAX_SAFE_INTEGER });

  async function renderNow(imageId: string, originalKey: string, signal: AbortSignal): Promise<RenderedSize[]> {
    return withLocalCopy(store, originalKey, signal, (path) => renderFile(imageId, path, signal));
  }

  async function renderFile(imageId: string, path: string, signal: AbortSignal): Promise<RenderedSize[]> {
    const written: RenderedSize[] = [];
    try {
      // The original is decoded once, from the file in strips, to the largest width (a few MB of
      // pixels however large the original); each size is then encoded from that, one after
      // another: a render takes one core and little memory, where three sizes at once, each
      // decoding the original again, took 1.4 cores and 58 MB each (bench/README.md).
      const largest = await sharp(path, { limitInputPixels: maxPixels, failOn: 'error', sequentialRead: true })
        .resize({ width: Math.max(...imageWidths), withoutEnlargement: true })
        .raw()
        .toBuffer({ resolveWithObject: true });
      for (const width of imageWidths) {
        signal.throwIfAborted();
        const { width: fromWidth, height: fromHeight, channels } = largest.info;
        const encoder = sharp(largest.data, { raw: { width: fromWidth, height: fromHeight, channels } })
          .resize({ width, withoutEnlargement: true })
          .webp({ quality: 80 });
        const info = new Promise<OutputInfo>((resolve) => encoder.once('info', resolve));
        const key = sizeKey(imageId, width);
        const stored = await store.put(key, encoder as Readable, { signal, contentType: 'image/webp', maxBytes: maxSizeBytes });
        const { width: renderedWidth, height } = await info;
        written.push({ key, size: width, ...stored, width: renderedWidth, height });
      }
      // Every encoder is done with the pixels: they are let go now, not when a collection finds
      // their buffer (it lived through the encodes, so only a full one does). Left to the
      // collector, renders' pixel buffers were up to 60 MB of media's memory at a time under the
      // checkout-beside-uploads bench. Not on failure: an aborted encoder may still be reading them.
      letGo(largest.data);
      return written;
    } catch (error) {
      // All sizes or none: the ones that were written go, so a failed render can simply be done again.
      await Promise.all(imageWidths.map((width) => store.delete(sizeKey(imageId, width), { signal: AbortSignal.timeout(5_000) }).catch(() => {})));
      throw signal.aborted ? signal.reason : imageError(error, maxPixels);
    }
  }

  return {
    render: (imageId, originalKey, { signal }) => bulkhead.execute(() => renderNow(imageId, originalKey, signal), signal),
    get running() {
      return bulkhead.running;
    },
    get queued() {
      return bulkhead.queued;
    },
  };
}
