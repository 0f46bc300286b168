import { execFile } from 'node:child_process';
import { mkdir, open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const MiB = 1024 * 1024;

export interface SmallDisk {
  /** Writes a filler file until the disk has no byte left; says how many bytes it took. */
  fill(): Promise<number>;
  /** Removes the filler. */
  free(): Promise<void>;
  /** Unmounts it, once nothing uses it (the shop stopped). */
  close(): Promise<void>;
}

/**
 * A disk of its own for a folder: a tmpfs of `sizeMiB` mounted over it, which the kernel fills
 * for real (a write past it fails with ENOSPC, as on a full disk). Mounting needs root, on
 * Linux: elsewhere undefined, and the scenario that needs it says why it cannot run.
 */
export async function mountSmallDisk(folder: string, sizeMiB: number): Promise<SmallDisk | undefined> {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return undefined;
  await mkdir(folder, { recursive: true, mode: 0o700 });
  await run('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB}m,mode=0700`, 'tmpfs', folder]);
  // Not a name media uses: its keys are under originals/, sizes/ and .partial/.
  const filler = join(folder, 'filler');
  return {
    async fill() {
      const file = await open(filler, 'w', 0o600);
      let bytes = 0;
      try {
        const chunk = Buffer.alloc(MiB);
        for (let size = MiB; size > 0;) {
          try {
            bytes += (await file.write(chunk, 0, size)).bytesWritten;
          } catch (error) {
            if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
            // The last pages, a smaller write at a time, to the last byte.
            size = Math.floor(size / 2);
          }
        }
      } finally {
        await file.close();
      }
      return bytes;
    },
    free: () => rm(filler, { force: true }),
    async close() {
      await run('umount', [folder]);
    },
  };
}
