/**
 * A closed loop: `concurrency` workers each send one call after another until `durationMs`
 * has passed. Returns calls per second and the latency of each call. Bounded in time by design.
 */
export async function closedLoop(call: () => Promise<unknown>, { concurrency, durationMs }: { concurrency: number; durationMs: number }) {
  const latenciesMs: number[] = [];
  let errors = 0;
  const endAt = performance.now() + durationMs;
  const startedAt = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (performance.now() < endAt) {
      const t0 = performance.now();
      try {
        await call();
        latenciesMs.push(performance.now() - t0);
      } catch {
        errors += 1;
      }
    }
  }));
  const seconds = (performance.now() - startedAt) / 1000;
  return { perSecond: latenciesMs.length / seconds, latenciesMs, errors };
}

/**
 * An open loop: calls start at a fixed rate whatever happens to earlier ones, as real users
 * arrive; overload is only visible this way. It stops after `durationMs` or when `signal` fires,
 * and resolves once every call it started has ended, with each outcome.
 */
export async function openLoop<T>(call: () => Promise<T>, { ratePerSecond, durationMs = Infinity, signal }: { ratePerSecond: number; durationMs?: number; signal?: AbortSignal }): Promise<Array<{ ok: boolean; value?: T; latencyMs: number }>> {
  const outcomes: Array<Promise<{ ok: boolean; value?: T; latencyMs: number }>> = [];
  const intervalMs = 1000 / ratePerSecond;
  const startedAt = performance.now();
  const stopped = () => signal?.aborted === true || performance.now() - startedAt >= durationMs;
  for (let n = 0; !stopped(); n++) {
    const dueAt = startedAt + n * intervalMs;
    const waitMs = dueAt - performance.now();
    if (waitMs > 1) await new Promise((resolve) => setTimeout(resolve, waitMs));
    if (stopped()) break;
    const t0 = performance.now();
    outcomes.push(call().then((value) => ({ ok: true, value, latencyMs: performance.now() - t0 }), () => ({ ok: false, latencyMs: performance.now() - t0 })));
  }
  return Promise.all(outcomes);
}
