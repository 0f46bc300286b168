import { skuParams } from '@baton/contracts/http';
import { z } from 'zod';
import { Code, KitError } from '@baton/kit/errors';

// What a cursor holds: the last SKU of the page it ended. Callers treat it as opaque, so its
// shape can change without breaking them.
const position = z.strictObject({ after: skuParams.shape.sku });

/** An opaque page cursor: the last row's SKU as base64url JSON. */
export function encodeCursor(afterSku: string): string {
  return Buffer.from(JSON.stringify({ after: afterSku })).toString('base64url');
}

/** The SKU a cursor continues after; a cursor this API did not give out is a 400. */
export function decodeCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined;
  try {
    return position.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))).after;
  } catch (error) {
    throw new KitError(Code.InvalidArgument, 'the cursor is not valid', {
      fields: [{ field: 'query.cursor', message: 'not a cursor this API gave out' }],
      cause: error,
    });
  }
}
