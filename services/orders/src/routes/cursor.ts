import { z } from 'zod';
import { Code, KitError } from '@baton/kit/errors';

const position = z.object({ createdAt: z.iso.datetime(), id: z.uuid() });
export type Position = z.output<typeof position>;

/** An opaque page cursor: the last row's sort key, base64url JSON. */
export function encodeCursor(at: Position): string {
  return Buffer.from(JSON.stringify(at)).toString('base64url');
}

export function decodeCursor(cursor: string | undefined): Position | undefined {
  if (cursor === undefined) return undefined;
  try {
    return position.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
  } catch {
    throw new KitError(Code.InvalidArgument, 'the cursor is not valid', { fields: [{ field: 'query.cursor', message: 'not a cursor this API gave out' }] });
  }
}
