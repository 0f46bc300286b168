import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { Code, KitError, problemContentType } from '../errors/index.ts';
import { isRetriesExhausted } from '../resilience/retries-exhausted.ts';
import { createHttpClient } from './http-client.ts';
import type { HttpClient } from './http-client-types.ts';
import { noRetryHeader } from '../upstream/no-retry.ts';
import { parseRetryAfter } from '../upstream/retry-after.ts';
import { type Upstream, refusedUrl, sendJson, startUpstream } from '../testing/index.ts';
import { UpstreamError } from '../upstream/upstream-error.ts';

const secret = 'postgres://admin:hunter2@db-7/internal';

// Every route answers in one way a failing upstream can; POST keeps each to one attempt.
const routes: Record<string, (res: ServerResponse) => void> = {
  '/problem': (res) => {
    res.writeHead(404, { 'content-type': problemContentType, 'retry-after': '7' });
    res.end(JSON.stringify({ type: 'urn:baton:problem:not_found', title: 'Not found', status: 404, code: 'not_found', detail: 'no such product', reason: 'unknown_sku', stack: secret }));
  },
  '/problem-bad-code': (res) => {
    res.writeHead(503, { 'content-type': problemContentType });
    res.end(JSON.stringify({ code: 'exploded', detail: `pool error at ${secret}` }));
  },
  '/no-retry': (res) => {
    res.writeHead(503, { 'content-type': problemContentType, [noRetryHeader]: '1' });
    res.end(JSON.stringify({ code: 'unavailable', detail: 'a dependency is unavailable' }));
  },
  '/plain-502': (res) => {
    res.writeHead(502, { 'content-type': 'text/html' });
    res.end(`<h1>Bad gateway</h1><pre>${secret}</pre>`);
  },
  '/plain-418': (res) => {
    res.writeHead(418);
    res.end('teapot');
  },
  '/bad-json': (res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(`{"truncated": "${secret}`);
  },
  '/empty': (res) => {
    res.writeHead(204);
    res.end();
  },
  '/huge': (res) => sendJson(res, 200, { blob: 'x'.repeat(200_000) }),
  '/reset': (res) => res.socket?.destroy(),
};

void describe('errors are normalised to KitError, and never leak upstream internals', () => {
  let upstream: Upstream;
  let client: HttpClient;

  before(async () => {
    upstream = await startUpstream((req, res) => {
      const route = routes[(req.url ?? '').split('?')[0] ?? ''];
      if (route === undefined) sendJson(res, 200, { path: req.url });
      else route(res);
    });
    client = createHttpClient({ name: 'catalog', urls: [upstream.url], maxResponseBytes: 100_000, breaker: { consecutiveFailures: 1_000, minimumRequests: 1_000 } });
  });
  after(async () => {
    await client.close();
    await upstream.close();
  });

  async function failureOf(path: string): Promise<KitError> {
    const thrown: unknown = await client.request({ method: 'POST', path, signal: AbortSignal.timeout(2_000) }).then(
      () => assert.fail(`${path} should fail`),
      (error: unknown) => error,
    );
    assert.ok(thrown instanceof KitError, `${path} threw ${String(thrown)}`);
    assert.ok(!thrown.message.includes('hunter2') && !thrown.message.includes('127.0.0.1') && !thrown.message.includes('catalog'), `${path}: ${thrown.message}`);
    return thrown;
  }

  void test('a Baton problem keeps its code, caller-safe detail and reason; Retry-After is carried; other members stay in the cause', async () => {
    const error = await failureOf('/problem');
    assert.equal(error.code, Code.NotFound);
    assert.equal(error.message, 'no such product');
    assert.equal(error.reason, 'unknown_sku');
    assert.equal(error.retryAfterSeconds, 7);
    assert.deepEqual(error.details, {});
    assert.ok(error.cause instanceof UpstreamError);
    assert.equal(error.cause.status, 404);
  });

  void test('a problem with an unknown code is mapped by its status, with a generic message', async () => {
    const error = await failureOf('/problem-bad-code');
    assert.equal(error.code, Code.Unavailable);
    assert.equal(error.message, 'a dependency is unavailable');
  });

  void test('x-baton-no-retry marks the error retries-exhausted', async () => {
    assert.equal(isRetriesExhausted(await failureOf('/no-retry')), true);
    assert.equal(isRetriesExhausted(await failureOf('/problem-bad-code')), false);
  });

  void test('a non-problem error status goes through the kit\'s table', async () => {
    assert.equal((await failureOf('/plain-502')).code, Code.Unavailable);
    assert.equal((await failureOf('/plain-418')).code, Code.InvalidArgument);
  });

  void test('invalid JSON in a 2xx is internal / bad_response; so is a body over the limit', async () => {
    const badJson = await failureOf('/bad-json');
    assert.equal(badJson.code, Code.Internal);
    assert.equal(badJson.reason, 'bad_response');
    const huge = await failureOf('/huge');
    assert.equal(huge.code, Code.Internal);
    assert.equal(huge.reason, 'bad_response');
  });

  void test('a reset connection and a refused one are unavailable', async () => {
    const reset = await failureOf('/reset');
    assert.equal(reset.code, Code.Unavailable);
    assert.equal(reset.reason, 'connection_reset');
    const refused = createHttpClient({ name: 'nobody', urls: [await refusedUrl()] });
    try {
      // Tried again while the deadline allows (nobody got it), then the refusal is the answer, not the deadline.
      await assert.rejects(refused.request({ method: 'POST', path: '/x', signal: AbortSignal.timeout(300) }), (error: unknown) => {
        assert.ok(error instanceof KitError);
        assert.equal(error.code, Code.Unavailable);
        assert.equal(error.reason, 'connection_refused');
        return true;
      });
    } finally {
      await refused.close();
    }
  });

  void test('a 204 resolves with an undefined body; a query is encoded', async () => {
    assert.equal((await client.request({ method: 'GET', path: '/empty', signal: AbortSignal.timeout(2_000) })).body, undefined);
    const { body } = await client.request<{ path: string }>({ method: 'GET', path: '/echo', query: { q: 'a b&c', page: 2, skip: undefined, tag: ['x', 'y'] }, signal: AbortSignal.timeout(2_000) });
    assert.equal(body.path, '/echo?q=a+b%26c&page=2&tag=x&tag=y');
  });

  void test('a path that is not a plain absolute path is refused before anything is sent', async () => {
    const hits = upstream.hits;
    await assert.rejects(client.request({ method: 'GET', path: '//evil.example/x', signal: AbortSignal.timeout(2_000) }), TypeError);
    await assert.rejects(client.request({ method: 'GET', path: 'http://evil.example/x', signal: AbortSignal.timeout(2_000) }), TypeError);
    assert.equal(upstream.hits, hits);
  });
});

void describe('parseRetryAfter', () => {
  void test('reads seconds and HTTP dates, refuses garbage, never goes negative', () => {
    assert.equal(parseRetryAfter('3'), 3);
    assert.equal(parseRetryAfter(' 120 '), 120);
    assert.equal(parseRetryAfter('-1'), undefined);
    assert.equal(parseRetryAfter('1.5'), undefined);
    assert.equal(parseRetryAfter('soon'), undefined);
    assert.equal(parseRetryAfter(undefined), undefined);
    const nowMs = Date.parse('Wed, 21 Oct 2015 07:28:00 GMT');
    assert.equal(parseRetryAfter('Wed, 21 Oct 2015 07:28:30 GMT', nowMs), 30);
    assert.equal(parseRetryAfter('Wed, 21 Oct 2015 07:27:00 GMT', nowMs), 0);
  });
});
