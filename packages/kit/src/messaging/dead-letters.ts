import type { Database } from '../db/index.ts';
import { Code, KitError } from '../errors/index.ts';
import type { CloudEvent } from './cloud-event.ts';
import type { ApplyResult, EventConsumer } from './event-consumer.ts';
import { describeError } from './describe-error.ts';

export interface DeadLetter {
  id: number;
  subscription: string;
  eventId: string;
  type: string;
  event: CloudEvent;
  error: string;
  attempts: number;
  deadAt: string;
  replayedAt: string | null;
}

type DeadLetterRow = {
  id: string | number; subscription: string; event_id: string; type: string; event: CloudEvent | string;
  error: string; attempts: number; dead_at: Date | string; replayed_at: Date | string | null;
};

function toDeadLetter(row: DeadLetterRow): DeadLetter {
  return {
    id: Number(row.id),
    subscription: row.subscription,
    eventId: row.event_id,
    type: row.type,
    event: typeof row.event === 'string' ? JSON.parse(row.event) as CloudEvent : row.event,
    error: row.error,
    attempts: row.attempts,
    deadAt: new Date(row.dead_at).toISOString(),
    replayedAt: row.replayed_at === null ? null : new Date(row.replayed_at).toISOString(),
  };
}

/** Records (or, for an event that died again after a replay, renews) a dead letter. */
export async function recordDeadLetter(db: Database, { subscription, event, error, attempts }: {
  subscription: string; event: CloudEvent; error: string; attempts: number;
}): Promise<void> {
  await db.query(
    `insert into baton_dead_letters (subscription, event_id, type, event, error, attempts) values ($1, $2, $3, $4::jsonb, $5, $6)
     on conflict (subscription, event_id) do update set error = excluded.error, attempts = excluded.attempts, dead_at = now(), replayed_at = null`,
    [subscription, event.id, event.type, JSON.stringify(event), error, attempts]);
}

export async function listDeadLetters(db: Database, subscription: string, { includeReplayed = false, limit = 100 } = {}): Promise<DeadLetter[]> {
  const { rows } = await db.query<DeadLetterRow>(
    `select * from baton_dead_letters where subscription = $1 and ($2 or replayed_at is null) order by id limit $3`,
    [subscription, includeReplayed, limit]);
  return rows.map(toDeadLetter);
}

export interface ReplayResult {
  id: number;
  eventId: string;
  /** `handled`: applied now. `duplicate`: it had been applied already (by an earlier replay or a late redelivery). */
  result: ApplyResult;
}

/**
 * Applies a dead letter's event again, through the same idempotent path as a delivery: the
 * inbox row, the handler's changes and the dead letter's `replayed_at` commit together, so a
 * replay delivers the event once however often it is asked for. If it fails again, the dead
 * letter stays, with the new error, and the error is thrown (`failed_precondition`).
 */
export async function replayDeadLetter(db: Database, consumer: EventConsumer, id: number): Promise<ReplayResult> {
  const { rows } = await db.query<DeadLetterRow>('select * from baton_dead_letters where id = $1 and subscription = $2', [id, consumer.subscription]);
  const row = rows[0];
  if (row === undefined) throw new KitError(Code.NotFound, 'no such dead letter');
  const letter = toDeadLetter(row);
  if (letter.replayedAt !== null) return { id, eventId: letter.eventId, result: 'duplicate' };
  try {
    const result = await consumer.apply(letter.event, async (tx) => {
      await tx.query('update baton_dead_letters set replayed_at = now() where id = $1', [id]);
    });
    if (result === 'duplicate') await db.query('update baton_dead_letters set replayed_at = now() where id = $1 and replayed_at is null', [id]);
    return { id, eventId: letter.eventId, result };
  } catch (error) {
    const description = describeError(error);
    await db.query('update baton_dead_letters set error = $2, attempts = attempts + 1 where id = $1', [id, description]);
    throw new KitError(Code.FailedPrecondition, `the replay failed again: ${description}`, { reason: 'replay_failed', cause: error });
  }
}

/** Replays every pending dead letter of the subscription, oldest first; one that fails again does not stop the others. */
export async function replayAllDeadLetters(db: Database, consumer: EventConsumer): Promise<Array<ReplayResult | { id: number; eventId: string; error: string }>> {
  const results: Array<ReplayResult | { id: number; eventId: string; error: string }> = [];
  for (;;) {
    const pending = (await listDeadLetters(db, consumer.subscription, { limit: 100 })).filter((letter) => !results.some((r) => r.id === letter.id));
    if (pending.length === 0) return results;
    for (const letter of pending) {
      try {
        results.push(await replayDeadLetter(db, consumer, letter.id));
      } catch (error) {
        results.push({ id: letter.id, eventId: letter.eventId, error: KitError.from(error).message });
      }
    }
  }
}
