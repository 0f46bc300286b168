import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createFakeClock, type FakeClock } from '../testing/index.ts';
import { type AdaptiveLimiter, type LimiterToken, type Priority, createAdaptiveLimiter } from './concurrency-limit.ts';

function acquireUntilShed(limiter: AdaptiveLimiter, priority: Priority): LimiterToken[] {
  const tokens: LimiterToken[] = [];
  for (let token = limiter.acquire(priority); token !== undefined; token = limiter.acquire(priority)) tokens.push(token);
  return tokens;
}

function acquireMany(limiter: AdaptiveLimiter, priority: Priority, count: number): LimiterToken[] {
  const tokens: LimiterToken[] = [];
  for (let i = 0; i < count; i++) {
    const token = limiter.acquire(priority);
    if (token !== undefined) tokens.push(token);
  }
  return tokens;
}

// Runs the limiter at full load for `seconds`: every round, as many requests as it admits,
// each taking `latencyMs(inFlight)`.
async function drive(limiter: AdaptiveLimiter, clock: FakeClock, seconds: number, latencyMs: (inFlight: number) => number): Promise<number[]> {
  const limits: number[] = [];
  const endMs = clock.now() + seconds * 1_000;
  while (clock.now() < endMs) {
    const tokens = acquireUntilShed(limiter, 'high');
    const latency = latencyMs(tokens.length);
    await clock.advance(latency);
    for (const token of tokens) token.release('success', latency);
    limits.push(limiter.limit);
  }
  return limits;
}

void test('critical requests are never shed, even far past the limit', () => {
  const limiter = createAdaptiveLimiter({ initialLimit: 4, minLimit: 4, clock: createFakeClock() });
  const tokens = acquireMany(limiter, 'critical', 100);
  assert.equal(tokens.length, 100);
  assert.equal(limiter.inFlight, 100);
  assert.equal(limiter.acquire('high'), undefined, 'everyone else is shed meanwhile');
});

void test('lower priorities are shed first: low at half the limit, normal at 80 %, high at the limit', () => {
  const shed: Priority[] = [];
  const limiter = createAdaptiveLimiter({ initialLimit: 20, clock: createFakeClock(), onShed: (priority) => shed.push(priority) });
  assert.equal(acquireMany(limiter, 'low', 100).length, 10);
  assert.equal(acquireMany(limiter, 'normal', 100).length, 6);
  assert.equal(acquireMany(limiter, 'high', 100).length, 4);
  assert.equal(limiter.inFlight, 20);
  assert.ok(limiter.acquire('critical') !== undefined);
  assert.deepEqual([...new Set(shed)], ['low', 'normal', 'high']);
  assert.equal(shed.length, 90 + 94 + 96);
});

void test('a released token frees its slot exactly once', () => {
  const limiter = createAdaptiveLimiter({ initialLimit: 4, minLimit: 4, clock: createFakeClock() });
  const [token] = acquireMany(limiter, 'high', 4);
  assert.equal(limiter.acquire('high'), undefined);
  token?.release('ignore', 0);
  token?.release('ignore', 0);
  assert.equal(limiter.inFlight, 3);
  assert.ok(limiter.acquire('high') !== undefined);
  assert.equal(limiter.acquire('high'), undefined);
});

void test('the limit decreases when latency rises and recovers when it falls back', async () => {
  const clock = createFakeClock();
  const limiter = createAdaptiveLimiter({ initialLimit: 20, minLimit: 4, clock });
  const healthy = await drive(limiter, clock, 10, () => 10);
  const before = limiter.limit;
  assert.ok(before > 20, `a busy, fast service earns a higher limit: ${healthy.join(' ')}`);

  // The service slows down five-fold (a slow disk, a noisy neighbour): requests queue.
  const slow = await drive(limiter, clock, 20, () => 50);
  const lowest = Math.min(...slow);
  assert.ok(lowest < before / 2, `the limit must come down: ${slow.join(' ')}`);

  const recovered = await drive(limiter, clock, 20, () => 10);
  assert.ok(limiter.limit > lowest * 2, `the limit must grow back: ${recovered.join(' ')}`);
});

void test('when latency grows with load, the limit settles near the capacity instead of growing without bound', async () => {
  const clock = createFakeClock();
  const limiter = createAdaptiveLimiter({ clock });
  // 50 requests at a time take 10 ms; more queue, and each takes proportionally longer.
  const limits = await drive(limiter, clock, 30, (inFlight) => 10 * Math.max(1, inFlight / 50));
  const last = limits.slice(-100);
  assert.ok(Math.max(...last) <= 150, `limits: ${last.join(' ')}`);
  assert.ok(Math.min(...last) >= 40, `limits: ${last.join(' ')}`);
});

void test('a window with a drop (a timeout) cuts the limit', async () => {
  const clock = createFakeClock();
  const changes: Array<[number, number]> = [];
  const limiter = createAdaptiveLimiter({ initialLimit: 20, clock, onLimitChange: (from, to) => changes.push([from, to]) });
  const tokens = acquireMany(limiter, 'high', 20);
  await clock.advance(1_000);
  for (const token of tokens) token.release('dropped', 1_000);
  assert.equal(limiter.limit, 18);
  assert.deepEqual(changes, [[20, 18]]);
});

void test('an idle service learns nothing: its limit does not grow', async () => {
  const clock = createFakeClock();
  const limiter = createAdaptiveLimiter({ initialLimit: 20, clock });
  for (let i = 0; i < 2_000; i++) {
    const token = limiter.acquire('normal');
    await clock.advance(10);
    token?.release('success', 10);
  }
  assert.equal(limiter.limit, 20);
});

void test('critical and ignored answers do not teach the limiter', async () => {
  const clock = createFakeClock();
  const limiter = createAdaptiveLimiter({ initialLimit: 20, clock });
  for (let round = 0; round < 100; round++) {
    const critical = acquireMany(limiter, 'critical', 30);
    const ignored = acquireMany(limiter, 'high', 30);
    await clock.advance(100);
    for (const token of critical) token.release('success', round === 0 ? 1 : 10_000);
    for (const token of ignored) token.release('ignore', 10_000);
  }
  assert.equal(limiter.limit, 20);
});

void test('slow requests far below the limit (waiting on a lock, say) do not cut it', async () => {
  const clock = createFakeClock();
  const limiter = createAdaptiveLimiter({ initialLimit: 200, minLimit: 10, clock });
  // A fast baseline first, then 20 at a time that each take fifty times longer.
  for (let round = 0; round < 20; round++) {
    const tokens = acquireMany(limiter, 'normal', 10);
    await clock.advance(10);
    for (const token of tokens) token.release('success', 10);
  }
  for (let round = 0; round < 20; round++) {
    const tokens = acquireMany(limiter, 'normal', 20);
    assert.equal(tokens.length, 20, 'none of them is shed');
    await clock.advance(500);
    for (const token of tokens) token.release('success', 500);
  }
  assert.equal(limiter.limit, 200);
});

void test('a slow route and a fast one, mixed in changing shares, are not taken for queueing', async () => {
  const clock = createFakeClock();
  const limiter = createAdaptiveLimiter({ initialLimit: 20, minLimit: 4, clock });
  // Always busy (the whole limit in flight); the share of the 20x slower checkout route swings.
  for (let round = 0; round < 400; round++) {
    const slowShare = round % 40 < 20 ? 0.05 : 0.9;
    const tokens: Array<{ token: NonNullable<ReturnType<typeof limiter.acquire>>; slow: boolean }> = [];
    for (let i = 0; ; i++) {
      const slow = i % 20 < slowShare * 20;
      const token = limiter.acquire('high', slow ? 'POST /v1/orders' : 'GET /v1/products');
      if (token === undefined) break;
      tokens.push({ token, slow });
    }
    await clock.advance(20);
    for (const { token, slow } of tokens) token.release('success', slow ? 200 : 10);
  }
  assert.ok(limiter.limit >= 20, `the limit only grew: ${limiter.limit}`);
});
