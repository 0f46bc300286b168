import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KitError } from '@baton/kit/errors';
import { createPasswordHasher } from './password-hasher.ts';

const signal = new AbortController().signal;

void describe('the password hasher', () => {
  void it('checks an unknown user against a dummy hash: same work, always false', async () => {
    const purposes: string[] = [];
    const hasher = await createPasswordHasher({ log2N: 10, maxConcurrent: 2, onHash: (purpose) => purposes.push(purpose) });
    const stored = await hasher.hash('a password', { signal });
    assert.equal(await hasher.verify('a password', stored, { signal }), true);
    assert.equal(await hasher.verify('a password', undefined, { signal }), false);
    assert.equal(await hasher.verify('', undefined, { signal }), false);
    assert.deepEqual(purposes, ['hash', 'verify', 'verify', 'verify']);
  });

  void it('runs at most maxConcurrent hashes and turns callers away with 503 past its line', async () => {
    const hasher = await createPasswordHasher({ log2N: 12, maxConcurrent: 1 });
    // One runs, sixteen wait (16 per slot), the rest are refused at once.
    const outcomes = await Promise.allSettled(Array.from({ length: 20 }, () => hasher.verify('pw', undefined, { signal })));
    const refused = outcomes.filter((o) => o.status === 'rejected').map((o) => (o as PromiseRejectedResult).reason as unknown);
    assert.equal(refused.length, 3);
    for (const error of refused) {
      assert.ok(error instanceof KitError);
      assert.equal(error.code, 'unavailable');
      assert.equal(error.reason, 'overloaded');
      assert.equal(error.retryAfterSeconds, 1);
    }
  });

  void it('does not start a hash for a request whose caller already left', async () => {
    let hashes = 0;
    const hasher = await createPasswordHasher({ log2N: 10, maxConcurrent: 1, onHash: () => { hashes++; } });
    const gone = new AbortController();
    gone.abort(new Error('the caller went away'));
    await assert.rejects(hasher.verify('pw', undefined, { signal: gone.signal }));
    assert.equal(hashes, 0);
  });
});
