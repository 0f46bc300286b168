import { Code, KitError } from '@baton/kit/errors';

/**
 * An upstream's answer without a field its server always sends, or with a value out of range:
 * it broke its contract. The same error over HTTP and gRPC, `bad_response` (an internal fault,
 * never retried), with why in the cause for the log.
 */
export const badAnswer = (why: string): KitError => new KitError(Code.Internal, 'a dependency sent a response that could not be read', {
  reason: 'bad_response', cause: new Error(why),
});
