import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { cartCookie, cartOf, maxCartLines, maxLineQuantity, saveCart, withLine, type CartLine } from './cart.ts';

/** A request carrying `cookie` as its cart, as @fastify/cookie hands it over (already decoded). */
const carrying = (cookie: string | undefined) => ({ cookies: cookie === undefined ? {} : { [cartCookie]: cookie }, protocol: 'http' }) as unknown as FastifyRequest;

/** `n` well-formed lines, SKU-01:1 to SKU-n:1. */
const lines = (n: number): CartLine[] => Array.from({ length: n }, (_, i) => ({ sku: `SKU-${String(i + 1).padStart(2, '0')}`, quantity: 1 }));

void test('a cart cookie is read line by line: junk, bad SKUs and quantities out of 1 to 1,000 are dropped, never thrown', () => {
  assert.deepEqual(cartOf(carrying(undefined)), []);
  assert.deepEqual(cartOf(carrying('')), []);
  assert.deepEqual(cartOf(carrying('COFFEE-1KG:2.junk.::..:3.COFFEE-1KG.TEA:x.MUG-STONEWARE:3.%%%:1.<script>:1')), [
    { sku: 'COFFEE-1KG', quantity: 2 },
    { sku: 'MUG-STONEWARE', quantity: 3 },
  ]);
  const quantities = cartOf(carrying('Q-ZERO:0.Q-OVER:1001.Q-NEGATIVE:-1.Q-HALF:5e-1.Q-WORD:two.Q-EMPTY:.Q-MAX:1000.Q-ONE:1'));
  assert.deepEqual(quantities, [{ sku: 'Q-MAX', quantity: maxLineQuantity }, { sku: 'Q-ONE', quantity: 1 }]);
  // `.` ends a line, so `1.5` written by hand is the line `Q-DOT:1` and a junk line `5`: read
  // as 1 (within bounds), never as 1.5.
  assert.deepEqual(cartOf(carrying('Q-DOT:1.5')), [{ sku: 'Q-DOT', quantity: 1 }]);
  const skus = cartOf(carrying(`lower-case:1.A:1.-DASH-FIRST:1.SPACE D:1.${'X'.repeat(33)}:1.${'Y'.repeat(32)}:1.AB:1`));
  assert.deepEqual(skus.map((line) => line.sku), ['Y'.repeat(32), 'AB'], 'a SKU is 2 to 32 of A-Z, 0-9 and -, not starting with -');
});

void test('a cookie of more than 50 lines gives at most 50; a SKU written twice is one line', () => {
  const cookie = lines(60).map((line) => `${line.sku}:${line.quantity}`).join('.');
  assert.deepEqual(cartOf(carrying(cookie)), lines(maxCartLines));
  assert.deepEqual(cartOf(carrying('TEA-1:2.TEA-1:5')), [{ sku: 'TEA-1', quantity: 5 }]);
});

void test('withLine adds a line, sets it within 1 to 1,000, removes it at 0, and refuses a 51st', () => {
  const empty: CartLine[] = [];
  const one = withLine(empty, 'COFFEE-1KG', 2);
  assert.deepEqual(one, [{ sku: 'COFFEE-1KG', quantity: 2 }]);
  assert.deepEqual(empty, [], 'the cart given is not changed');
  // Adding to a line is the route's `had + added`: the sum is bounded at 1,000.
  const had = 900;
  assert.deepEqual(withLine([{ sku: 'COFFEE-1KG', quantity: had }], 'COFFEE-1KG', had + 200), [{ sku: 'COFFEE-1KG', quantity: maxLineQuantity }]);
  assert.deepEqual(withLine(one, 'COFFEE-1KG', Number.POSITIVE_INFINITY), [{ sku: 'COFFEE-1KG', quantity: maxLineQuantity }]);
  assert.deepEqual(withLine(one, 'COFFEE-1KG', 1.5), [{ sku: 'COFFEE-1KG', quantity: 1 }], 'a fraction is cut to a whole number');
  assert.deepEqual(withLine(one, 'COFFEE-1KG', 0), []);
  assert.deepEqual(withLine(one, 'COFFEE-1KG', -1), [], 'below 0 is 0: removed');
  assert.deepEqual(withLine(one, 'TEA-1', 0), one, 'removing a line that is not there changes nothing');
  const two = withLine(withLine(one, 'TEA-1', 1), 'COFFEE-1KG', 7);
  assert.deepEqual(two, [{ sku: 'COFFEE-1KG', quantity: 7 }, { sku: 'TEA-1', quantity: 1 }], 'a line keeps its place when set');

  const full = lines(maxCartLines);
  assert.deepEqual(withLine(full, 'ONE-MORE', 1), full, 'a 51st line is not added');
  const updated = withLine(full, 'SKU-50', 3);
  assert.equal(updated.length, maxCartLines);
  assert.deepEqual(updated.at(-1), { sku: 'SKU-50', quantity: 3 }, 'a line of a full cart can still be changed');
  assert.equal(withLine(withLine(full, 'SKU-01', 0), 'ONE-MORE', 1).length, maxCartLines, 'and once one is removed, another fits');
});

void test('saveCart writes what cartOf reads back, in an HttpOnly SameSite=Lax cookie; an empty cart clears it', () => {
  const written: Array<{ name: string; value?: string; options: Record<string, unknown> }> = [];
  const reply = {
    setCookie: (name: string, value: string, options: Record<string, unknown>) => { written.push({ name, value, options }); },
    clearCookie: (name: string, options: Record<string, unknown>) => { written.push({ name, options }); },
  } as unknown as FastifyReply;
  const cart = [{ sku: 'COFFEE-1KG', quantity: 2 }, { sku: 'TEA-1', quantity: 1_000 }];
  saveCart(carrying(undefined), reply, cart);
  const [saved] = written;
  assert.equal(saved?.name, cartCookie);
  assert.deepEqual(cartOf(carrying(saved?.value)), cart);
  assert.deepEqual({ ...saved?.options, maxAge: undefined }, { path: '/', httpOnly: true, sameSite: 'lax', secure: false, maxAge: undefined });
  saveCart(carrying(saved?.value), reply, []);
  assert.deepEqual(written[1], { name: cartCookie, options: { path: '/' } });
});
