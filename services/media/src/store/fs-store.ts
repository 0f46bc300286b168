import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { checkedKey, type BlobStore, type PutOptions, type StoredBlob } from './blob-store.ts';
import { createByteMeter } from './byte-meter.ts';
import { withDiskFull } from './disk-full.ts';
import { fileWriter } from './file-writer.ts';

/** How old a half-written file must be before a start removes it: older than any upload can last. */
const leftoverAfterMs = 60 * 60 * 1000;

/**
 * The blob store on the local filesystem, under `root` (`var/media/` by default). A put writes to
 * a file of its own under `root/.partial/`, flushes it to disk, then renames it to its key: the
 * rename is atomic, so a reader sees the whole object or none, and a put that fails or is
 * aborted deletes its file. What a killed process left in `.partial/` is removed at the next open.
 * A disk with no room fails the put with `storage_full` (507), and leaves nothing either.
 */
export async function openFsStore(root: string): Promise<BlobStore> {
  const partial = join(root, '.partial');
  await mkdir(partial, { recursive: true, mode: 0o700 });
  await removeLeftovers(partial);
  const pathOf = (key: string) => join(root, checkedKey(key));

  async function put(key: string, body: Readable, { signal, maxBytes, ownChunks = false }: PutOptions): Promise<StoredBlob> {
    const target = pathOf(key);
    const temp = join(partial, randomUUID());
    const meter = createByteMeter(maxBytes);
    try {
      // On disk (fsync) before the file closes, and so before it has its name: a crash after the
      // rename never leaves a short object.
      await pipeline(body, meter.transform, fileWriter(temp, { freeChunks: ownChunks }), { signal });
      await mkdir(dirname(target), { recursive: true, mode: 0o700 });
      await rename(temp, target);
      return meter.measured();
    } catch (error) {
      body.destroy();
      await rm(temp, { force: true });
      throw signal.aborted ? signal.reason : withDiskFull(error);
    }
  }

  return {
    put,
    async get(key, { signal, range }) {
      const bytes = await sizeOf(pathOf(key));
      if (bytes === undefined) return undefined;
      const body = createReadStream(pathOf(key), { ...(range === undefined ? {} : { start: range.start, end: range.end }), signal });
      return { body, bytes };
    },
    size: async (key) => sizeOf(pathOf(key)),
    localPath: pathOf,
    async delete(key) {
      await rm(pathOf(key), { force: true });
    },
    async close() {},
  };
}

async function sizeOf(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

async function removeLeftovers(partial: string): Promise<void> {
  const before = Date.now() - leftoverAfterMs;
  for (const name of await readdir(partial)) {
    const path = join(partial, name);
    const { mtimeMs } = await stat(path).catch(() => ({ mtimeMs: Infinity }));
    if (mtimeMs < before) await rm(path, { force: true });
  }
}
