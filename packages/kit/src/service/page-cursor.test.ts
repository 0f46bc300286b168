import { test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { z } from 'zod';
import { Code, KitError } from '../errors/index.ts';
import { installErrorHandling } from './error-handler.ts';
import { createPageCursor } from './page-cursor.ts';

const cursor = createPageCursor(z.strictObject({ createdAt: z.iso.datetime(), id: z.uuid() }));
const position = { createdAt: '2026-01-02T03:04:05.000Z', id: '0b6f3c1e-52a4-4d59-9d2e-6c1f0f3b8a11' };

void test('a cursor decodes to the position it was made from, and is URL-safe', () => {
  const encoded = cursor.encode(position);
  assert.match(encoded, /^[\w-]+$/);
  assert.deepEqual(cursor.decode(encoded), position);
  assert.equal(cursor.decode(undefined), undefined);
  const seq = createPageCursor(z.number().int().min(1));
  assert.equal(seq.decode(seq.encode(42)), 42);
});

void test('a garbled or tampered cursor is invalid_argument naming the cursor field', () => {
  const tampered = Buffer.from(JSON.stringify({ ...position, id: "x'; drop table orders" })).toString('base64url');
  for (const bad of ['not-a-cursor', '', Buffer.from('{"createdAt":').toString('base64url'), tampered]) {
    assert.throws(() => cursor.decode(bad), (error) =>
      error instanceof KitError && error.code === Code.InvalidArgument && error.fields[0]?.field === 'query.cursor', `“${bad}” must be refused`);
  }
});

void test('a route that decodes a bad cursor answers a 400 problem naming query.cursor', async (t) => {
  const app = Fastify();
  installErrorHandling(app);
  app.get('/items', async (request) => ({ after: cursor.decode((request.query as { cursor?: string }).cursor) ?? null }));
  t.after(() => app.close());
  const res = await app.inject({ url: '/items?cursor=garbage' });
  assert.equal(res.statusCode, 400);
  const problem = res.json<{ code: string; errors: Array<{ field: string }> }>();
  assert.equal(problem.code, 'invalid_argument');
  assert.deepEqual(problem.errors.map((e) => e.field), ['query.cursor']);
});
