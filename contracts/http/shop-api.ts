import { z } from 'zod';

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

export const registerBody = z.strictObject({ email, password, name: z.string().trim().min(1).max(100) });
export const user = z.object({ id: uuid, email: z.string(), name: z.string() }).meta({ id: 'User' });

export const loginBody = z.strictObject({ email: z.string().max(254), password: z.string().max(256) });
/** POST /api/v1/auth/logout: revokes the token presented; with `allSessions`, every token of the user issued so far. */
export const logoutBody = z.strictObject({ allSessions: z.boolean().default(false) });
/** POST /api/v1/users/me/password: the current password, checked, and the new one; every token issued before is revoked. */
export const changePasswordBody = z.strictObject({ currentPassword: z.string().max(256), newPassword: password });
export const tokenResponse = z.object({
  accessToken: z.string(),
  tokenType: z.literal('Bearer'),
  expiresIn: z.number().int().meta({ description: 'seconds' }),
}).meta({ id: 'Token' });

export const pageQuery = z.strictObject({ limit, cursor });

export const product = z.object({
  sku: z.string(),
  name: z.string(),
  priceCents: z.number().int(),
  currency: z.string(),
  available: z.number().int(),
}).meta({ id: 'Product' });
export const productPage = z.object({ items: z.array(product), nextCursor: z.string().nullable() }).meta({ id: 'ProductPage' });
export const skuParams = z.strictObject({ sku });

export const orderLine = z.strictObject({ sku, quantity: z.number().int().min(1).max(1000) });
export const createOrderBody = z.strictObject({
  items: z.array(orderLine).min(1).max(50)
    .refine((items) => new Set(items.map((i) => i.sku)).size === items.length, 'each sku may appear once'),
});
export const idempotencyHeaders = z.object({
  'idempotency-key': z.string().min(8).max(128).regex(/^[A-Za-z0-9._:-]+$/, 'expected 8-128 letters, digits, . _ : -')
    .meta({ description: 'A key you choose per order attempt; resending it returns the first answer.' }),
});
export const order = z.object({
  id: uuid,
  status: z.enum(['pending', 'confirmed', 'cancelled']),
  items: z.array(z.object({ sku: z.string(), quantity: z.number().int(), priceCents: z.number().int() })),
  totalCents: z.number().int(),
  currency: z.string(),
  createdAt: z.string(),
}).meta({ id: 'Order' });
export const orderPage = z.object({ items: z.array(order), nextCursor: z.string().nullable() }).meta({ id: 'OrderPage' });
export const orderParams = z.strictObject({ id: uuid });

export const notification = z.object({
  id: uuid,
  type: z.enum(['order.created', 'order.cancelled', 'user.registered']).meta({ description: 'the event that caused it' }),
  channel: z.literal('email'),
  recipient: z.string(),
  subject: z.string(),
  orderId: uuid.nullable(),
  createdAt: z.string(),
}).meta({ id: 'Notification' });
export const notificationPage = z.object({ items: z.array(notification), nextCursor: z.string().nullable() }).meta({ id: 'NotificationPage' });

export const problem = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  code: z.string(),
  reason: z.string().optional(),
  instance: z.string().optional(),
  request_id: z.string().optional(),
  errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
}).meta({ id: 'Problem', description: 'RFC 9457 problem details (application/problem+json)' });
