import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Code, KitError } from './index.ts';
import { isKitError } from './kit-error.ts';

void describe('KitError.from', () => {
  void test('passes a KitError through unchanged', () => {
    const original = new KitError(Code.NotFound, 'no such product', { details: { sku: 'A-1' } });
    assert.equal(KitError.from(original), original);
  });

  void test('maps an abort to canceled, keeping the original as cause', () => {
    const reason = AbortSignal.abort().reason as Error;
    assert.equal(reason.name, 'AbortError');
    const error = KitError.from(reason);
    assert.equal(error.code, Code.Canceled);
    assert.equal(error.cause, reason);
  });

  void test('maps a timeout to deadline_exceeded', async () => {
    const signal = AbortSignal.timeout(1);
    await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    const reason = signal.reason as Error;
    assert.equal(reason.name, 'TimeoutError');
    const error = KitError.from(reason);
    assert.equal(error.code, Code.DeadlineExceeded);
    assert.equal(error.cause, reason);
  });

  void test('an AbortError whose cause is a KitError yields that KitError', () => {
    const real = new KitError(Code.DeadlineExceeded, 'the request ran out of time', { details: { hop: 'inventory' } });
    const abort = Object.assign(new DOMException('aborted', 'AbortError'), { cause: real });
    assert.equal(KitError.from(abort), real);
  });

  void test('anything else becomes internal with a caller-safe message and the original as cause', () => {
    const thrownValues: unknown[] = [
      new Error('connect ECONNREFUSED 10.0.0.5:5432'),
      new TypeError("Cannot read properties of undefined (reading 'id')"),
      'a string',
      { some: 'object' },
      undefined,
    ];
    for (const thrown of thrownValues) {
      const error = KitError.from(thrown);
      assert.ok(isKitError(error));
      assert.equal(error.code, Code.Internal);
      assert.equal(error.message, 'internal error');
      assert.equal(error.cause, thrown);
    }
  });
});
