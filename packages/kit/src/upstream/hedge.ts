import { Code, KitError } from '../errors/index.ts';
import type { Clock } from '../resilience/index.ts';
import { systemClock } from '../resilience/clock.ts';

export interface HedgeOptions<T> {
  /** The call's signal: when it fires, every copy stops. */
  signal: AbortSignal;
  /** How long the first copy runs alone before a second one is sent. */
  delayMs: number;
  /** Starts one copy; `hedge` is false for the first. Its signal fires when it lost or the call ends. */
  attempt(signal: AbortSignal, hedge: boolean): Promise<T>;
  /** Asked when the delay is over: whether a second copy may go (another instance, the budget). */
  mayHedge(): boolean;
  /** An error that answers the call whatever the other copy would say (a 404, say). */
  isFinal(error: KitError): boolean;
  onHedge?(): void;
  clock?: Clock;
}

// The reason a losing copy is aborted with: a cancellation, so neither the breaker nor the
// outlier detector counts it against the instance.
const lostTheRace = () => new KitError(Code.Canceled, 'another copy of this request answered first', { reason: 'hedge_lost' });

/**
 * Runs a call as a hedged request (Dean and Barroso, "The Tail at Scale"): if the first copy has
 * not answered after `delayMs`, a second copy goes out, and the first success wins. The loser is
 * aborted at once, which destroys its response body and frees (or closes) its connection.
 *
 * A failure of one copy does not end the call while the other may still succeed, unless it is
 * final. When every copy failed, the first error is thrown; the retry layer above decides.
 *
 * @example
 * const response = await hedge({ signal, delayMs: 30, attempt: (s) => send(s), mayHedge: () => true, isFinal: () => false });
 */
export function hedge<T>({ signal, delayMs, attempt, mayHedge, isFinal, onHedge, clock = systemClock }: HedgeOptions<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const copies: AbortController[] = [];
    const timer = new AbortController();
    let pending = 0;
    let settled = false;
    let firstError: KitError | undefined;

    function settle(): void {
      settled = true;
      timer.abort();
      for (const copy of copies) if (!copy.signal.aborted) copy.abort(lostTheRace());
    }

    function launch(isHedge: boolean): void {
      const copy = new AbortController();
      copies.push(copy);
      pending++;
      attempt(AbortSignal.any([signal, copy.signal]), isHedge).then(
        (value) => {
          pending--;
          if (settled) return;
          settle();
          resolve(value);
        },
        (thrown: unknown) => {
          pending--;
          if (settled) return;
          const error = KitError.from(thrown);
          firstError ??= error;
          // The other copy is still out and this failure is not the answer: wait for it.
          if (pending > 0 && !isFinal(error) && !signal.aborted) return;
          settle();
          reject(signal.aborted ? KitError.from(signal.reason) : isFinal(error) ? error : firstError);
        },
      );
    }

    launch(false);
    clock.sleep(delayMs, timer.signal).then(
      () => {
        if (settled || signal.aborted || !mayHedge()) return;
        onHedge?.();
        launch(true);
      },
      // Cancelled: the call was over before the delay.
      () => undefined,
    );
  });
}
