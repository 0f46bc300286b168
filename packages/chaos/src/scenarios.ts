import type { ChaosTarget } from './chaos-target.ts';
import { startOverload } from './overload.ts';
import type { RequestRecord } from './outcome.ts';
import type { Check, Expectations } from './verdict.ts';

/** A fault in force; `end` ends it (for a kill, it waits for the runner to bring the service back). */
export interface Injected {
  /** True: the fault lasts the run's fault window, then `end`. False: `end` at once (it waits for the shop itself). */
  timed: boolean;
  end(): Promise<void>;
  /** What the fault itself saw, judged once it has ended (an overload's flood and its probes), added to the verdict; `records` are the load's. */
  checks?(records: readonly RequestRecord[]): Check[];
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
  /** Needs media's folder on a small disk of its own that can be filled (`ChaosTarget.mediaDisk`): `npm run chaos` as root on Linux. */
  needsSmallDisk?: boolean;
  /** Runs on a shop started as `npm start` starts it, the runner its own process (`ChaosTarget.runner`), not in the chaos command's process. */
  runnerProcess?: boolean;
  /** Writes into a service's database (`ChaosTarget.writePoisonEvent`): only `npm run chaos`, which started the shop, holds them. */
  needsDatabases?: boolean;
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
  {
    ...kill('gateway', 'While the one gateway is gone a shopper\'s connection is refused at once (no hang): nobody else stands in for it on one machine. Everything works again within 10 s of its return, with nothing acknowledged lost.'),
    expect: { recoveryBudgetMs: 10_000, entryDownWithinMs: 1_000 },
  },
  {
    ...kill('media', 'Uploads answer 503 at once while media is gone, browsing, checkouts and cancels do not notice, and every upload acknowledged before is kept and rendered.'),
    expect: { recoveryBudgetMs: 10_000, unaffected: ['browse', 'checkout', 'cancel'] },
  },
  {
    name: 'kill-runner',
    title: 'Kill the runner itself (SIGKILL to npm start\'s process: no handler of its runs), then npm start again on the same data',
    promise: 'Every service and the embedded PostgreSQL exit on their own within 10 s, leaving no port held; npm start again on the same folder works, and nothing acknowledged before the kill is lost (the accounts, orders, images and emails all there).',
    needs: [],
    runnerProcess: true,
    // The services exit within 4 s of noticing the runner gone (kit/service/run-service.ts), and a second more.
    expect: { recoveryBudgetMs: 10_000, entryDownWithinMs: 5_000 },
    async inject(target) {
      const { runner } = target;
      if (runner === undefined) throw new Error('this shop\'s runner is not a process of its own: npm run chaos starts one for kill-runner');
      const left = await runner.killHard();
      return { timed: false, end: () => runner.startAgain(restartBoundMs), checks: () => [left] };
    },
  },
  {
    name: 'disk-full-media',
    title: 'Media\'s disk full: its folder on a small filesystem of its own, filled to the last byte',
    promise: 'Uploads answer 507 storage_full at once while the disk is full, keeping nothing; browsing, checkouts and cancels do not notice; once there is room uploads work again within 10 s, and every acknowledged image is rendered and listed.',
    needs: ['media'],
    needsSmallDisk: true,
    expect: { recoveryBudgetMs: 10_000, unaffected: ['browse', 'checkout', 'cancel'] },
    async inject(target) {
      const disk = target.mediaDisk;
      if (disk === undefined) throw new Error('media\'s folder is not on a disk of its own that can be filled');
      const filledBytes = await disk.fill();
      return {
        timed: true,
        end: () => disk.free(),
        checks: (records) => {
          // The fault was felt: without a 507 the disk was not full and the scenario proved nothing.
          const full = records.filter((r) => r.kind === 'upload' && r.status === 507).length;
          return [{ name: 'the full disk said so', passed: full > 0, detail: `${full} uploads answered 507 storage_full while ${Math.round(filledBytes / 1_048_576)} MiB of filler left no room` }];
        },
      };
    },
  },
  {
    name: 'poison-event',
    title: 'A poison event: orders\' outbox gets an order.created whose data breaks its contract, as a publisher with a bug would write it',
    promise: 'Nobody notices: browsing, checkouts and cancels succeed; notifications parks the poison in its dead letters with its error and goes on, so every other email goes out, once.',
    needs: ['orders', 'notifications'],
    needsDatabases: true,
    expect: { recoveryBudgetMs: 0, unaffected: ['browse', 'checkout', 'cancel'] },
    async inject(target) {
      const { writePoisonEvent } = target;
      if (writePoisonEvent === undefined) throw new Error('this shop\'s outbox cannot be written to: npm run chaos holds its database');
      const before = new Set((await target.deadLetters('notifications')).map((d) => d.eventId));
      const eventId = await writePoisonEvent('orders');
      let parked: Check = { name: 'the poison parked', passed: false, detail: 'not looked for' };
      return {
        timed: true,
        async end() {
          // Parked at once (an event that breaks its contract is not tried again), so by the fault's end at the latest.
          const letters = (await target.deadLetters('notifications')).filter((d) => !before.has(d.eventId));
          const poison = letters.find((d) => d.eventId === eventId);
          const others = letters.filter((d) => d.eventId !== eventId);
          parked = {
            name: 'the poison parked',
            passed: poison !== undefined && others.length === 0,
            detail: poison === undefined ? `the poison ${eventId} is not among notifications' dead letters` : `notifications dead-lettered it (${firstLine(poison.error)}) after ${poison.attempts} attempt(s); ${others.length} other events dead-lettered`,
          };
        },
        checks: () => [parked],
      };
    },
  },
  overload(2),
  overload(5),
];

/** An error's first words, without the detail a validator lists after them. */
function firstLine(error: string): string {
  return error.split('\n')[0]!.replace(/:\s*\[?$/, '').slice(0, 120);
}

/**
 * Why a scenario needs the shop `npm run chaos` starts and no other (a running stack's console
 * cannot move clocks, cut a broker, fill a disk, reach the databases or kill its own runner),
 * or undefined when any running stack will do.
 */
export function onlyOnTheChaosShop(scenario: Scenario): string | undefined {
  if (scenario.needsMovableClocks === true) return 'it moves a service\'s clock, which only a shop started under libfaketime allows';
  if (scenario.events !== undefined) return 'it cuts a broker, which only a shop whose events go through a link of npm run chaos\'s allows';
  if (scenario.needsSmallDisk === true) return 'it fills media\'s disk, which only a shop whose media folder is on a small disk of its own allows';
  if (scenario.needsDatabases === true) return 'it writes into a service\'s database, which only the command that started the shop holds';
  if (scenario.runnerProcess === true) return 'it kills the runner, which would take the console with it';
  return undefined;
}

export function scenarioNamed(name: string): Scenario | undefined {
  return scenarios.find((s) => s.name === name);
}
