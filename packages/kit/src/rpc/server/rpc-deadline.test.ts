import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { Code as ConnectCode, ConnectError, type StreamRequest, type UnaryRequest, type UnaryResponse } from '@connectrpc/connect';
import { Code, KitError } from '../../errors/index.ts';
import { remainingMsOf } from '../../resilience/deadline.ts';
import { createRpcDeadlineInterceptor } from './rpc-deadline.ts';

// The rules are tested once, in service/inbound-deadline.test.ts; these test what the gRPC
// adapter adds: the grpc-timeout header, Connect's signal, and answering for a handler.

const withDeadline = createRpcDeadlineInterceptor({ defaultDeadlineMs: 10_000, service: 'users', answerGraceMs: 10 });
const answer = {} as UnaryResponse;

function call(header: Record<string, string>, callerSignal = new AbortController().signal): UnaryRequest {
  return { stream: false, header: new Headers(header), signal: callerSignal } as unknown as UnaryRequest;
}

async function reasonOf(promise: Promise<unknown>): Promise<string | undefined> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  return error instanceof KitError ? `${error.code}${error.reason === undefined ? '' : `/${error.reason}`}` : String(error);
}

void test('grpc-timeout is the handler\'s budget; a spent one is deadline_spent without calling the handler', async () => {
  let handlerMs: number | undefined;
  await withDeadline(async (req) => {
    handlerMs = remainingMsOf(req.signal);
    return answer;
  })(call({ 'grpc-timeout': '1500m' }));
  assert.ok(handlerMs !== undefined && handlerMs > 1_400 && handlerMs <= 1_500, `the handler had ${handlerMs} ms`);

  let called = false;
  const spent = withDeadline(async () => {
    called = true;
    return answer;
  })(call({ 'grpc-timeout': '0m' }));
  assert.equal(await reasonOf(spent), `${Code.DeadlineExceeded}/deadline_spent`);
  assert.equal(called, false);
});

void test('Connect\'s signal reaches the handler: a cancel is canceled, the caller\'s own deadline is deadline_exceeded', async () => {
  for (const [reason, expected] of [
    [new ConnectError('cancelled', ConnectCode.Canceled), Code.Canceled],
    [new ConnectError('timed out', ConnectCode.DeadlineExceeded), Code.DeadlineExceeded],
  ] as const) {
    const caller = new AbortController();
    const pending = withDeadline(async (req) => {
      await new Promise((resolve) => req.signal.addEventListener('abort', resolve, { once: true }));
      throw req.signal.reason;
    })(call({}, caller.signal));
    caller.abort(reason);
    assert.equal(await reasonOf(pending), expected);
  }
});

void test('a handler that ignores its signal is answered DEADLINE_EXCEEDED shortly after the deadline', async () => {
  const pending = withDeadline(async () => {
    await sleep(1_000);
    return answer;
  })(call({ 'grpc-timeout': '30m' }));
  const startedAt = performance.now();
  assert.equal(await reasonOf(pending), Code.DeadlineExceeded);
  assert.ok(performance.now() - startedAt < 500);
});

void test('a stream keeps its caller\'s signal: it lives as long as the caller wants it', async () => {
  const callerSignal = new AbortController().signal;
  let seen: AbortSignal | undefined;
  await withDeadline(async (req) => {
    seen = req.signal;
    return answer;
  })({ stream: true, header: new Headers(), signal: callerSignal } as unknown as StreamRequest);
  assert.equal(seen, callerSignal);
});
