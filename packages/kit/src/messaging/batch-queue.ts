/**
 * Group commit for deliveries: items handed in while a batch is being written wait, and the next
 * batch takes them all at once (up to `maxBatch`), so one transaction carries many events when
 * they arrive faster than one at a time, and a lone event still goes at once. A batch holds at
 * most one item per key (an aggregate): a later item of the same key waits for the next batch,
 * in the order it came, because its handling depends on what the earlier one did.
 *
 * Written by hand: it is a few lines, and the one-per-key rule is ours.
 */
export function createBatchQueue<I, R>({ maxBatch, keyOf, run }: {
  maxBatch: number;
  keyOf: (item: I) => string;
  /** Writes one batch; answers one result per item, in the same order. A throw fails every item of the batch. */
  run: (items: readonly I[]) => Promise<readonly R[]>;
}) {
  type Entry = { item: I; resolve: (result: R) => void; reject: (error: unknown) => void };
  let queue: Entry[] = [];
  let running = false;

  function take(): Entry[] {
    const keys = new Set<string>();
    const batch: Entry[] = [];
    const rest: Entry[] = [];
    for (const entry of queue) {
      const key = keyOf(entry.item);
      if (batch.length < maxBatch && !keys.has(key)) {
        keys.add(key);
        batch.push(entry);
      } else {
        // Keeping its key in the set holds back every later item of the key too, so they stay in order.
        keys.add(key);
        rest.push(entry);
      }
    }
    queue = rest;
    return batch;
  }

  async function drain(): Promise<void> {
    try {
      while (queue.length > 0) {
        const batch = take();
        try {
          const results = await run(batch.map((entry) => entry.item));
          batch.forEach((entry, i) => entry.resolve(results[i] as R));
        } catch (error) {
          for (const entry of batch) entry.reject(error);
        }
      }
    } finally {
      running = false;
    }
  }

  return {
    enqueue(item: I): Promise<R> {
      return new Promise<R>((resolve, reject) => {
        queue.push({ item, resolve, reject });
        if (running) return;
        running = true;
        // One turn of the event loop first, so the deliveries of one burst share the first batch.
        setImmediate(() => void drain());
      });
    },
  };
}
