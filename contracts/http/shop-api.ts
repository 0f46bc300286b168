import { z } from 'zod';
import { publicCodeOf, publicErrors, type PublicErrorCode } from './public-errors.ts';

/**
 * The public API's shapes. The same schemas validate every request at the gateway, type the
 * handlers, and generate the OpenAPI document at /api/v1/docs: one source, no drift.
 * Objects are strict: an unknown field is a 400 naming it, never silently dropped.
 */

export const email = z.email().max(254).meta({ example: 'ada@example.com' });
export const password = z.string().min(8).max(256).meta({ example: 'correct horse battery staple' });
const uuid = z.uuid();
const sku = z.string().regex(/^[A-Z0-9][A-Z0-9-]{1,31}$/, 'expected a SKU such as COFFEE-1KG').meta({ example: 'COFFEE-1KG' });
const cursor = z.string().max(512).optional();
const limit = z.coerce.number().int().min(1).max(100).default(20);

// Control characters (CR and LF first: a name reaches email headers and logs), line and paragraph
// separators, and the bidirectional overrides that make text read other than it is stored.
const name = z.string().trim().min(1).max(100)
  .regex(/^[^\p{Cc}\u2028\u2029\u202A-\u202E\u2066-\u2069]*$/u, 'must not contain control characters (CR, LF, tab...)');
export const registerBody = z.strictObject({ email, password, name });
export const user = z.object({
  id: uuid,
  email: z.string(),
  name: z.string(),
  roles: z.array(z.enum(['staff'])).meta({ description: 'what the account may do beyond shopping: `staff` manages the catalogue' }),
}).meta({ id: 'User' });

export const loginBody = z.strictObject({ email: z.string().max(254), password: z.string().max(256) });
/** POST /api/v1/auth/logout: revokes the token presented; with `allSessions`, every token of the user issued so far. */
export const logoutBody = z.strictObject({ allSessions: z.boolean().default(false) });
/** POST /api/v1/users/me/password: the current password, checked, and the new one; every token issued before is revoked. */
export const changePasswordBody = z.strictObject({ currentPassword: z.string().max(256), newPassword: password });
export const tokenResponse = z.object({
  accessToken: z.string(),
  tokenType: z.literal('Bearer'),
  expiresIn: z.number().int().meta({ description: 'seconds' }),
  refreshToken: z.string().meta({ description: 'good for one POST /api/v1/auth/refresh, which answers a new one; keep it secret' }),
  refreshExpiresIn: z.number().int().meta({ description: 'seconds' }),
}).meta({ id: 'Token' });
/** POST /api/v1/auth/refresh: a refresh token, used once, for a new access token and a new refresh token. */
export const refreshBody = z.strictObject({ refreshToken: z.string().min(1).max(256) });
/** A new account, signed in at once. */
export const registeredUser = user.extend({ session: tokenResponse }).meta({ id: 'RegisteredUser' });

export const pageQuery = z.strictObject({ limit, cursor });

/** A category's slug: lower-case letters, digits and dashes (`brewing`). */
const category = z.string().regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'expected a category such as brewing').meta({ example: 'coffee' });
const priceCents = z.number().int().min(0).max(100_000_000).meta({ description: 'in the smallest unit of the currency (cents)', example: 2490 });
const priceBound = z.coerce.number({ error: 'expected a whole number of cents' }).int('expected a whole number of cents').min(0, 'expected 0 or more').max(100_000_000);
export const productSort = z.enum(['relevance', 'name', 'price', '-price', 'sku']).meta({
  description: '`relevance` (the default with `q`, best match first), `name`, `price` (cheapest first), `-price` (dearest first), `sku` (the default without `q`)',
});

const pixels = z.number().int().min(1);
export const imageSize = z.object({
  size: z.number().int().meta({ description: 'the width it was rendered for (320, 640 or 1280): a narrower original is not enlarged, so `width` may be less' }),
  width: pixels,
  height: pixels,
  url: z.string().meta({ description: 'where it is served, as WebP', example: '/api/v1/images/0b6c1f0e-8a51-4c0e-9d4e-3f0e7a1c2b9d/sizes/640' }),
}).meta({ id: 'ImageSize' });
export const productImage = z.object({
  id: uuid,
  url: z.string().meta({ description: 'where the original is served, to staff only (the file as uploaded keeps its metadata); anyone may fetch the sizes' }),
  width: pixels,
  height: pixels,
  sizes: z.array(imageSize),
}).meta({ id: 'ProductImage' });
/** An uploaded image, as media keeps it: its bytes are served once `ready`. */
export const image = z.object({
  id: uuid,
  sku: z.string(),
  status: z.enum(['processing', 'ready', 'failed']).meta({ description: '`processing`: stored, its sizes being rendered; `ready`: shown in the catalogue; `failed`: it could not be rendered (`failure` says why)' }),
  contentType: z.string().meta({ description: 'what its bytes are (the client\'s Content-Type is not asked)', example: 'image/jpeg' }),
  bytes: z.number().int(),
  width: pixels,
  height: pixels,
  createdAt: z.string(),
  readyAt: z.string().nullable(),
  failure: z.string().nullable(),
  url: z.string().nullable().meta({ description: 'where the original is served once ready, to staff only (the file as uploaded keeps its metadata); anyone may fetch the sizes' }),
  sizes: z.array(imageSize),
}).meta({ id: 'Image' });
export const imageList = z.object({ items: z.array(image) }).meta({ id: 'ImageList' });
export const imageParams = z.strictObject({ id: uuid });
export const imageSizeParams = z.strictObject({ id: uuid, size: z.enum(['320', '640', '1280']) });

export const product = z.object({
  sku: z.string(),
  name: z.string(),
  description: z.string(),
  category: z.string(),
  images: z.array(productImage).meta({ description: 'the product\'s images once ready, in the order they were uploaded (the first is its main picture); empty until one is' }),
  priceCents: z.number().int(),
  currency: z.string(),
  available: z.number().int(),
}).meta({ id: 'Product' });
export const productPage = z.object({ items: z.array(product), nextCursor: z.string().nullable() }).meta({ id: 'ProductPage' });
export const skuParams = z.strictObject({ sku });

/** GET /api/v1/products: a page of the catalogue, searched, filtered and sorted. */
export const productQuery = z.strictObject({
  q: z.string().trim().min(1, 'expected some words to search for').max(200).optional()
    .meta({ description: 'words to search for in the name, description and category (web search syntax: "exact phrase", -not, or)' }),
  category: category.optional(),
  minPriceCents: priceBound.optional(),
  maxPriceCents: priceBound.optional(),
  sort: productSort.optional(),
  limit,
  cursor,
}).superRefine((query, ctx) => {
  if (query.minPriceCents !== undefined && query.maxPriceCents !== undefined && query.minPriceCents > query.maxPriceCents) {
    ctx.addIssue({ code: 'custom', path: ['maxPriceCents'], message: 'expected at least minPriceCents' });
  }
  if (query.sort === 'relevance' && query.q === undefined) ctx.addIssue({ code: 'custom', path: ['sort'], message: 'relevance needs q, the words to rank by' });
});

export const categoryList = z.object({
  items: z.array(z.object({ name: z.string(), products: z.number().int().meta({ description: 'how many products it holds' }) })),
}).meta({ id: 'CategoryList' });

const productName = z.string().trim().min(1).max(200);
const description = z.string().trim().max(2_000);
/** POST /api/v1/products (staff): a new product, with no stock until it is moved in. */
export const createProductBody = z.strictObject({
  sku,
  name: productName,
  description: description.default(''),
  category,
  priceCents,
  currency: z.literal('EUR').default('EUR').meta({ description: 'the shop sells in EUR' }),
});
/** PATCH /api/v1/products/{sku} (staff): the fields to change, at least one. */
export const updateProductBody = z.strictObject({
  name: productName.optional(),
  description: description.optional(),
  category: category.optional(),
  priceCents: priceCents.optional(),
}).refine((body) => Object.values(body).some((value) => value !== undefined), 'expected at least one field to change');

export const stockMovementReason = z.enum(['restock', 'correction', 'damaged', 'lost', 'returned']);
/** POST /api/v1/products/{sku}/stock (staff): stock added (delta > 0) or taken out (delta < 0), never set. */
export const stockMovementBody = z.strictObject({
  delta: z.number().int().min(-1_000_000).max(1_000_000).refine((delta) => delta !== 0, 'expected a change: not 0').meta({ example: 10 }),
  reason: stockMovementReason.meta({ example: 'restock' }),
  note: z.string().trim().max(500).optional(),
});
export const stockMovement = z.object({
  id: z.string(),
  sku: z.string(),
  delta: z.number().int(),
  reason: stockMovementReason,
  note: z.string().nullable(),
  stockAfter: z.number().int().meta({ description: 'the stock right after this movement' }),
  actor: z.string().meta({ description: 'the staff user who made it' }),
  createdAt: z.string(),
}).meta({ id: 'StockMovement' });
export const stockMovementPage = z.object({ items: z.array(stockMovement), nextCursor: z.string().nullable() }).meta({ id: 'StockMovementPage' });

export const orderLine = z.strictObject({ sku, quantity: z.number().int().min(1).max(1000) });
/** How the shopper pays: the provider's name for a payment method, never card data. */
export const paymentMethod = z.string().regex(/^pm_[A-Za-z0-9_]{1,64}$/, 'expected a payment method id such as pm_card_visa')
  .meta({ description: 'The payment provider\'s id for how to pay (test cards: pm_card_visa, pm_card_mastercard, pm_card_chargeDeclined, pm_card_chargeDeclinedInsufficientFunds). Never a card number.', example: 'pm_card_visa' });
export const createOrderBody = z.strictObject({
  items: z.array(orderLine).min(1).max(50)
    .refine((items) => new Set(items.map((i) => i.sku)).size === items.length, 'each sku may appear once'),
  payment: z.strictObject({ method: paymentMethod }).optional()
    .meta({ description: 'How to pay. Required where the shop takes payment (it does under npm start); a shop run without a payment service refuses it.' }),
});
export const idempotencyHeaders = z.object({
  'idempotency-key': z.string({
    error: (issue) => (issue.input === undefined ? 'required: a key you choose for this order, sent again with any retry of it (8-128 letters, digits, . _ : -)' : undefined),
  }).min(8).max(128).regex(/^[A-Za-z0-9._:-]+$/, 'expected 8-128 letters, digits, . _ : -')
    .meta({ description: 'A key you choose per order attempt; resending it returns the first answer.' }),
});
export const order = z.object({
  id: uuid,
  status: z.enum(['pending', 'confirmed', 'paid', 'cancelled']).meta({ description: 'paid: the payment was taken; pending: held, being taken; confirmed: placed in a shop that takes no payment; cancelled' }),
  items: z.array(z.object({ sku: z.string(), name: z.string().meta({ description: 'the product\'s name when it was ordered' }), quantity: z.number().int(), priceCents: z.number().int() })),
  totalCents: z.number().int(),
  currency: z.string(),
  createdAt: z.string(),
  updatedAt: z.string().meta({ description: 'when its status last changed' }),
  cancelledAt: z.string().nullable().meta({ description: 'when it was cancelled; null while it is not' }),
  payment: z.object({
    status: z.enum(['authorized', 'captured', 'voided', 'refunded']).meta({ description: 'authorized: held on the card; captured: taken; voided: let go, nothing taken; refunded: given back' }),
    amountCents: z.number().int(),
    currency: z.string(),
    brand: z.string().nullable().meta({ description: 'the card\'s brand (visa)' }),
    last4: z.string().nullable().meta({ description: 'the card\'s last four digits' }),
    refundedCents: z.number().int(),
    refundedAt: z.string().nullable(),
  }).nullable().meta({ id: 'OrderPayment', description: 'null for an order placed without payment' }),
}).meta({ id: 'Order' });
export const orderPage = z.object({ items: z.array(order), nextCursor: z.string().nullable() }).meta({ id: 'OrderPage' });
export const orderParams = z.strictObject({ id: uuid });

export const notification = z.object({
  id: uuid,
  type: z.enum(['order.created', 'order.cancelled', 'payment.captured', 'payment.refunded', 'user.registered']).meta({ description: 'the event that caused it: an order placed or cancelled, its payment taken (a receipt) or given back, an account made' }),
  channel: z.literal('email'),
  recipient: z.string(),
  subject: z.string(),
  orderId: uuid.nullable(),
  createdAt: z.string(),
}).meta({ id: 'Notification' });
export const notificationPage = z.object({ items: z.array(notification), nextCursor: z.string().nullable() }).meta({ id: 'NotificationPage' });

export const problem = z.object({
  type: z.string().meta({ description: '`urn:baton:problem:<code>`' }),
  title: z.string().meta({ description: 'the code\'s sentence, the same for every answer with that code' }),
  status: z.number().int(),
  detail: z.string().meta({ description: 'what went wrong with this request, in words' }),
  code: z.enum(Object.keys(publicErrors) as [PublicErrorCode, ...PublicErrorCode[]]).meta({ description: 'what a client branches on: docs/errors.md, "The public API\'s codes"' }),
  instance: z.string().optional(),
  request_id: z.string().optional().meta({ description: 'quote it when you report a problem' }),
  errors: z.array(z.object({ field: z.string(), message: z.string() })).optional()
    .meta({ description: 'each field that is wrong (`body.items[1].sku`, `query.limit`, `headers.idempotency-key`) and why' }),
  hop: z.string().optional().meta({ description: 'timeout: the service whose deadline ran out' }),
  unavailable: z.array(z.object({ sku: z.string(), requested: z.number().int(), available: z.number().int() })).optional()
    .meta({ description: 'out_of_stock: the lines that lack stock' }),
  unknown: z.array(z.string()).optional().meta({ description: 'unknown_product: the SKUs the shop does not have' }),
  sku: z.string().optional(),
  stock: z.number().int().optional().meta({ description: 'insufficient_stock: what is in stock' }),
}).meta({ id: 'Problem', description: 'RFC 9457 problem details (application/problem+json)' });

export { publicCodeOf, publicErrors, type PublicErrorCode };
