import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import http2 from 'node:http2';
import { setTimeout as sleep } from 'node:timers/promises';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import { Health, HealthCheckResponse_ServingStatus } from '@baton/contracts/grpc/health/v1';
import { loadConfig, serviceConfigFields, z, type ServiceConfig } from '../config/index.ts';
import { createHttpClient } from '../http/http-client.ts';
import { policyDefaults } from '../resilience/defaults.ts';
import type { HttpClientEvent } from './events.ts';
import { startService, type StatelessServiceDefinition } from '../service/index.ts';
import { createSilentLogger } from '../testing/logger.ts';
import { createGrpcClient } from '../rpc/client/grpc-client.ts';

// One of two instances goes away gracefully in the middle of a stream of calls that are not
// repeatable (a POST without a key; a gRPC method not marked idempotent): over HTTP a kit service
// shutting down (it refuses new requests with `shutting_down` for SHUTDOWN_NOTICE_MS, then closes
// its listener and idle connections), over gRPC a server saying GOAWAY. Each finishes what it
// started. The caller sees no error: every call it made was either
// finished by the leaving instance or never started there, and went to the other one.
//
// Each call carries its number in `x-call`, and an instance counts what it served by that number:
// with two instances the kit's gRPC client also probes each one's health with the same
// Health/Check the stream calls, once a second, and a probe is not a call of the stream.

const calls = 300;
const concurrency = 8;

const callHeader = 'x-call';

interface Instance {
  url: string;
  /** The stream's calls this instance served, by number; a call served twice is here twice. */
  served: string[];
  /** Leaves as a Baton server does on SIGTERM. */
  leave(): Promise<void>;
  close(): Promise<void>;
}

async function listen(server: http2.Http2Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

// A real kit service: its shutdown is what is tested here.
async function httpInstance(): Promise<Instance> {
  const instance: Instance = { url: '', served: [], leave: async () => {}, close: async () => {} };
  const definition: StatelessServiceDefinition<ServiceConfig> = {
    name: 'leaving',
    setup(app) {
      app.post('/orders', async (request) => {
        await sleep(2);
        instance.served.push(String(request.headers[callHeader]));
        return { ok: true };
      });
    },
  };
  const config = loadConfig(z.object(serviceConfigFields({ name: 'leaving', port: 0 })), { HOST: '127.0.0.1', PORT: '0', LOAD_SHEDDING: 'false' });
  const running = await startService(definition, config, { logger: createSilentLogger('leaving') });
  instance.url = running.url;
  instance.leave = async () => {
    await running.shutdown('test');
  };
  instance.close = async () => {
    await running.shutdown('test');
  };
  return instance;
}

async function grpcInstance(): Promise<Instance> {
  const instance: Instance = { url: '', served: [], leave: async () => {}, close: async () => {} };
  const server = http2.createServer(connectNodeAdapter({
    routes(router) {
      router.service(Health, {
        async check(_request, context) {
          await sleep(2);
          const call = context.requestHeader.get(callHeader);
          if (call !== null) instance.served.push(call);
          return { status: HealthCheckResponse_ServingStatus.SERVING };
        },
      });
    },
  }));
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
  });
  instance.url = await listen(server);
  instance.leave = async () => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // GOAWAY: no new streams on these connections; the ones open finish.
    for (const session of sessions) session.close();
    await closed;
  };
  instance.close = async () => {
    for (const session of sessions) session.destroy();
    await new Promise<void>((resolve) => { server.close(() => resolve()); if (!server.listening) resolve(); });
  };
  return instance;
}

async function stream(call: (number: string) => Promise<unknown>, onHalfway: () => void): Promise<unknown[]> {
  const failures: unknown[] = [];
  let started = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (started < calls) {
      const number = String(started++);
      if (started === calls / 2) onHalfway();
      try {
        await call(number);
      } catch (error) {
        failures.push(error);
      }
    }
  }));
  return failures;
}

for (const transport of ['http', 'grpc'] as const) {
  test(`over ${transport}: an instance leaving gracefully mid-stream costs the caller nothing, even for calls that are not repeatable`, async (t) => {
    const make = transport === 'http' ? httpInstance : grpcInstance;
    const [leaving, staying] = [await make(), await make()];
    t.after(() => Promise.all([leaving.close(), staying.close()]));
    const retryDelaysMs: number[] = [];
    const options = { name: 'up', urls: [leaving.url, staying.url], timeoutMs: 5_000, onEvent: (e: HttpClientEvent) => { if (e.type === 'retry') retryDelaysMs.push(e.delayMs); } };
    let call: (number: string) => Promise<unknown>;
    let close: () => Promise<void>;
    if (transport === 'http') {
      const client = createHttpClient(options);
      call = (number) => client.request({ method: 'POST', path: '/orders', headers: { [callHeader]: number }, body: {}, signal: new AbortController().signal });
      close = () => client.close();
    } else {
      const client = createGrpcClient(options);
      const health = client.client(Health);
      call = (number) => health.check({}, { headers: { [callHeader]: number } });
      close = () => client.close();
    }
    t.after(() => close());

    let left: Promise<void> | undefined;
    const failures = await stream(call, () => { left = leaving.leave(); });
    await left;
    assert.deepEqual(failures, [], 'no call failed');
    // Sent elsewhere at once: a leaving instance's Retry-After is for callers with nowhere else to go.
    assert.ok(retryDelaysMs.every((ms) => ms <= policyDefaults.retry.unsentMaxDelayMs), `retries waited ${JSON.stringify(retryDelaysMs.map(Math.round))} ms`);
    const served = [...leaving.served, ...staying.served].sort((a, b) => Number(a) - Number(b));
    assert.deepEqual(served, Array.from({ length: calls }, (_, number) => String(number)), 'each call was served exactly once');
    assert.ok(leaving.served.length > 0 && staying.served.length > calls / 2, `both served before, the staying one after (${leaving.served.length} / ${staying.served.length})`);
  });
}

test('an instance that said it is leaving and then resets the connection of the next request started nothing: a POST is tried again', async (t) => {
  // What a lone instance does on SIGTERM as a kit client sees it: refusals while it gives notice,
  // then it closes its keep-alive connections, one of them just as the next attempt goes out.
  let hits = 0;
  const plain = createServer((req, res) => {
    hits++;
    if (hits === 1) {
      res.writeHead(503, { 'content-type': 'application/problem+json', 'retry-after': '0' })
        .end(JSON.stringify({ type: 'urn:baton:problem:unavailable', title: 'Unavailable', status: 503, detail: 'shutting down', code: 'unavailable', reason: 'shutting_down', not_started: true }));
      return;
    }
    if (hits === 2) {
      req.socket.destroy();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
  await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => { plain.closeAllConnections(); plain.close(() => resolve()); }));
  const client = createHttpClient({ name: 'lone', urls: [`http://127.0.0.1:${(plain.address() as { port: number }).port}`], timeoutMs: 5_000 });
  t.after(() => client.close());
  const answer = await client.request({ method: 'POST', path: '/users', body: {}, signal: AbortSignal.timeout(5_000) });
  assert.equal(answer.status, 200, 'the reset after the notice was not taken for work done');
  assert.equal(hits, 3);
});
