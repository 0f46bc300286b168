import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Code, KitError } from '@baton/kit/errors';
import { troubleOf } from './trouble.ts';

void test('a service unavailable is a 503 worth trying again, after the Retry-After it gave or a second', () => {
  const told = troubleOf(new KitError(Code.Unavailable, 'inventory is restarting', { retryAfterSeconds: 3 }));
  assert.deepEqual([told.status, told.code, told.retry, told.retryAfterSeconds], [503, 'service_unavailable', true, 3]);
  assert.match(told.message, /Try again in a moment/);
  assert.doesNotMatch(told.message, /inventory/, 'no service is named to the shopper');
  const untold = troubleOf(new KitError(Code.Unavailable, 'breaker open'));
  assert.deepEqual([untold.retry, untold.retryAfterSeconds], [true, 1]);
  const timeout = troubleOf(new KitError(Code.DeadlineExceeded, 'deadline exceeded'));
  assert.deepEqual([timeout.status, timeout.code, timeout.retry], [504, 'timeout', true]);
});

void test('too many wrong sign-ins is a 429 in the shop\'s words, with its wait', () => {
  const trouble = troubleOf(new KitError(Code.ResourceExhausted, 'too many wrong sign-ins from this address', { reason: 'sign_in_throttled', retryAfterSeconds: 8 }));
  assert.deepEqual([trouble.status, trouble.code, trouble.retry, trouble.retryAfterSeconds], [429, 'sign_in_throttled', true, 8]);
  assert.match(trouble.message, /too many wrong sign-ins/);
});

void test('out of stock names the lines short of stock, and is not worth trying again as it is', () => {
  const unavailable = [{ sku: 'MUG-STONEWARE', requested: 5, available: 2 }];
  const trouble = troubleOf(new KitError(Code.Aborted, 'not enough stock', { reason: 'out_of_stock', details: { unavailable } }));
  assert.deepEqual([trouble.status, trouble.code, trouble.retry, trouble.retryAfterSeconds], [409, 'out_of_stock', false, undefined]);
  assert.deepEqual(trouble.unavailable, unavailable);
  assert.match(trouble.message, /Nothing was ordered and nothing was charged/);
  assert.deepEqual(troubleOf(new KitError(Code.Aborted, 'not enough stock', { reason: 'out_of_stock', details: { unavailable: 'all' } })).unavailable, [], 'details not a list: none named');
});

void test('a field error is told by the form\'s name of the field', () => {
  const trouble = troubleOf(new KitError(Code.InvalidArgument, 'the request is not valid', {
    fields: [
      { field: 'body.email', message: 'expected an email' },
      { field: 'body.items[0].quantity', message: 'expected at most 1000' },
      { field: 'query.q', message: 'too long' },
      { field: 'password', message: 'too short' },
    ],
  }));
  assert.deepEqual([trouble.status, trouble.code, trouble.retry], [400, 'invalid_request', false]);
  assert.deepEqual(trouble.fields, { email: 'expected an email', items: 'expected at most 1000', q: 'too long', password: 'too short' });
});

void test('an internal error says nothing of its cause: no message, no address, no secret, no service', () => {
  const secrets = ['ECONNREFUSED', '10.0.0.7', 'hunter2', 'orders-db', 'TypeError', 'at render'];
  for (const thrown of [
    new Error('connect ECONNREFUSED 10.0.0.7:5432 (postgres://orders:hunter2@orders-db)'),
    new TypeError('cannot read properties of undefined (at render)'),
    new KitError(Code.Internal, 'pool of orders-db exhausted', { cause: new Error('hunter2') }),
    'a string thrown as is: hunter2',
  ]) {
    const trouble = troubleOf(thrown);
    assert.deepEqual([trouble.status, trouble.code, trouble.retry, trouble.retryAfterSeconds], [500, 'internal_error', false, undefined]);
    assert.equal(trouble.message, 'Something went wrong on our side. It has been logged; try again later.');
    for (const secret of secrets) assert.ok(!JSON.stringify(trouble).includes(secret), `${secret} is not in ${JSON.stringify(trouble)}`);
  }
});
