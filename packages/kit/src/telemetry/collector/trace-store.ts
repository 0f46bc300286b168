import type { AttributeValue, CollectedSpan } from './otlp-json.ts';

export interface TraceSummary {
  traceId: string;
  /** The span without a parent here: the first hop the trace view saw. */
  root: string;
  /** `user`: a request someone made at the public entry; `background`: work the shop does itself (polls, relays). */
  kind: TraceKind;
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

export type TraceKind = 'user' | 'background';

/** What to find: every condition given must hold. */
export interface TraceSearch {
  kind?: TraceKind;
  /** A service the trace passed through. */
  service?: string;
  /** Words in the root span's name (`GET /api/v1/products`), any case; or a trace id, whole. */
  text?: string;
  /** Only traces with a span in error. */
  errorsOnly?: boolean;
  minDurationMs?: number;
  limit: number;
}

export interface TraceStore {
  add(spans: readonly CollectedSpan[]): void;
  recent(limit: number): TraceSummary[];
  /** The newest traces that match, newest first. */
  search(query: TraceSearch): TraceSummary[];
  waterfall(traceId: string): Waterfall | undefined;
  readonly traceCount: number;
  /** Every span received since the start, kept or not. */
  readonly receivedSpans: number;
}

const nsToMs = (ns: bigint) => Number(ns) / 1e6;

export interface TraceStoreOptions {
  /** Requests made at the public entry kept at most; the oldest goes first. */
  maxTraces?: number;
  /** The shop's own work (polls, relays, health) kept at most, apart, so it never pushes a request out. */
  maxBackgroundTraces?: number;
  maxSpansPerTrace?: number;
  /**
   * Whether a root span (one without a parent) starts a user's request. Unset: every trace is
   * one. A trace is background until its root arrives (a root ends last, so comes last), then
   * moves among the requests if this says so.
   */
  isUserRoot?: (root: CollectedSpan) => boolean;
}

/**
 * Recent traces in memory, for a trace view on a developer's machine: no server to install, gone
 * when the process stops. Requests people made and the shop's own background work are kept
 * apart, each with its own bound: on an idle shop the polls alone filled one list of 500 in about
 * a minute, and an order's trace was gone 2.5 minutes after it was made.
 *
 * @example
 * const store = createTraceStore({ isUserRoot: (root) => root.service === 'gateway' });
 * store.add(spansOf(request));
 * store.waterfall(traceId)?.spans.map((s) => `${'  '.repeat(s.depth)}${s.service} ${s.name}`);
 */
export function createTraceStore({ maxTraces = 500, maxBackgroundTraces = 200, maxSpansPerTrace = 2_000, isUserRoot }: TraceStoreOptions = {}): TraceStore {
  // A Map keeps insertion order: the first key is the oldest trace.
  const traces = new Map<string, CollectedSpan[]>();
  const background = new Map<string, CollectedSpan[]>();
  let receivedSpans = 0;
  const bounded = (map: Map<string, CollectedSpan[]>, max: number) => {
    if (map.size > max) map.delete(map.keys().next().value as string);
  };

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
      kind: isUserRoot === undefined || traces.has(traceId) ? 'user' : 'background',
      services: [...new Set(spans.map((s) => s.service))].sort(),
      spanCount: spans.length,
      startedAt: new Date(Number(startNs / 1_000_000n)).toISOString(),
      durationMs: nsToMs(endNs - startNs),
      errors: spans.filter((s) => s.status === 'error').length,
      startNs,
    };
  }

  function search({ kind, service, text, errorsOnly = false, minDurationMs = 0, limit }: TraceSearch): TraceSummary[] {
    const words = text?.trim().toLowerCase();
    const lists = kind === 'user' ? [traces] : kind === 'background' ? [background] : [traces, background];
    const found: Array<TraceSummary & { startNs: bigint }> = [];
    for (const map of lists) {
      for (const [traceId, spans] of map) {
        if (service !== undefined && !spans.some((s) => s.service === service)) continue;
        const summary = summaryOf(traceId, spans);
        if (errorsOnly && summary.errors === 0) continue;
        if (summary.durationMs < minDurationMs) continue;
        if (words && !summary.root.toLowerCase().includes(words) && traceId !== words) continue;
        found.push(summary);
      }
    }
    return found.sort((a, b) => (a.startNs > b.startNs ? -1 : a.startNs < b.startNs ? 1 : 0)).slice(0, limit)
      .map(({ startNs: _startNs, ...summary }) => summary);
  }

  return {
    add(spans) {
      receivedSpans += spans.length;
      for (const span of spans) {
        let list = traces.get(span.traceId) ?? background.get(span.traceId);
        if (list === undefined) {
          list = [];
          if (isUserRoot === undefined) {
            traces.set(span.traceId, list);
            bounded(traces, maxTraces);
          } else {
            background.set(span.traceId, list);
            bounded(background, maxBackgroundTraces);
          }
        }
        if (list.length < maxSpansPerTrace) list.push(span);
        if (isUserRoot !== undefined && span.parentSpanId === undefined && background.has(span.traceId) && isUserRoot(span)) {
          background.delete(span.traceId);
          traces.set(span.traceId, list);
          bounded(traces, maxTraces);
        }
      }
    },
    recent(limit) {
      return search({ limit });
    },
    search,
    waterfall(traceId) {
      const spans = traces.get(traceId) ?? background.get(traceId);
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
      return traces.size + background.size;
    },
    get receivedSpans() {
      return receivedSpans;
    },
  };
}
