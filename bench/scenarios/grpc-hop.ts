import http2 from 'node:http2';
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

const concurrency = 16;
const roundMs = 1_500;
const rounds = 3;
const user = { id: '6f1c8a52-0d1e-4c9b-9a57-2f4c3b1d0e7a', email: 'ada.lovelace@example.com', name: 'Ada Lovelace' };

type Callback = (error: grpc.ServiceError | null, response?: unknown) => void;
interface UsersStub extends grpc.Client { GetUser(request: { id: string }, options: grpc.CallOptions, callback: Callback): void }

export const grpcHop: Scenario = {
  name: 'grpc-hop',
  description: `One gRPC hop, \`baton.users.v1.UsersService/GetUser\` with the same request and answer (${JSON.stringify(user).length} bytes of fields), over HTTP/2 cleartext on loopback: Baton's (the kit's gRPC client, with its deadline, bulkhead, retry, balancer and breaker interceptors, against the kit's Connect-ES server with its answer and deadline interceptors, metrics on, logs at warn) vs a bare \`@grpc/grpc-js\` client and server on the same .proto (loaded with \`@grpc/proto-loader\`), and, to split the cost, bare Connect-ES client and server without the kit. ${concurrency} concurrent callers, each with a 5 s deadline, ${rounds} interleaved rounds of ${roundMs} ms, median of the rounds; client and server share the process, as both sides of the baseline do.`,
  target: 'kit hop ≥ 90% of grpc-js throughput',
  async run() {
    const logger = createLogger({ service: 'bench', level: 'warn' });
    const kitServer = await startGrpcServer({
      host: '127.0.0.1', port: 0, service: 'users', readiness: createReadiness(), logger, metrics: createMetrics().rpcServer,
      defaultDeadlineMs: 10_000, routes: (router) => router.service(UsersService, { getUser: () => ({ user }) }),
    });
    const kit = createGrpcClient({ name: 'users', urls: [kitServer.url], bulkhead: { maxConcurrent: 1_000, maxQueue: 1_000 } });
    const kitUsers = kit.client(UsersService);

    const bareServer = http2.createServer(connectNodeAdapter({ routes: (router) => router.service(UsersService, { getUser: () => ({ user }) }) }));
    await new Promise<void>((resolve) => bareServer.listen(0, '127.0.0.1', resolve));
    const bareUrl = `http://127.0.0.1:${(bareServer.address() as { port: number }).port}`;
    const bareUsers = createClient(UsersService, createGrpcTransport({ baseUrl: bareUrl }));

    const definition = protoLoader.loadSync('baton/users/v1/users.proto', { includeDirs: [protoRoot] });
    const loaded = grpc.loadPackageDefinition(definition) as unknown as { baton: { users: { v1: { UsersService: grpc.ServiceClientConstructor } } } };
    const Stub = loaded.baton.users.v1.UsersService;
    const grpcServer = new grpc.Server();
    grpcServer.addService(Stub.service, { GetUser: (_call: unknown, callback: Callback) => callback(null, { user }) });
    const grpcPort = await new Promise<number>((resolve, reject) => grpcServer.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, port) => (e ? reject(e) : resolve(port))));
    const stub = new Stub(`127.0.0.1:${grpcPort}`, grpc.credentials.createInsecure()) as unknown as UsersStub;

    const variants: Record<string, () => Promise<unknown>> = {
      'kit client → kit Connect-ES server': () => kitUsers.getUser({ id: user.id }, { timeoutMs: 5_000 }),
      'grpc-js client → grpc-js server': () => new Promise((resolve, reject) => stub.GetUser({ id: user.id }, { deadline: Date.now() + 5_000 }, (e, r) => (e ? reject(e) : resolve(r)))),
      'Connect-ES client → Connect-ES server (no kit)': () => bareUsers.getUser({ id: user.id }, { timeoutMs: 5_000 }),
    };
    const perSecond: Record<string, number[]> = {};
    const errors: Record<string, number> = {};
    for (const call of Object.values(variants)) await closedLoop(call, { concurrency, durationMs: 300 }); // warm-up
    for (let round = 0; round < rounds; round++) {
      for (const [name, call] of Object.entries(variants)) {
        const result = await closedLoop(call, { concurrency, durationMs: roundMs });
        (perSecond[name] ??= []).push(result.perSecond);
        errors[name] = (errors[name] ?? 0) + result.errors;
      }
    }
    await kit.close();
    await kitServer.close({ timeoutMs: 1_000 });
    stub.close();
    grpcServer.forceShutdown();
    bareServer.close();
    const rate = (name: string) => median(perSecond[name] ?? []);
    const rows: Row[] = Object.keys(variants).map((name) => ({ variant: name, metric: 'throughput', value: rate(name), unit: 'calls/s', note: errors[name] ? `${errors[name]} errors` : '' }));
    const [ours, baseline, bare] = Object.keys(variants) as [string, string, string];
    rows.push({ variant: 'kit hop / grpc-js', metric: 'ratio', value: rate(ours) / rate(baseline), unit: '×', note: 'target ≥ 0.9' });
    rows.push({ variant: 'bare Connect-ES / grpc-js', metric: 'ratio', value: rate(bare) / rate(baseline), unit: '×', note: 'what the libraries alone give' });
    rows.push({ variant: 'kit hop / bare Connect-ES', metric: 'ratio', value: rate(ours) / rate(bare), unit: '×', note: 'the cost of the kit\'s interceptors' });
    return rows;
  },
};
