import { setTimeout as sleep } from 'node:timers/promises';
import type { ChaosTarget } from './chaos-target.ts';
import { checkLedger, type LedgerCheck } from './ledger.ts';
import type { RequestKind } from './outcome.ts';
import type { Scenario } from './scenarios.ts';
import { checkShopLedger } from './shop-ledger.ts';
import { readImages, readStock, startShopperLoad, type ShopperLoad, type ShopperLoadOptions } from './shopper-load.ts';
import { checkUploads } from './uploads-ledger.ts';
import { healthyTail, judge, type Check, type Served, type Timing, type Verdict } from './verdict.ts';

export interface RunOptions {
  /** The load alone before the fault: the shop as it is when well. */
  beforeMs?: number;
  /** How long a timed fault lasts. */
  faultMs?: number;
  /** The load after the fault ends, in which the shop must recover. */
  afterMs?: number;
  /** How long the events may take to arrive after the load stops, for the ledger. */
  ledgerBoundMs?: number;
  load?: Omit<ShopperLoadOptions, 'gatewayUrl'>;
  /** The deadline each kind of request has at the gateway (`ROUTE_DEADLINES_MS`, `REQUEST_DEADLINE_MS`). */
  deadlinesMs?: Record<RequestKind, number>;
  /** Told of each phase as it begins: for a page that shows the run live. */
  onPhase?: (phase: Phase) => void;
}

export type Phase = 'starting' | 'before' | 'fault' | 'after' | 'ledger' | 'done';

export interface ScenarioReport {
  scenario: string;
  title: string;
  promise: string;
  startedAt: string;
  /** In ms since the load started: the fault window, for the chart's shading. */
  faultStartMs: number;
  faultEndMs: number;
  endMs: number;
  verdict: Verdict;
  ledger: LedgerCheck;
}

// How long a run with no healthy tail yet goes on past its scenario's recovery budget, and how
// many whole healthy seconds end it early.
const recoveryMarginMs = 3_000;
const healthySecondsToEnd = 2;

// The gateway's: ROUTE_DEADLINES_MS's checkout, REQUEST_DEADLINE_MS, UPLOAD_DEADLINE_MS.
export const defaultDeadlinesMs: Record<RequestKind, number> = { 'sign-in': 10_000, browse: 10_000, checkout: 8_000, cancel: 10_000, upload: 600_000 };

/**
 * One scenario, start to verdict: shoppers at work, the fault after `beforeMs`, ended after
 * `faultMs` (or, for a kill, once the service is back), `afterMs` more of the load, then the
 * ledger read through the public API once the events have had `ledgerBoundMs` to arrive. The
 * fault is always ended, whatever fails on the way.
 */
export async function runScenario(target: ChaosTarget, scenario: Scenario, options: RunOptions = {}): Promise<ScenarioReport> {
  const { beforeMs = 5_000, faultMs = 10_000, afterMs = 15_000, ledgerBoundMs = 30_000, deadlinesMs = defaultDeadlinesMs, onPhase = () => undefined } = options;
  const missing = scenario.needs.filter((name) => !target.stack.services.includes(name));
  if (missing.length > 0) throw new Error(`${scenario.name} needs ${missing.join(', ')}, which this stack does not run`);
  const startedAt = new Date().toISOString();
  onPhase('starting');
  // Before any shopper buys: what the stock check counts from.
  const stockBefore = await readStock(target.gatewayUrl);
  const imagesBefore = options.load?.staffEmail === undefined ? [] : await readImages(target.gatewayUrl);
  const load = await startShopperLoad({ gatewayUrl: target.gatewayUrl, ...options.load });
  try {
    const counts = scenario.faulty === undefined ? undefined : countsOf(target, scenario.faulty);
    const { timing: window, checks } = await faultUnderLoad(target, scenario, load, { beforeMs, faultMs, afterMs, onPhase, counts });
    onPhase('ledger');
    // Records the shop cannot give back are a failed verdict, not a run that could not be judged.
    const unread: Check[] = [];
    const ledger = await waitForLedger(load, ledgerBoundMs).catch((error: unknown) => {
      unread.push({ name: 'records read', passed: false, detail: (error as Error).message });
      return { acknowledged: load.orders.reduce((n, o) => n + o.placed.length, 0), missing: load.orders.flatMap((o) => o.placed), duplicated: [], unexpected: [] };
    });
    const records = await waitForSettled(target, load, { stockBefore, imagesBefore }, ledgerBoundMs).catch((error: unknown) => {
      unread.push({ name: 'records read', passed: false, detail: (error as Error).message });
      return [];
    });
    const served = counts?.served();
    const judged = judge(load.records, window, deadlinesMs, scenario.expect, ledger, served);
    // The fault's own checks (an overload's flood and probes), and the shop's records, join the verdict.
    const extra = [...checks, ...records, ...unread];
    const verdict = { ...judged, checks: [...judged.checks, ...extra], passed: judged.passed && extra.every((c) => c.passed) };
    onPhase('done');
    return { scenario: scenario.name, title: scenario.title, promise: scenario.promise, startedAt, ...window, verdict, ledger };
  } finally {
    await load.close();
  }
}

/** The load's phases around the fault; the fault always ended and the load always stopped. Times on the load's clock. */
async function faultUnderLoad(target: ChaosTarget, scenario: Scenario, load: ShopperLoad, { beforeMs, faultMs, afterMs, onPhase, counts }: {
  beforeMs: number; faultMs: number; afterMs: number; onPhase: (phase: Phase) => void; counts: Counts | undefined;
}): Promise<{ timing: Timing; checks: Check[] }> {
  const since = () => performance.now() - load.startedAt;
  try {
    await counts?.take('start');
    onPhase('before');
    await sleep(beforeMs);
    onPhase('fault');
    await counts?.take('fault');
    const faultStartMs = since();
    const injected = await scenario.inject(target);
    try {
      if (injected.timed) await sleep(faultMs);
    } finally {
      await injected.end();
    }
    const faultEndMs = since();
    onPhase('after');
    await sleep(afterMs);
    // A recovery slower than the after-phase but within the scenario's budget is a recovery all
    // the same (a short run's after-phase is shorter than most budgets): the load goes on until
    // its last seconds are healthy, or the budget and a margin are over, whichever comes first.
    // Only whole seconds are judged: those before the oldest request still in flight, which may
    // yet end in a 503 (a second that looks healthy while a checkout in it waits out its deadline
    // is not one).
    const untilMs = faultEndMs + scenario.expect.recoveryBudgetMs + recoveryMarginMs;
    const settledMs = () => Math.min(since(), load.oldestInFlightMs() ?? Infinity);
    while (since() < untilMs && !healthyTail(load.records, settledMs(), healthySecondsToEnd)) await sleep(250);
    return { timing: { faultStartMs, faultEndMs, endMs: since() }, checks: injected.checks?.(load.records) ?? [] };
  } finally {
    await load.stop();
    await counts?.take('end');
  }
}

interface Counts {
  take(moment: 'start' | 'fault' | 'end'): Promise<void>;
  /** The three readings, or undefined when one could not be read (the amplification is then left out). */
  served(): Served | undefined;
}

/** The faulty service's answered calls, read at the load's start, the fault's start and the load's end. */
function countsOf(target: ChaosTarget, service: string): Counts {
  const readings = new Map<string, number>();
  return {
    async take(moment) {
      const calls = await target.callsServed(service).catch(() => undefined);
      if (calls !== undefined) readings.set(moment, calls);
    },
    served() {
      const [atStartCalls, atFaultCalls, atEndCalls] = ['start', 'fault', 'end'].map((m) => readings.get(m));
      if (atStartCalls === undefined || atFaultCalls === undefined || atEndCalls === undefined) return undefined;
      return { service, atStartCalls, atFaultCalls, atEndCalls };
    },
  };
}

/**
 * The shop's records judged (`checkShopLedger`) once they have settled: every order final, the
 * stock back, the provider in agreement; or as they stand after `boundMs` (a bound on waiting,
 * not a timing claim: a reconciler may take a while to finish an order cut short).
 */
async function waitForSettled(target: ChaosTarget, load: ShopperLoad, { stockBefore, imagesBefore }: { stockBefore: Record<string, number>; imagesBefore: readonly string[] }, boundMs: number): Promise<Check[]> {
  const until = performance.now() + boundMs;
  for (;;) {
    try {
      const orders = await load.recordedOrders();
      const stockAfter = await readStock(target.gatewayUrl);
      const charges = await target.providerCharges?.(new Set(orders.map((o) => o.id)));
      const checks = checkShopLedger({ orders, stockBefore, stockAfter, charges });
      if (load.uploads !== undefined) {
        const uploads = { seen: load.uploads, statuses: await load.imageStatuses(), listedBefore: imagesBefore, listedAfter: await readImages(target.gatewayUrl, load.uploads.sku) };
        checks.push(checkUploads(uploads));
      }
      if (checks.every((c) => c.passed) || performance.now() > until) return checks;
    } catch (error) {
      // A service still coming back: look again.
      if (performance.now() > until) throw new Error(`the shop's records could not be read: ${String(error)}`, { cause: error });
    }
    await sleep(1_000);
  }
}

/** The ledger once every acknowledged order has its email, or as it stands after `boundMs`: a bound on waiting, not a timing claim. */
async function waitForLedger(load: ShopperLoad, boundMs: number): Promise<LedgerCheck> {
  const until = performance.now() + boundMs;
  for (;;) {
    try {
      const ledger = checkLedger(load.orders, await load.notifications());
      if (ledger.missing.length === 0 || performance.now() > until) return ledger;
    } catch (error) {
      // The notifications could not be read (a service still restarting): look again.
      if (performance.now() > until) throw new Error(`the ledger could not be read: ${String(error)}`, { cause: error });
    }
    await sleep(500);
  }
}
