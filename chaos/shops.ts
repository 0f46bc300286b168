import { join } from 'node:path';
import { targetOf, type ChaosTarget, type Scenario, type StackHandle } from '@baton/chaos';
import { serviceNames } from '@baton/runner';
import { startBrokerLink } from './broker-link.ts';
import { startChaosShop } from './chaos-shop.ts';
import { movableClocks } from './clocks.ts';
import { poisonWriterOf } from './poison-event.ts';
import { providerChargesOf } from './provider-charges.ts';
import { startRunnerShop } from './runner-shop.ts';
import { mountSmallDisk } from './small-disk.ts';

// The shops, in the order they are started: events over the services' feeds, through NATS,
// through RabbitMQ; and npm start's runner as a process of its own (its events over the feeds).
export type ShopKind = 'feed' | 'nats' | 'rabbitmq' | 'runner';
export const shopKinds: readonly ShopKind[] = ['feed', 'nats', 'rabbitmq', 'runner'];
export const shopKindOf = (scenario: Scenario): ShopKind => (scenario.runnerProcess === true ? 'runner' : scenario.events ?? 'feed');
// The brokers of this machine (.ci/run starts them) that a broker's shop reaches through a link of its own.
export const brokers = { nats: { host: '127.0.0.1', port: 4222 }, rabbitmq: { host: '127.0.0.1', port: 5672 } } as const;
// Media's small disk: room for a run's uploads (64×48 pictures and their sizes), little to fill.
const smallDiskMiB = 64;

/** A shop the scenarios of a group run on, one after another. */
export interface Shop {
  target: ChaosTarget;
  /** Resolves once every service is ready again: between scenarios, so each starts from a whole shop. */
  whole(timeoutMs: number): Promise<void>;
  stop(): Promise<void>;
  /** Why this shop cannot run the scenario, or undefined. */
  lacks(scenario: Scenario): string | undefined;
}

/**
 * Starts the shop a group of scenarios runs on, and registers in `cleanups` what must go after
 * it (first in the list, first to go): a broker link, a small disk.
 */
export async function startShop({ kind, shopDir, env, group, cleanups, logFile, namespace, say }: {
  kind: ShopKind; shopDir: string; env: NodeJS.ProcessEnv; group: readonly Scenario[]; cleanups: Array<() => Promise<void>>;
  /** Where the services' warnings go. */
  logFile: string;
  /** The run's own names on a broker others share. */
  namespace: string;
  say: (text: string) => void;
}): Promise<Shop> {
  if (kind === 'runner') {
    say('starting the shop with npm start\'s runner, a process of its own');
    const shop = await startRunnerShop({ varDir: shopDir, logFile, env, startTimeoutMs: 120_000 });
    const { handle } = shop;
    const target = targetOf(handle, { runner: shop.runner, providerCharges: providerChargesOf({ varDir: shopDir, providerUrl: handle.url('provider') }) });
    return { target, stop: shop.stop, whole: (timeoutMs) => allReady(handle, timeoutMs), lacks: () => undefined };
  }
  const link = kind === 'feed' ? undefined : await startBrokerLink(brokers[kind]);
  if (link !== undefined) cleanups.unshift(() => link.close());
  const messaging = link === undefined ? {} : {
    ...(kind === 'nats' ? { NATS_URL: `nats://127.0.0.1:${link.port}` } : { AMQP_URL: `amqp://guest:guest@127.0.0.1:${link.port}/` }),
    // Streams, subjects, exchanges and queues of this run's own, on a broker others share.
    MESSAGING_NAMESPACE: namespace,
  };
  // Media's folder on a small disk of its own, when a scenario fills it (root, on Linux).
  const disk = group.some((s) => s.needsSmallDisk === true) ? await mountSmallDisk(join(shopDir, 'media'), smallDiskMiB) : undefined;
  if (disk !== undefined) cleanups.unshift(() => disk.close());
  say(`starting the shop${link === undefined ? '' : `, its events through ${kind === 'nats' ? 'NATS' : 'RabbitMQ'}`}`);
  // Each service's wall clock movable (the clock scenarios), when Debian's libfaketime is installed.
  const clocks = await movableClocks(join(shopDir, 'clocks'), serviceNames);
  const serviceEnv = Object.fromEntries(serviceNames.map((name) => [name, { ...clocks?.environment(name), ...messaging }]));
  const shop = await startChaosShop({ varDir: shopDir, logFile, env, serviceEnv });
  const { stack } = shop;
  const target = targetOf(stack, {
    setClockOffset: clocks?.set, brokerLink: link, mediaDisk: disk, writePoisonEvent: poisonWriterOf(stack),
    providerCharges: providerChargesOf({ varDir: stack.varDir, providerUrl: stack.url('provider') }),
  });
  return {
    target, stop: shop.stop, whole: shop.whole,
    lacks(scenario) {
      if (scenario.needsMovableClocks === true && clocks === undefined) return 'Debian\'s libfaketime is not installed (apt-get install libfaketime): each service\'s clock cannot be moved';
      if (scenario.needsSmallDisk === true && disk === undefined) return 'media\'s folder cannot be put on a small disk of its own: that takes mounting a tmpfs, as root on Linux';
      return undefined;
    },
  };
}

function allReady(stack: StackHandle, timeoutMs: number): Promise<void> {
  return Promise.all(stack.services.map((name) => stack.waitReady(name, { timeoutMs }))).then(() => undefined);
}
