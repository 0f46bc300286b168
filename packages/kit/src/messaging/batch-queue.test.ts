import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createBatchQueue } from './batch-queue.ts';

type Item = { key: string; n: number };

function recording(maxBatch: number, fail = new Set<number>(), parallel = 1) {
  const batches: number[][] = [];
  const open = new Set<string>();
  const keysTwiceOpen: string[] = [];
  const queue = createBatchQueue<Item, string>({
    maxBatch,
    parallel,
    keyOf: (item) => item.key,
    run: async (items) => {
      batches.push(items.map((item) => item.n));
      for (const { key } of items) {
        if (open.has(key)) keysTwiceOpen.push(key);
        open.add(key);
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
      for (const { key } of items) open.delete(key);
      if (items.some((item) => fail.has(item.n))) throw new Error(`batch with ${items.map((i) => i.n).join(',')} failed`);
      return items.map((item) => `done ${item.n}`);
    },
  });
  return { queue, batches, keysTwiceOpen };
}

void test('items handed in together share a batch, at most maxBatch each, and each gets its own result', async () => {
  const { queue, batches } = recording(3);
  const results = await Promise.all([1, 2, 3, 4, 5].map((n) => queue.enqueue({ key: `k${n}`, n })));
  assert.deepEqual(results, ['done 1', 'done 2', 'done 3', 'done 4', 'done 5']);
  assert.deepEqual(batches, [[1, 2, 3], [4, 5]]);
});

void test('a key has one item per batch; its later items keep their order in the batches after', async () => {
  const { queue, batches } = recording(10);
  await Promise.all([
    queue.enqueue({ key: 'a', n: 1 }), queue.enqueue({ key: 'a', n: 2 }), queue.enqueue({ key: 'b', n: 3 }),
    queue.enqueue({ key: 'a', n: 4 }), queue.enqueue({ key: 'c', n: 5 }),
  ]);
  assert.deepEqual(batches, [[1, 3, 5], [2], [4]]);
});

void test('items that come while a batch is written go in the next one; a failed batch fails its items only', async () => {
  const { queue, batches } = recording(10, new Set([1]));
  const first = queue.enqueue({ key: 'a', n: 1 });
  await new Promise((resolve) => setImmediate(resolve));
  const later = [queue.enqueue({ key: 'b', n: 2 }), queue.enqueue({ key: 'c', n: 3 })];
  await assert.rejects(first, /batch with 1 failed/);
  assert.deepEqual(await Promise.all(later), ['done 2', 'done 3']);
  assert.deepEqual(batches, [[1], [2, 3]]);
});

void test('with several writers a burst is spread over them, and a key is never in two open batches', async () => {
  const { queue, batches, keysTwiceOpen } = recording(32, new Set(), 3);
  const items = [1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) => ({ key: n <= 3 ? 'a' : `k${n}`, n }));
  const results = await Promise.all(items.map((item) => queue.enqueue(item)));
  assert.deepEqual(results, items.map((item) => `done ${item.n}`));
  assert.ok(batches.length >= 3 && batches.every((batch) => batch.length <= 3), `split over the writers: ${JSON.stringify(batches)}`);
  assert.deepEqual(keysTwiceOpen, []);
  const order = batches.flat();
  assert.ok(order.indexOf(1) < order.indexOf(2) && order.indexOf(2) < order.indexOf(3), 'one key\'s items in the order they came');
});
