import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';
import { Code, KitError } from '@baton/kit/errors';
import type { StoredBlob } from './blob-store.ts';

export interface ByteMeter {
  /** Put between the body and the store: counts and hashes each chunk, and fails past the limit. */
  transform: Transform;
  /** What went through, once the body has ended. */
  measured(): StoredBlob;
}

/**
 * The one place a put's bytes are counted and hashed, for both stores: the size and SHA-256 kept
 * with the image (its ETag), and the limit enforced as bytes arrive, so an upload over it is
 * refused after `maxBytes`, not after all of it.
 */
export function createByteMeter(maxBytes: number): ByteMeter {
  const hash = createHash('sha256');
  let bytes = 0;
  let digest: string | undefined;
  const transform = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      bytes += chunk.length;
      if (bytes > maxBytes) {
        callback(new KitError(Code.ResourceExhausted, `the file is larger than ${maxBytes} bytes`, { reason: 'body_too_large', details: { maxBytes } }));
        return;
      }
      hash.update(chunk);
      callback(null, chunk);
    },
    flush(callback) {
      digest = hash.digest('hex');
      callback();
    },
  });
  return {
    transform,
    measured() {
      if (digest === undefined) throw new Error('the body has not ended');
      return { bytes, sha256: digest };
    },
  };
}
