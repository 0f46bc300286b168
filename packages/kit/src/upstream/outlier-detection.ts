import type { Clock } from '../resilience/index.ts';
import { systemClock } from '../resilience/clock.ts';
import { policyDefaults } from '../resilience/defaults.ts';

export interface OutlierDetectionOptions {
  /** Failures in a row (connection errors, 5xx) that eject an instance. */
  consecutiveFailures?: number;
  /** The first ejection lasts this long; each repeated one lasts longer. */
  baseEjectionMs?: number;
  maxEjectionMs?: number;
  /** At most this share of the instances is ever ejected at once, so a bad day never ejects them all. */
  maxEjectionPercent?: number;
  clock?: Clock;
}

/** An ejection that just started. */
export interface Ejection {
  instance: string;
  durationMs: number;
  /** How many times in a row (allowing for decay) this instance has been ejected. */
  ejections: number;
}

export interface OutlierDetector {
  /**
   * Records how an attempt on an instance ended: `failure` for a connection error or a 5xx,
   * `success` for any other answer. Returns the ejection it caused, if any.
   */
  record(instance: string, result: 'success' | 'failure', instanceCount: number): Ejection | undefined;
  isEjected(instance: string): boolean;
  /** Drops what is known of an instance that discovery no longer lists. */
  forget(instance: string): void;
}

interface InstanceRecord {
  failuresInARow: number;
  ejections: number;
  ejectedUntilMs: number;
}

/**
 * Outlier ejection in the manner of Envoy: an instance that fails `consecutiveFailures` times in
 * a row leaves the rotation for `baseEjectionMs` × the number of times it was ejected (up to
 * `maxEjectionMs`), then comes back on its own; no probe is needed because the next failures
 * eject it again, for longer. The count decays by one for every `baseEjectionMs` the instance
 * spends back in rotation, so an instance that failed once last week starts fresh.
 *
 * Where a circuit breaker protects this client from a failing instance, ejection protects
 * the instance's healthy peers from the traffic it would fail: both are per instance.
 *
 * @example
 * const outliers = createOutlierDetector({ consecutiveFailures: 5 });
 * const ejection = outliers.record(origin, 'failure', endpoints.size);
 */
export function createOutlierDetector({
  consecutiveFailures = policyDefaults.outlierDetection.consecutiveFailures,
  baseEjectionMs = policyDefaults.outlierDetection.baseEjectionMs,
  maxEjectionMs = policyDefaults.outlierDetection.maxEjectionMs,
  maxEjectionPercent = policyDefaults.outlierDetection.maxEjectionPercent,
  clock = systemClock,
}: OutlierDetectionOptions = {}): OutlierDetector {
  const records = new Map<string, InstanceRecord>();

  function ejectedNow(): number {
    const now = clock.now();
    let ejected = 0;
    for (const record of records.values()) if (record.ejectedUntilMs > now) ejected++;
    return ejected;
  }

  return {
    record(instance, result, instanceCount) {
      let record = records.get(instance);
      if (record === undefined) {
        record = { failuresInARow: 0, ejections: 0, ejectedUntilMs: 0 };
        records.set(instance, record);
      }
      if (result === 'success') {
        record.failuresInARow = 0;
        return undefined;
      }
      record.failuresInARow++;
      const now = clock.now();
      if (record.failuresInARow < consecutiveFailures || record.ejectedUntilMs > now) return undefined;
      // With two instances, one may go; with one, none: the last instance is better than nothing.
      if (ejectedNow() + 1 > Math.floor((instanceCount * maxEjectionPercent) / 100)) return undefined;
      const decayed = record.ejectedUntilMs === 0 ? 0 : Math.floor((now - record.ejectedUntilMs) / baseEjectionMs);
      record.ejections = Math.max(0, record.ejections - decayed) + 1;
      const durationMs = Math.min(baseEjectionMs * record.ejections, maxEjectionMs);
      record.ejectedUntilMs = now + durationMs;
      record.failuresInARow = 0;
      return { instance, durationMs, ejections: record.ejections };
    },
    isEjected(instance) {
      const record = records.get(instance);
      return record !== undefined && record.ejectedUntilMs > clock.now();
    },
    forget(instance) {
      records.delete(instance);
    },
  };
}
