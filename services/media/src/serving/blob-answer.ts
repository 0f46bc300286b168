import { combineRanges, parse } from 'range-parser';

export interface BlobAnswerInput {
  /** The object's whole size. */
  bytes: number;
  /** Its SHA-256 (hex): its bytes never change under one key, so it is a strong validator. */
  sha256: string;
  /** The request's headers that decide the answer. */
  range?: string | undefined;
  ifNoneMatch?: string | undefined;
  ifRange?: string | undefined;
}

export interface BlobAnswer {
  status: 200 | 206 | 304 | 416;
  /** The bytes to send, both ends included; none for 304, 416 and an empty image. */
  range?: { start: number; end: number };
  headers: Record<string, string>;
}

/**
 * How to answer a GET of an original or a size: 200 with it all, 206 with the one range asked
 * for, 304 when the client's copy is this one, 416 for a range past its end. Written here
 * because it is media's rule (range-parser reads the Range header): an image under a key never
 * changes (a new upload is a new id), so its ETag is its SHA-256 and any cache may keep it for a
 * year (`immutable`). Several ranges, or an If-Range that is not this copy, get the whole
 * image, as RFC 9110 allows; a Range that does not parse is ignored.
 */
export function blobAnswer({ bytes, sha256, range, ifNoneMatch, ifRange }: BlobAnswerInput): BlobAnswer {
  const etag = `"${sha256}"`;
  const headers: Record<string, string> = {
    etag,
    'cache-control': 'public, max-age=31536000, immutable',
    'accept-ranges': 'bytes',
  };
  if (ifNoneMatch !== undefined && matches(ifNoneMatch, sha256)) return { status: 304, headers };
  const whole: BlobAnswer = { status: 200, ...(bytes === 0 ? {} : { range: { start: 0, end: bytes - 1 } }), headers: { ...headers, 'content-length': String(bytes) } };
  if (range === undefined || bytes === 0 || (ifRange !== undefined && ifRange.trim() !== etag)) return whole;
  const parsed = parse(bytes, range);
  if (parsed.type !== 'bytes' || (parsed.code & 1) !== 0) return whole;
  if (parsed.ranges.length === 0) return { status: 416, headers: { ...headers, 'content-range': `bytes */${bytes}` } };
  const ranges = combineRanges(parsed.ranges);
  if (ranges.length > 1) return whole;
  const { start, end } = ranges[0]!;
  return { status: 206, range: { start, end }, headers: { ...headers, 'content-length': String(end - start + 1), 'content-range': `bytes ${start}-${end}/${bytes}` } };
}

/** If-None-Match's weak comparison: `*`, or any listed tag, `W/` or not, that is this one. */
function matches(ifNoneMatch: string, sha256: string): boolean {
  return ifNoneMatch.split(',').some((tag) => {
    const bare = tag.trim().replace(/^W\//, '');
    return bare === '*' || bare === `"${sha256}"`;
  });
}
