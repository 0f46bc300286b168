import { EventEmitter } from 'node:events';
import http2 from 'node:http2';
import { loadavg } from 'node:os';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ConnectRouter } from '@connectrpc/connect';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import { protoRoot } from '@baton/contracts/proto';
import { UsersService } from '@baton/contracts/users/v1';
import { Pool } from 'undici';
import { createHttpClient } from '../../packages/kit/src/http/index.ts';
import { createCallSignal, whenAborted } from '../../packages/kit/src/resilience/deadline.ts';
import { takeStreamsFirst } from '../../packages/kit/src/rpc/server/streams-first.ts';
import { createUnaryGrpcPath } from '../../packages/kit/src/rpc/server/unary-grpc-path.ts';
import { closedLoop } from '../harness/load.ts';
import type { Row, Scenario } from '../harness/report.ts';
import { loopbackServer } from '../harness/server.ts';
import { median } from '../harness/stats.ts';
import { benchUser, type UsersStub } from '../harness/grpc-users.ts';

const concurrency = 16;
const roundMs = 300;
const rounds = 31;
const user = benchUser;

// What undici is given as a request's signal, three ways, each with the per-call work the kit's
// attempt does around it (a call signal from createCallSignal, disposed at the end).
function withFakeEmitter(pool: Pool) {
  return async () => {
    const call = createCallSignal(performance.now() + 5_000);
    let listener: (() => void) | undefined;
    const listen = (_event: string, fn: () => void) => { listener = fn; };
    const abort = { reason: undefined as unknown, on: listen, once: listen, removeListener() { listener = undefined; } };
    const forget = whenAborted(call.signal, () => { abort.reason = call.signal.reason; listener?.(); });
    try {
      const { body } = await pool.request({ method: 'GET', path: '/', signal: abort as unknown as AbortSignal });
      return await body.json();
    } finally {
      forget();
      call.dispose();
    }
  };
}

function withEventEmitter(pool: Pool) {
  return async () => {
    const call = createCallSignal(performance.now() + 5_000);
    const abort = new EventEmitter();
    const forget = whenAborted(call.signal, () => abort.emit('abort'));
    try {
      const { body } = await pool.request({ method: 'GET', path: '/', signal: abort });
      return await body.json();
    } finally {
      forget();
      call.dispose();
    }
  };
}

function withAbortSignal(pool: Pool) {
  return async () => {
    const call = createCallSignal(performance.now() + 5_000);
    try {
      const { body } = await pool.request({ method: 'GET', path: '/', signal: call.signal });
      return await body.json();
    } finally {
      call.dispose();
    }
  };
}

// The unary path's stream, answered through Node's compatibility objects (public API): the
// request's stream as it is for reading and its state, the answer written through `res`, which
// owns the stream's trailers once it exists (answering on the stream itself makes Node's layer
// send trailers a second time).
function compatStream(req: http2.Http2ServerRequest, res: http2.Http2ServerResponse): http2.ServerHttp2Stream {
  const stream = req.stream;
  let onWantTrailers: (() => void) | undefined;
  const shim = {
    get rstCode() { return stream.rstCode; },
    get destroyed() { return stream.destroyed; },
    get closed() { return stream.closed; },
    get state() { return stream.state; },
    on(event: string, fn: (...args: unknown[]) => void) { (event === 'data' || event === 'end' ? req : stream).on(event, fn); return shim; },
    once(event: string, fn: (...args: unknown[]) => void) {
      if (event === 'wantTrailers') onWantTrailers = fn as () => void;
      else (event === 'data' || event === 'end' ? req : stream).once(event, fn);
      return shim;
    },
    off(event: string, fn: (...args: unknown[]) => void) { stream.off(event, fn); return shim; },
    respond(headers: http2.OutgoingHttpHeaders) {
      const { ':status': status, ...rest } = headers;
      res.writeHead(Number(status), rest);
    },
    sendTrailers(trailers: http2.OutgoingHttpHeaders) { res.addTrailers(trailers); },
    end(body?: Buffer) {
      onWantTrailers?.();
      if (body === undefined) res.end();
      else res.end(body);
    },
    close(code: number) { stream.close(code); },
  };
  return shim as unknown as http2.ServerHttp2Stream;
}

// As the harness's pairedRounds (with the order also reversed every other round), and CPU time per call too (client and server share the process):
// on a busy machine CPU per call moves less with the load than calls per second do.
async function pairedRounds(variants: Record<string, () => Promise<unknown>>) {
  const names = Object.keys(variants);
  const perSecond: Record<string, number[]> = Object.fromEntries(names.map((name) => [name, []]));
  const cpuUs: Record<string, number[]> = Object.fromEntries(names.map((name) => [name, []]));
  let errors = 0;
  for (const name of names) await closedLoop(variants[name] as () => Promise<unknown>, { concurrency, durationMs: 300 }); // warm-up
  for (let round = 0; round < rounds; round++) {
    // Rotated, and reversed every other round, so no variant always runs right after the same one.
    const order = names.map((_, i) => names[(round + i) % names.length] as string);
    if (round % 2 === 1) order.reverse();
    for (const name of order) {
      const before = process.cpuUsage();
      const result = await closedLoop(variants[name] as () => Promise<unknown>, { concurrency, durationMs: roundMs });
      const cpu = process.cpuUsage(before);
      (perSecond[name] as number[])[round] = result.perSecond;
      (cpuUs[name] as number[])[round] = (cpu.user + cpu.system) / Math.max(1, result.latenciesMs.length);
      errors += result.errors;
    }
  }
  const ratios = (of: Record<string, number[]>, name: string, to: string) => median((of[name] ?? []).map((value, round) => value / (of[to]?.[round] ?? Number.NaN)));
  return {
    errors,
    perSecond: (name: string) => median(perSecond[name] ?? []),
    cpuPerCall: (name: string) => median(cpuUs[name] ?? []),
    pairedRatio: (name: string, to: string) => ratios(perSecond, name, to),
    /** Below 1: `name` spends less CPU per call than `to`. */
    pairedCpuRatio: (name: string, to: string) => ratios(cpuUs, name, to),
  };
}

const fake = 'undici, a fake emitter (internal)';
const emitter = 'undici, a real EventEmitter (public)';
const signalDirect = 'undici, the AbortSignal itself (public)';
const kitHttp = 'kit HTTP client (for scale)';
const streamsFirst = 'unary path, streams taken first (internal)';
const fromRequest = 'unary path from the request listener (public)';

// What each of undici's signals costs by itself, as undici uses it on a request that completes
// (made, listened to with once or addEventListener, the listener removed): CPU ns per request,
// the median of 7 runs of 200,000. The request it rides on costs ~100 µs on loopback.
function signalObjectNs(): Record<string, number> {
  const listener = () => undefined;
  const makers: Record<string, () => unknown> = {
    [fake]: () => {
      let held: (() => void) | undefined;
      const listen = (_event: string, fn: () => void) => { held = fn; };
      const abort = { reason: undefined, on: listen, once: listen, removeListener() { held = undefined; } };
      abort.once('abort', listener);
      abort.removeListener();
      return held;
    },
    [emitter]: () => {
      const abort = new EventEmitter();
      abort.once('abort', listener);
      abort.removeListener('abort', listener);
      return abort;
    },
    [signalDirect]: () => {
      const controller = new AbortController();
      controller.signal.addEventListener('abort', listener, { once: true });
      controller.signal.removeEventListener('abort', listener);
      return controller;
    },
  };
  const runs: Record<string, number[]> = {};
  let sink: unknown;
  for (let run = 0; run < 7; run++) {
    for (const [name, make] of Object.entries(makers)) {
      const before = process.cpuUsage();
      for (let i = 0; i < 200_000; i++) sink = make();
      const cpu = process.cpuUsage(before);
      (runs[name] ??= []).push(((cpu.user + cpu.system) * 1000) / 200_000);
    }
  }
  void sink;
  return Object.fromEntries(Object.entries(runs).map(([name, values]) => [name, median(values)]));
}

export const libraryInternals: Scenario = {
  name: 'library-internals',
  description: `Each library internal the kit's fast paths use against the public API that would replace it, in paired rounds (${rounds} rounds of ${roundMs} ms, ${concurrency} concurrent callers, every variant once per round in an order that rotates and is reversed every other round; throughput and CPU time per call, client and server together in one process, are medians of the rounds, ratios medians of the rounds' ratios). HTTP: bare \`undici\` Pool requests on a keep-alive loopback server, each with a call signal as the kit's attempt makes one, undici given a fake emitter (what attempt.ts did), a real EventEmitter, or the call's AbortSignal itself; the kit's client beside them for scale. gRPC server: a @grpc/grpc-js client calling GetUser on Connect-ES's node adapter with the kit's unary gRPC path in front, the path reached by taking HTTP/2 streams before Node's compatibility layer (streams-first.ts) or from the request listener on \`req.stream\`. Connect-ES's private protocol functions are measured by grpc-hop (the kit's client and server against Connect-ES's own).`,
  target: 'keep an internal only for a gain of 5% or more',
  async run() {
    const loadAtStart = loadavg()[0] ?? Number.NaN;
    const objectNs = signalObjectNs();
    const server = await loopbackServer((_req, res) => { res.setHeader('content-type', 'application/json'); res.end('{"ok":true}'); });
    const pool = new Pool(server.url, { connections: concurrency });
    const kit = createHttpClient({ name: 'bench', urls: [server.url], connectionsPerInstance: concurrency, bulkhead: { maxConcurrent: 1_000, maxQueue: 1_000 } });
    const never = new AbortController().signal;
    const http = await pairedRounds({
      [fake]: withFakeEmitter(pool),
      [emitter]: withEventEmitter(pool),
      [signalDirect]: withAbortSignal(pool),
      [kitHttp]: () => kit.request({ method: 'GET', path: '/', signal: never }),
    });
    await kit.close();
    await pool.close();
    await server.close();

    const routes = (router: ConnectRouter) => router.service(UsersService, { getUser: () => ({ user }) });
    const limits = { interceptors: [], readMaxBytes: 4 * 1024 * 1024, writeMaxBytes: 4 * 1024 * 1024 };
    const firstPath = createUnaryGrpcPath(limits);
    const first = http2.createServer(connectNodeAdapter({ routes: (router) => routes(firstPath.recording(router)) }));
    takeStreamsFirst(first, (stream, headers) => firstPath.serve(stream, headers));
    const requestPath = createUnaryGrpcPath(limits);
    const requestConnect = connectNodeAdapter({ routes: (router) => routes(requestPath.recording(router)) });
    const fromListener = http2.createServer((req, res) => {
      if (!requestPath.serve(compatStream(req, res), req.headers)) requestConnect(req, res);
    });
    const urls = await Promise.all([first, fromListener].map((s) => new Promise<string>((resolve) => s.listen(0, '127.0.0.1', () => resolve(`127.0.0.1:${(s.address() as { port: number }).port}`)))));
    const definition = protoLoader.loadSync('baton/users/v1/users.proto', { includeDirs: [protoRoot] });
    const loaded = grpc.loadPackageDefinition(definition) as unknown as { baton: { users: { v1: { UsersService: grpc.ServiceClientConstructor } } } };
    const Stub = loaded.baton.users.v1.UsersService;
    const stubs = urls.map((url) => new Stub(url, grpc.credentials.createInsecure()) as unknown as UsersStub);
    const callOf = (stub: UsersStub) => () => new Promise((resolve, reject) => stub.GetUser({ id: user.id }, { deadline: Date.now() + 5_000 }, (e, r) => (e ? reject(e) : resolve(r))));
    const grpcRounds = await pairedRounds({
      [streamsFirst]: callOf(stubs[0] as UsersStub),
      [fromRequest]: callOf(stubs[1] as UsersStub),
    });
    for (const stub of stubs) stub.close();
    await Promise.all([first, fromListener].map((s) => new Promise((resolve) => s.close(resolve))));
    const loadAtEnd = loadavg()[0] ?? Number.NaN;

    const rows: Row[] = [];
    for (const name of [fake, emitter, signalDirect]) rows.push({ variant: name, metric: 'the signal object alone', value: objectNs[name] ?? Number.NaN, unit: 'ns per request', note: 'made, listened to, listener removed' });
    for (const name of [fake, emitter, signalDirect, kitHttp]) {
      rows.push({ variant: name, metric: 'throughput', value: http.perSecond(name), unit: 'requests/s' });
      rows.push({ variant: name, metric: 'CPU per call', value: http.cpuPerCall(name), unit: 'µs' });
    }
    const pairs = [[fake, emitter, 'the internal against the public emitter'], [fake, signalDirect, 'the internal against the public signal'], [emitter, signalDirect, '']] as const;
    for (const [name, to, note] of pairs) {
      rows.push({ variant: `${name} / ${to}`, metric: 'ratio', value: http.pairedRatio(name, to), unit: '×', note });
      rows.push({ variant: `${name} / ${to}`, metric: 'CPU per call ratio', value: http.pairedCpuRatio(name, to), unit: '×', note: 'below 1: the first spends less' });
    }
    for (const name of [streamsFirst, fromRequest]) {
      rows.push({ variant: name, metric: 'throughput', value: grpcRounds.perSecond(name), unit: 'calls/s' });
      rows.push({ variant: name, metric: 'CPU per call', value: grpcRounds.cpuPerCall(name), unit: 'µs' });
    }
    rows.push({ variant: `${streamsFirst} / ${fromRequest}`, metric: 'ratio', value: grpcRounds.pairedRatio(streamsFirst, fromRequest), unit: '×', note: 'the internal against the public listener' });
    rows.push({ variant: `${streamsFirst} / ${fromRequest}`, metric: 'CPU per call ratio', value: grpcRounds.pairedCpuRatio(streamsFirst, fromRequest), unit: '×', note: 'below 1: the internal spends less' });
    rows.push({ variant: 'errors', metric: 'calls failed', value: http.errors + grpcRounds.errors, unit: '', note: 'every variant' });
    rows.push({ variant: 'machine', metric: 'load average (1 min)', value: loadAtStart, unit: '', note: `at the start; ${loadAtEnd.toFixed(2)} at the end, on ${navigator.hardwareConcurrency} cores` });
    return rows;
  },
};
