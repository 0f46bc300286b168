import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { Code, KitError } from '@baton/kit/errors';
import { readImageHeader, sniffImage } from '../src/images/image-check.ts';
import { pngClaiming, picture } from './support/images.ts';

// What an upload is, judged by its bytes: real images made with sharp, a text file, a PDF, a
// damaged image and a decompression bomb made by hand.

const maxPixels = 40_000_000;


const inPieces = (bytes: Buffer, size = 1_000) => Readable.from(Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) => bytes.subarray(i * size, (i + 1) * size)));
const refusedWith = (reason: string) => (error: unknown) => KitError.from(error).reason === reason;

test('each image type media takes is known by its bytes, and every byte, the sample included, comes through', async () => {
  for (const [format, mediaType] of [['png', 'image/png'], ['jpeg', 'image/jpeg'], ['webp', 'image/webp'], ['avif', 'image/avif']] as const) {
    const bytes = await picture(format);
    const sniffed = await sniffImage(inPieces(bytes));
    assert.equal(sniffed.mediaType, mediaType, format);
    assert.ok(Buffer.concat(await sniffed.stream.toArray()).equals(bytes), `${format}: the same bytes`);
  }
});

test('the bytes decide, not what the client says: text, a PDF and an SVG are refused with 415, naming what they are', async () => {
  const notImages: Array<[string, Buffer, string | null]> = [
    ['text named .png', Buffer.from('just some words, saved as photo.png\n'.repeat(200)), null],
    ['a PDF', Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(5_000, 0x20)]), 'application/pdf'],
    ['an SVG (it can carry script)', Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">${' '.repeat(5_000)}</svg>`), null],
  ];
  for (const [what, bytes, detected] of notImages) {
    await assert.rejects(sniffImage(inPieces(bytes)), (error: unknown) => {
      const kitError = KitError.from(error);
      assert.equal(kitError.code, Code.InvalidArgument, what);
      assert.equal(kitError.reason, 'not_an_image', what);
      if (detected !== null) assert.equal((kitError.details as { detected: string }).detected, detected, what);
      return true;
    }, what);
  }
});

test('an image\'s header gives its size and format without decoding it', async () => {
  assert.deepEqual(await readImageHeader(inPieces(await picture('png')), { maxPixels }), { width: 64, height: 48, format: 'png' });
  assert.deepEqual(await readImageHeader(inPieces(await picture('jpeg')), { maxPixels }), { width: 64, height: 48, format: 'jpeg' });
});

test('a decompression bomb (a few kilobytes that say 100,000 × 100,000) is refused from its header, 422 image_too_large', async () => {
  const bomb = pngClaiming(100_000, 100_000);
  assert.ok(bomb.length < 2_000, `${bomb.length} bytes`);
  await assert.rejects(readImageHeader(inPieces(bomb), { maxPixels }), refusedWith('image_too_large'));
  // Just over the limit is refused too, and just under it is read.
  await assert.rejects(readImageHeader(inPieces(pngClaiming(8_000, 5_001)), { maxPixels }), refusedWith('image_too_large'));
  assert.deepEqual(await readImageHeader(inPieces(pngClaiming(8_000, 5_000)), { maxPixels }), { width: 8_000, height: 5_000, format: 'png' });
});

test('a damaged image, whose first bytes say PNG and whose header does not hold, is 422 image_unreadable', async () => {
  // A real PNG with one byte of its header changed and its checksum left as it was.
  const damaged = Buffer.from(await picture('png'));
  damaged[25] = 7; // the colour type: PNG has no type 7
  assert.equal((await sniffImage(inPieces(damaged))).mediaType, 'image/png', 'it starts as a PNG');
  await assert.rejects(readImageHeader(inPieces(damaged), { maxPixels }), (error: unknown) => {
    const kitError = KitError.from(error);
    return kitError.code === Code.FailedPrecondition && kitError.reason === 'image_unreadable';
  });
});

test('an input that fails part-way (the uploader went away) fails the read with its error, and nothing waits on it', async () => {
  const bytes = await picture('png');
  const cut = new Error('connection reset by peer');
  const failing = Readable.from((async function* () {
    yield bytes.subarray(0, 20);
    throw cut;
  })());
  await assert.rejects(readImageHeader(failing, { maxPixels }), (error) => error === cut);
});

test('a body that ended before anyone read it (an empty upload) is refused at once, not waited on', async () => {
  const ended = new Readable({ read() {} });
  ended.push(null);
  await new Promise((resolve) => setImmediate(resolve));
  await assert.rejects(sniffImage(ended), (error: unknown) => KitError.from(error).reason === 'not_an_image');
});
