import assert from 'node:assert/strict';
import { AsyncLocalStorage } from 'node:async_hooks';
import { describe, it } from 'node:test';
import { createVerifiedTokenCache } from './verified-token-cache.ts';
import { detachedTimeout } from './detached-timer.ts';

void describe('detachedTimeout', () => {
  void it('fires outside the context it was started in, so a timer does not keep a request\'s context alive', async () => {
    const request = new AsyncLocalStorage<{ span: string }>();
    const seen = await new Promise<unknown>((resolve) => {
      request.run({ span: 'a request\'s span' }, () => detachedTimeout(() => resolve(request.getStore()), 1));
    });
    assert.equal(seen, undefined);
  });

  void it('is what the cache of verified tokens starts its timers with, inside a request as outside', (t) => {
    const request = new AsyncLocalStorage<{ span: string }>();
    const storesAtStart: unknown[] = [];
    const realSetTimeout = globalThis.setTimeout;
    t.mock.method(globalThis, 'setTimeout', (...args: Parameters<typeof setTimeout>) => {
      storesAtStart.push(request.getStore());
      return realSetTimeout(...args);
    });
    const cache = createVerifiedTokenCache<string>({ maxEntries: 10 });
    request.run({ span: 'a request\'s span' }, () => cache.remember('a-token', 'orders', Date.now() + 60_000));
    cache.close();
    assert.deepEqual(storesAtStart, [undefined]);
  });
});
