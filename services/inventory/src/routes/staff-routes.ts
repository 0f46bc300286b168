import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import {
  createProductBody, pageQuery, product, skuParams, stockMovement, stockMovementBody, stockMovementPage, updateProductBody,
} from '@baton/contracts/http';
import { z } from 'zod';
import { bearerTokenOf, requireRole, type TokenVerifier } from '@baton/kit/auth';
import type { Database } from '@baton/kit/db';
import { createPageCursor, signalOf } from '@baton/kit/service';
import { productView } from '../catalogue/product.ts';
import type { StaffActor } from '../staff/audit.ts';
import { createProduct, updateProduct } from '../staff/products.ts';
import { listStockMovements, moveStock, type StockMovementRow } from '../staff/stock-movements.ts';

const bodyLimitBytes = 16 * 1024;
// Where a page of movements ended: the id of its last (oldest) one.
const movementsCursor = createPageCursor(z.strictObject({ before: z.string().regex(/^[0-9]{1,19}$/) }));

function movementView(row: StockMovementRow) {
  return {
    id: row.id, sku: row.sku, delta: row.delta, reason: row.reason, note: row.note,
    stockAfter: row.stock_after, actor: row.actor, createdAt: row.created_at.toISOString(),
  };
}

/**
 * What staff do to the catalogue: add products, change them, move stock in and out, read a
 * product's movements. Each route checks the caller's token itself (the gateway checks it too,
 * but is not the only way in) and wants the `staff` role; each change is audited with who made it.
 */
export function registerStaffRoutes(app: FastifyInstance, { db, verifier }: { db: Database; verifier: TokenVerifier }): void {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const config = { callers: ['gateway'] } as const;
  async function staffOf(request: FastifyRequest): Promise<StaffActor> {
    const token = requireRole(await verifier.verify(bearerTokenOf(request.headers.authorization)), 'staff');
    return { userId: token.userId, requestId: request.id };
  }

  api.post('/v1/products', { config, bodyLimit: bodyLimitBytes, schema: { body: createProductBody, response: { 201: product } } }, async function addProduct(request, reply) {
    const actor = await staffOf(request);
    const row = await createProduct(db, actor, request.body, { signal: signalOf(request) });
    request.log.info({ actor: actor.userId, sku: row.sku }, 'product created');
    return reply.code(201).header('location', `/v1/products/${row.sku}`).send(productView(row));
  });

  api.patch('/v1/products/:sku', { config, bodyLimit: bodyLimitBytes, schema: { params: skuParams, body: updateProductBody, response: { 200: product } } }, async function changeProduct(request) {
    const actor = await staffOf(request);
    const row = await updateProduct(db, actor, request.params.sku, request.body, { signal: signalOf(request) });
    request.log.info({ actor: actor.userId, sku: row.sku, fields: Object.keys(request.body) }, 'product updated');
    return productView(row);
  });

  api.post('/v1/products/:sku/stock', { config, bodyLimit: bodyLimitBytes, schema: { params: skuParams, body: stockMovementBody, response: { 201: stockMovement } } }, async function addStockMovement(request, reply) {
    const actor = await staffOf(request);
    const moved = await moveStock(db, actor, { sku: request.params.sku, ...request.body }, { signal: signalOf(request) });
    request.log.info({ actor: actor.userId, sku: moved.sku, delta: moved.delta, reason: moved.reason, stock_after: moved.stock_after }, 'stock moved');
    return reply.code(201).send(movementView(moved));
  });

  api.get('/v1/products/:sku/stock', { config, schema: { params: skuParams, querystring: pageQuery, response: { 200: stockMovementPage } } }, async function stockHistory(request) {
    await staffOf(request);
    const { limit, cursor } = request.query;
    const rows = await listStockMovements(db, request.params.sku, { limit: limit + 1, beforeId: movementsCursor.decode(cursor)?.before }, { signal: signalOf(request) });
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return { items: page.map(movementView), nextCursor: rows.length > limit && last !== undefined ? movementsCursor.encode({ before: last.id }) : null };
  });
}
