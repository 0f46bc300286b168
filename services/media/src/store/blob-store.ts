import type { Readable } from 'node:stream';

/** What a stored object is: its size and the SHA-256 of its bytes (hex), measured as they went in. */
export interface StoredBlob {
  bytes: number;
  sha256: string;
}

export interface PutOptions {
  signal: AbortSignal;
  /** The media type to keep with the object, where the store keeps one (S3 does). */
  contentType: string;
  /** More bytes than this fail the put (413, `body_too_large`) as soon as they arrive, without reading the rest. */
  maxBytes: number;
  /**
   * The body's chunks are its own, each read for it and held by nothing else (a request's raw
   * body): a store may free each as soon as it has written it. Not for chunks a parser may keep
   * using (a multipart form's: busboy hands on views of a buffer it reuses).
   */
  ownChunks?: boolean;
}

export interface GetOptions {
  signal: AbortSignal;
  /** Bytes `start` to `end`, both included (as HTTP's Range counts them); the whole object without it. */
  range?: { start: number; end: number } | undefined;
}

export interface BlobBody {
  body: Readable;
  /** The object's whole size, whatever the range. */
  bytes: number;
}

/**
 * Where media keeps the bytes of images: the local filesystem by default (`fs-store.ts`), the
 * S3 API with `S3_URL` (`s3-store.ts`). Both pass the same tests (test/blob-store.test.ts).
 *
 * Bytes are streamed in and out, never held whole in memory. An object exists once every byte of
 * it is in, or not at all: a put that fails, is cut short or is aborted leaves nothing at its key.
 * Keys are media's own (`originals/<id>`, `sizes/<id>/<width>.webp`), never a client's words.
 */
export interface BlobStore {
  /** Streams `body` in under `key`, replacing any object there once complete. */
  put(key: string, body: Readable, options: PutOptions): Promise<StoredBlob>;
  /** The object, or a range of it; undefined when there is none. */
  get(key: string, options: GetOptions): Promise<BlobBody | undefined>;
  /** Its size, or undefined when there is none. */
  size(key: string, options: { signal: AbortSignal }): Promise<number | undefined>;
  /**
   * Where the object is on this machine's disk, for a store that keeps it there (the
   * filesystem's): a decoder reads a file in strips, where a stream it must first hold whole.
   */
  localPath?(key: string): string;
  /** Removes it; removing what is not there is not an error. */
  delete(key: string, options: { signal: AbortSignal }): Promise<void>;
  close(): Promise<void>;
}

// Lower-case letters, digits and `._-`, in `/`-separated segments, none of them `.` or `..`.
const keyPattern = /^(?!.*(?:^|\/)\.{1,2}(?:\/|$))[a-z0-9._-]+(?:\/[a-z0-9._-]+)*$/;

/** Refuses a key that is not one of media's own shape: a bug here, never a client's input. */
export function checkedKey(key: string): string {
  if (!keyPattern.test(key) || key.length > 512) throw new TypeError(`not a blob key: ${JSON.stringify(key)}`);
  return key;
}
