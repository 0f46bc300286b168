import type { Queryable } from '../db/index.ts';
import type { CloudEvent } from './cloud-event.ts';
import type { Outcome } from './transport.ts';

/**
 * What applying an event came to: `handled` by its handler, `ignored` (no handler for its type),
 * or a `duplicate` of one applied before.
 */
export type ApplyResult = 'handled' | 'ignored' | 'duplicate';

/**
 * A consumer as the code around it sees it: the transports that deliver to it, the replays of
 * its dead letters and the admin routes. `createEventConsumer` (consumer.ts) makes one. Apart
 * from consumer.ts because dead-letters.ts both serves a consumer (it records what died) and
 * drives one (a replay applies through it): with the shape here, neither file imports the other
 * both ways.
 */
export interface EventConsumer {
  readonly subscription: string;
  /** The domains whose events it must receive: one stream, exchange or feed each. */
  readonly domains: readonly string[];
  /** Handles one delivery and says what the transport must do with it. */
  deliver(event: CloudEvent, attempt: number): Promise<Outcome>;
  /** Applies an event once, in one transaction: used by deliveries and by replays of dead letters. */
  apply(event: CloudEvent, extra?: (tx: Queryable) => Promise<void>, attempt?: number): Promise<ApplyResult>;
  /** From now on every delivery in hand is given back instead of failing into the dead-letter queue. */
  shutdown(): void;
}
