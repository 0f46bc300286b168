import http2 from 'node:http2';
import { loadavg } from 'node:os';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { createClient } from '@connectrpc/connect';
import { connectNodeAdapter, createGrpcTransport } from '@connectrpc/connect-node';
import { protoRoot } from '@baton/contracts/proto';
import { UsersService } from '@baton/contracts/users/v1';
import { createGrpcClient, startGrpcServer } from '../../packages/kit/src/rpc/index.ts';
import { createReadiness } from '../../packages/kit/src/service/health.ts';
import { createLogger, createMetrics } from '../../packages/kit/src/telemetry/index.ts';
import { closedLoop } from '../harness/load.ts';
import type { Row, Scenario } from '../harness/report.ts';
import { median } from '../harness/stats.ts';
import { benchUser, type GrpcCallback, type UsersStub } from '../harness/grpc-users.ts';

const concurrency = 16;
const roundMs = 300;
const rounds = 21;
const user = benchUser;

// The variants, by client and server. The first two are the comparison the target is about; the
// mixed ones say which side costs what (each side against grpc-js's other side), and the bare
// Connect-ES ones what the library gives without the kit.
const ours = 'kit client → kit server';
const baseline = 'grpc-js client → grpc-js server';
const kitClientAlone = 'kit client → grpc-js server';
const kitServerAlone = 'grpc-js client → kit server';
const bareConnect = 'Connect-ES client → Connect-ES server (no kit)';
const connectServerAlone = 'grpc-js client → Connect-ES server (no kit)';
const connectClientAlone = 'Connect-ES client → grpc-js server (no kit)';

export const grpcHop: Scenario = {
  name: 'grpc-hop',
  description: `One gRPC hop, \`baton.users.v1.UsersService/GetUser\` with the same request and answer (${JSON.stringify(user).length} bytes of fields), over HTTP/2 cleartext on loopback: Baton's (the kit's gRPC client, with its deadline, bulkhead, retry, balancer and breaker interceptors, against the kit's gRPC server, Connect-ES with the kit's unary gRPC path, answer and deadline interceptors, metrics on, logs at warn) vs a bare \`@grpc/grpc-js\` client and server on the same .proto (loaded with \`@grpc/proto-loader\`). Mixed variants put each side of Baton against grpc-js's other side, and bare Connect-ES (its own gRPC transport and node adapter, no kit) shows what the library alone costs. ${concurrency} concurrent callers, each with a 5 s deadline, ${rounds} rounds of ${roundMs} ms, every variant once per round in an order that rotates from round to round; throughput and CPU time per call (process.cpuUsage, client and server together: they share the process, as both sides of the baseline do) are the medians of the rounds, and the ratio to grpc-js is the median of each round's ratio, so a change in the machine's load between rounds cancels out.`,
  target: 'kit hop ≥ 90% of grpc-js throughput',
  async run() {
    // Many short rounds rather than a few long ones: on a shared machine the load drifts,
    // and a round's variants, run back to back, see nearly the same machine.
    const logger = createLogger({ service: 'bench', level: 'warn' });
    const kitServer = await startGrpcServer({
      host: '127.0.0.1', port: 0, service: 'users', readiness: createReadiness(), logger, metrics: createMetrics().rpcServer,
      defaultDeadlineMs: 10_000, routes: (router) => router.service(UsersService, { getUser: () => ({ user }) }),
    });
    const bareServer = http2.createServer(connectNodeAdapter({ routes: (router) => router.service(UsersService, { getUser: () => ({ user }) }) }));
    await new Promise<void>((resolve) => bareServer.listen(0, '127.0.0.1', resolve));
    const bareUrl = `http://127.0.0.1:${(bareServer.address() as { port: number }).port}`;

    const definition = protoLoader.loadSync('baton/users/v1/users.proto', { includeDirs: [protoRoot] });
    const loaded = grpc.loadPackageDefinition(definition) as unknown as { baton: { users: { v1: { UsersService: grpc.ServiceClientConstructor } } } };
    const Stub = loaded.baton.users.v1.UsersService;
    const grpcServer = new grpc.Server();
    grpcServer.addService(Stub.service, { GetUser: (_call: unknown, callback: GrpcCallback) => callback(null, { user }) });
    const grpcPort = await new Promise<number>((resolve, reject) => grpcServer.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, port) => (e ? reject(e) : resolve(port))));
    const grpcUrl = `http://127.0.0.1:${grpcPort}`;

    const kitClients: Array<{ close(): Promise<void> }> = [];
    const stubs: grpc.Client[] = [];
    const kitTo = (url: string) => {
      const client = createGrpcClient({ name: 'users', urls: [url], bulkhead: { maxConcurrent: 1_000, maxQueue: 1_000 } });
      kitClients.push(client);
      const users = client.client(UsersService);
      return () => users.getUser({ id: user.id }, { timeoutMs: 5_000 });
    };
    const grpcJsTo = (url: string) => {
      const stub = new Stub(url.replace('http://', ''), grpc.credentials.createInsecure()) as unknown as UsersStub;
      stubs.push(stub);
      return () => new Promise((resolve, reject) => stub.GetUser({ id: user.id }, { deadline: Date.now() + 5_000 }, (e, r) => (e ? reject(e) : resolve(r))));
    };
    const connectTo = (url: string) => {
      const users = createClient(UsersService, createGrpcTransport({ baseUrl: url }));
      return () => users.getUser({ id: user.id }, { timeoutMs: 5_000 });
    };
    const variants: Record<string, () => Promise<unknown>> = {
      [ours]: kitTo(kitServer.url),
      [baseline]: grpcJsTo(grpcUrl),
      [kitClientAlone]: kitTo(grpcUrl),
      [kitServerAlone]: grpcJsTo(kitServer.url),
      [bareConnect]: connectTo(bareUrl),
      [connectServerAlone]: grpcJsTo(bareUrl),
      [connectClientAlone]: connectTo(grpcUrl),
    };
    const names = Object.keys(variants);
    const loadAtStart = loadavg()[0] ?? Number.NaN;
    const perSecond: Record<string, number[]> = {};
    const cpuUs: Record<string, number[]> = {};
    const errors: Record<string, number> = {};
    for (const call of Object.values(variants)) await closedLoop(call, { concurrency, durationMs: 300 }); // warm-up
    for (let round = 0; round < rounds; round++) {
      for (let i = 0; i < names.length; i++) {
        const name = names[(round + i) % names.length] as string;
        const call = variants[name] as () => Promise<unknown>;
        const cpuBefore = process.cpuUsage();
        const result = await closedLoop(call, { concurrency, durationMs: roundMs });
        const cpu = process.cpuUsage(cpuBefore);
        (perSecond[name] ??= []).push(result.perSecond);
        (cpuUs[name] ??= []).push((cpu.user + cpu.system) / Math.max(1, result.latenciesMs.length));
        errors[name] = (errors[name] ?? 0) + result.errors;
      }
    }
    const loadAtEnd = loadavg()[0] ?? Number.NaN;
    await Promise.all(kitClients.map((client) => client.close()));
    await kitServer.close({ timeoutMs: 1_000 });
    for (const stub of stubs) stub.close();
    grpcServer.forceShutdown();
    bareServer.close();

    const rate = (name: string) => median(perSecond[name] ?? []);
    const pairedRatio = (name: string, to: string) => median((perSecond[name] ?? []).map((value, round) => value / (perSecond[to]?.[round] ?? Number.NaN)));
    const rows: Row[] = names.flatMap((name) => [
      { variant: name, metric: 'throughput', value: rate(name), unit: 'calls/s', note: errors[name] ? `${errors[name]} errors` : '' },
      { variant: name, metric: 'CPU per call', value: median(cpuUs[name] ?? []), unit: 'µs', note: '' },
    ]);
    rows.push({ variant: 'kit hop / grpc-js', metric: 'ratio', value: pairedRatio(ours, baseline), unit: '×', note: 'target ≥ 0.9' });
    rows.push({ variant: 'kit hop / grpc-js', metric: 'CPU per call ratio', value: median((cpuUs[ours] ?? []).map((value, round) => value / (cpuUs[baseline]?.[round] ?? Number.NaN))), unit: '×', note: 'below 1: the kit spends less' });
    rows.push({ variant: 'kit client alone / grpc-js client', metric: 'ratio', value: pairedRatio(kitClientAlone, baseline), unit: '×', note: 'both against the grpc-js server' });
    rows.push({ variant: 'kit server alone / grpc-js server', metric: 'ratio', value: pairedRatio(kitServerAlone, baseline), unit: '×', note: 'both called by the grpc-js client' });
    rows.push({ variant: 'bare Connect-ES / grpc-js', metric: 'ratio', value: pairedRatio(bareConnect, baseline), unit: '×', note: 'what the library alone gives' });
    rows.push({ variant: 'Connect-ES server alone / grpc-js server', metric: 'ratio', value: pairedRatio(connectServerAlone, baseline), unit: '×', note: 'both called by the grpc-js client' });
    rows.push({ variant: 'Connect-ES client alone / grpc-js client', metric: 'ratio', value: pairedRatio(connectClientAlone, baseline), unit: '×', note: 'both against the grpc-js server' });
    // What the kit's own unary paths (which use Connect-ES's private protocol functions, see
    // packages/kit/src/rpc/connect-internals.ts) give over Connect-ES's public transport and handler.
    rows.push({ variant: 'kit client alone / Connect-ES client alone', metric: 'ratio', value: pairedRatio(kitClientAlone, connectClientAlone), unit: '×', note: 'both against the grpc-js server' });
    rows.push({ variant: 'kit server alone / Connect-ES server alone', metric: 'ratio', value: pairedRatio(kitServerAlone, connectServerAlone), unit: '×', note: 'both called by the grpc-js client' });
    rows.push({ variant: 'machine', metric: 'load average (1 min)', value: loadAtStart, unit: '', note: `at the start; ${loadAtEnd.toFixed(2)} at the end, on ${navigator.hardwareConcurrency} cores` });
    return rows;
  },
};
