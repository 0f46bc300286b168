/**
 * The public API's error codes: the one catalogue of what a client of the shop may read in a
 * problem document's `code`, in the shop's words, each with the sentence its `title` carries
 * and its HTTP status. The services speak the kit's codes to each other (gRPC's words:
 * `aborted`, `failed_precondition`); the gateway, the one public edge, says them in these
 * (`publicCodeOf`), and nothing of the internal words goes out. docs/api.md lists them, and
 * test/public-errors.test.ts keeps the list, the statuses and that page in step.
 */
export const publicErrors = {
  // The request itself.
  invalid_request: { status: 400, title: 'The request is not valid; `errors` names each field that is wrong and why' },
  bad_path: { status: 400, title: 'The request path is not valid' },
  method_not_allowed: { status: 405, title: 'This path does not take this method' },
  not_acceptable: { status: 406, title: 'The answer can only be JSON' },
  request_timeout: { status: 408, title: 'The request did not arrive in time, or its time had run out before it did' },
  uri_too_long: { status: 414, title: 'The request path is too long' },
  expectation_failed: { status: 417, title: 'Only the Expect: 100-continue header is understood' },
  headers_too_large: { status: 431, title: 'The request headers are too large' },
  unsupported_media_type: { status: 415, title: 'The body must be JSON, sent with Content-Type: application/json' },
  body_too_large: { status: 413, title: 'The request body is too large' },
  not_an_image: { status: 415, title: 'The file is not a JPEG, PNG, WebP or AVIF image (its bytes decide, not its name or type)' },
  range_not_satisfiable: { status: 416, title: 'The range asked for is past the end; Content-Range says the size' },
  // Who is asking.
  sign_in_required: { status: 401, title: 'Sign in first: this needs a valid access token' },
  token_expired: { status: 401, title: 'The access token has expired; refresh it or sign in again' },
  token_revoked: { status: 401, title: 'The access token was revoked (a sign-out or a password change); sign in again' },
  wrong_credentials: { status: 401, title: 'The email or the password is not right' },
  invalid_refresh_token: { status: 401, title: 'The refresh token is not valid; sign in again' },
  refresh_token_expired: { status: 401, title: 'The refresh token has expired; sign in again' },
  session_revoked: { status: 401, title: 'This session has ended; sign in again' },
  refresh_token_reused: { status: 401, title: 'This refresh token was used before, so its session was ended; sign in again' },
  forbidden: { status: 403, title: 'You may not do this' },
  staff_only: { status: 403, title: 'Only the shop\'s staff may do this' },
  wrong_password: { status: 403, title: 'The current password is not right' },
  // What was asked for.
  not_found: { status: 404, title: 'There is no such thing here, or it is not yours' },
  unknown_product: { status: 404, title: 'An order line names a product the shop does not have; `errors` names the line' },
  email_taken: { status: 409, title: 'An account with this email already exists' },
  product_exists: { status: 409, title: 'A product with this SKU already exists' },
  out_of_stock: { status: 409, title: 'Not enough stock for every line; nothing was ordered, and `unavailable` names the products' },
  insufficient_stock: { status: 409, title: 'There is less stock than this movement takes out' },
  conflict: { status: 409, title: 'The request conflicts with the current state; read it again and retry' },
  idempotency_key_reused: { status: 422, title: 'This Idempotency-Key was used for another request; use a new key for a new order' },
  unprocessable: { status: 422, title: 'The request is well formed, but the current state does not allow it' },
  order_expired: { status: 409, title: 'The stock held for this order has lapsed; place it again with a new Idempotency-Key' },
  payment_declined: { status: 402, title: 'The card was declined; nothing was charged and the stock was released' },
  image_unreadable: { status: 422, title: 'The image is damaged: its size cannot be read' },
  image_too_large: { status: 422, title: 'The image has more pixels than the shop takes' },
  // The shop's state.
  rate_limited: { status: 429, title: 'Too many requests; wait as Retry-After says' },
  sign_in_throttled: { status: 429, title: 'Too many wrong sign-ins; wait as Retry-After says' },
  service_unavailable: { status: 503, title: 'The shop cannot do this right now; try again as Retry-After says' },
  storage_full: { status: 507, title: 'The shop has no room to store this file now; nothing was kept, try again later' },
  timeout: { status: 504, title: 'This took too long and was given up; it may be tried again' },
  canceled: { status: 499, title: 'The request was cancelled by its caller' },
  internal_error: { status: 500, title: 'Something went wrong on our side; it has been logged' },
  not_implemented: { status: 501, title: 'This is not supported' },
} as const satisfies Record<string, { status: number; title: string }>;

export type PublicErrorCode = keyof typeof publicErrors;

// Reasons the services give whose meaning a client needs, by the public code that says it.
// Every other reason (a breaker, a refused connection, a database down) is the service's own
// business: the client hears the code's general word.
const byReason: Readonly<Record<string, PublicErrorCode>> = {
  missing_token: 'sign_in_required',
  invalid_token: 'sign_in_required',
  account_gone: 'sign_in_required',
  bad_path: 'bad_path',
  method_not_allowed: 'method_not_allowed',
  not_acceptable: 'not_acceptable',
  request_timeout: 'request_timeout',
  deadline_spent: 'request_timeout',
  uri_too_long: 'uri_too_long',
  expectation_failed: 'expectation_failed',
  headers_too_large: 'headers_too_large',
  unsupported_media_type: 'unsupported_media_type',
  body_too_large: 'body_too_large',
  token_expired: 'token_expired',
  token_revoked: 'token_revoked',
  wrong_credentials: 'wrong_credentials',
  invalid_refresh_token: 'invalid_refresh_token',
  refresh_token_expired: 'refresh_token_expired',
  session_revoked: 'session_revoked',
  refresh_token_reused: 'refresh_token_reused',
  staff_only: 'staff_only',
  wrong_password: 'wrong_password',
  unknown_product: 'unknown_product',
  unknown_sku: 'unknown_product',
  email_taken: 'email_taken',
  product_exists: 'product_exists',
  out_of_stock: 'out_of_stock',
  insufficient_stock: 'insufficient_stock',
  idempotency_key_reused: 'idempotency_key_reused',
  reservation_lapsed: 'order_expired',
  payment_declined: 'payment_declined',
  not_an_image: 'not_an_image',
  range_not_satisfiable: 'range_not_satisfiable',
  image_unreadable: 'image_unreadable',
  image_too_large: 'image_too_large',
  rate_limited: 'rate_limited',
  sign_in_throttled: 'sign_in_throttled',
  storage_full: 'storage_full',
};

// The kit's codes (gRPC's), by the public word for each.
const byCode: Readonly<Record<string, PublicErrorCode>> = {
  invalid_argument: 'invalid_request',
  out_of_range: 'invalid_request',
  unauthenticated: 'sign_in_required',
  permission_denied: 'forbidden',
  not_found: 'not_found',
  already_exists: 'conflict',
  aborted: 'conflict',
  failed_precondition: 'unprocessable',
  resource_exhausted: 'rate_limited',
  unavailable: 'service_unavailable',
  deadline_exceeded: 'timeout',
  canceled: 'canceled',
  unimplemented: 'not_implemented',
};

/** The public code for an error the kit describes by `code` and `reason`. */
export function publicCodeOf(code: string, reason: string | undefined): PublicErrorCode {
  return (reason === undefined ? undefined : byReason[reason]) ?? byCode[code] ?? 'internal_error';
}
