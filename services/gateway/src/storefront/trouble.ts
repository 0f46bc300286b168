import { publicCodeOf, publicErrors, type PublicErrorCode } from '@baton/contracts/http';
import { KitError, toProblem, type FieldViolation } from '@baton/kit/errors';

/** What went wrong, said to a shopper: what happened, whether trying again can help, and which fields to mend. */
export interface Trouble {
  status: number;
  code: PublicErrorCode;
  /** One or two sentences a person reads; never a stack, a service's name or an internal reason. */
  message: string;
  /** Whether the same thing, tried again in a moment, may well work (a service down, busy or slow). */
  retry: boolean;
  retryAfterSeconds: number | undefined;
  /** Each form field that is wrong, by its name in the form (`email`, not `body.email`). */
  fields: Record<string, string>;
  /** out_of_stock: the lines short of stock. */
  unavailable: Array<{ sku: string; requested: number; available: number }>;
}

// Said in the shop's voice. Codes not named here are told with the public catalogue's sentence.
const wordsFor: Partial<Record<PublicErrorCode, string>> = {
  service_unavailable: 'The shop could not do this just now: a part of it is busy or restarting. Nothing was lost. Try again in a moment.',
  timeout: 'This took too long, so the shop gave up waiting. Nothing was done twice. Try again in a moment.',
  request_timeout: 'This took too long to arrive. Try again.',
  rate_limited: 'There have been many requests from here in a short time. Wait a minute, then try again.',
  sign_in_throttled: 'There have been too many wrong sign-ins from here. Wait a little, then try again.',
  wrong_credentials: 'That email and password do not match an account.',
  email_taken: 'There is already an account with this email. Sign in instead.',
  out_of_stock: 'Some items are not in stock in the quantity in your cart. Nothing was ordered and nothing was charged.',
  payment_declined: 'Your card was declined. Nothing was charged and your cart is as it was. Try another card.',
  order_expired: 'The items held for this order were let go before it was paid. Nothing was charged. Place it again.',
  unknown_product: 'Something in your cart is no longer sold. Remove it and try again.',
  not_found: 'There is nothing here, or it is not yours.',
  invalid_request: 'Some of what was sent is not right; see below.',
  idempotency_key_reused: 'This checkout was sent before with other items. Start the checkout again.',
  sign_in_required: 'Please sign in first.',
  token_expired: 'Your session has ended. Please sign in again.',
  token_revoked: 'You were signed out. Please sign in again.',
  forbidden: 'You may not do this.',
  internal_error: 'Something went wrong on our side. It has been logged; try again later.',
};

const retryable = new Set<PublicErrorCode>(['service_unavailable', 'timeout', 'request_timeout', 'rate_limited', 'sign_in_throttled']);

/**
 * A thrown error in a shopper's words, decided from the public code the API would answer with,
 * so a page and the API never disagree about what happened.
 */
export function troubleOf(error: unknown): Trouble {
  const kitError = KitError.from(error);
  const { status } = toProblem(kitError);
  const code = publicCodeOf(kitError.code, kitError.reason);
  const fields = Object.fromEntries(kitError.fields.map((f: FieldViolation) => [formFieldOf(f.field), f.message]));
  const unavailable = Array.isArray(kitError.details.unavailable) ? kitError.details.unavailable as Trouble['unavailable'] : [];
  return {
    status, code, fields, unavailable,
    message: messageFor(code, Object.keys(fields).length > 0, kitError.retryAfterSeconds),
    retry: retryable.has(code),
    retryAfterSeconds: kitError.retryAfterSeconds ?? (status === 503 || status === 429 ? 1 : undefined),
  };
}

/** The words for a code; a wait said as long as it is, a form's errors pointed at only when there are some. */
function messageFor(code: PublicErrorCode, hasFields: boolean, retryAfterSeconds: number | undefined): string {
  if (code === 'invalid_request' && !hasFields) return 'Some of what was sent is not right. Go back and try again.';
  if ((code === 'rate_limited' || code === 'sign_in_throttled') && retryAfterSeconds !== undefined && retryAfterSeconds > 90) {
    const minutes = Math.ceil(retryAfterSeconds / 60);
    const what = code === 'rate_limited' ? 'There have been many requests from here in a short time.' : 'There have been too many wrong sign-ins from here.';
    return `${what} Wait ${minutes} minutes, then try again.`;
  }
  return wordsFor[code] ?? publicErrors[code].title;
}

/** A problem's field path (`body.items[0].quantity`, `query.q`) as the form names it (`items`, `q`). */
function formFieldOf(path: string): string {
  return path.replace(/^(body|query|params)\./, '').split(/[.[]/)[0] ?? path;
}
