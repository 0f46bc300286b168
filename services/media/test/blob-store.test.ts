import { describe, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { Code, KitError } from '@baton/kit/errors';
import { createSuiteScope, createTempDir } from '@baton/kit/testing';
import type { BlobStore } from '../src/store/blob-store.ts';
import { openFsStore } from '../src/store/fs-store.ts';
import { createS3Store } from '../src/store/s3-store.ts';
import { startS3rverProcess } from './support/s3rver-process.ts';

// One set of tests, run against both stores: the filesystem, and the S3 API as served by s3rver
// (an S3-compatible server written in Node, run in a process of its own, spoken to over HTTP by
// AWS's own client).

const MiB = 1024 * 1024;
const noSignal = () => ({ signal: new AbortController().signal });

// The real collector, to measure what a put keeps alive rather than what it has not freed yet.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;
const liveBytes = () => {
  collectGarbage();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return heapUsed + arrayBuffers;
};

/** `total` bytes in chunks of `chunk`, made as they are read, each read counted; `onChunk` may stop or fail it. */
function source(total: number, { chunk = MiB, onChunk }: { chunk?: number; onChunk?: (sentBytes: number) => void | Promise<void> } = {}) {
  const counted = { sentBytes: 0 };
  const stream = Readable.from((async function* () {
    while (counted.sentBytes < total) {
      const size = Math.min(chunk, total - counted.sentBytes);
      counted.sentBytes += size;
      await onChunk?.(counted.sentBytes);
      yield Buffer.alloc(size, counted.sentBytes % 251);
    }
  })(), { objectMode: false, highWaterMark: 64 * 1024 });
  return { stream, counted };
}

interface StoreUnderTest {
  store: BlobStore;
  /** Every object the store holds, and what else it left behind (half-written files). */
  leftovers(): Promise<string[]>;
  /** The most a 50 MiB put may keep alive: far under 50 MiB, or the store held the file whole. */
  keptAtMostBytes: number;
}

const scope = createSuiteScope();

const stores: Record<string, (dir: string) => Promise<StoreUnderTest>> = {
  async filesystem(dir) {
    const store = await openFsStore(dir);
    return {
      store,
      // A write stream's buffer and the chunks not yet collected.
      keptAtMostBytes: 24 * MiB,
      async leftovers() {
        const entries = await readdir(dir, { recursive: true, withFileTypes: true });
        return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(dir.length + 1));
      },
    };
  },
  async 'the S3 API (s3rver)'(dir) {
    const server = await startS3rverProcess(dir);
    scope.after(() => server.close());
    const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
    const { url } = server;
    const store = createS3Store({ url, bucket: 'media', region: 'us-east-1', ...credentials });
    scope.after(() => store.close());
    const lister = new S3Client({ endpoint: url, forcePathStyle: true, region: 'us-east-1', credentials });
    scope.after(() => lister.destroy());
    return {
      store,
      // Two 5 MiB parts in flight, and the one being filled with its chunks and then their copy
      // in one buffer: 16.6 to 25.2 MiB in three runs here. s3rver runs in a process of its own:
      // in this one, what it held while receiving a part counted as the store's (39.7 MiB once,
      // in a CI run with three test files at a time).
      keptAtMostBytes: 36 * MiB,
      async leftovers() {
        const listed = await lister.send(new ListObjectsV2Command({ Bucket: 'media' }));
        return (listed.Contents ?? []).map((o) => o.Key!);
      },
    };
  },
};

for (const [name, open] of Object.entries(stores)) {
  void describe(`the blob store on ${name}`, () => {
    let it: StoreUnderTest;
    before(async () => {
      it = await open(await createTempDir(scope, 'baton-media-store-'));
    });

    test('a put streams the bytes in; a get gives them back whole and by range, with the size and SHA-256 measured on the way', async () => {
      const bytes = randomBytes(12 * MiB + 7);
      const stored = await it.store.put('originals/whole', Readable.from([bytes.subarray(0, 3 * MiB), bytes.subarray(3 * MiB)]), { ...noSignal(), contentType: 'image/png', maxBytes: 50 * MiB });
      assert.deepEqual(stored, { bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') });
      assert.equal(await it.store.size('originals/whole', noSignal()), bytes.length);
      const whole = await it.store.get('originals/whole', noSignal());
      assert.equal(whole?.bytes, bytes.length);
      assert.ok(Buffer.concat(await whole!.body.toArray()).equals(bytes), 'the same bytes back');
      const slice = await it.store.get('originals/whole', { ...noSignal(), range: { start: 10, end: 1_000_009 } });
      assert.equal(slice?.bytes, bytes.length, 'the whole size, with a range');
      assert.ok(Buffer.concat(await slice!.body.toArray()).equals(bytes.subarray(10, 1_000_010)), 'bytes 10 to 1,000,009, both included');
    });

    test('a put replaces what was at its key; a delete removes it, and what is not there is undefined', async () => {
      await it.store.put('sizes/a/320.webp', Readable.from([Buffer.from('first')]), { ...noSignal(), contentType: 'image/webp', maxBytes: MiB });
      await it.store.put('sizes/a/320.webp', Readable.from([Buffer.from('second')]), { ...noSignal(), contentType: 'image/webp', maxBytes: MiB });
      assert.equal(await text((await it.store.get('sizes/a/320.webp', noSignal()))!.body), 'second');
      await it.store.delete('sizes/a/320.webp', noSignal());
      await it.store.delete('sizes/a/320.webp', noSignal());
      assert.equal(await it.store.get('sizes/a/320.webp', noSignal()), undefined);
      assert.equal(await it.store.size('never/there', noSignal()), undefined);
    });

    test('50 MiB stream through a put while what the process keeps alive stays far under 50 MiB', async (t) => {
      // Removed whatever the test's outcome, so a failure here does not show up as a leftover in the next.
      t.after(() => it.store.delete('originals/large', noSignal()));
      const before = liveBytes();
      let peak = 0;
      const { stream } = source(50 * MiB, { onChunk: (sent) => { if (sent % (5 * MiB) === 0) peak = Math.max(peak, liveBytes() - before); } });
      const stored = await it.store.put('originals/large', stream, { ...noSignal(), contentType: 'image/jpeg', maxBytes: 60 * MiB });
      assert.equal(stored.bytes, 50 * MiB);
      assert.ok(peak < it.keptAtMostBytes, `kept alive at most ${(peak / MiB).toFixed(1)} MiB while 50 MiB went through (bound ${it.keptAtMostBytes / MiB} MiB)`);
    });

    test('a put aborted half-way (the client went away) rejects with the abort\'s reason and leaves nothing behind', async () => {
      const controller = new AbortController();
      const reason = new KitError(Code.Canceled, 'the uploader went away');
      // Past the first 5 MiB part, so the S3 store is in a multipart upload when it is cut.
      const { stream } = source(20 * MiB, { onChunk: (sent) => { if (sent === 8 * MiB) controller.abort(reason); } });
      await assert.rejects(it.store.put('originals/cut', stream, { signal: controller.signal, contentType: 'image/png', maxBytes: 50 * MiB }), (error) => error === reason);
      assert.equal(await it.store.size('originals/cut', noSignal()), undefined);
      assert.deepEqual((await it.leftovers()).filter((key) => !key.startsWith('originals/whole')), []);
    });

    test('a body that fails part-way leaves nothing behind', async () => {
      const { stream } = source(10 * MiB, { onChunk: (sent) => { if (sent > 2 * MiB) throw new Error('connection reset by peer'); } });
      await assert.rejects(it.store.put('originals/broken', stream, { ...noSignal(), contentType: 'image/png', maxBytes: 50 * MiB }));
      assert.equal(await it.store.size('originals/broken', noSignal()), undefined);
      assert.deepEqual((await it.leftovers()).filter((key) => !key.startsWith('originals/whole')), []);
    });

    test('more than maxBytes is refused as it arrives (413 body_too_large), without reading the rest, and leaves nothing', async () => {
      const { stream, counted } = source(200 * MiB);
      await assert.rejects(it.store.put('originals/huge', stream, { ...noSignal(), contentType: 'image/png', maxBytes: 3 * MiB }), (error: unknown) => {
        const kitError = KitError.from(error);
        return kitError.code === Code.ResourceExhausted && kitError.reason === 'body_too_large';
      });
      assert.ok(counted.sentBytes <= 8 * MiB, `read ${counted.sentBytes / MiB} MiB of 200 before refusing`);
      assert.equal(await it.store.size('originals/huge', noSignal()), undefined);
      assert.deepEqual((await it.leftovers()).filter((key) => !key.startsWith('originals/whole')), []);
    });

    test('keys are media\'s own shape: a path out of the store, an absolute one or an empty one is refused before anything is read', async () => {
      for (const key of ['../etc/passwd', 'originals/../../x', '/abs', '', 'Originals/UPPER', 'a//b', 'a/./b']) {
        await assert.rejects(it.store.put(key, Readable.from([Buffer.from('x')]), { ...noSignal(), contentType: 'text/plain', maxBytes: 10 }), TypeError, key);
        await assert.rejects(it.store.get(key, noSignal()), TypeError, key);
      }
    });
  });
}
