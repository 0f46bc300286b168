// A day: an upstream asking for longer is wrong, and a caller would wait for nothing.
const longestRetryAfterSeconds = 86_400;

/**
 * Reads `Retry-After` (RFC 9110 §10.2.3): whole seconds, or an HTTP date. Anything else, or a
 * date in the past, gives undefined or 0; nothing gives a negative or absurd wait.
 *
 * @example
 * parseRetryAfter('3');                              // 3
 * parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT');  // 0 (in the past)
 */
export function parseRetryAfter(value: string | readonly string[] | undefined, nowMs: number = Date.now()): number | undefined {
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  if (/^\d{1,10}$/.test(trimmed)) return Math.min(Number(trimmed), longestRetryAfterSeconds);
  // Every HTTP date form starts with the day's name; Date.parse alone would take '-1' as a year.
  if (!/^[A-Za-z]{3}/.test(trimmed)) return undefined;
  const atMs = Date.parse(trimmed);
  if (Number.isNaN(atMs)) return undefined;
  return Math.min(Math.max(0, Math.ceil((atMs - nowMs) / 1_000)), longestRetryAfterSeconds);
}
