// Where service identity's cost on a call goes (issue 18: `service-identity` came out at 1.02-1.07×
// CPU per call against a target of ≤ 1.05×). The kit's HTTP client calls a kit service's route
// in one process on loopback, as `service-identity` does, but every variant's server and client
// are made anew for each of its rounds (`pairedRounds`' `prepare`): in `service-identity` each
// variant keeps one server and one client for the whole run, and two identical ones came out up
// to 6% apart in CPU per call, as much as identity's whole cost.
//
//   off                  a server without SERVICE_KEY, a client without a token
//   off, again           the same, again: the control, whose distance from 1 is this run's noise
//   the token's bytes    off, with a header as long as the token's (what carrying it costs)
//   token, open route    identity on, a client with its token, a route any caller may call:
//                        the client's side and the bytes, no check
//   header, no client    identity on, a client without identity sending the same token as a plain
//                        header to the guarded route: the server's check and the bytes
//   on                   identity on: a client with its token, the route `callers: ['orders']`
//
//   node bench/profile/identity-split.ts
//   IDENTITY_SPLIT_ROUNDS=61 node bench/profile/identity-split.ts
import { generateServiceKeyPair, parseServiceKey } from '../../packages/kit/src/auth/service-identity/keys.ts';
import { createServiceTokenMinter } from '../../packages/kit/src/auth/service-identity/minter.ts';
import { serviceTokenHeader } from '../../packages/kit/src/auth/service-identity/service-token.ts';
import { loadConfig, serviceConfigFields, serviceIdentityFields, z } from '../../packages/kit/src/config/index.ts';
import { createHttpClient, type HttpClient } from '../../packages/kit/src/http/index.ts';
import { startService } from '../../packages/kit/src/service/index.ts';
import type { StatelessServiceDefinition } from '../../packages/kit/src/service/definition.ts';
import { createLogger } from '../../packages/kit/src/telemetry/index.ts';
import { pairedRounds } from '../harness/load.ts';

const rounds = Number(process.env.IDENTITY_SPLIT_ROUNDS ?? 41);
const concurrency = 16;
const roundMs = 300;

const callee = generateServiceKeyPair('inventory');
const orders = generateServiceKeyPair('orders');
const ordersKey = parseServiceKey(JSON.stringify(orders.privateJwk));
if ('problem' in ordersKey) throw new Error(ordersKey.problem);
const tokens = createServiceTokenMinter({ service: 'orders', key: ordersKey });
const token = await tokens.tokenFor('inventory');

const definition: StatelessServiceDefinition = {
  name: 'inventory',
  setup(app) {
    app.get('/v1/ping', { config: { callers: ['orders'] } }, async () => ({ pong: true }));
    app.get('/v1/open', { config: { callers: 'public' } }, async () => ({ pong: true }));
  },
};
const base = { HOST: '127.0.0.1', PORT: '0', LOAD_SHEDDING: 'false', LOG_LEVEL: 'warn' };
const withIdentity = loadConfig(z.object({ ...serviceConfigFields({ name: 'inventory', port: 0 }), ...serviceIdentityFields() }), {
  ...base, SERVICE_KEY: JSON.stringify(callee.privateJwk), SERVICE_TRUST: JSON.stringify({ orders: [orders.publicJwk] }),
});
const without = loadConfig(z.object(serviceConfigFields({ name: 'inventory', port: 0 })), base);
const logger = createLogger({ service: 'inventory', level: 'warn' });

interface Variant { identity: boolean; clientToken: boolean; path: string; headers?: Record<string, string> }
const padding = { 'x-bench-padding': 'p'.repeat(token.length + serviceTokenHeader.length - 'x-bench-padding'.length) };
const variants: Record<string, Variant> = {
  'off': { identity: false, clientToken: false, path: '/v1/ping' },
  'off, again': { identity: false, clientToken: false, path: '/v1/ping' },
  'the token\'s bytes': { identity: false, clientToken: false, path: '/v1/ping', headers: padding },
  'token, open route': { identity: true, clientToken: true, path: '/v1/open' },
  'header, no client': { identity: true, clientToken: false, path: '/v1/ping', headers: { [serviceTokenHeader]: token } },
  'on': { identity: true, clientToken: true, path: '/v1/ping' },
};

const signal = new AbortController().signal;
let client: HttpClient | undefined;
const calls = Object.fromEntries(Object.entries(variants).map(([name, variant]) => [
  name,
  () => (client as HttpClient).request({ method: 'GET', path: variant.path, signal, headers: variant.headers }),
]));

async function prepare(name: string): Promise<() => Promise<void>> {
  const variant = variants[name] as Variant;
  const server = await startService(definition, variant.identity ? withIdentity : without, { logger });
  const made = createHttpClient({
    name: 'inventory', urls: [server.url], connectionsPerInstance: concurrency, bulkhead: { maxConcurrent: 1_000, maxQueue: 1_000 },
    ...(variant.clientToken ? { identity: tokens } : {}),
  });
  client = made;
  return async () => {
    await made.close();
    await server.shutdown('round over');
  };
}

const measured = await pairedRounds(calls, { concurrency, rounds, roundMs, prepare });
console.log(`${rounds} rounds of ${roundMs} ms, C=${concurrency}, a new server and client each round; the token is ${token.length} characters`);
console.log('| variant | calls/s | CPU µs per call | calls/s / off | CPU / off |');
console.log('|---|---|---|---|---|');
for (const name of Object.keys(variants)) {
  const errors = measured.errors(name) > 0 ? ` (${measured.errors(name)} errors)` : '';
  console.log(`| ${name}${errors} | ${measured.perSecond(name).toFixed(0)} | ${measured.cpuUsPerCall(name).toFixed(1)} | ${measured.pairedRatio(name, 'off').toFixed(3)} | ${measured.pairedCpuRatio(name, 'off').toFixed(3)} |`);
}
