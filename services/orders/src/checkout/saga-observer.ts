import { SpanStatusCode, type Tracer } from '@opentelemetry/api';
import { Counter, Histogram, type Registry } from 'prom-client';
import { KitError } from '@baton/kit/errors';
import { durationBucketsSeconds } from '@baton/kit/telemetry';
import type { CheckoutStep } from './checkout-store.ts';

/** The calls a checkout makes, each one a span and a count. */
export type SagaCall = 'reserve' | 'authorize' | 'capture' | 'confirm' | 'void' | 'refund' | 'release';

export interface SagaObserver {
  /** Runs one call of the saga in a span of its own (the upstream's call is its child), counted and timed. */
  step<T>(call: SagaCall, work: () => Promise<T>): Promise<T>;
  /** A step was written: counted, and where the crash fault ends the process. */
  committed(step: CheckoutStep): void;
  /** The crash fault: the process ends (SIGKILL) right after the next checkout writes `step`. */
  crashAfter(step: CheckoutStep | undefined): void;
}

/**
 * The saga seen from outside: `checkout_calls_total{call,outcome}` and
 * `checkout_call_duration_seconds{call}` per call, `checkout_steps_total{step}` per step
 * reached, and a span `checkout <call>` around each call, so a checkout's trace shows the payment
 * hop under `checkout authorize`.
 *
 * `crashAfter` is a fault for tests (`PUT /admin/faults/checkout-crash` on the admin listener):
 * the process kills itself (SIGKILL, no cleanup, as a crash would) right after a checkout wrote
 * that step, so a test can show the reconciler finishing the rest. It is forgotten with the
 * process, so the process started again runs clean.
 */
export function createSagaObserver({ registry, tracer }: { registry: Registry; tracer: Tracer }): SagaObserver {
  let crashAfter: CheckoutStep | undefined;
  const calls = new Counter({ name: 'checkout_calls_total', help: 'Calls made by checkouts with payment, by call and outcome (ok, or the error\'s code).', labelNames: ['call', 'outcome'], registers: [registry] });
  const durations = new Histogram({ name: 'checkout_call_duration_seconds', help: 'How long each call of a checkout with payment took.', labelNames: ['call'], buckets: durationBucketsSeconds, registers: [registry] });
  const steps = new Counter({ name: 'checkout_steps_total', help: 'Steps written by checkouts with payment (done, failed, and each on the way).', labelNames: ['step'], registers: [registry] });
  return {
    async step(call, work) {
      const stopTimer = durations.startTimer({ call });
      return tracer.startActiveSpan(`checkout ${call}`, async (span) => {
        try {
          const result = await work();
          calls.inc({ call, outcome: 'ok' });
          return result;
        } catch (error) {
          const kitError = KitError.from(error);
          calls.inc({ call, outcome: kitError.code });
          span.setStatus({ code: SpanStatusCode.ERROR, message: kitError.reason ?? kitError.code });
          throw error;
        } finally {
          stopTimer();
          span.end();
        }
      });
    },
    committed(step) {
      steps.inc({ step });
      if (step === crashAfter) process.kill(process.pid, 'SIGKILL');
    },
    crashAfter(step) {
      crashAfter = step;
    },
  };
}
