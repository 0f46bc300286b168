import { z } from 'zod';
import type { Database } from '../db/index.ts';
import { createOutbox, type CloudEvent } from '../messaging/index.ts';

// Two event types of a test domain, for the kit's own tests (the shop's live in contracts/events).
export const itemAdded = { type: 'item.added', version: 1, domain: 'shelf', data: z.object({ item: z.string(), n: z.number().int() }) };
export const itemRemoved = { type: 'item.removed', version: 1, domain: 'shelf', data: z.object({ item: z.string() }) };

/** Writes `count` events, round robin over `aggregates` aggregates, each in its own transaction; returns them in writing order. */
export async function writeEvents(db: Database, { count, aggregates }: { count: number; aggregates: number }): Promise<CloudEvent[]> {
  const outbox = createOutbox({ domain: 'shelf' });
  const written: CloudEvent[] = [];
  for (let i = 0; i < count; i++) {
    const aggregateId = `shelf-${i % aggregates}`;
    written.push(await db.transaction((tx) => outbox.add(tx, itemAdded, { aggregateId, data: { item: aggregateId, n: i } })));
  }
  return written;
}
