import { Code, KitError } from '../errors/index.ts';
import { type Clock, systemClock } from './clock.ts';

/**
 * The header that carries a call's budget to the next hop: whole milliseconds that remain.
 * Relative, not an absolute time, so the two hosts' clocks never need to agree.
 */
export const timeoutHeader = 'x-baton-timeout-ms';

/** The longest budget a caller may send; anything longer is cut to it (five minutes). */
export const maxBudgetMs = 300_000;

// The absolute deadline (on the clock that made it) of signals that have one. A WeakMap so a
// signal's entry goes when the signal does; the signal itself stays a plain AbortSignal.
const deadlines = new WeakMap<AbortSignal, number>();

/**
 * Records that `signal` fires at `atMs` (on the clock's time line), so whoever receives the
 * signal can ask how much time is left and send that on. An earlier deadline wins.
 *
 * @example
 * attachDeadline(controller.signal, performance.now() + budgetMs);
 */
export function attachDeadline(signal: AbortSignal, atMs: number): void {
  const known = deadlines.get(signal);
  if (known === undefined || atMs < known) deadlines.set(signal, atMs);
}

/**
 * The absolute deadline attached to a signal, if any.
 *
 * @example
 * const atMs = deadlineOf(signal); // undefined: the call has no deadline
 */
export function deadlineOf(signal: AbortSignal | undefined): number | undefined {
  return signal === undefined ? undefined : deadlines.get(signal);
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
  /** Aborting this cancels the timer early, once the guarded work is over. */
  cancel?: AbortSignal;
  /** The reason the signal aborts with when the time comes. */
  reason?: () => KitError;
}

const deadlineExceeded = () => new KitError(Code.DeadlineExceeded, 'the deadline passed');

/**
 * A signal that aborts at `atMs` with a `deadline_exceeded` KitError, or earlier with the
 * parent's reason. Its timer never keeps the process alive.
 *
 * @example
 * const signal = signalUntil(clock.now() + 500, { clock, parent: request.signal });
 */
export function signalUntil(atMs: number, { clock = systemClock, parent, cancel, reason = deadlineExceeded }: SignalUntilOptions = {}): AbortSignal {
  const controller = new AbortController();
  const remainingMs = atMs - clock.now();
  if (remainingMs <= 0) {
    controller.abort(reason());
  } else if (clock === systemClock) {
    // The hot path of every call: a plain timer, cleared when the work ends. Cancelling the
    // promise-based sleep instead would make node build an AbortError (with its stack) per call,
    // which cost ~20 µs a call in bench/scenarios/policy-stack.ts.
    const timer = setTimeout(() => controller.abort(reason()), remainingMs);
    timer.unref();
    cancel?.addEventListener('abort', () => clearTimeout(timer), { once: true });
  } else {
    clock.sleep(remainingMs, cancel, { ref: false }).then(
      () => controller.abort(reason()),
      // Cancelled: the work finished first and nobody needs the timer.
      () => undefined,
    );
  }
  const signal = parent === undefined ? controller.signal : AbortSignal.any([parent, controller.signal]);
  attachDeadline(signal, atMs);
  const parentAtMs = deadlineOf(parent);
  if (parentAtMs !== undefined) attachDeadline(signal, parentAtMs);
  return signal;
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
