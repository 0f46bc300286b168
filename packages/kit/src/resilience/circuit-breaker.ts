import { Code, KitError } from '../errors/index.ts';
import { type Clock, systemClock } from './clock.ts';
import type { Policy, PolicyContext } from './policy.ts';
import { createRollingCounter } from './rolling-counter.ts';
import { policyDefaults } from './defaults.ts';

export type CircuitState = 'closed' | 'open' | 'half_open';

export interface CircuitBreakerOptions {
  /** Opens after this many failures in a row, however few calls there were. */
  consecutiveFailures?: number;
  /** Opens when this share of the calls in the window failed... */
  failureRateThreshold?: number;
  windowMs?: number;
  /** ...and the window holds at least this many calls, so three calls and two failures do not. */
  minimumRequests?: number;
  /** How long it stays open before letting a probe through. */
  openDurationMs?: number;
  /**
   * How long to stay open after the failure that opened it (or the probe's that failed), when the
   * failure itself says: a refused connection costs the dependency nothing, so it may be probed
   * again soon; a slow answer may not. `openDurationMs` when it returns undefined.
   */
  openDurationAfter?: (error: KitError) => number | undefined;
  /** Calls let through at once while half-open. */
  halfOpenMaxProbes?: number;
  /** Which errors say the dependency is unhealthy; `isBreakerFailure` by default. */
  isFailure?: (error: KitError) => boolean;
  /** Which errors say nothing of it either way (neither a failure nor a success); the caller's cancellation always. */
  isNeutral?: (error: KitError) => boolean;
  clock?: Clock;
  onStateChange?: (from: CircuitState, to: CircuitState) => void;
}

export interface CircuitBreaker extends Policy {
  readonly state: CircuitState;
}

/**
 * The default answer to "does this error say the dependency is unhealthy?": yes for timeouts,
 * connection failures and 5xx; no for 4xx, which a healthy service answers to a bad request.
 *
 * @example
 * createCircuitBreaker({ isFailure: (err) => isBreakerFailure(err) || err.code === Code.ResourceExhausted });
 */
export function isBreakerFailure(error: KitError): boolean {
  switch (error.code) {
    case Code.Unavailable:
    case Code.DeadlineExceeded:
    case Code.Internal:
    case Code.Unknown:
    case Code.DataLoss:
      return true;
    default:
      return false;
  }
}

/**
 * Stops calling a dependency that keeps failing, so its callers fail in microseconds instead
 * of waiting on timeouts, and the dependency gets room to recover. It opens on
 * `consecutiveFailures` failures in a row, or on a failure rate of `failureRateThreshold` over
 * `windowMs` once the window holds `minimumRequests` calls. While open it throws
 * `unavailable` / `circuit_open` with `retryAfterSeconds` without calling the function. After
 * `openDurationMs` it is half-open: up to `halfOpenMaxProbes` calls go through; a probe's
 * success closes it, a probe's failure opens it again.
 *
 * A call the caller cancelled counts neither way: it says nothing about the dependency.
 *
 * @example
 * const breaker = createCircuitBreaker({ onStateChange: (from, to) => log.warn({ from, to }, 'inventory breaker') });
 * await breaker.execute(({ signal }) => reserve(items, { signal }), signal);
 */
export function createCircuitBreaker({
  consecutiveFailures = policyDefaults.breaker.consecutiveFailures,
  failureRateThreshold = policyDefaults.breaker.failureRateThreshold,
  windowMs = policyDefaults.breaker.windowMs,
  minimumRequests = policyDefaults.breaker.minimumRequests,
  openDurationMs = policyDefaults.breaker.openDurationMs,
  openDurationAfter,
  halfOpenMaxProbes = policyDefaults.breaker.halfOpenMaxProbes,
  isFailure = isBreakerFailure,
  isNeutral,
  clock = systemClock,
  onStateChange,
}: CircuitBreakerOptions = {}): CircuitBreaker {
  let state: CircuitState = 'closed';
  // Each change of state starts a new generation; a call that ends in a later generation than
  // it began (a slow call finishing after the breaker opened) must not move the state again.
  let generation = 0;
  let openedAtMs = 0;
  // How long this opening lasts: `openDurationMs`, or what the failure that opened it said.
  let openForMs = openDurationMs;
  let failuresInARow = 0;
  let probesInFlight = 0;
  const calls = createRollingCounter({ windowMs, clock });
  const failures = createRollingCounter({ windowMs, clock });

  function moveTo(to: CircuitState, cause?: KitError): void {
    const from = state;
    state = to;
    generation++;
    failuresInARow = 0;
    probesInFlight = 0;
    if (to === 'open') {
      openedAtMs = clock.now();
      openForMs = (cause === undefined ? undefined : openDurationAfter?.(cause)) ?? openDurationMs;
    }
    // A fresh window: failures from before an opening must not trip the breaker after it closes.
    calls.reset();
    failures.reset();
    onStateChange?.(from, to);
  }

  function currentState(): CircuitState {
    if (state === 'open' && clock.now() - openedAtMs >= openForMs) moveTo('half_open');
    return state;
  }

  function circuitOpen(retryAfterMs: number): KitError {
    return new KitError(Code.Unavailable, 'the circuit to this dependency is open', {
      reason: 'circuit_open',
      // Under a second, as it is (the retry layer waits that long; a Retry-After header rounds up).
      retryAfterSeconds: retryAfterMs < 1_000 ? Math.max(0.001, retryAfterMs / 1_000) : Math.ceil(retryAfterMs / 1_000),
    });
  }

  function onSuccess(): void {
    if (state === 'half_open') {
      moveTo('closed');
      return;
    }
    failuresInARow = 0;
    calls.add();
  }

  function onFailure(error: KitError): void {
    if (state === 'half_open') {
      moveTo('open', error);
      return;
    }
    failuresInARow++;
    calls.add();
    failures.add();
    const total = calls.sum();
    const tripped = failuresInARow >= consecutiveFailures || (total >= minimumRequests && failures.sum() / total >= failureRateThreshold);
    if (tripped) moveTo('open', error);
  }

  return {
    get state() {
      return currentState();
    },
    // Not an async function: on the hot path of every attempt, one promise instead of three.
    execute: function executeWithBreaker<T>(fn: (context: PolicyContext) => Promise<T>, signal?: AbortSignal): Promise<T> {
      if (signal?.aborted) return Promise.reject(KitError.from(signal.reason));
      const admittedIn = currentState();
      if (admittedIn === 'open') return Promise.reject(circuitOpen(openedAtMs + openForMs - clock.now()));
      if (admittedIn === 'half_open') {
        if (probesInFlight >= halfOpenMaxProbes) return Promise.reject(circuitOpen(openForMs));
        probesInFlight++;
      }
      const admittedGeneration = generation;
      const settled = () => {
        if (admittedIn === 'half_open' && generation === admittedGeneration) probesInFlight--;
        return generation === admittedGeneration;
      };
      let work: Promise<T>;
      try {
        work = fn({ signal: signal ?? new AbortController().signal, attempt: 1 });
      } catch (thrown) {
        work = Promise.reject(thrown);
      }
      return work.then(
        (result) => {
          if (settled()) onSuccess();
          return result;
        },
        (thrown: unknown) => {
          const error = KitError.from(thrown);
          // Settled once whatever the outcome (a probe that learnt nothing frees its place for
          // the next); a cancellation or a neutral error moves the state neither way.
          const current = settled();
          if (current && error.code !== Code.Canceled && isNeutral?.(error) !== true) {
            if (isFailure(error)) onFailure(error);
            else onSuccess();
          }
          throw error;
        },
      );
    },
  };
}
