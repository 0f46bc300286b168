/**
 * Builds broken on purpose, each in one place, to show that the verdict that guards what it
 * breaks can fail: a verdict that cannot fail proves nothing. `npm run chaos:broken` makes each
 * in a copy of the working tree and runs its scenario there (`prove-verdicts.ts`).
 */
export interface BrokenBuild {
  name: string;
  /** What is broken, in words. */
  what: string;
  /** The edit: in `file`, the text `find` (which must be there exactly once) becomes `replace`. */
  edit: { file: string; find: string; replace: string };
  /** The scenario that guards what the build breaks, run with the short windows. */
  scenario: string;
  /** The checks of the scenario's verdict that must fail. */
  fails: readonly string[];
}

export const brokenBuilds: readonly BrokenBuild[] = [
  {
    name: 'credentials-passed-on',
    what: 'an upstream\'s refusal of this service\'s token is passed on to the caller as its own 401, and the refused token is kept (the kit before clock-orders found it)',
    edit: {
      file: 'packages/kit/src/upstream/failures.ts',
      find: 'if (error.code === Code.Unauthenticated && error.reason === serviceTokenRefusedReason) {',
      replace: 'if (error.code === Code.Unauthenticated && error.reason === \'broken on purpose\') {',
    },
    scenario: 'clock-orders',
    fails: ['no 500'],
  },
  {
    name: 'event-not-written',
    what: 'orders stores an order without writing its order.created event to the outbox',
    edit: {
      file: 'services/orders/src/events/order-events.ts',
      find: '  await events.outbox.add(tx, orderCreated, {',
      replace: '  if (Math.random() < 2) return;\n  await events.outbox.add(tx, orderCreated, {',
    },
    scenario: 'kill-notifications',
    fails: ['ledger'],
  },
  {
    name: 'critical-shed',
    what: 'the load shedder sheds the critical class (health, readiness, metrics) at the share of the lowest',
    edit: {
      file: 'packages/kit/src/resilience/concurrency-limit.ts',
      find: 'if (priority !== \'critical\' && inFlight >= limit * shareOf(priority)) {',
      replace: 'if (inFlight >= limit * shareOf(priority === \'critical\' ? \'low\' : priority)) {',
    },
    scenario: 'overload-5x',
    fails: ['critical class kept'],
  },
];
