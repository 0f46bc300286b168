import type { z } from 'zod';
import { Code, KitError } from '../../errors/index.ts';

/**
 * Checks a gRPC request against the same zod schema the service's HTTP route uses, so both
 * edges accept exactly the same input; a bad one is INVALID_ARGUMENT naming every wrong field
 * (`items.0.quantity`), carried in the error detail's field violations.
 *
 * @example
 * const { orderId, items } = validateInput(reserveBody, { orderId: req.orderId, items: req.items });
 */
export function validateInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw new KitError(Code.InvalidArgument, 'the request is not valid', {
    fields: result.error.issues.map((issue) => ({ field: issue.path.map(String).join('.') || 'request', message: issue.message })),
    cause: result.error,
  });
}
