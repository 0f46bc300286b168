import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Code } from '../errors/index.ts';
import { httpStatusOf } from '../errors/http-status.ts';
import { errorFromResponse } from './response-error.ts';

const spentOnArrival = {
  type: 'about:blank', title: 'Request Timeout', status: 408, detail: 'the deadline had passed before the request arrived',
  code: Code.DeadlineExceeded, reason: 'deadline_spent', hop: 'users',
};

void test('an upstream\'s 408 "spent on arrival" is, to its caller, a deadline run out on the way: a 504 naming the hop', () => {
  const error = errorFromResponse({ upstream: 'users', instance: 'http://127.0.0.1:1', status: 408, headers: {}, problem: spentOnArrival });
  assert.equal(error.code, Code.DeadlineExceeded);
  assert.equal(error.reason, undefined);
  assert.equal(httpStatusOf(error.code, error.reason), 504);
  assert.equal(error.details.hop, 'users');
});

void test('an upstream\'s other reasons reach its caller as they were said', () => {
  const error = errorFromResponse({
    upstream: 'inventory', instance: 'http://127.0.0.1:1', status: 409, headers: {},
    problem: { type: 'about:blank', title: 'Conflict', status: 409, detail: 'not enough stock', code: Code.Aborted, reason: 'out_of_stock' },
  });
  assert.equal(error.reason, 'out_of_stock');
});
