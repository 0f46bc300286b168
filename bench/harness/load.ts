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
 * arrive; overload is only visible this way. Each outcome is recorded.
 */
export async function openLoop<T>(call: () => Promise<T>, { ratePerSecond, durationMs }: { ratePerSecond: number; durationMs: number }): Promise<Array<{ ok: boolean; value?: T; latencyMs: number }>> {
  const outcomes: Array<Promise<{ ok: boolean; value?: T; latencyMs: number }>> = [];
  const intervalMs = 1000 / ratePerSecond;
  const startedAt = performance.now();
  for (let n = 0; performance.now() - startedAt < durationMs; n++) {
    const dueAt = startedAt + n * intervalMs;
    const waitMs = dueAt - performance.now();
    if (waitMs > 1) await new Promise((resolve) => setTimeout(resolve, waitMs));
    const t0 = performance.now();
    outcomes.push(call().then((value) => ({ ok: true, value, latencyMs: performance.now() - t0 }), () => ({ ok: false, latencyMs: performance.now() - t0 })));
  }
  return Promise.all(outcomes);
}

/**
 * Runs every variant once per round, in an order that rotates from round to round, for many
 * short rounds: on a shared machine the load drifts, and two variants measured back to back see
 * nearly the same machine. `pairedRatio(a, b)` is the median of each round's a/b, so a change of
 * load between rounds cancels out, where the ratio of two medians would not.
 */
export async function pairedRounds(variants: Record<string, () => Promise<unknown>>, { concurrency, rounds, roundMs }: { concurrency: number; rounds: number; roundMs: number }) {
  const names = Object.keys(variants);
  const perSecond: Record<string, number[]> = Object.fromEntries(names.map((name) => [name, []]));
  for (const name of names) await closedLoop(variants[name] as () => Promise<unknown>, { concurrency, durationMs: 300 }); // warm-up
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(round + i) % names.length] as string;
      (perSecond[name] as number[])[round] = (await closedLoop(variants[name] as () => Promise<unknown>, { concurrency, durationMs: roundMs })).perSecond;
    }
  }
  const medianOf = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
  return {
    perSecond: (name: string) => medianOf(perSecond[name] ?? []),
    pairedRatio: (name: string, to: string) => medianOf((perSecond[name] ?? []).map((value, round) => value / (perSecond[to]?.[round] ?? Number.NaN))),
  };
}
