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
  {
    name: 'stock-not-returned',
    what: 'inventory takes a cancelled order\'s reservation off its books without putting the stock back on the shelf',
    edit: {
      file: 'services/inventory/src/reservations/return-stock.ts',
      find: '  for (const { sku, quantity } of rows.sort(bySku)) {',
      replace: '  if (Math.random() < 2) return;\n  for (const { sku, quantity } of rows.sort(bySku)) {',
    },
    scenario: 'kill-media',
    fails: ['stock conserved'],
  },
  {
    name: 'poison-retried',
    what: 'the consumer delivers an event that can never apply again and again, as any failure, before it parks it (five deliveries over about 15 s)',
    edit: {
      file: 'packages/kit/src/messaging/consumer.ts',
      find: 'if (attempt >= maxAttempts || isPoison(outcome.error)) {',
      replace: 'if (attempt >= maxAttempts || (isPoison(outcome.error) && Math.random() > 2)) {',
    },
    scenario: 'poison-event',
    fails: ['the poison parked'],
  },
  {
    name: 'disk-full-unnamed',
    what: 'media\'s store lets a full disk\'s ENOSPC through as it is, not as storage_full',
    edit: {
      file: 'services/media/src/store/fs-store.ts',
      find: 'throw signal.aborted ? signal.reason : withDiskFull(error);',
      replace: 'throw signal.aborted ? signal.reason : error;',
    },
    scenario: 'disk-full-media',
    fails: ['no 500'],
  },
  {
    name: 'orphans-stay',
    what: 'a service does not notice its runner is gone, and goes on holding its port',
    edit: {
      file: 'packages/kit/src/service/run-service.ts',
      find: '  process.once(\'disconnect\', () => {',
      replace: '  process.once(\'broken on purpose\' as \'disconnect\', () => {',
    },
    scenario: 'kill-runner',
    fails: ['nothing left behind'],
  },
];
