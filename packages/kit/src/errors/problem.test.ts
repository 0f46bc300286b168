import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Code, KitError, toProblem } from './index.ts';
import { problemType } from './problem.ts';

void describe('toProblem', () => {
  void test('an internal error shows only the code: no stack, no cause, no internal message', () => {
    const internal = new Error('password authentication failed for user "orders" at 10.0.0.5:5432');
    const problem = toProblem(KitError.from(internal), { instance: '/v1/orders', requestId: 'req-1' });
    assert.deepEqual(problem, {
      type: problemType(Code.Internal),
      title: 'Internal error',
      status: 500,
      detail: 'internal error',
      code: Code.Internal,
      instance: '/v1/orders',
      request_id: 'req-1',
    });
    const json = JSON.stringify(problem);
    assert.doesNotMatch(json, /password|10\.0\.0\.5|stack|cause|at /);
    assert.ok(internal.stack !== undefined && !json.includes(internal.stack));
  });

  void test('a cause given to any KitError stays out of the document', () => {
    const cause = new Error('upstream said: ECONNRESET on 10.1.2.3:8082 /srv/baton/inventory.ts:42');
    const error = new KitError(Code.Unavailable, 'inventory is unavailable', { cause, reason: 'upstream_down' });
    const problem = toProblem(error);
    assert.equal(problem.detail, 'inventory is unavailable');
    assert.equal(problem.status, 503);
    assert.equal(problem.reason, 'upstream_down');
    const json = JSON.stringify(problem);
    assert.doesNotMatch(json, /ECONNRESET|10\.1\.2\.3|\.ts|stack|cause/);
  });

  void test('carries field errors and caller-safe details; details cannot override the standard members', () => {
    const error = new KitError(Code.InvalidArgument, 'the request is not valid', {
      fields: [{ field: 'body.quantity', message: 'expected a positive whole number' }],
      details: { sku: 'A-1', status: 200, code: 'ok', type: 'forged', detail: 'forged' },
    });
    const problem = toProblem(error);
    assert.equal(problem.status, 400);
    assert.equal(problem.code, Code.InvalidArgument);
    assert.equal(problem.type, problemType(Code.InvalidArgument));
    assert.equal(problem.detail, 'the request is not valid');
    assert.equal(problem.sku, 'A-1');
    assert.deepEqual(problem.errors, [{ field: 'body.quantity', message: 'expected a positive whole number' }]);
  });

  void test('has a title for every code', () => {
    for (const code of Object.values(Code)) {
      const problem = toProblem(new KitError(code, 'x'));
      assert.notEqual(problem.title, 'Error', `code ${code} has no title`);
      assert.equal(problem.type, `urn:baton:problem:${code}`);
    }
  });
});
