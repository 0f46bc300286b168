/**
 * Runs tasks with at most `concurrency` at once, and tasks of one key one after the other, in
 * the order they were submitted: events of different aggregates are handled in parallel, the
 * events of one aggregate in order. `submit` resolves once the task has a slot (backpressure
 * for the loop that pulls messages); `idle` once every submitted task has finished.
 */
export function createKeyedLanes(concurrency: number) {
  const tails = new Map<string, Promise<void>>();
  const running = new Set<Promise<void>>();
  const waiting: Array<() => void> = [];
  let active = 0;

  function release(): void {
    active -= 1;
    waiting.shift()?.();
  }

  async function acquire(): Promise<void> {
    if (active < concurrency) {
      active += 1;
      return;
    }
    await new Promise<void>((resolve) => waiting.push(resolve));
    active += 1;
  }

  return {
    async submit(key: string, task: () => Promise<void>): Promise<void> {
      await acquire();
      const previous = tails.get(key) ?? Promise.resolve();
      const done = previous.then(task).catch(() => {}).finally(release);
      tails.set(key, done);
      running.add(done);
      void done.finally(() => {
        running.delete(done);
        if (tails.get(key) === done) tails.delete(key);
      });
    },
    async idle(): Promise<void> {
      while (running.size > 0) await Promise.all([...running]);
    },
  };
}
