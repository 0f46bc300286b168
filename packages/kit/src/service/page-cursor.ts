import type { z } from 'zod';
import { Code, KitError } from '../errors/index.ts';

export interface PageCursorOptions {
  /** The field a bad cursor is reported on, as the kit names request fields. */
  field?: string;
}

export interface PageCursor<In, Out> {
  /** The cursor of the page after `position`: base64url JSON, opaque to the caller. */
  encode(position: In): string;
  /** The position a cursor continues from; undefined when there is none; a 400 when it is not one this API gave out. */
  decode(cursor: string | undefined): Out | undefined;
}

/**
 * One page cursor for a list route: the position a page ended at (its last row's sort key),
 * given to the caller as an opaque base64url JSON string and checked against `schema` when it
 * comes back. A cursor that is garbled or was tampered with is an `invalid_argument` (400)
 * naming the `cursor` field, never a query on whatever it held. Callers treat it as opaque, so
 * its shape can change without breaking them.
 *
 * @example
 * const ordersCursor = createPageCursor(z.object({ createdAt: z.iso.datetime(), id: z.uuid() }));
 * const orders = await listOrders(db, userId, { limit, after: ordersCursor.decode(request.query.cursor) });
 * const nextCursor = last === undefined ? null : ordersCursor.encode({ createdAt: last.createdAt, id: last.id });
 */
export function createPageCursor<S extends z.ZodType>(schema: S, { field = 'query.cursor' }: PageCursorOptions = {}): PageCursor<z.input<S>, z.output<S>> {
  return {
    encode(position) {
      return Buffer.from(JSON.stringify(position)).toString('base64url');
    },
    decode(cursor) {
      if (cursor === undefined) return undefined;
      let position: unknown;
      try {
        position = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
      } catch (error) {
        throw notACursor(field, error);
      }
      const parsed = schema.safeParse(position);
      if (!parsed.success) throw notACursor(field, parsed.error);
      return parsed.data;
    },
  };
}

function notACursor(field: string, cause: unknown): KitError {
  return new KitError(Code.InvalidArgument, 'the cursor is not valid', { fields: [{ field, message: 'not a cursor this API gave out' }], cause });
}
