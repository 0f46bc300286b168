import type { Code } from '../errors/index.ts';

// What a caller may read of an upstream's error, whichever transport brought it: the upstream's
// own words only when a Baton server declared them caller-safe, and then bounded; otherwise a
// generic message for the code.

const messageByCode: Partial<Record<Code, string>> = {
  unavailable: 'a dependency is unavailable',
  deadline_exceeded: 'a dependency did not answer in time',
  not_found: 'not found',
  resource_exhausted: 'a dependency is overloaded',
  unauthenticated: 'a dependency refused the credentials',
  permission_denied: 'a dependency refused the request',
};
const genericMessage = 'a dependency failed';
const reasonPattern = /^[a-z][a-z0-9_]{0,63}$/;
const longestMessageLength = 500;

/** What a caller reads for an upstream's error of this code when the upstream said nothing it may see. */
export function callerMessageOf(code: Code): string {
  return messageByCode[code] ?? genericMessage;
}

/** Whether a reason is a Baton reason (a short snake_case token); anything else is not passed on. */
export function isBatonReason(reason: unknown): reason is string {
  return typeof reason === 'string' && reasonPattern.test(reason);
}

/** An upstream's caller-safe message, cut to a length a caller's answer can carry. */
export function boundedMessage(message: string): string {
  return message.slice(0, longestMessageLength);
}
