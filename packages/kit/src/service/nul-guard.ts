import type { FastifyInstance } from 'fastify';
import { Code, KitError, type FieldViolation } from '../errors/index.ts';

const message = 'must not contain the NUL character (\\u0000): no text the service keeps can hold it';

/**
 * Refuses a request whose body, query or path holds the NUL character in any string (or key),
 * with a 400 naming each field. PostgreSQL's text cannot hold it, so such a value would
 * otherwise reach the database and come back as a 500 (found trying the shop: a name of
 * "a\u0000b" at sign-up). Checked once here, before any route's own validation, for every route.
 */
export function installNulGuard(app: FastifyInstance): void {
  app.addHook('preValidation', function refuseNul(request, _reply, done) {
    // On every request: a request with nothing to refuse makes no array of its own.
    const body = nulFields('body', request.body);
    const query = nulFields('query', request.query);
    const params = nulFields('params', request.params);
    if (body === none && query === none && params === none) {
      done();
      return;
    }
    done(new KitError(Code.InvalidArgument, 'the request is not valid', { fields: [...body, ...query, ...params] }));
  });
}

const none: readonly FieldViolation[] = Object.freeze([]);

/** The paths (`body.items.0.name`) of the strings and keys under `value` that hold a NUL. */
function nulFields(root: string, value: unknown): readonly FieldViolation[] {
  if (value === undefined || value === null) return none;
  const found: FieldViolation[] = [];
  // A loop, not recursion: a body nested thousands deep must not exhaust the stack.
  const pending: Array<[string, unknown]> = [[root, value]];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [path, current] = next;
    if (typeof current === 'string') {
      if (current.includes('\u0000')) found.push({ field: path, message });
    } else if (typeof current === 'object' && current !== null) {
      for (const [key, child] of Object.entries(current)) {
        const childPath = `${path}.${key.replaceAll('\u0000', '\\u0000')}`;
        if (key.includes('\u0000')) found.push({ field: childPath, message });
        pending.push([childPath, child]);
      }
    }
  }
  return found.length === 0 ? none : found.reverse();
}
