import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { mediaUploaded } from '@baton/contracts/events';
import type { Database } from '@baton/kit/db';
import type { Outbox } from '@baton/kit/messaging';
import { readImageHeader, sniffImage } from '../images/image-check.ts';
import { insertImage, originalKey, type ImageRow } from '../images/image-records.ts';
import type { BlobStore } from '../store/blob-store.ts';

export interface Uploads {
  db: Database;
  store: BlobStore;
  events: { outbox: Outbox; committed(): void };
  /** Past this many bytes an upload is refused (413) as the bytes arrive. */
  maxBytes: number;
  /** Images with more pixels are refused (422) before a pixel is decoded. */
  maxPixels: number;
}

export interface Upload {
  sku: string;
  /** The image's bytes, as they arrive: never held whole. */
  body: Readable;
  /** Its chunks are its own (a raw body, not a multipart form's file): see `ownChunks` in blob-store.ts. */
  ownChunks: boolean;
  /** Who sent it (a staff user's id). */
  uploadedBy: string;
  /** The request's: the client gone or the deadline past, and the upload stops and leaves nothing. */
  signal: AbortSignal;
}

// The start of an original that its size is read from. Every format media takes says its size in
// its first bytes (a JPEG's frame header comes after its EXIF and colour profile, 64 KiB each at
// most in practice); the rest is never read for this, so a 50 MB upload is not read twice.
const headerBytes = 512 * 1024;

/**
 * Takes one image for a product: its first bytes decide its type (415 for anything else), it is
 * streamed into the store as it arrives (413 past `maxBytes`, without reading the rest), its
 * header is read back for its size (422 for a bomb or a damaged image), and its row and its
 * `media.uploaded` event are written in one transaction. It answers as soon as the original is
 * stored: the sizes are rendered out of band, from the event. Whatever fails after the original
 * was stored removes it, so no object is left that no row names.
 */
export async function receiveUpload(uploads: Uploads, { sku, body, ownChunks, uploadedBy, signal }: Upload): Promise<ImageRow> {
  const { db, store, events, maxBytes, maxPixels } = uploads;
  const { stream, mediaType } = await sniffImage(body);
  const id = randomUUID();
  const key = originalKey(id);
  const stored = await store.put(key, stream, { signal, contentType: mediaType, maxBytes, ownChunks });
  try {
    const start = await store.get(key, { signal, range: { start: 0, end: Math.min(stored.bytes, headerBytes) - 1 } });
    if (start === undefined) throw new Error(`the original ${key} was stored and is gone`);
    const { width, height } = await readImageHeader(start.body, { maxPixels });
    const row = await db.transaction(async (tx) => {
      const inserted = await insertImage(tx, { id, sku, contentType: mediaType, bytes: stored.bytes, sha256: stored.sha256, width, height, uploadedBy }, { signal });
      await events.outbox.add(tx, mediaUploaded, { aggregateId: id, data: { imageId: id, sku, contentType: mediaType, bytes: stored.bytes, width, height } }, { signal });
      return inserted;
    }, { signal });
    events.committed();
    return row;
  } catch (error) {
    // Its own short budget: the request's signal may be what failed the upload.
    await store.delete(key, { signal: AbortSignal.timeout(5_000) }).catch(() => undefined);
    throw error;
  }
}
