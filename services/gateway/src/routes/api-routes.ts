import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  changePasswordBody, createOrderBody, idempotencyHeaders, loginBody, logoutBody, notificationPage, order, orderPage, orderParams, pageQuery, problem, product,
  productPage, registerBody, skuParams, tokenResponse, user,
} from '@baton/contracts/http';
import type { Authenticate } from '../auth.ts';
import { forward } from '../forward.ts';
import type { AddressThrottle } from '../sign-in-throttle.ts';
import type { Upstreams } from '../upstreams.ts';

const bearer = [{ bearer: [] }];
const errors = { 400: problem, 401: problem, 403: problem, 404: problem, 409: problem, 413: problem, 422: problem, 429: problem, 503: problem, 504: problem };
const noContent = { 204: z.null().meta({ description: 'done; no body' }) };

/**
 * The public API. Each route validates its request against the contract's schema (400 naming
 * the field), checks the caller where it must, and forwards to the one service that owns the
 * data. Response schemas here document; the services' answers are passed on as they are.
 */
export function registerApiRoutes(app: FastifyInstance, upstreams: Upstreams, authenticate: Authenticate, signIn: AddressThrottle): void {
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.post('/api/v1/users', {
    schema: { tags: ['users'], summary: 'Register', body: registerBody, response: { 201: user, ...errors } },
  }, async (request, reply) => { await forward(request, reply, upstreams.users, { method: 'POST', path: '/v1/users', body: request.body }); });

  api.post('/api/v1/auth/login', {
    schema: { tags: ['users'], summary: 'Sign in', body: loginBody, response: { 200: tokenResponse, ...errors } },
  }, async (request, reply) => {
    // A token must not be kept by any cache on its way (RFC 6749 5.1), nor an answer about one.
    void reply.header('cache-control', 'no-store');
    signIn.begin(request.ip);
    await forward(request, reply, upstreams.users, { method: 'POST', path: '/v1/auth/login', body: request.body });
    if (reply.statusCode === 200) signIn.succeeded(request.ip);
  });

  api.post('/api/v1/auth/logout', {
    schema: {
      tags: ['users'], summary: 'Sign out: revoke this token, or with allSessions every token of the user', security: bearer,
      // A bare POST (no body: null to Fastify) is a sign-out of this token, as `{}` is.
      body: logoutBody.nullish(), response: { ...noContent, ...errors },
    },
  }, async (request, reply) => {
    await authenticate(request);
    await forward(request, reply, upstreams.users, { method: 'POST', path: '/v1/auth/logout', body: request.body ?? {}, withCredentials: true });
  });

  api.post('/api/v1/users/me/password', {
    schema: {
      tags: ['users'], summary: 'Change my password; every token issued before is revoked', security: bearer,
      body: changePasswordBody, response: { ...noContent, ...errors },
    },
  }, async (request, reply) => {
    await authenticate(request);
    await forward(request, reply, upstreams.users, { method: 'POST', path: '/v1/users/me/password', body: request.body, withCredentials: true });
  });

  api.get('/api/v1/users/me', {
    schema: { tags: ['users'], summary: 'The signed-in user', security: bearer, response: { 200: user, ...errors } },
  }, async (request, reply) => {
    await authenticate(request);
    await forward(request, reply, upstreams.users, { method: 'GET', path: '/v1/users/me', withCredentials: true });
  });

  api.get('/api/v1/products', {
    schema: { tags: ['catalogue'], summary: 'Browse the catalogue', querystring: pageQuery, response: { 200: productPage, ...errors } },
    config: { priority: 'low' },
  }, async (request, reply) => { await forward(request, reply, upstreams.inventory, { method: 'GET', path: '/v1/products', query: request.query }); });

  api.get('/api/v1/products/:sku', {
    schema: { tags: ['catalogue'], summary: 'One product', params: skuParams, response: { 200: product, ...errors } },
    config: { priority: 'low' },
  }, async (request, reply) => { await forward(request, reply, upstreams.inventory, { method: 'GET', path: `/v1/products/${encodeURIComponent(request.params.sku)}` }); });

  api.post('/api/v1/orders', {
    schema: {
      tags: ['orders'], summary: 'Place an order', security: bearer,
      headers: idempotencyHeaders, body: createOrderBody, response: { 201: order, ...errors },
    },
    config: { priority: 'high' },
  }, async (request, reply) => {
    await authenticate(request);
    await forward(request, reply, upstreams.orders, {
      method: 'POST', path: '/v1/orders', body: request.body, withCredentials: true,
      idempotencyKey: request.headers['idempotency-key'],
    });
  });

  api.get('/api/v1/orders', {
    schema: { tags: ['orders'], summary: 'My orders', security: bearer, querystring: pageQuery, response: { 200: orderPage, ...errors } },
  }, async (request, reply) => {
    await authenticate(request);
    await forward(request, reply, upstreams.orders, { method: 'GET', path: '/v1/orders', query: request.query, withCredentials: true });
  });

  api.get('/api/v1/orders/:id', {
    schema: { tags: ['orders'], summary: 'One of my orders', security: bearer, params: orderParams, response: { 200: order, ...errors } },
  }, async (request, reply) => {
    await authenticate(request);
    await forward(request, reply, upstreams.orders, { method: 'GET', path: `/v1/orders/${request.params.id}`, withCredentials: true });
  });

  api.post('/api/v1/orders/:id/cancel', {
    schema: { tags: ['orders'], summary: 'Cancel one of my orders', security: bearer, params: orderParams, response: { 200: order, ...errors } },
    config: { priority: 'high' },
  }, async (request, reply) => {
    await authenticate(request);
    // Cancelling is idempotent in the orders service, so the gateway may retry it.
    await forward(request, reply, upstreams.orders, {
      method: 'POST', path: `/v1/orders/${request.params.id}/cancel`, withCredentials: true, idempotencyKey: `cancel-${request.params.id}`,
    });
  });

  api.get('/api/v1/notifications', {
    schema: { tags: ['notifications'], summary: 'My notifications', security: bearer, querystring: pageQuery, response: { 200: notificationPage, ...errors } },
    config: { priority: 'low' },
  }, async (request, reply) => {
    await authenticate(request);
    await forward(request, reply, upstreams.notifications, { method: 'GET', path: '/v1/notifications', query: request.query, withCredentials: true });
  });
}
