import type { UploadsSeen } from './shopper-load.ts';
import type { Check } from './verdict.ts';

export interface UploadsState {
  seen: UploadsSeen;
  /** Each acknowledged upload's status as media shows it (`ready`, `processing`, `failed`, `missing`). */
  statuses: Readonly<Record<string, string>>;
  /** The ids its product listed before the run, and after it settled. */
  listedBefore: readonly string[];
  listedAfter: readonly string[];
}

/**
 * Jepsen's check on the staff's uploads, from the public API once the run has settled: every
 * upload the shop acknowledged (202) is kept, rendered (`ready`) and listed on its product, and
 * no image appeared on it that nobody was told of, beyond the uploads whose answer was a 503,
 * 504 or none (those may have been kept). A 507 (`storage_full`) says nothing was kept, so an
 * image behind one is a lie.
 */
export function checkUploads({ seen, statuses, listedBefore, listedAfter }: UploadsState): Check {
  const notReady = seen.acknowledged.filter((id) => statuses[id] !== 'ready');
  const listed = new Set(listedAfter);
  const unlisted = seen.acknowledged.filter((id) => !listed.has(id));
  const known = new Set([...listedBefore, ...seen.acknowledged]);
  const unexpected = listedAfter.filter((id) => !known.has(id));
  const problems = [
    ...notReady.slice(0, 3).map((id) => `${id} is ${statuses[id] ?? 'unread'}`),
    ...unlisted.slice(0, 3).map((id) => `${id} is not listed on ${seen.sku}`),
  ];
  const passed = notReady.length === 0 && unlisted.length === 0 && unexpected.length <= seen.unsure;
  return {
    name: 'uploads kept',
    passed,
    detail: passed
      ? `all ${seen.acknowledged.length} acknowledged uploads ready and listed on ${seen.sku}; ${unexpected.length} images nobody was told of (at most ${seen.unsure} may be)`
      : `${notReady.length} acknowledged not ready, ${unlisted.length} not listed, ${unexpected.length} images nobody was told of (at most ${seen.unsure} may be)${problems.length > 0 ? `: ${problems.join('; ')}` : ''}`,
  };
}
