import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { OutgoingHttpHeaders } from 'node:http';
import fc from 'fast-check';
import { createSuiteScope, sendRaw } from '@baton/kit/testing';
import { createShopClient } from '../e2e/shop-client.ts';
import { startShop, type ShopStack } from '../e2e/shop-stack.ts';

// A property-based fuzz of the public API: for every operation the gateway's own OpenAPI
// document lists, fast-check builds hostile requests (wrong types, huge strings, NUL, percent-
// encodings that are not UTF-8, odd content types and methods, missing and repeated headers) and
// sends them byte for byte to the whole shop, running as `npm start` runs it. The property: no
// answer is a 5xx, and every 4xx is a problem document. The seed is fixed (FUZZ_SEED overrides
// it), so a failure, which fast-check reports with its seed and shrunk counterexample, replays.

const seed = Number(process.env.FUZZ_SEED ?? 17);
const numRuns = Number(process.env.FUZZ_RUNS ?? 400);

interface Operation {
  method: string;
  /** As documented: `/api/v1/products/{sku}`. */
  path: string;
  pathParams: string[];
  queryParams: string[];
  hasBody: boolean;
}

interface HostileRequest {
  method: string;
  path: string;
  headers: OutgoingHttpHeaders;
  body: Buffer | undefined;
}

/** The operations of the OpenAPI document, as the gateway serves it. */
async function operationsOf(base: string): Promise<Operation[]> {
  const document = await (await fetch(`${base}/api/v1/docs/json`)).json() as {
    paths: Record<string, Record<string, { parameters?: Array<{ in: string; name: string }>; requestBody?: unknown }>>;
  };
  return Object.entries(document.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, operation]) => ({
    method: method.toUpperCase(),
    path,
    pathParams: (operation.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name),
    queryParams: (operation.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name),
    hasBody: operation.requestBody !== undefined,
  })));
}

// Strings an attacker tries: plain, huge, with NUL and control characters, every plane of Unicode.
const hostileString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('', ' ', '\u0000', 'a\u0000b', '\r\n', '\uD800', '\uFFFF', '../../etc/passwd', '%00', "' or 1=1 --", '{{7*7}}', '<script>', '__proto__', 'COFFEE-1KG'),
  fc.integer({ min: 100, max: 300_000 }).map((n) => 'A'.repeat(n)),
);

// A path segment: percent-encoded text, or raw encodings that do not decode to UTF-8.
const pathSegment = fc.oneof(
  hostileString.map((s) => encodeURIComponent(s.replace(/[\uD800-\uDFFF]/g, '?'))),
  fc.constantFrom('%ED%A0%80', '%ff', '%C0%AF', '%', '%zz', '%E2%82', '..%2F..%2F', '%2e%2e', '%00', 'COFFEE-1KG', '00000000-0000-0000-0000-000000000000'),
  fc.integer({ min: 50, max: 20_000 }).map((n) => 'B'.repeat(n)),
);

// Any JSON at all, or JSON that is almost the right shape, or bytes that are not JSON or not UTF-8.
const hostileBody = fc.oneof(
  fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v) ?? 'null')),
  fc.record({
    email: fc.oneof(hostileString, fc.emailAddress(), fc.jsonValue()),
    password: fc.oneof(hostileString, fc.jsonValue()),
    name: fc.oneof(hostileString, fc.jsonValue()),
    items: fc.oneof(fc.jsonValue(), fc.array(fc.record({ sku: fc.oneof(hostileString, fc.jsonValue()), quantity: fc.oneof(fc.integer(), fc.double(), fc.jsonValue()) }), { maxLength: 60 })),
  }, { requiredKeys: [] }).map((v) => Buffer.from(JSON.stringify(v))),
  fc.constantFrom(
    Buffer.from('{"email":"\u00ed\u00a0\u0080"}', 'latin1'),
    Buffer.from([0x7b, 0x22, 0x65, 0x22, 0x3a, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x7d]),
    Buffer.from('{"__proto__":{"admin":true}}'),
    Buffer.from('{"constructor":{"prototype":{"x":1}}}'),
    Buffer.from('{"a":'.repeat(5_000)),
    Buffer.from('[' .repeat(10_000) + ']'.repeat(10_000)),
    Buffer.from(''),
    Buffer.from('not json'),
  ),
  fc.integer({ min: 1, max: 200_000 }).map((n) => Buffer.from(JSON.stringify({ email: 'x'.repeat(n), password: 'y', name: 'z' }))),
);

const contentType = fc.constantFrom(
  'application/json', 'application/json; charset=utf-8', 'application/json; charset=utf-16', 'text/plain', 'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x', 'application/xml', 'application/json, text/plain', '', 'application/problem+json', '*/*', undefined,
);

function requestFor(operation: Operation, token: string): fc.Arbitrary<HostileRequest> {
  return fc.record({
    method: fc.oneof({ weight: 4, arbitrary: fc.constant(operation.method) }, { weight: 1, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD', 'TRACE', 'PROPFIND', 'CONNECT') }),
    params: fc.tuple(...operation.pathParams.map(() => pathSegment)),
    query: fc.oneof(
      fc.constant(''),
      fc.array(fc.tuple(fc.constantFrom(...operation.queryParams, 'limit', 'cursor', 'unknown', '__proto__', 'limit[]'), pathSegment), { maxLength: 4 })
        .map((pairs) => (pairs.length === 0 ? '' : `?${pairs.map(([k, v]) => `${k}=${v}`).join('&')}`)),
    ),
    slashes: fc.oneof({ weight: 8, arbitrary: fc.constant('') }, { weight: 1, arbitrary: fc.constantFrom('/', '//', '/.', '/%2F') }),
    body: operation.hasBody ? fc.option(hostileBody, { freq: 5 }) : fc.option(hostileBody, { freq: 1 }),
    contentType,
    authorization: fc.constantFrom(undefined, `Bearer ${token}`, 'Bearer', 'Bearer x.y.z', `Bearer ${'a'.repeat(8_000)}`, 'Basic YTpi', [`Bearer ${token}`, 'Bearer x'] as const),
    idempotencyKey: fc.option(fc.oneof(fc.constantFrom('12345678', 'a'.repeat(200), 'not a key!'), fc.stringMatching(/^[A-Za-z0-9._:-]{8,40}$/), fc.constant(['k-11111111', 'k-22222222'] as const))),
    extra: fc.dictionary(fc.constantFrom('traceparent', 'baggage', 'x-baton-timeout-ms', 'x-request-id', 'x-forwarded-for', 'accept', 'content-encoding', 'accept-encoding', 'range', 'expect'),
      fc.constantFrom('00-zz-zz-zz', 'a=b', '-1', '1e309', '0', 'NaN', '\u00ff\u00fe', 'gzip', '100-continue', '::1, 1.2.3.4', 'x'.repeat(4_000)), { maxKeys: 3 }),
  }).map(({ method, params, query, slashes, body, contentType: type, authorization, idempotencyKey, extra }) => {
    let path = operation.path;
    operation.pathParams.forEach((name, i) => { path = path.replace(`{${name}}`, params[i] ?? ''); });
    const headers: Record<string, string | string[]> = { ...extra };
    if (type !== undefined && body !== null) headers['content-type'] = type;
    if (authorization !== undefined) headers.authorization = typeof authorization === 'string' ? authorization : [...authorization];
    if (idempotencyKey !== null) headers['idempotency-key'] = typeof idempotencyKey === 'string' ? idempotencyKey : [...idempotencyKey];
    // CONNECT and an `expect` the server does not know would take the connection elsewhere.
    if (method === 'CONNECT') return { method: 'GET', path: `${path}${slashes}${query}`, headers, body: body ?? undefined };
    return { method, path: `${path}${slashes}${query}`, headers, body: body ?? undefined };
  });
}

void describe('fuzzing the public API from its OpenAPI document', () => {
  const suite = createSuiteScope();
  let shop: ShopStack;
  let operations: Operation[];
  let token: string;

  before(async () => {
    shop = await startShop(suite, {
      gateway: {
        RATE_LIMIT_PER_ADDRESS_PER_MINUTE: '1000000', RATE_LIMIT_PER_USER_PER_MINUTE: '1000000',
        REGISTRATIONS_PER_ADDRESS_PER_HOUR: '1000000', SIGN_IN_FREE_FAILURES_PER_ADDRESS: '1000000',
      },
      users: { PASSWORD_SCRYPT_LOG2_N: '14' },
      // The image routes are fuzzed against media itself.
    }, { media: true });
    operations = await operationsOf(shop.gateway);
    token = (await createShopClient(shop.gateway).signUp('Fuzz')).token;
  });

  void test('every operation, hostile requests: no 5xx, and every 4xx is application/problem+json', async (t) => {
    assert.ok(operations.length >= 10, `the document lists ${operations.length} operations`);
    t.diagnostic(`${operations.length} operations, ${numRuns} requests, seed ${seed} (FUZZ_SEED=${seed} FUZZ_RUNS=${numRuns} replays it)`);
    const statuses = new Map<number, number>();
    const hostile = fc.constantFrom(...operations).chain((operation) => requestFor(operation, token));
    await fc.assert(fc.asyncProperty(hostile, async (request) => {
      const seen = await sendRaw(shop.gateway, request);
      statuses.set(seen.status, (statuses.get(seen.status) ?? 0) + 1);
      const what = `${request.method} ${request.path.slice(0, 200)} answered ${seen.status} ${seen.contentType}: ${seen.body.slice(0, 300)}`;
      assert.ok(seen.status < 500, what);
      if (seen.status >= 400 && request.method !== 'HEAD') {
        assert.match(seen.contentType, /^application\/problem\+json/, what);
        assert.equal((JSON.parse(seen.body) as { status?: unknown }).status, seen.status, `the document's status is the answer's: ${what}`);
      }
    }), { seed, numRuns, endOnFailure: true });
    t.diagnostic(`statuses: ${[...statuses].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`).join(' ')}`);
    // The fuzz reached past validation too, not only the 400s.
    assert.ok([...statuses.keys()].some((s) => s < 300), 'some requests were answered 2xx');
    assert.ok([...statuses.keys()].filter((s) => s >= 400).length >= 3, 'several kinds of 4xx');
  });
});
