import type { ChaosTarget } from './chaos-target.ts';
import { startOverload } from './overload.ts';
import type { Check, Expectations } from './verdict.ts';

/** A fault in force; `end` ends it (for a kill, it waits for the runner to bring the service back). */
export interface Injected {
  /** True: the fault lasts the run's fault window, then `end`. False: `end` at once (it waits for the shop itself). */
  timed: boolean;
  end(): Promise<void>;
  /** What the fault itself saw, judged once it has ended (an overload's flood and its probes), added to the verdict. */
  checks?(): Check[];
}

export interface Scenario {
  name: string;
  /** For a person: what breaks. */
  title: string;
  /** What the shop should do about it, in words (the verdict's checks say it in numbers). */
  promise: string;
  /** The services the scenario breaks, which the stack must run. */
  needs: readonly string[];
  /** Runs on a shop whose events go through this broker (through a link the target can cut), not npm start's feeds. */
  events?: 'nats' | 'rabbitmq';
  /** Needs each service's wall clock movable (`ChaosTarget.setClockOffset`): only `npm run chaos` has that, with libfaketime. */
  needsMovableClocks?: boolean;
  /** The service the fault is on, alive throughout, whose answered calls give the run's amplification. */
  faulty?: string;
  expect: Expectations;
  inject(target: ChaosTarget): Promise<Injected>;
}

// The services whose events notifications reads from their feeds (docs/messaging.md).
const feedPublishers = ['users', 'orders', 'payment', 'media'];

// How long a killed service may take to come back (the runner's backoff and its start).
const restartBoundMs = 60_000;

function kill(service: string, promise: string): Scenario {
  return {
    name: `kill-${service}`,
    title: `Kill ${service} (SIGKILL; the runner starts it again)`,
    promise,
    needs: [service],
    expect: { recoveryBudgetMs: 10_000 },
    async inject(target) {
      await target.stack.kill(service, 'SIGKILL');
      return { timed: false, end: () => target.waitReady(service, restartBoundMs) };
    },
  };
}

function clockAhead(service: string, promise: string): Scenario {
  return {
    name: `clock-${service}`,
    title: `${service}'s wall clock 5 minutes ahead (libfaketime; its monotonic clock, and so its timers and deadlines, untouched)`,
    promise,
    needs: [service],
    needsMovableClocks: true,
    expect: { recoveryBudgetMs: 10_000 },
    async inject(target) {
      const { setClockOffset } = target;
      if (setClockOffset === undefined) throw new Error('this shop\'s clocks cannot be moved: npm run chaos starts each service under Debian\'s libfaketime when it is installed');
      await setClockOffset(service, 300);
      return { timed: true, end: () => setClockOffset(service, 0) };
    },
  };
}

function brokerDown(broker: 'nats' | 'rabbitmq'): Scenario {
  const label = broker === 'nats' ? 'NATS JetStream' : 'RabbitMQ';
  return {
    name: `${broker}-down`,
    title: `${label} cut off (every connection to it reset, new ones refused), on a shop whose events go through it`,
    promise: 'Nobody notices: browsing, checkouts and cancels succeed (the events wait in each outbox), and once the broker is back every email goes out, once.',
    needs: ['orders', 'notifications'],
    events: broker,
    expect: { recoveryBudgetMs: 0, unaffected: ['browse', 'checkout', 'cancel'] },
    async inject(target) {
      const link = target.brokerLink;
      if (link === undefined) throw new Error(`this shop's events do not go through a ${label} it can cut`);
      await link.cut();
      return { timed: true, end: () => link.restore() };
    },
  };
}

function overload(factor: number): Scenario {
  return {
    name: `overload-${factor}x`,
    title: `Overload: catalogue reads offered at ${factor}× the rate the shop was measured to sustain just before (an open loop from 250 addresses)`,
    promise: 'The critical class is kept (every service answers its readiness probe with 200 within 1 s throughout), the excess is shed with a 503 or limited with a 429 at once (no 500, no hang), the shoppers see no 500 and no hang, and the shop is itself again within 10 s.',
    needs: ['gateway', 'inventory'],
    expect: { recoveryBudgetMs: 10_000 },
    async inject(target) {
      const serviceUrls = Object.fromEntries(target.stack.services.map((name) => [name, target.stack.url(name)]));
      const flood = await startOverload({ gatewayUrl: target.gatewayUrl, serviceUrls, factor });
      let checks: Check[] = [];
      return { timed: true, end: async () => { checks = await flood.stop(); }, checks: () => checks };
    },
  };
}

/**
 * The named scenarios the console runs (issue 22) and `npm run chaos` will (issue 24). Each
 * breaks one thing for the run's fault window; the verdict says how the shop coped.
 */
export const scenarios: readonly Scenario[] = [
  kill('inventory', 'The product list and checkouts answer 503 at once while inventory is gone (no 500, no hang), and everything works again within 10 s of its return.'),
  kill('orders', 'Checkouts in flight get a 503 or their answer (never a 500); no acknowledged order is lost, none is told twice; checkouts work again within 10 s of its return.'),
  kill('payment', 'Checkouts answer 503 at once while payment is gone, browsing goes on, and nothing acknowledged is lost.'),
  kill('users', 'Checkouts answer 503 or succeed while users is gone (tokens are verified with keys already fetched), never a 500, and nothing acknowledged is lost.'),
  {
    ...kill('notifications', 'Nobody notices: browsing, checkouts and cancels succeed while notifications is gone (the events wait for it), and once it is back every email goes out, once.'),
    expect: { recoveryBudgetMs: 0, unaffected: ['browse', 'checkout', 'cancel'] },
  },
  {
    name: 'kill-postgres',
    title: 'Kill the embedded PostgreSQL (SIGKILL; the runner starts it again)',
    promise: 'Every request meanwhile is answered 503 at once (no 500, no hang), and the services are themselves again within 10 s of the database\'s return, with nothing acknowledged lost.',
    needs: [],
    expect: { recoveryBudgetMs: 10_000 },
    async inject(target) {
      await target.stack.kill('postgres', 'SIGKILL');
      return { timed: false, end: () => target.waitReady('postgres', restartBoundMs) };
    },
  },
  {
    name: 'provider-answer-lost',
    title: 'The payment provider charges, then its answer is lost: every payment intent is made and its answer held back 20 s',
    promise: 'Checkouts meanwhile answer 503 or 504 within their deadline, never a 500, browsing is untouched, and the shop is itself again within 10 s.',
    needs: ['payment', 'provider'],
    faulty: 'provider',
    expect: { recoveryBudgetMs: 10_000, unaffected: ['browse'] },
    async inject(target) {
      await target.setFaults('provider', [{ route: '/v1/payment_intents', method: 'POST', percent: 100, latencyMs: 20_000, after: true }]);
      return { timed: true, end: () => target.setFaults('provider', []) };
    },
  },
  {
    name: 'freeze-inventory',
    title: 'Freeze inventory (SIGSTOP: its connections open, answering nothing), then thaw it',
    promise: 'Nothing hangs: every request is answered within its deadline (a 503 or 504), and the shop is itself again within 10 s of the thaw.',
    needs: ['inventory'],
    faulty: 'inventory',
    expect: { recoveryBudgetMs: 10_000 },
    async inject(target) {
      await target.stack.kill('inventory', 'SIGSTOP');
      return { timed: true, end: async () => void await target.stack.kill('inventory', 'SIGCONT') };
    },
  },
  {
    name: 'slow-payment',
    title: 'Slow payment: every call to payment (gRPC and HTTP) takes 5 s more',
    promise: 'Checkouts answer within their 8 s deadline (paid, or 503/504), browsing is untouched (a slow payment holds no resource browsing needs), and the shop is itself again within 10 s.',
    needs: ['payment'],
    faulty: 'payment',
    expect: { recoveryBudgetMs: 10_000, unaffected: ['browse'] },
    async inject(target) {
      await target.setFaults('payment', [{ route: '*', percent: 100, latencyMs: 5_000 }]);
      return { timed: true, end: () => target.setFaults('payment', []) };
    },
  },
  {
    name: 'events-down',
    title: 'Events down: every event feed answers 503 (npm start has no broker: its events travel over each publisher\'s feed)',
    promise: 'Nobody notices: checkouts and cancels succeed (the events wait in the outbox), and once the feeds are back every email goes out, once.',
    needs: ['orders', 'notifications'],
    expect: { recoveryBudgetMs: 0, unaffected: ['browse', 'checkout', 'cancel'] },
    async inject(target) {
      const publishers = target.stack.services.filter((name) => feedPublishers.includes(name));
      const rules = [{ route: '/events/v1/feed', percent: 100, status: 503 }];
      await Promise.all(publishers.map((name) => target.setFaults(name, rules)));
      return { timed: true, end: async () => void await Promise.all(publishers.map((name) => target.setFaults(name, []))) };
    },
  },
  clockAhead('orders', 'Deadlines travel as budgets, not times, so none breaks. A service token orders signs by its clock, or judges by it, may be refused (more than 30 s off): that call answers 503, never a 401 or a 500, and the token is renewed, so the shop is itself again within 10 s of the clock coming back.'),
  brokerDown('nats'),
  brokerDown('rabbitmq'),
  overload(2),
  overload(5),
];

export function scenarioNamed(name: string): Scenario | undefined {
  return scenarios.find((s) => s.name === name);
}
