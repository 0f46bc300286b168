import type { LedgerCheck } from './ledger.ts';
import { outcomes, type Outcome, type RequestKind, type RequestRecord } from './outcome.ts';

/** What a scenario promises, beyond what every scenario does (no hang, no 500, recovery, the ledger). */
export interface Expectations {
  /** How long after the fault ends the shop may take to answer everything again (ms). */
  recoveryBudgetMs: number;
  /** Kinds of request the fault must not touch at all: every one `ok` or `refused`, throughout. */
  unaffected?: readonly RequestKind[];
  /**
   * The fault takes down the shop's entry itself (the gateway, or the runner with everything),
   * within this many ms of its start (a killed gateway at once; the services of a killed runner
   * when they notice, within their own bound of 4 s): meanwhile a refused connection is the
   * honest answer, and a request reset by the entry's going, by then, was cut, not hung.
   * Without it either fails "no hang".
   */
  entryDownWithinMs?: number;
}

export interface Timing {
  /** When the fault began and ended, in ms since the run started (a kill: both the kill). */
  faultStartMs: number;
  faultEndMs: number;
  /** When the load stopped starting requests. */
  endMs: number;
}

export interface Check {
  name: string;
  passed: boolean;
  detail: string;
}

export interface Second {
  /** The second since the run started. */
  at: number;
  counts: Record<Outcome, number>;
  p99Ms: number | null;
}

/** Calls the faulty service answered, read from its own counters at three moments of the run. */
export interface Served {
  service: string;
  /** At the load's start, the fault's start and the load's end. */
  atStartCalls: number;
  atFaultCalls: number;
  atEndCalls: number;
}

/** Calls reaching the faulty service per shopper request, before the fault and from its start on: what retries add. */
export interface Amplification {
  service: string;
  beforePerRequest: number | null;
  duringPerRequest: number | null;
}

export interface Verdict {
  passed: boolean;
  checks: Check[];
  requests: number;
  byOutcome: Record<Outcome, number>;
  byKind: Partial<Record<RequestKind, { count: number; byOutcome: Record<Outcome, number>; p99Ms: number | null; deadlineMs: number }>>;
  /** From the end of the fault to the first second from which every request succeeded; null: never within the run. */
  recoveryMs: number | null;
  /** A point a second: the chart of the run. */
  timeline: Second[];
  /** With the faulty service's counters: a figure, not a check (at a shopper load's rate a retry budget's floor allows every retry). */
  amplification?: Amplification;
}

const answerGraceMs = 1_000;

/**
 * The verdict of one run, computed from what the load saw and what the shop recorded, never from
 * logs. Every scenario is held to the seeds' rule (no hang, no 500 for something the network did,
 * every answer within its deadline), to a recovery time, and to the events' ledger; some promise
 * more (`Expectations`).
 *
 * Recovery: the records are put in one-second bins by when they were sent; the shop has
 * recovered at the first bin, from the fault's start on, after which every bin has requests
 * and none of them `unavailable`, `failed` or `no-answer`. Its time is counted from the
 * fault's end (0 when the fault was never felt).
 */
export function judge(records: readonly RequestRecord[], timing: Timing, deadlinesMs: Readonly<Record<RequestKind, number>>, expect: Expectations, ledger: LedgerCheck | undefined, served?: Served): Verdict {
  const byOutcome = countOutcomes(records);
  const byKind: Verdict['byKind'] = {};
  for (const kind of Object.keys(deadlinesMs) as RequestKind[]) {
    const own = records.filter((r) => r.kind === kind);
    if (own.length > 0) byKind[kind] = { count: own.length, byOutcome: countOutcomes(own), p99Ms: percentile(own.filter(answered).map((r) => r.tookMs), 0.99), deadlineMs: deadlinesMs[kind] };
  }
  const timeline = secondsOf(records, timing.endMs);
  const recoveryMs = recoveryOf(timeline, timing);
  const checks: Check[] = [];

  // Cut by the entry's going: reset by the time it was gone (a hang ends later, or never).
  const entryDown = expect.entryDownWithinMs !== undefined;
  const goneByMs = timing.faultStartMs + (expect.entryDownWithinMs ?? 0);
  const cutByKill = (r: RequestRecord) => entryDown && r.startedAtMs + r.tookMs <= goneByMs;
  const cut = records.filter((r) => r.outcome === 'no-answer' && cutByKill(r));
  const hung = records.filter((r) => (r.outcome === 'no-answer' && !cutByKill(r)) || (r.outcome === 'unreachable' && !entryDown));
  const allowed = entryDown ? ` (${byOutcome.unreachable} refused a connection while the entry was down, ${cut.length} cut as it went)` : '';
  checks.push({ name: 'no hang', passed: hung.length === 0, detail: hung.length === 0 ? `every request was answered${allowed}` : `${hung.length} had no answer (reset, refused, or nothing within the client's limit)${allowed}` });

  const failed = records.filter((r) => r.outcome === 'failed');
  const statuses = [...new Set(failed.map((r) => r.status))].join(', ');
  checks.push({ name: 'no 500', passed: failed.length === 0, detail: failed.length === 0 ? 'no 500, 502 or unexpected 4xx' : `${failed.length} answered ${statuses}` });

  const late = records.filter((r) => answered(r) && r.tookMs > deadlinesMs[r.kind] + answerGraceMs);
  const p99s = Object.entries(byKind).map(([kind, figures]) => `${kind} ${figures.p99Ms === null ? '-' : Math.round(figures.p99Ms)} / ${figures.deadlineMs} ms`).join(', ');
  checks.push({ name: 'within the deadline', passed: late.length === 0, detail: late.length === 0 ? `p99 against the deadline: ${p99s}` : `${late.length} answered after their deadline (${p99s})` });

  checks.push({
    name: 'recovery',
    passed: recoveryMs !== null && recoveryMs <= expect.recoveryBudgetMs,
    detail: recoveryMs === null ? 'not recovered before the run ended' : `${(recoveryMs / 1_000).toFixed(1)} s after the fault ended (at most ${(expect.recoveryBudgetMs / 1_000).toFixed(0)} s)`,
  });

  for (const kind of expect.unaffected ?? []) {
    const touched = records.filter((r) => r.kind === kind && r.outcome !== 'ok' && r.outcome !== 'refused');
    checks.push({ name: `${kind} unaffected`, passed: touched.length === 0, detail: touched.length === 0 ? `all ${byKind[kind]?.count ?? 0} answered` : `${touched.length} of ${byKind[kind]?.count ?? 0} did not succeed` });
  }

  if (ledger !== undefined) {
    // A checkout whose answer was lost may have made an order: at most that many notifications of orders unknown to their shopper.
    const unsure = records.filter((r) => r.kind === 'checkout' && (r.outcome === 'unavailable' || r.outcome === 'no-answer')).length;
    const passed = ledger.missing.length === 0 && ledger.duplicated.length === 0 && ledger.unexpected.length <= unsure;
    checks.push({
      name: 'ledger',
      passed,
      detail: `${ledger.acknowledged} orders acknowledged: ${ledger.missing.length} without their email, ${ledger.duplicated.length} events told twice, ${ledger.unexpected.length} emails of orders not acknowledged (at most ${unsure} may be)`,
    });
  }
  const amplification = served === undefined ? undefined : amplificationOf(records, timing, served);
  return { passed: checks.every((c) => c.passed), checks, requests: records.length, byOutcome, byKind, recoveryMs, timeline, ...(amplification === undefined ? {} : { amplification }) };
}

function amplificationOf(records: readonly RequestRecord[], { faultStartMs }: Timing, served: Served): Amplification {
  const before = records.filter((r) => r.startedAtMs < faultStartMs).length;
  const during = records.length - before;
  const per = (calls: number, requests: number) => (requests === 0 || calls < 0 ? null : calls / requests);
  return {
    service: served.service,
    beforePerRequest: per(served.atFaultCalls - served.atStartCalls, before),
    duringPerRequest: per(served.atEndCalls - served.atFaultCalls, during),
  };
}

function answered(record: RequestRecord): boolean {
  return record.outcome !== 'no-answer' && record.outcome !== 'unreachable';
}

function countOutcomes(records: readonly RequestRecord[]): Record<Outcome, number> {
  const counts = Object.fromEntries(outcomes.map((o) => [o, 0])) as Record<Outcome, number>;
  for (const record of records) counts[record.outcome] += 1;
  return counts;
}

/** The nearest-rank percentile; null for no values. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = values.toSorted((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
}

function secondsOf(records: readonly RequestRecord[], endMs: number): Second[] {
  // Whole seconds only: the last, cut short by the end of the load, would hold too few to judge.
  const seconds: Array<{ counts: Record<Outcome, number>; took: number[] }> = Array.from({ length: Math.max(1, Math.floor(endMs / 1_000)) }, () => ({ counts: countOutcomes([]), took: [] }));
  for (const record of records) {
    const bin = seconds[Math.floor(record.startedAtMs / 1_000)];
    if (bin === undefined) continue;
    bin.counts[record.outcome] += 1;
    if (answered(record)) bin.took.push(record.tookMs);
  }
  return seconds.map((bin, at) => ({ at, counts: bin.counts, p99Ms: percentile(bin.took, 0.99) }));
}

function healthy(second: Second): boolean {
  const { ok, refused, unavailable, failed } = second.counts;
  return ok + refused > 0 && unavailable === 0 && failed === 0 && second.counts.unreachable === 0 && second.counts['no-answer'] === 0;
}

/**
 * Whether each of the last `seconds` whole seconds of the load, up to `endMs`, was healthy
 * (answered, and none of it unavailable or failed): the shop is itself again, and a run that
 * waits for its recovery may end.
 */
export function healthyTail(records: readonly RequestRecord[], endMs: number, seconds: number): boolean {
  const timeline = secondsOf(records, endMs);
  return timeline.length >= seconds && timeline.slice(-seconds).every(healthy);
}

function recoveryOf(timeline: readonly Second[], { faultStartMs, faultEndMs }: Timing): number | null {
  const first = Math.floor(faultStartMs / 1_000);
  let recoveredAt: number | null = null;
  for (let at = timeline.length - 1; at >= first; at--) {
    if (!healthy(timeline[at]!)) break;
    recoveredAt = at;
  }
  if (recoveredAt === null) return null;
  return recoveredAt === first ? 0 : Math.max(0, recoveredAt * 1_000 - faultEndMs);
}
