import { pipeline, type Readable } from 'node:stream';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { Code, KitError } from '@baton/kit/errors';
import { checkedKey, type BlobStore, type PutOptions, type StoredBlob } from './blob-store.ts';
import { createByteMeter } from './byte-meter.ts';

export interface S3StoreOptions {
  /** The S3 API's address (`S3_URL`); buckets by path, as S3-compatible servers take them. */
  url: string;
  bucket: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}

// Parts of 5 MiB (S3's least), two in flight: an upload holds about 10 MiB however large it is.
const partBytes = 5 * 1024 * 1024;
const partsInFlight = 2;

/**
 * The blob store on the S3 API (`@aws-sdk/client-s3`; a put through `@aws-sdk/lib-storage`'s
 * Upload: one PutObject for a small file, a multipart upload for a large one, streamed part by
 * part). An object appears only when its last part is in (S3 makes it at PutObject or
 * CompleteMultipartUpload); a put that fails or is aborted stops before that and asks S3 to
 * abort the multipart upload, so nothing is left at its key.
 */
export function createS3Store(options: S3StoreOptions): BlobStore {
  const client = new S3Client({
    endpoint: options.url,
    forcePathStyle: true,
    region: options.region,
    credentials: { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey },
  });
  const Bucket = options.bucket;

  async function put(key: string, body: Readable, { signal, contentType, maxBytes }: PutOptions): Promise<StoredBlob> {
    const Key = checkedKey(key);
    const meter = createByteMeter(maxBytes);
    // Errors of the body (a client that went away) end the metered stream too, and so the upload.
    const metered = pipeline(body, meter.transform, () => {});
    const upload = new Upload({
      client,
      params: { Bucket, Key, Body: metered, ContentType: contentType },
      partSize: partBytes,
      queueSize: partsInFlight,
      leavePartsOnError: false,
    });
    const onAbort = () => void upload.abort().catch(() => {});
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      signal.throwIfAborted();
      await upload.done();
      return meter.measured();
    } catch (error) {
      body.destroy();
      if (signal.aborted) throw signal.reason;
      throw KitError.from(error).code === Code.ResourceExhausted ? error : unavailable(error);
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  return {
    put,
    get: async (key, { signal, range }) => {
      const Key = checkedKey(key);
      return ask(async () => {
        const answer = await client.send(new GetObjectCommand({
          Bucket, Key, ...(range === undefined ? {} : { Range: `bytes=${range.start}-${range.end}` }),
        }), { abortSignal: signal });
        // A range's answer says the whole size after the slash: `bytes 0-9/1000`.
        const bytes = Number(/\/(\d+)$/.exec(answer.ContentRange ?? '')?.[1] ?? answer.ContentLength);
        return { body: answer.Body as Readable, bytes };
      }, signal);
    },
    size: async (key, { signal }) => {
      const Key = checkedKey(key);
      return ask(async () => (await client.send(new HeadObjectCommand({ Bucket, Key }), { abortSignal: signal })).ContentLength, signal);
    },
    async delete(key, { signal }) {
      const Key = checkedKey(key);
      await ask(() => client.send(new DeleteObjectCommand({ Bucket, Key }), { abortSignal: signal }), signal);
    },
    async close() {
      client.destroy();
    },
  };
}

/**
 * One call to S3, its failures said once for get, size and delete: not there is undefined, an
 * aborted call rejects with the abort's reason, anything else is the store out of reach (503).
 */
async function ask<T>(call: () => Promise<T>, signal: AbortSignal): Promise<T | undefined> {
  try {
    return await call();
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw signal.aborted ? signal.reason : unavailable(error);
  }
}

/** Not there: S3 says NoSuchKey to a GET and a bare 404 (NotFound) to a HEAD. */
function isMissing(error: unknown): boolean {
  const { name, $metadata } = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return name === 'NoSuchKey' || name === 'NotFound' || $metadata?.httpStatusCode === 404;
}

/** Any other failure of the store is the store being out of reach for now: 503, to try again. */
function unavailable(cause: unknown): KitError {
  return new KitError(Code.Unavailable, 'the image store cannot be reached', { reason: 'blob_store_unavailable', cause });
}
