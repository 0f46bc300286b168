/** A fault of the multi-host proof (`npm run test:hosts`): on the wire between hosts, or a rollout across replicas. */
export interface HostScenario {
  name: string;
  title: string;
  promise: string;
}

/**
 * The scenarios that need hosts of their own: every service from its image in a network
 * namespace of its own, two replicas of each but the gateway and the provider
 * (test/hosts/hosts-proof.ts). They run one after another on one such lab, under one shopper
 * load, so selecting any of them runs them all. Linux, as root, with podman.
 */
export const hostScenarios: readonly HostScenario[] = [
  {
    name: 'partition-inventory',
    title: 'One of two inventory replicas partitioned (every packet to and from its host dropped) for 10 s (6 s with --short)',
    promise: 'Checkouts keep working (9 in 10 at least), no 500, no hang, every answer within its deadline; the partitioned replica, in rotation before, is out of it within 5 s; all well again within 8 s of the fault\'s end.',
  },
  {
    name: 'delay-inventory',
    title: 'The other inventory replica 500 ms slower (a delaying relay on its host) for 10 s (6 s with --short)',
    promise: 'Checkouts keep working, no 500, no hang, every answer within its deadline, all well again within 8 s.',
  },
  {
    name: 'loss-inventory',
    title: 'One inventory replica loses 20% of its packets, both ways, for 10 s (6 s with --short)',
    promise: 'Checkouts keep working, no 500, no hang, every answer within its deadline, all well again within 8 s.',
  },
  {
    name: 'broker-host-cut',
    title: 'The NATS JetStream host cut off (its link down) for 10 s (6 s with --short)',
    promise: 'Checkouts keep working, no 500, no hang; the events wait in each outbox and go out once it is back.',
  },
  {
    name: 'rolling-restart',
    title: 'A rolling restart: every replica of users, inventory, payment, orders and notifications, one at a time, SIGTERM and started again, ready before the next',
    promise: 'Not one request fails; and over the whole run every acknowledged order is kept and told of once.',
  },
];
