/**
 * An error in Stripe's words: the status and the `error` object its API answers with, so a
 * client written for Stripe reads it as it would Stripe's. Thrown by the ledger, answered by
 * the routes (routes.ts); anything else that fails is the kit's 500.
 */
export class StripeError extends Error {
  readonly status: number;
  readonly body: Record<string, unknown>;

  constructor(status: number, body: { type: string; message: string; code?: string; param?: string; decline_code?: string; payment_intent?: unknown }) {
    super(body.message);
    this.status = status;
    this.body = body;
  }
}

export const invalidRequest = (message: string, param?: string, code = 'parameter_invalid') =>
  new StripeError(400, { type: 'invalid_request_error', code, message, ...(param ? { param } : {}) });

export const missing = (what: string, id: string, param = 'id') =>
  new StripeError(404, { type: 'invalid_request_error', code: 'resource_missing', message: `No such ${what}: '${id}'`, param });

export const unexpectedState = (intent: { id: string; status: string }, action: string) =>
  new StripeError(400, {
    type: 'invalid_request_error', code: 'payment_intent_unexpected_state',
    message: `This PaymentIntent's ${action} could not be done because it has a status of ${intent.status}.`, payment_intent: intent,
  });
