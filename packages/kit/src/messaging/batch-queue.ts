/**
 * Group commit for deliveries: items handed in while batches are being written wait, and the
 * next batch takes them all at once (up to `maxBatch`), so one transaction carries many events
 * when they arrive faster than they can be written one by one, and a lone event still goes at
 * once. Up to `parallel` batches are written at a time, so a slow handler does not hold up the
 * rest. A key (an aggregate) is in at most one batch at a time, once in it: a later item
 * of the key waits for a later batch, in the order it came, because its handling depends on
 * what the earlier one did.
 *
 * Written by hand: it is a few lines, and the one-per-key rule is ours.
 */
export function createBatchQueue<I, R>({ maxBatch, parallel = 1, keyOf, run }: {
  maxBatch: number;
  parallel?: number;
  keyOf: (item: I) => string;
  /** Writes one batch; answers one result per item, in the same order. A throw fails every item of the batch. */
  run: (items: readonly I[]) => Promise<readonly R[]>;
}) {
  type Entry = { item: I; key: string; resolve: (result: R) => void; reject: (error: unknown) => void };
  let queue: Entry[] = [];
  const keysInFlight = new Set<string>();
  let writers = 0;

  function take(): Entry[] {
    // Shared among the writers there may be, so that a burst is spread over them.
    const limit = Math.min(maxBatch, Math.ceil(queue.length / parallel));
    const held = new Set(keysInFlight);
    const batch: Entry[] = [];
    const rest: Entry[] = [];
    for (const entry of queue) {
      if (batch.length < limit && !held.has(entry.key)) batch.push(entry);
      else rest.push(entry);
      // Held from here on: every later item of the key stays behind this one.
      held.add(entry.key);
    }
    queue = rest;
    for (const entry of batch) keysInFlight.add(entry.key);
    return batch;
  }

  async function write(): Promise<void> {
    try {
      for (let batch = take(); batch.length > 0; batch = take()) {
        try {
          const results = await run(batch.map((entry) => entry.item));
          batch.forEach((entry, i) => entry.resolve(results[i] as R));
        } catch (error) {
          for (const entry of batch) entry.reject(error);
        } finally {
          for (const entry of batch) keysInFlight.delete(entry.key);
        }
      }
    } finally {
      writers -= 1;
      // Items held back by a key another writer had may be free now.
      if (queue.length > 0 && writers === 0) start();
    }
  }

  function start(): void {
    writers += 1;
    // One turn of the event loop first, so the deliveries of one burst share the batch.
    setImmediate(() => void write());
  }

  return {
    enqueue(item: I): Promise<R> {
      return new Promise<R>((resolve, reject) => {
        queue.push({ item, key: keyOf(item), resolve, reject });
        if (writers < parallel) start();
      });
    },
  };
}
