import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Code, KitError, httpStatusOf, toProblem } from './index.ts';
import { codeFromHttpStatus, httpStatusByCode } from './http-status.ts';

void describe('HTTP statuses', () => {
  void test('every code has an error status, and reading that status back keeps it', () => {
    const codes = Object.values(Code);
    assert.equal(codes.length, 16);
    for (const code of codes) {
      const status = httpStatusByCode[code];
      assert.ok(Number.isInteger(status) && status >= 400 && status <= 599, `${code} → ${status}`);
      assert.equal(httpStatusOf(code), status);
      assert.equal(httpStatusByCode[codeFromHttpStatus(status)], status, `${code} → ${status} → ${codeFromHttpStatus(status)}`);
    }
  });

  void test('the statuses a caller relies on', () => {
    assert.equal(httpStatusOf(Code.InvalidArgument), 400);
    assert.equal(httpStatusOf(Code.Unauthenticated), 401);
    assert.equal(httpStatusOf(Code.NotFound), 404);
    assert.equal(httpStatusOf(Code.ResourceExhausted), 429);
    assert.equal(httpStatusOf(Code.Internal), 500);
    assert.equal(httpStatusOf(Code.Unavailable), 503);
    assert.equal(httpStatusOf(Code.DeadlineExceeded), 504);
  });

  void test('a reason can sharpen the status while the code stays', () => {
    const error = new KitError(Code.ResourceExhausted, 'the request body is too large', { reason: 'body_too_large' });
    const problem = toProblem(error);
    assert.equal(problem.status, 413);
    assert.equal(problem.code, Code.ResourceExhausted);
    assert.equal(problem.reason, 'body_too_large');
    assert.equal(httpStatusOf(Code.InvalidArgument, 'unsupported_media_type'), 415);
    // A reason with no status of its own leaves the code's status.
    assert.equal(httpStatusOf(Code.ResourceExhausted, 'out_of_stock'), 429);
  });

  void test('statuses without a problem body map to codes', () => {
    assert.equal(codeFromHttpStatus(502), Code.Unavailable);
    assert.equal(codeFromHttpStatus(408), Code.DeadlineExceeded);
    assert.equal(codeFromHttpStatus(418), Code.InvalidArgument);
    assert.equal(codeFromHttpStatus(507), Code.ResourceExhausted);
    assert.equal(codeFromHttpStatus(508), Code.Internal);
    assert.equal(httpStatusOf(Code.ResourceExhausted, 'storage_full'), 507);
  });
});
