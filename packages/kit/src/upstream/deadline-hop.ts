import { Code } from '../errors/index.ts';

// A hop is a service's name as the kit writes it (`inventory`, `kit-test`); anything else an
// upstream might put there is not passed on.
const hopPattern = /^[a-z][a-z0-9-]{0,62}$/;

/**
 * The `hop` an upstream's expired deadline names, as details for the error its caller sees.
 * A deadline runs out at one service and its 504 is passed up through every service on the
 * way to the edge; without this, each of them would report itself, and the log line, the
 * metric and the answer at the gateway would all say "gateway" when inventory ran out.
 *
 * `received` is what the upstream answered: the problem document over HTTP, the
 * `ErrorDetail`'s details over gRPC.
 *
 * @example
 * new KitError(code, message, { cause, details: hopDetailsOf(code, problem) });
 */
export function hopDetailsOf(code: Code, received: unknown): { hop: string } | undefined {
  if (code !== Code.DeadlineExceeded || typeof received !== 'object' || received === null) return undefined;
  const hop = (received as { hop?: unknown }).hop;
  return typeof hop === 'string' && hopPattern.test(hop) ? { hop } : undefined;
}
