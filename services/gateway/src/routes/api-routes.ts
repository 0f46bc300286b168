import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  categoryList, changePasswordBody, createOrderBody, createProductBody, idempotencyHeaders, loginBody, logoutBody, notificationPage, order, orderPage, orderParams,
  pageQuery, product, productPage, productQuery, refreshBody, registerBody, registeredUser, skuParams, stockMovement, stockMovementBody, stockMovementPage, tokenResponse,
  updateProductBody, user,
} from '@baton/contracts/http';
import { callerChecks, type Authenticate } from '../auth.ts';
import { forward } from '../forward.ts';
import type { AddressThrottle } from '../sign-in-throttle.ts';
import type { Upstreams } from '../upstreams.ts';
import { problemsOf } from './problems.ts';

const bearer = [{ bearer: [] }];
// Said outright for the routes anyone may call: no token needed.
const open: Array<Record<string, string[]>> = [];
const noContent = { 204: z.null().meta({ description: 'done; no body' }) };

/**
 * The public API. Each route validates its request against the contract's schema (400 naming
 * the field), checks the caller where it must, and forwards to the one service that owns the
 * data. Response schemas here document; the services' answers are passed on as they are.
 * Each route names the public error codes it can answer with (`config.problems`): the OpenAPI
 * document lists their statuses, and only those, for it (../openapi.ts).
 */
export function registerApiRoutes(app: FastifyInstance, upstreams: Upstreams, authenticate: Authenticate, signIn: AddressThrottle): void {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const { signedIn, staffOnly } = callerChecks(authenticate);

  api.post('/api/v1/users', {
    schema: { operationId: 'register', security: open, tags: ['users'], summary: 'Register, and be signed in: the answer carries the first session\'s tokens', body: registerBody, response: { 201: registeredUser } },
    config: { problems: problemsOf({ body: true, caller: 'anyone' }, ['email_taken']) },
  }, async (request, reply) => {
    void reply.header('cache-control', 'no-store');
    await forward(request, reply, upstreams.users, { method: 'POST', path: '/v1/users', body: request.body });
  });

  api.post('/api/v1/auth/login', {
    schema: { operationId: 'signIn', security: open, tags: ['users'], summary: 'Sign in', body: loginBody, response: { 200: tokenResponse } },
    config: { problems: problemsOf({ body: true, caller: 'anyone' }, ['wrong_credentials', 'sign_in_throttled']) },
  }, async (request, reply) => {
    // A token must not be kept by any cache on its way (RFC 6749 5.1), nor an answer about one.
    void reply.header('cache-control', 'no-store');
    signIn.begin(request.ip);
    await forward(request, reply, upstreams.users, { method: 'POST', path: '/v1/auth/login', body: request.body });
    if (reply.statusCode === 200) signIn.succeeded(request.ip);
  });

  api.post('/api/v1/auth/refresh', {
    schema: {
      operationId: 'refreshSession', security: open, tags: ['users'], summary: 'A refresh token, good once, for a new access token and a new refresh token; a second use ends the session',
      body: refreshBody, response: { 200: tokenResponse },
    },
    config: { problems: problemsOf({ body: true, caller: 'anyone' }, ['invalid_refresh_token', 'refresh_token_expired', 'session_revoked', 'refresh_token_reused']) },
  }, async (request, reply) => {
    void reply.header('cache-control', 'no-store');
    // Never retried here: a refresh token sent twice is a reuse, which ends its session.
    await forward(request, reply, upstreams.users, { method: 'POST', path: '/v1/auth/refresh', body: request.body });
  });

  api.post('/api/v1/auth/logout', {
    onRequest: signedIn,
    schema: {
      operationId: 'signOut', tags: ['users'], summary: 'Sign out: revoke this token, or with allSessions every token of the user', security: bearer,
      // A bare POST (no body: null to Fastify) is a sign-out of this token, as `{}` is.
      body: logoutBody.nullish(), response: { ...noContent },
    },
    config: { problems: problemsOf({ body: true, caller: 'user' }) },
  }, async (request, reply) => {
    await forward(request, reply, upstreams.users, { method: 'POST', path: '/v1/auth/logout', body: request.body ?? {}, withCredentials: true });
  });

  api.post('/api/v1/users/me/password', {
    onRequest: signedIn,
    schema: {
      operationId: 'changePassword', tags: ['users'], summary: 'Change my password; every token issued before is revoked', security: bearer,
      body: changePasswordBody, response: { ...noContent },
    },
    config: { problems: problemsOf({ body: true, caller: 'user' }, ['wrong_password']) },
  }, async (request, reply) => {
    await forward(request, reply, upstreams.users, { method: 'POST', path: '/v1/users/me/password', body: request.body, withCredentials: true });
  });

  api.get('/api/v1/users/me', {
    onRequest: signedIn,
    schema: { operationId: 'getMe', tags: ['users'], summary: 'The signed-in user', security: bearer, response: { 200: user } },
    config: { problems: problemsOf({ caller: 'user' }) },
  }, async (request, reply) => {
    await forward(request, reply, upstreams.users, { method: 'GET', path: '/v1/users/me', withCredentials: true });
  });

  api.get('/api/v1/products', {
    schema: {
      operationId: 'listProducts', security: open, tags: ['catalogue'], summary: 'Browse and search the catalogue: words, category, price range, sort, pages',
      querystring: productQuery, response: { 200: productPage },
    },
    config: { problems: problemsOf({ input: true, caller: 'anyone' }), priority: 'low' },
  }, async (request, reply) => { await forward(request, reply, upstreams.inventory, { method: 'GET', path: '/v1/products', query: request.query }); });

  api.get('/api/v1/categories', {
    schema: { operationId: 'listCategories', security: open, tags: ['catalogue'], summary: 'The categories, with how many products each holds', response: { 200: categoryList } },
    config: { problems: problemsOf({ caller: 'anyone' }), priority: 'low' },
  }, async (request, reply) => { await forward(request, reply, upstreams.inventory, { method: 'GET', path: '/v1/categories' }); });

  api.get('/api/v1/products/:sku', {
    schema: { operationId: 'getProduct', security: open, tags: ['catalogue'], summary: 'One product', params: skuParams, response: { 200: product } },
    config: { problems: problemsOf({ input: true, caller: 'anyone' }, ['not_found']), priority: 'low' },
  }, async (request, reply) => { await forward(request, reply, upstreams.inventory, { method: 'GET', path: `/v1/products/${encodeURIComponent(request.params.sku)}` }); });

  api.post('/api/v1/products', {
    onRequest: staffOnly,
    schema: { operationId: 'createProduct', tags: ['staff'], summary: 'Add a product (staff); it has no stock until stock is moved in', security: bearer, body: createProductBody, response: { 201: product } },
    config: { problems: problemsOf({ body: true, caller: 'staff' }, ['product_exists']) },
  }, async (request, reply) => {
    await forward(request, reply, upstreams.inventory, { method: 'POST', path: '/v1/products', body: request.body, withCredentials: true });
  });

  api.patch('/api/v1/products/:sku', {
    onRequest: staffOnly,
    schema: { operationId: 'updateProduct', tags: ['staff'], summary: 'Change a product\'s name, description, category or price (staff)', security: bearer, params: skuParams, body: updateProductBody, response: { 200: product } },
    config: { problems: problemsOf({ body: true, caller: 'staff' }, ['not_found']) },
  }, async (request, reply) => {
    await forward(request, reply, upstreams.inventory, { method: 'PATCH', path: `/v1/products/${encodeURIComponent(request.params.sku)}`, body: request.body, withCredentials: true });
  });

  api.post('/api/v1/products/:sku/stock', {
    onRequest: staffOnly,
    schema: {
      operationId: 'moveStock', tags: ['staff'], summary: 'Move stock in (delta > 0) or out (delta < 0), with a reason (staff); never set', security: bearer,
      params: skuParams, body: stockMovementBody, response: { 201: stockMovement },
    },
    config: { problems: problemsOf({ body: true, caller: 'staff' }, ['not_found', 'insufficient_stock']) },
  }, async (request, reply) => {
    // Not retried: a movement is not idempotent, and a lost answer is seen in the history.
    await forward(request, reply, upstreams.inventory, { method: 'POST', path: `/v1/products/${encodeURIComponent(request.params.sku)}/stock`, body: request.body, withCredentials: true });
  });

  api.get('/api/v1/products/:sku/stock', {
    onRequest: staffOnly,
    schema: { operationId: 'listStockMovements', tags: ['staff'], summary: 'A product\'s stock movements, newest first (staff)', security: bearer, params: skuParams, querystring: pageQuery, response: { 200: stockMovementPage } },
    config: { problems: problemsOf({ input: true, caller: 'staff' }, ['not_found']) },
  }, async (request, reply) => {
    await forward(request, reply, upstreams.inventory, { method: 'GET', path: `/v1/products/${encodeURIComponent(request.params.sku)}/stock`, query: request.query, withCredentials: true });
  });

  api.post('/api/v1/orders', {
    onRequest: signedIn,
    schema: {
      operationId: 'placeOrder', tags: ['orders'], summary: 'Place an order', security: bearer,
      headers: idempotencyHeaders, body: createOrderBody, response: { 201: order },
    },
    config: { problems: problemsOf({ body: true, caller: 'user' }, ['unknown_product', 'out_of_stock', 'payment_declined', 'order_expired', 'idempotency_key_reused']), priority: 'high' },
  }, async (request, reply) => {
    await forward(request, reply, upstreams.orders, {
      method: 'POST', path: '/v1/orders', body: request.body, withCredentials: true,
      idempotencyKey: request.headers['idempotency-key'],
    });
  });

  api.get('/api/v1/orders', {
    onRequest: signedIn,
    schema: { operationId: 'listOrders', tags: ['orders'], summary: 'My orders', security: bearer, querystring: pageQuery, response: { 200: orderPage } },
    config: { problems: problemsOf({ input: true, caller: 'user' }) },
  }, async (request, reply) => {
    await forward(request, reply, upstreams.orders, { method: 'GET', path: '/v1/orders', query: request.query, withCredentials: true });
  });

  api.get('/api/v1/orders/:id', {
    onRequest: signedIn,
    schema: { operationId: 'getOrder', tags: ['orders'], summary: 'One of my orders', security: bearer, params: orderParams, response: { 200: order } },
    config: { problems: problemsOf({ input: true, caller: 'user' }, ['not_found']) },
  }, async (request, reply) => {
    await forward(request, reply, upstreams.orders, { method: 'GET', path: `/v1/orders/${request.params.id}`, withCredentials: true });
  });

  api.post('/api/v1/orders/:id/cancel', {
    onRequest: signedIn,
    schema: { operationId: 'cancelOrder', tags: ['orders'], summary: 'Cancel one of my orders', security: bearer, params: orderParams, response: { 200: order } },
    config: { problems: problemsOf({ input: true, caller: 'user' }, ['not_found']), priority: 'high' },
  }, async (request, reply) => {
    // Cancelling is idempotent in the orders service, so the gateway may retry it.
    await forward(request, reply, upstreams.orders, {
      method: 'POST', path: `/v1/orders/${request.params.id}/cancel`, withCredentials: true, idempotencyKey: `cancel-${request.params.id}`,
    });
  });

  api.get('/api/v1/notifications', {
    onRequest: signedIn,
    schema: { operationId: 'listNotifications', tags: ['notifications'], summary: 'My notifications', security: bearer, querystring: pageQuery, response: { 200: notificationPage } },
    config: { problems: problemsOf({ input: true, caller: 'user' }), priority: 'low' },
  }, async (request, reply) => {
    await forward(request, reply, upstreams.notifications, { method: 'GET', path: '/v1/notifications', query: request.query, withCredentials: true });
  });
}
