import type { AttributeValue, CollectedSpan } from './otlp-json.ts';

export interface TraceSummary {
  traceId: string;
  /** The span without a parent here: the first hop the trace view saw. */
  root: string;
  services: string[];
  spanCount: number;
  startedAt: string;
  durationMs: number;
  errors: number;
}

export interface WaterfallSpan {
  spanId: string;
  parentSpanId: string | undefined;
  service: string;
  name: string;
  kind: CollectedSpan['kind'];
  /** Milliseconds from the start of the trace to the start of this span. */
  offsetMs: number;
  durationMs: number;
  /** 0 for a root; a child is one deeper than its parent. */
  depth: number;
  status: CollectedSpan['status'];
  attributes: Record<string, AttributeValue>;
  events: Array<{ name: string; offsetMs: number; attributes: Record<string, AttributeValue> }>;
  links: Array<{ traceId: string; spanId: string }>;
}

export interface Waterfall extends TraceSummary {
  spans: WaterfallSpan[];
  /** Spans whose parent is not in the trace (yet): a hop that was not traced or not sent. */
  orphans: string[];
}

export interface TraceStore {
  add(spans: readonly CollectedSpan[]): void;
  recent(limit: number): TraceSummary[];
  waterfall(traceId: string): Waterfall | undefined;
  readonly traceCount: number;
  /** Every span received since the start, kept or not. */
  readonly receivedSpans: number;
}

const nsToMs = (ns: bigint) => Number(ns) / 1e6;

/**
 * The last `maxTraces` traces in memory, for a trace view on a developer's machine: no server to
 * install, gone when the process stops. The oldest trace goes first when it is full.
 *
 * @example
 * const store = createTraceStore();
 * store.add(spansOf(request));
 * store.waterfall(traceId)?.spans.map((s) => `${'  '.repeat(s.depth)}${s.service} ${s.name}`);
 */
export function createTraceStore({ maxTraces = 500, maxSpansPerTrace = 2_000 }: { maxTraces?: number; maxSpansPerTrace?: number } = {}): TraceStore {
  // A Map keeps insertion order: the first key is the oldest trace.
  const traces = new Map<string, CollectedSpan[]>();
  let receivedSpans = 0;

  function summaryOf(traceId: string, spans: readonly CollectedSpan[]): TraceSummary & { startNs: bigint } {
    const ids = new Set(spans.map((s) => s.spanId));
    let startNs = spans[0]?.startNs ?? 0n;
    let endNs = spans[0]?.endNs ?? 0n;
    for (const span of spans) {
      if (span.startNs < startNs) startNs = span.startNs;
      if (span.endNs > endNs) endNs = span.endNs;
    }
    const roots = spans.filter((s) => s.parentSpanId === undefined || !ids.has(s.parentSpanId)).sort((a, b) => (a.startNs < b.startNs ? -1 : 1));
    const root = roots[0];
    return {
      traceId,
      root: root === undefined ? '' : `${root.service} ${root.name}`,
      services: [...new Set(spans.map((s) => s.service))].sort(),
      spanCount: spans.length,
      startedAt: new Date(Number(startNs / 1_000_000n)).toISOString(),
      durationMs: nsToMs(endNs - startNs),
      errors: spans.filter((s) => s.status === 'error').length,
      startNs,
    };
  }

  return {
    add(spans) {
      receivedSpans += spans.length;
      for (const span of spans) {
        let list = traces.get(span.traceId);
        if (list === undefined) {
          list = [];
          traces.set(span.traceId, list);
          if (traces.size > maxTraces) traces.delete(traces.keys().next().value as string);
        }
        if (list.length < maxSpansPerTrace) list.push(span);
      }
    },
    recent(limit) {
      return [...traces].slice(-limit).reverse().map(([traceId, spans]) => {
        const { startNs: _startNs, ...summary } = summaryOf(traceId, spans);
        return summary;
      });
    },
    waterfall(traceId) {
      const spans = traces.get(traceId);
      if (spans === undefined) return undefined;
      const { startNs, ...summary } = summaryOf(traceId, spans);
      const byId = new Map(spans.map((s) => [s.spanId, s]));
      const children = new Map<string | undefined, CollectedSpan[]>();
      const orphans: string[] = [];
      for (const span of spans) {
        const parentKnown = span.parentSpanId !== undefined && byId.has(span.parentSpanId);
        if (span.parentSpanId !== undefined && !parentKnown) orphans.push(span.spanId);
        const key = parentKnown ? span.parentSpanId : undefined;
        const list = children.get(key) ?? [];
        list.push(span);
        children.set(key, list);
      }
      // Depth first, each level by start time: the order a waterfall is read in.
      const ordered: WaterfallSpan[] = [];
      const visit = (parent: string | undefined, depth: number) => {
        for (const span of (children.get(parent) ?? []).sort((a, b) => (a.startNs < b.startNs ? -1 : a.startNs > b.startNs ? 1 : 0))) {
          ordered.push({
            spanId: span.spanId,
            parentSpanId: span.parentSpanId,
            service: span.service,
            name: span.name,
            kind: span.kind,
            offsetMs: nsToMs(span.startNs - startNs),
            durationMs: nsToMs(span.endNs - span.startNs),
            depth,
            status: span.status,
            attributes: span.attributes,
            events: span.events.map((e) => ({ name: e.name, offsetMs: nsToMs(e.timeNs - startNs), attributes: e.attributes })),
            links: span.links,
          });
          visit(span.spanId, depth + 1);
        }
      };
      visit(undefined, 0);
      return { ...summary, spans: ordered, orphans };
    },
    get traceCount() {
      return traces.size;
    },
    get receivedSpans() {
      return receivedSpans;
    },
  };
}
