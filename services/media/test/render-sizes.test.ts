import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { Readable } from 'node:stream';
import sharp from 'sharp';
import { KitError } from '@baton/kit/errors';
import { createTempDir } from '@baton/kit/testing';
import { createRenderer, imageWidths, sizeKey } from '../src/images/render-sizes.ts';
import type { BlobStore } from '../src/store/blob-store.ts';
import { openFsStore } from '../src/store/fs-store.ts';
import { pngClaiming, picture } from './support/images.ts';

// The sizes of an image, rendered from its original in the store back into the store, on the
// filesystem store (the blob store's own tests show S3 keeps the same promises).

const maxPixels = 40_000_000;
const noSignal = () => ({ signal: new AbortController().signal });

async function storeWith(t: Parameters<typeof createTempDir>[0], originals: Record<string, Buffer>): Promise<BlobStore> {
  const store = await openFsStore(await createTempDir(t, 'baton-media-render-'));
  for (const [key, bytes] of Object.entries(originals)) {
    await store.put(key, Readable.from([bytes]), { ...noSignal(), contentType: 'image/png', maxBytes: 50 * 1024 * 1024 });
  }
  return store;
}

const png = (width: number, height: number) => picture('png', width, height);


test('an original is rendered at each width as WebP into the store, keeping its shape; a small one is not enlarged', async (t) => {
  const store = await storeWith(t, { 'originals/big': await png(2_000, 1_500), 'originals/small': await png(400, 300) });
  const renderer = createRenderer({ store, maxPixels, concurrency: 1 });
  const big = await renderer.render('big', 'originals/big', noSignal());
  assert.deepEqual(big.map(({ key, width, height }) => [key, width, height]), [
    ['sizes/big/320.webp', 320, 240], ['sizes/big/640.webp', 640, 480], ['sizes/big/1280.webp', 1280, 960],
  ]);
  for (const size of big) {
    const bytes = Buffer.concat(await (await store.get(size.key, noSignal()))!.body.toArray());
    assert.equal(bytes.length, size.bytes);
    const meta = await sharp(bytes).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['webp', size.width, size.height], size.key);
  }
  const small = await renderer.render('small', 'originals/small', noSignal());
  assert.deepEqual(small.map(({ width, height }) => [width, height]), [[320, 240], [400, 300], [400, 300]]);
});

test('renders beyond the concurrency wait their turn, in order: the queue is what the metrics will show', async (t) => {
  const store = await storeWith(t, Object.fromEntries(await Promise.all([1, 2, 3, 4].map(async (i) => [`originals/q${i}`, await png(1_600, 1_200)] as const))));
  const renderer = createRenderer({ store, maxPixels, concurrency: 1 });
  const finished: number[] = [];
  const renders = [1, 2, 3, 4].map((i) => renderer.render(`q${i}`, `originals/q${i}`, noSignal()).then(() => {
    finished.push(i);
  }));
  assert.deepEqual([renderer.running, renderer.queued], [1, 3], 'one running, three waiting');
  let mostAtOnce = 0;
  const sampler = setInterval(() => { mostAtOnce = Math.max(mostAtOnce, renderer.running); }, 1);
  await Promise.all(renders);
  clearInterval(sampler);
  assert.equal(mostAtOnce, 1);
  assert.deepEqual(finished, [1, 2, 3, 4]);
  assert.deepEqual([renderer.running, renderer.queued], [0, 0]);
});

test('an original over the pixel limit is not decoded: 422 image_too_large, and no size is left', async (t) => {
  const store = await storeWith(t, { 'originals/bomb': pngClaiming(100_000, 100_000) });
  const renderer = createRenderer({ store, maxPixels, concurrency: 1 });
  await assert.rejects(renderer.render('bomb', 'originals/bomb', noSignal()), (error: unknown) => KitError.from(error).reason === 'image_too_large');
  for (const width of imageWidths) assert.equal(await store.size(sizeKey('bomb', width), noSignal()), undefined);
});

test('a render given up (its signal aborted) rejects with the abort\'s reason and leaves no size behind', async (t) => {
  const store = await storeWith(t, { 'originals/gone': await png(3_000, 2_000) });
  const renderer = createRenderer({ store, maxPixels, concurrency: 1 });
  const controller = new AbortController();
  const reason = new KitError('unavailable', 'shutting down');
  const render = renderer.render('gone', 'originals/gone', { signal: controller.signal });
  setImmediate(() => controller.abort(reason));
  await assert.rejects(render, (error) => error === reason);
  for (const width of imageWidths) assert.equal(await store.size(sizeKey('gone', width), noSignal()), undefined);
});

test('an image with no original in the store is 404', async (t) => {
  const renderer = createRenderer({ store: await storeWith(t, {}), maxPixels, concurrency: 1 });
  await assert.rejects(renderer.render('none', 'originals/none', noSignal()), (error: unknown) => KitError.from(error).code === 'not_found');
});

test('a store that keeps no file of its own (S3) is rendered from a copy in a temporary file, removed after', async (t) => {
  const fsStore = await storeWith(t, { 'originals/remote': await png(1_000, 500) });
  // The same objects without the path: what the S3 store is to the renderer.
  const { localPath: _path, ...remote } = fsStore;
  const copies = async () => (await readdir(tmpdir())).filter((name) => name.startsWith('baton-media-'));
  const before = await copies();
  const sizes = await createRenderer({ store: remote, maxPixels, concurrency: 1 }).render('remote', 'originals/remote', noSignal());
  assert.deepEqual(sizes.map(({ width, height }) => [width, height]), [[320, 160], [640, 320], [1_000, 500]]);
  assert.deepEqual(await copies(), before, 'the copy is removed');
  await assert.rejects(createRenderer({ store: remote, maxPixels, concurrency: 1 }).render('gone', 'originals/gone', noSignal()), (error: unknown) => error instanceof KitError && error.code === 'not_found');
});
