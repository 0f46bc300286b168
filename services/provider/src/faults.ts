import { z } from 'zod';

/**
 * The provider's own faults, switched at run time on its admin listener
 * (`PUT /admin/provider/faults`): latency before every answer, a share of requests failed with
 * a 500 before anything is done, and, the one a payment integration must survive, a number of
 * charges (confirmations, captures) that are done and committed but never answered, as when
 * the provider's answer is lost on the way. The kit's `/admin/faults` works here as anywhere.
 */
export const providerFaultsSchema = z.strictObject({
  latencyMs: z.number().int().min(0).max(60_000).default(0),
  failPercent: z.number().min(0).max(100).default(0),
  /** How many of the next charges are made and then left unanswered until the caller gives up. */
  hangAfterCharge: z.number().int().min(0).max(1_000).default(0),
});

export type ProviderFaults = z.output<typeof providerFaultsSchema>;

export interface FaultSwitch {
  readonly current: ProviderFaults;
  set(faults: ProviderFaults): void;
  /** True for a charge that is to be left unanswered; counts it off. */
  takeHang(): boolean;
}

export function createFaultSwitch(): FaultSwitch {
  let current = providerFaultsSchema.parse({});
  return {
    get current() { return current; },
    set(faults) { current = faults; },
    takeHang() {
      if (current.hangAfterCharge === 0) return false;
      current = { ...current, hangAfterCharge: current.hangAfterCharge - 1 };
      return true;
    },
  };
}
