import type { ConsoleStack } from './console-stack.ts';
import { edgesOf, nodeOf, type Edge, type MetricFamily, type NodeFigures, type Reading } from './network-map.ts';

/** One second of a service's RED figures: rate, errors (5xx), duration (p99). */
export interface RedPoint {
  at: string;
  requestsPerSecond: number;
  errorsPerSecond: number;
  p99Ms: number | undefined;
}

export interface MetricsPoller {
  /** The latest figures: each service's own, and every edge. */
  figures(): { nodes: Map<string, NodeFigures>; edges: Edge[] };
  /** Each service's RED figures, a point a reading, over the last `historyPoints` readings (5 minutes by default). */
  history(): Record<string, RedPoint[]>;
  stop(): void;
}

/**
 * Reads every running service's metrics each `everyMs` (its admin listener's
 * `/admin/metrics.json`, with its admin token), keeping the last two readings of each: the
 * figures are what changed between them. A service that does not answer within the interval
 * keeps its last figures until it does; a stopped one has none.
 */
export function startMetricsPoller(stack: ConsoleStack, { everyMs = 1_000, historyPoints = 300 }: { everyMs?: number; historyPoints?: number } = {}): MetricsPoller {
  const readings = new Map<string, { before: Reading | undefined; after: Reading }>();
  const red = new Map<string, RedPoint[]>();
  let stopped = false;
  const abort = new AbortController();

  const read = async (name: string) => {
    const { state } = stack.status(name);
    if (state !== 'ready') {
      readings.delete(name);
      return;
    }
    try {
      const response = await fetch(new URL('/admin/metrics.json', stack.adminUrl(name)), {
        headers: { authorization: `Bearer ${stack.adminToken(name)}` },
        signal: AbortSignal.any([abort.signal, AbortSignal.timeout(everyMs)]),
      });
      if (!response.ok) return;
      const families = await response.json() as MetricFamily[];
      const previous = readings.get(name);
      const reading = { before: previous?.after, after: { atMs: performance.now(), families } };
      readings.set(name, reading);
      if (reading.before !== undefined) {
        const { requestsPerSecond, errorsPerSecond, p99Ms } = nodeOf(name, reading.before, reading.after);
        const points = red.get(name) ?? [];
        points.push({ at: new Date().toISOString(), requestsPerSecond, errorsPerSecond, p99Ms });
        if (points.length > historyPoints) points.shift();
        red.set(name, points);
      }
    } catch {
      // Not answering this second (starting, stopping, frozen): its last figures stand.
    }
  };

  const loop = async () => {
    while (!stopped) {
      const started = performance.now();
      await Promise.all(stack.services.map(read));
      const waitMs = everyMs - (performance.now() - started);
      if (waitMs > 0 && !stopped) await new Promise((resolve) => setTimeout(resolve, waitMs).unref());
    }
  };
  void loop();

  return {
    figures() {
      const nodes = new Map<string, NodeFigures>();
      const edges: Edge[] = [];
      for (const [name, { before, after }] of readings) {
        nodes.set(name, nodeOf(name, before, after));
        edges.push(...edgesOf(name, before, after));
      }
      return { nodes, edges };
    },
    history() {
      return Object.fromEntries(red);
    },
    stop() {
      stopped = true;
      abort.abort();
    },
  };
}
