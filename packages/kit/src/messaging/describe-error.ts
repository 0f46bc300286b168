import { KitError } from '../errors/index.ts';

/**
 * One line an operator can act on, for a dead letter or a relay's `last_error`: the code, the
 * message, and the message of the cause a KitError hides from callers (an SMTP server's
 * "550 mailbox unavailable", say). Never a stack. These lines go only to the service's own
 * tables and logs and to the admin API, never to a caller of the public API.
 */
export function describeError(error: unknown): string {
  const kitError = KitError.from(error);
  const cause = kitError.cause instanceof Error ? kitError.cause.message : undefined;
  const parts = [`${kitError.code}: ${kitError.message}`];
  if (cause !== undefined && cause !== kitError.message) parts.push(cause);
  return parts.join(': ');
}
