import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import v8 from 'node:v8';
import vm from 'node:vm';
import { createCallSignal } from './deadline.ts';

// Test files cannot pass --expose-gc; the flag can still be set, and gc read from a new context.
v8.setFlagsFromString('--expose_gc');
const gc = vm.runInNewContext('gc') as () => void;

// A caller's signal outlives the calls made under it: a request's signal lives as long as the
// request, an AbortSignal.timeout until its timer fires. Once a call is disposed, the caller's
// signal must hold nothing of it.
function callsUnder(parent: AbortSignal, count: number): WeakRef<AbortSignal>[] {
  return Array.from({ length: count }, () => {
    const call = createCallSignal(performance.now() + 60_000, { parent });
    call.dispose();
    return new WeakRef(call.signal);
  });
}

async function collected(refs: readonly WeakRef<AbortSignal>[]): Promise<number> {
  // WeakRef targets are kept until the end of the current job; let it end before collecting.
  await nextTurn();
  gc();
  gc();
  return refs.filter((ref) => ref.deref() === undefined).length;
}

void test('a disposed call is not kept alive by a caller signal that never fires', async () => {
  const parent = new AbortController().signal;
  const refs = callsUnder(parent, 3);
  assert.equal(await collected(refs), 3, 'a disposed call is still reachable from its caller’s signal');
  assert.equal(parent.aborted, false);
});

void test('nor by one whose own timer is still pending', async () => {
  const parent = AbortSignal.timeout(60_000);
  const refs = callsUnder(parent, 3);
  assert.equal(await collected(refs), 3, 'a disposed call is still reachable from its caller’s signal');
});

void test('a call still running is kept, and its caller can still abort it', async () => {
  const controller = new AbortController();
  const call = createCallSignal(performance.now() + 60_000, { parent: controller.signal });
  const ref = new WeakRef(call.signal);
  assert.equal(await collected([ref]), 0);
  controller.abort(new Error('the caller left'));
  assert.equal(call.signal.aborted, true);
  assert.equal((call.signal.reason as Error).message, 'the caller left');
  call.dispose();
});
