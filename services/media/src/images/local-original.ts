import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Code, KitError } from '@baton/kit/errors';
import type { BlobStore } from '../store/blob-store.ts';

/**
 * Runs `work` with the path of a file holding the object at `key`: the store's own file where it
 * keeps one (the filesystem store), else a copy streamed into a file of this process's own and
 * removed after. sharp given a stream holds all of it in memory before it decodes a pixel (a
 * 50 MB original, 50 MB more per render); given a file, libvips reads it in strips as it goes.
 */
export async function withLocalCopy<T>(store: BlobStore, key: string, signal: AbortSignal, work: (path: string) => Promise<T>): Promise<T> {
  const own = store.localPath?.(key);
  if (own !== undefined) {
    if ((await store.size(key, { signal })) === undefined) throw missing(key);
    return work(own);
  }
  const found = await store.get(key, { signal });
  if (found === undefined) throw missing(key);
  const path = join(tmpdir(), `baton-media-${randomUUID()}`);
  try {
    await pipeline(found.body, createWriteStream(path, { flags: 'wx', mode: 0o600 }), { signal });
    return await work(path);
  } finally {
    await rm(path, { force: true });
  }
}

function missing(key: string): KitError {
  return new KitError(Code.NotFound, 'no original for this image', { details: { key } });
}
