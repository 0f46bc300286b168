import { Code, KitError } from '../errors/index.ts';
import { type Clock, systemClock } from './clock.ts';

/**
 * The header that carries a call's budget to the next hop: whole milliseconds that remain.
 * Relative, not an absolute time, so the two hosts' clocks never need to agree.
 */
export const timeoutHeader = 'x-baton-timeout-ms';

/** The longest budget a caller may send; anything longer is cut to it (five minutes). */
export const maxBudgetMs = 300_000;

// The absolute deadline (on the clock that made it) of signals that have one, kept on the signal
// under a private symbol. A WeakMap would be the textbook choice, but every call through the
// kit makes a signal, and a WeakMap entry per short-lived signal cost ~0.5 µs a call (ephemeron
// bookkeeping in V8) against ~0.05 µs for a property; the signal stays a plain AbortSignal.
const deadlineKey = Symbol('baton.deadlineAtMs');
// The calls waiting on a signal, kept on it. One listener per signal fans out to them: an
// EventTarget add and remove per call cost ~0.5 µs, a Set add and delete ~0.05 µs, and undici
// given a fresh AbortSignal per request lost ~11% of its throughput (bench/harness pairing).
const childrenKey = Symbol('baton.abortChildren');
type WithChildren = AbortSignal & { [childrenKey]?: Set<() => void> };
type WithDeadline = AbortSignal & { [deadlineKey]?: number };

/**
 * Records that `signal` fires at `atMs` (on the clock's time line), so whoever receives the
 * signal can ask how much time is left and send that on. An earlier deadline wins.
 *
 * @example
 * attachDeadline(controller.signal, performance.now() + budgetMs);
 */
export function attachDeadline(signal: AbortSignal, atMs: number): void {
  const known = (signal as WithDeadline)[deadlineKey];
  if (known === undefined || atMs < known) (signal as WithDeadline)[deadlineKey] = atMs;
}

/**
 * The absolute deadline attached to a signal, if any.
 *
 * @example
 * const atMs = deadlineOf(signal); // undefined: the call has no deadline
 */
export function deadlineOf(signal: AbortSignal | undefined): number | undefined {
  return signal === undefined ? undefined : (signal as WithDeadline)[deadlineKey];
}

/**
 * Milliseconds left before the signal's deadline (never below 0), or undefined without one.
 *
 * @example
 * const remainingMs = remainingMsOf(signal);
 * if (remainingMs !== undefined) headers[timeoutHeader] = formatBudget(remainingMs);
 */
export function remainingMsOf(signal: AbortSignal | undefined, clock: Clock = systemClock): number | undefined {
  const atMs = deadlineOf(signal);
  return atMs === undefined ? undefined : Math.max(0, atMs - clock.now());
}

export interface SignalUntilOptions {
  clock?: Clock;
  /** The caller's signal: the result also fires when it does, and keeps its earlier deadline. */
  parent?: AbortSignal | undefined;
  /** The reason the signal aborts with when the time comes. */
  reason?: () => KitError;
  /**
   * Called once, right after the signal aborts (the time came or the parent aborted), with
   * the reason. Cheaper than a listener on the signal, for the one party that owns the call.
   */
  onAbort?: (reason: unknown) => void;
}

/** A call's own signal and the one way to let go of its timer and its hold on the parent. */
export interface CallSignal {
  readonly signal: AbortSignal;
  /** The guarded work is over: clear the timer and stop listening to the parent. Idempotent. */
  dispose(): void;
}

const deadlineExceeded = () => new KitError(Code.DeadlineExceeded, 'the deadline passed');

/**
 * A signal for one call that aborts at `atMs` with a `deadline_exceeded` KitError, or earlier
 * with the parent's reason, and carries the nearer of the two deadlines. Call `dispose()` when
 * the work ends. Its timer never keeps the process alive.
 *
 * This is the hot path of every call through the kit, so it is built by hand from the cheapest
 * parts Node has: one AbortController, one plain timer and one listener on the parent. The
 * obvious tools cost far more per call (measured in bench/scenarios/policy-stack.ts):
 * `AbortSignal.any` ~2 µs, a promise-based sleep cancelled with its own controller ~20 µs (node
 * builds an AbortError with a stack), and `controller.abort()` without a reason ~8 µs (a
 * DOMException with a stack), so dispose clears instead of aborting.
 *
 * @example
 * const call = createCallSignal(clock.now() + 500, { clock, parent: request.signal });
 * try { await work(call.signal); } finally { call.dispose(); }
 */
export function createCallSignal(atMs: number, { clock = systemClock, parent, reason = deadlineExceeded, onAbort }: SignalUntilOptions = {}): CallSignal {
  // Whoever waits on this signal through `whenAborted` is called from here, with no EventTarget
  // listener at all: the signal only ever aborts through this function.
  const { signal, abort: abortWith } = createFanOutController();
  const parentAtMs = deadlineOf(parent);
  (signal as WithDeadline)[deadlineKey] = parentAtMs !== undefined && parentAtMs < atMs ? parentAtMs : atMs;
  if (parent?.aborted) {
    abortWith(parent.reason);
    onAbort?.(parent.reason);
    return { signal, dispose: noop };
  }
  const remainingMs = atMs - clock.now();
  if (remainingMs <= 0) {
    const why = reason();
    abortWith(why);
    onAbort?.(why);
    return { signal, dispose: noop };
  }

  let disposed = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let cancelSleep: AbortController | undefined;
  let forgetParent: () => void = noop;
  const dispose = () => {
    if (disposed) return;
    disposed = true;
    if (timer !== undefined) clearTimeout(timer);
    cancelSleep?.abort();
    forgetParent();
  };
  // Whichever comes first, the time or the parent, ends the call's hold on the other, so work
  // that never ends (and so never disposes) leaves nothing behind.
  const abort = (why: unknown) => {
    if (disposed) return;
    dispose();
    abortWith(why);
    onAbort?.(why);
  };
  if (clock === systemClock) {
    timer = setTimeout(() => abort(reason()), remainingMs);
    timer.unref();
  } else {
    cancelSleep = new AbortController();
    clock.sleep(remainingMs, cancelSleep.signal, { ref: false }).then(
      () => abort(reason()),
      // Cancelled: the work finished first and nobody needs the timer.
      noop,
    );
  }
  if (parent !== undefined) forgetParent = whenAborted(parent, () => abort(parent.reason));
  return { signal, dispose };
}

const noop = (): void => undefined;


/**
 * An AbortController whose signal `whenAborted` hears without an EventTarget listener: `abort`,
 * the only way its signal aborts, calls them itself. For a signal the kit makes and aborts: a
 * call's (`createCallSignal`) and a request's (`startInboundDeadline`), under which every call of
 * the request waits. The listener added on each request's signal before (`listenOnce`) was 1.2% of
 * the gateway's profile samples under checkout load (bench/profile/folded-shares.ts).
 */
export function createFanOutController(): { signal: AbortSignal; abort(why: unknown): void } {
  const controller = new AbortController();
  const children = new Set<() => void>();
  (controller.signal as WithChildren)[childrenKey] = children;
  return {
    signal: controller.signal,
    abort(why) {
      controller.abort(why);
      for (const child of children) child();
      children.clear();
    },
  };
}

/**
 * Runs `onAbort` once when `parent` aborts, unless the returned function is called first. For a
 * signal of `createFanOutController` (a call's, a request's) this is a Set add and delete and no
 * EventTarget listener; for any other signal, one listener per signal serves every caller.
 *
 * @example
 * const forget = whenAborted(signal, () => request.abort(signal.reason));
 * try { await work(); } finally { forget(); }
 */
export function whenAborted(parent: AbortSignal, onAbort: () => void): () => void {
  if (parent.aborted) {
    onAbort();
    return noop;
  }
  const children = (parent as WithChildren)[childrenKey] ?? listenOnce(parent);
  children.add(onAbort);
  return () => void children.delete(onAbort);
}

/**
 * The one listener on a signal the kit did not make, fanning out to its children. Built in a
 * function of its own: a closure keeps its whole scope alive, and a listener made beside the
 * first caller's `onAbort` kept that call (its controller, timer and closures) until the parent
 * fired, long after the call was over (seen as ~9,000 calls held by 5 s caller deadlines in
 * http/leak.test.ts).
 */
function listenOnce(parent: AbortSignal): Set<() => void> {
  const children = new Set<() => void>();
  (parent as WithChildren)[childrenKey] = children;
  parent.addEventListener('abort', function abortChildren() {
    for (const child of children) child();
    children.clear();
  }, { once: true });
  return children;
}

/**
 * A signal that aborts at `atMs` (see `createCallSignal`) for work with no clear end of its
 * own, such as a request's whole deadline: its timer lives until it fires.
 *
 * @example
 * const signal = signalUntil(clock.now() + 500, { clock, parent: request.signal });
 */
export function signalUntil(atMs: number, options: SignalUntilOptions = {}): AbortSignal {
  return createCallSignal(atMs, options).signal;
}

/** A point in time by which a call must be done, on one clock. */
export interface Deadline {
  /** The absolute time on the clock. */
  readonly atMs: number;
  /** True once the time has come. */
  readonly expired: boolean;
  /**
   * Fires at the deadline with a `deadline_exceeded` KitError as its reason (or when the parent
   * signal fires). Made on first use, so a deadline only read for `remainingMs()` costs no timer.
   */
  readonly signal: AbortSignal;
  /** Milliseconds left, never below 0. */
  remainingMs(): number;
}

/**
 * A deadline `budgetMs` from now, never later than the parent signal's own deadline.
 *
 * @example
 * const deadline = createDeadline(2_000, systemClock, request.signal);
 * await reserve(items, { signal: deadline.signal });
 */
export function createDeadline(budgetMs: number, clock: Clock = systemClock, parent?: AbortSignal): Deadline {
  const ownAtMs = clock.now() + Math.max(0, budgetMs);
  const atMs = Math.min(ownAtMs, deadlineOf(parent) ?? ownAtMs);
  let signal: AbortSignal | undefined;
  return {
    atMs,
    get expired() {
      return clock.now() >= atMs;
    },
    get signal() {
      signal ??= signalUntil(atMs, { clock, parent });
      return signal;
    },
    remainingMs: () => Math.max(0, atMs - clock.now()),
  };
}

/**
 * The header value for a budget: what remains minus a margin for the trip over the network
 * (so the callee gives up a little before the caller does, and its answer still arrives),
 * in whole milliseconds, never below 0 and never above `maxBudgetMs`.
 *
 * @example
 * headers[timeoutHeader] = formatBudget(deadline.remainingMs()); // 1995 for 2000 left
 */
export function formatBudget(remainingMs: number, marginMs = 5): string {
  const budgetMs = Number.isNaN(remainingMs) ? 0 : Math.floor(remainingMs - marginMs);
  return String(Math.min(maxBudgetMs, Math.max(0, budgetMs)));
}

// Digits only: no sign, no fraction, no exponent, no hex. Ten digits is already absurd.
const budgetPattern = /^\d{1,10}$/;

/**
 * Reads a budget header. Garbage (a sign, a fraction, words, a repeated header) gives undefined,
 * so the route's own maximum applies; an absurdly long budget is cut to `maxBudgetMs`.
 *
 * @example
 * const receivedMs = parseBudget(request.headers[timeoutHeader]);
 */
export function parseBudget(value: string | readonly string[] | null | undefined): number | undefined {
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  if (!budgetPattern.test(trimmed)) return undefined;
  return Math.min(Number(trimmed), maxBudgetMs);
}

/**
 * The budget a server works with: the caller's, cut to the route's own maximum, so a caller
 * can shorten a route's deadline but never lengthen it.
 *
 * @example
 * const budgetMs = effectiveBudgetMs(parseBudget(header), 2_000);
 */
export function effectiveBudgetMs(receivedMs: number | undefined, routeMaxMs: number): number {
  return receivedMs === undefined ? routeMaxMs : Math.min(receivedMs, routeMaxMs);
}
