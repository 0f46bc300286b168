import { Code, KitError } from '@baton/kit/errors';

// What the kernel says when a write finds no room: the filesystem full, or the user's quota spent.
const noRoom = new Set(['ENOSPC', 'EDQUOT']);

/**
 * The filesystem store's one word for "no room": a disk full is not a bug of media's (a 500)
 * nor a dependency down (a 503 that a retry soon would meet again), but a store that cannot
 * take more until someone frees space: 507 `storage_full`, RESOURCE_EXHAUSTED between services.
 * Any other error is left as it is.
 */
export function withDiskFull(error: unknown): unknown {
  if (!noRoom.has((error as NodeJS.ErrnoException | undefined)?.code ?? '')) return error;
  return new KitError(Code.ResourceExhausted, 'the image store has no room left: nothing was kept', { reason: 'storage_full', cause: error });
}
