import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Database } from '../db/index.ts';
import { Code, KitError } from '../errors/index.ts';
import type { EventConsumer } from './event-consumer.ts';
import { listDeadLetters, replayAllDeadLetters, replayDeadLetter } from './dead-letters.ts';

const listQuery = z.object({
  includeReplayed: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});
const idParams = z.object({ id: z.coerce.number().int().min(1) });

function parse<T>(schema: z.ZodType<T>, value: unknown, where: string): T {
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new KitError(Code.InvalidArgument, `invalid ${where}`, {
      fields: result.error.issues.map((issue) => ({ field: [where, ...issue.path.map(String)].join('.'), message: issue.message })),
    });
  }
  return result.data;
}

/**
 * The dead-letter admin API of a consuming service, on its admin listener (`context.adminApp`),
 * which checks the service's admin token before every route:
 *
 * - `GET /admin/dead-letters?includeReplayed=&limit=`: the events given up on, with their errors;
 * - `POST /admin/dead-letters/:id/replay`: applies one again, once;
 * - `POST /admin/dead-letters/replay`: applies every pending one, oldest first.
 */
export function registerDeadLetterRoutes(adminApp: FastifyInstance, { db, consumer }: { db: Database; consumer: EventConsumer }): void {
  adminApp.get('/admin/dead-letters', async function listDead(request) {
    const { includeReplayed, limit } = parse(listQuery, request.query, 'query');
    return { subscription: consumer.subscription, items: await listDeadLetters(db, consumer.subscription, { includeReplayed, limit }) };
  });

  adminApp.post('/admin/dead-letters/:id/replay', async function replayOne(request) {
    const { id } = parse(idParams, request.params, 'params');
    const replayed = await replayDeadLetter(db, consumer, id);
    request.log.warn({ dead_letter: id, event_id: replayed.eventId, result: replayed.result }, 'dead letter replayed');
    return replayed;
  });

  adminApp.post('/admin/dead-letters/replay', async function replayAll(request) {
    const results = await replayAllDeadLetters(db, consumer);
    request.log.warn({ replayed: results.length }, 'dead letters replayed');
    return { results };
  });
}
