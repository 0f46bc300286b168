import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createVerifiedTokenCache } from './verified-token-cache.ts';

// Tokens as long as a service token, ending as a JWT's signature does: what the cache keys by.
const tokenOf = (signature: string) => `${'h'.repeat(88)}.${'p'.repeat(147)}.${signature.padStart(86, 's')}`;

void describe('createVerifiedTokenCache', () => {
  void it('answers a token it remembered, from the map and then from its recent entries, until the time it was given', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
    const cache = createVerifiedTokenCache<string>({ maxEntries: 10 });
    const token = tokenOf('first');
    cache.remember(token, 'orders', 1_000_000 + 60_000);
    // A copy, as each request brings its own string of the token.
    assert.equal(cache.get(`${token} `.trimEnd()), 'orders');
    assert.equal(cache.get(token), 'orders');
    t.mock.timers.tick(59_999);
    assert.equal(cache.get(token), 'orders');
    t.mock.timers.tick(1);
    assert.equal(cache.get(token), undefined, 'forgotten at its time, recent entry included');
    assert.equal(cache.size, 0);
  });

  void it('does not answer a token that only ends as one it remembered', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
    const cache = createVerifiedTokenCache<string>({ maxEntries: 10 });
    const token = tokenOf('same-tail-0123456789');
    cache.remember(token, 'orders', 1_060_000);
    const forged = `${'H'.repeat(88)}${token.slice(88)}`;
    assert.equal(forged.slice(-16), token.slice(-16));
    assert.equal(cache.get(forged), undefined);
    assert.equal(cache.get(token), 'orders', 'the same lookup once more, now from a recent entry');
    assert.equal(cache.get(forged), undefined, 'nor from a recent entry');
  });

  void it('is bounded: past its size the entry remembered first goes, recent or not', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
    const cache = createVerifiedTokenCache<string>({ maxEntries: 2 });
    const [a, b, c] = [tokenOf('a'), tokenOf('b'), tokenOf('c')];
    cache.remember(a, 'a', 1_060_000);
    cache.remember(b, 'b', 1_060_000);
    assert.equal(cache.get(a), 'a');
    cache.remember(c, 'c', 1_060_000);
    assert.equal(cache.size, 2);
    assert.equal(cache.get(a), undefined, 'a was remembered first');
    assert.deepEqual([cache.get(b), cache.get(c)], ['b', 'c']);
  });

  void it('does not remember a token whose time is up, and remembering a token again gives it its new time', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
    const cache = createVerifiedTokenCache<string>({ maxEntries: 10 });
    cache.remember(tokenOf('late'), 'late', 1_000_000);
    assert.equal(cache.get(tokenOf('late')), undefined);
    const token = tokenOf('again');
    cache.remember(token, 'first', 1_010_000);
    cache.remember(token, 'second', 1_030_000);
    t.mock.timers.tick(20_000);
    assert.equal(cache.get(token), 'second', 'the first time no longer applies');
    t.mock.timers.tick(10_000);
    assert.equal(cache.get(token), undefined);
  });

  void it('close forgets every token', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
    const cache = createVerifiedTokenCache<string>({ maxEntries: 10 });
    cache.remember(tokenOf('x'), 'x', 1_060_000);
    assert.equal(cache.get(tokenOf('x')), 'x');
    cache.close();
    assert.equal(cache.get(tokenOf('x')), undefined);
    assert.equal(cache.size, 0);
  });
});
