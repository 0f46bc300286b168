import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blobAnswer } from '../src/serving/blob-answer.ts';

// How a GET of an image is answered, from its size, its SHA-256 and the request's headers.

const sha256 = 'ab'.repeat(32);
const etag = `"${sha256}"`;
const image = { bytes: 1_000, sha256 };

test('no Range: 200 with the whole image, its ETag, a year\'s immutable caching and Accept-Ranges', () => {
  assert.deepEqual(blobAnswer(image), {
    status: 200,
    range: { start: 0, end: 999 },
    headers: { etag, 'cache-control': 'public, max-age=31536000, immutable', 'accept-ranges': 'bytes', 'content-length': '1000' },
  });
});

test('one range: 206 with Content-Range, for bounded, open-ended and suffix ranges; one past the end is cut at the end', () => {
  const cases: Array<[string, [number, number]]> = [
    ['bytes=0-99', [0, 99]], ['bytes=900-', [900, 999]], ['bytes=-100', [900, 999]], ['bytes=990-5000', [990, 999]], ['bytes=0-0', [0, 0]],
  ];
  for (const [range, [start, end]] of cases) {
    const answer = blobAnswer({ ...image, range });
    assert.equal(answer.status, 206, range);
    assert.deepEqual(answer.range, { start, end }, range);
    assert.equal(answer.headers['content-range'], `bytes ${start}-${end}/1000`, range);
    assert.equal(answer.headers['content-length'], String(end - start + 1), range);
  }
});

test('a range wholly past the end: 416 naming the size; overlapping ranges are one; several apart, the whole image', () => {
  const past = blobAnswer({ ...image, range: 'bytes=1000-1200' });
  assert.equal(past.status, 416);
  assert.equal(past.headers['content-range'], 'bytes */1000');
  assert.equal(past.range, undefined);
  assert.deepEqual(blobAnswer({ ...image, range: 'bytes=0-99,50-199' }).range, { start: 0, end: 199 });
  assert.equal(blobAnswer({ ...image, range: 'bytes=0-9,500-509' }).status, 200);
});

test('a Range that does not parse, or is not in bytes, is ignored: 200 with it all', () => {
  for (const range of ['bytes=abc', 'bytes=50-20', 'items=0-5', 'bytes=', 'nonsense']) {
    assert.equal(blobAnswer({ ...image, range }).status, 200, range);
  }
});

test('If-None-Match with this ETag (strong or weak, in a list, or *) is 304 with no body; another tag is 200', () => {
  for (const ifNoneMatch of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
    const answer = blobAnswer({ ...image, ifNoneMatch });
    assert.equal(answer.status, 304, ifNoneMatch);
    assert.equal(answer.range, undefined);
    assert.equal(answer.headers.etag, etag);
  }
  assert.equal(blobAnswer({ ...image, ifNoneMatch: '"other"' }).status, 200);
});

test('If-Range: the range when it names this copy, the whole image when it names another', () => {
  assert.equal(blobAnswer({ ...image, range: 'bytes=0-9', ifRange: etag }).status, 206);
  assert.equal(blobAnswer({ ...image, range: 'bytes=0-9', ifRange: '"an-older-copy"' }).status, 200);
});

test('an empty image is 200 with no bytes, whatever the Range', () => {
  const answer = blobAnswer({ bytes: 0, sha256, range: 'bytes=0-' });
  assert.equal(answer.status, 200);
  assert.equal(answer.headers['content-length'], '0');
  assert.equal(answer.range, undefined, 'nothing to read');
});
