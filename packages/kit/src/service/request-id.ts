import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const requestIdHeader = 'x-request-id';

// A caller's request id is copied into every log line, so only a short, plain token is
// trusted; anything else (too long, control characters) is replaced by a fresh one.
const safeRequestId = /^[A-Za-z0-9._:-]{1,128}$/;

/** Takes the caller's `X-Request-ID` when it is safe to log, or makes a new one. */
export function requestIdOf(req: IncomingMessage): string {
  const given = req.headers[requestIdHeader];
  return typeof given === 'string' && safeRequestId.test(given) ? given : randomUUID();
}
