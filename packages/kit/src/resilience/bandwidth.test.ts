import assert from 'node:assert/strict';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, test } from 'node:test';
import { createFakeClock } from '../testing/fake-clock.ts';
import { createBandwidth } from './bandwidth.ts';

const kb = 1000;

void describe('createBandwidth', () => {
  test('a quiet budget lets its burst through at once; past it, each booking waits its bytes\' share of a second', () => {
    const clock = createFakeClock();
    const budget = createBandwidth({ bytesPerSecond: 1_000 * kb, burstMs: 100, clock });
    // 64 KB is 64 ms of the rate: the second starts 64 ms ahead, inside the 100 ms burst; the third, 128 ms ahead, waits 28.
    assert.equal(budget.reserve(64 * kb), 0);
    assert.equal(budget.reserve(64 * kb), 0);
    assert.equal(budget.reserve(64 * kb), 28);
    assert.equal(budget.reserve(64 * kb), 92);
  });

  test('streams that share it share the rate: two bookings at once wait twice as long as one alone', () => {
    const clock = createFakeClock();
    const alone = createBandwidth({ bytesPerSecond: 1_000 * kb, burstMs: 0, clock });
    const shared = createBandwidth({ bytesPerSecond: 1_000 * kb, burstMs: 0, clock });
    alone.reserve(100 * kb);
    const aloneWaitMs = alone.reserve(100 * kb);
    shared.reserve(100 * kb);
    shared.reserve(100 * kb);
    shared.reserve(100 * kb);
    assert.equal(aloneWaitMs, 100);
    assert.equal(shared.reserve(100 * kb), 300);
  });

  test('time that passed unused is not saved up beyond the burst', async () => {
    const clock = createFakeClock();
    const budget = createBandwidth({ bytesPerSecond: 1_000 * kb, burstMs: 50, clock });
    budget.reserve(10 * kb);
    await clock.advance(10_000);
    assert.equal(budget.reserve(50 * kb), 0);
    assert.equal(budget.reserve(50 * kb), 0);
    assert.equal(budget.reserve(50 * kb), 50);
  });

  test('a throttled stream passes every byte on, in order, and holds a chunk back until its time', async () => {
    const clock = createFakeClock();
    const budget = createBandwidth({ bytesPerSecond: 100 * kb, burstMs: 0, clock });
    const chunks = Array.from({ length: 5 }, (_, i) => Buffer.alloc(10 * kb, i));
    const received: Buffer[] = [];
    const done = pipeline(Readable.from(chunks), budget.throttle(), new Writable({
      write(chunk: Buffer, _encoding, next) {
        received.push(chunk);
        next();
      },
    }));
    await clock.advance(0);
    // Each 10 KB is 100 ms of the rate: the first goes at once, the next after 100 ms, and so on.
    assert.equal(received.length, 1);
    await clock.advance(250);
    assert.equal(received.length, 3);
    await clock.advance(200);
    await done;
    assert.deepEqual(Buffer.concat(received), Buffer.concat(chunks));
  });

  test('a stream destroyed while it waits stops waiting: no sleep is left behind', async () => {
    const clock = createFakeClock();
    const budget = createBandwidth({ bytesPerSecond: 1 * kb, burstMs: 0, clock });
    const throttle = budget.throttle();
    throttle.on('error', () => {});
    throttle.write(Buffer.alloc(kb));
    throttle.write(Buffer.alloc(kb));
    await clock.advance(0);
    assert.equal(clock.pendingSleeps, 1);
    throttle.destroy(new Error('the client went away'));
    await clock.advance(0);
    assert.equal(clock.pendingSleeps, 0);
  });

  test('a budget of nothing is refused', () => {
    assert.throws(() => createBandwidth({ bytesPerSecond: 0 }), RangeError);
  });
});
