import { loadavg } from 'node:os';
import { generateServiceKeyPair, parseServiceKey } from '../../packages/kit/src/auth/service-identity/keys.ts';
import { createServiceTokenMinter } from '../../packages/kit/src/auth/service-identity/minter.ts';
import { serviceTokenHeader } from '../../packages/kit/src/auth/service-identity/service-token.ts';
import { loadConfig, serviceConfigFields, serviceIdentityFields, z } from '../../packages/kit/src/config/index.ts';
import { createHttpClient } from '../../packages/kit/src/http/index.ts';
import { startService } from '../../packages/kit/src/service/index.ts';
import type { StatelessServiceDefinition } from '../../packages/kit/src/service/definition.ts';
import { createLogger } from '../../packages/kit/src/telemetry/index.ts';
import { closedLoop } from '../harness/load.ts';
import type { Row, Scenario } from '../harness/report.ts';

const concurrency = 16;
const roundMs = 300;
const rounds = 21;

const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;

export const serviceIdentity: Scenario = {
  name: 'service-identity',
  description: `What workload identity costs a call between two Baton services: the kit's HTTP client calling a kit service's route (\`callers: ['orders']\`), in one process on loopback, with service identity on (the client's cached token attached to every attempt, the server's check of it against its cache of verified tokens) and off (the same service without SERVICE_KEY, the same client without a token source), and off again with a header as long as the token (what carrying its bytes costs, without the check). ${concurrency} concurrent callers, ${rounds} rounds of ${roundMs} ms, every variant once per round in an order that rotates; throughput and CPU time per call (client and server together, process.cpuUsage) are the medians of the rounds, each ratio the median of the rounds' ratios.`,
  target: 'identity on ≥ 0.95× the calls/s of off, CPU per call ≤ 1.05×',
  async run() {
    const callee = generateServiceKeyPair('inventory');
    const orders = generateServiceKeyPair('orders');
    const withIdentity = z.object({ ...serviceConfigFields({ name: 'inventory', port: 0 }), ...serviceIdentityFields() });
    const without = z.object(serviceConfigFields({ name: 'inventory', port: 0 }));
    const definition: StatelessServiceDefinition = {
      name: 'inventory',
      setup(app) {
        app.get('/v1/ping', { config: { callers: ['orders'] } }, async () => ({ pong: true }));
      },
    };
    const base = { HOST: '127.0.0.1', PORT: '0', LOAD_SHEDDING: 'false', LOG_LEVEL: 'warn' };
    const logger = () => createLogger({ service: 'inventory', level: 'warn' });
    const on = await startService(definition, loadConfig(withIdentity, { ...base, SERVICE_KEY: JSON.stringify(callee.privateJwk), SERVICE_TRUST: JSON.stringify({ orders: [orders.publicJwk] }) }), { logger: logger() });
    const off = await startService(definition, loadConfig(without, base), { logger: logger() });
    const key = parseServiceKey(JSON.stringify(orders.privateJwk));
    if ('problem' in key) throw new Error(key.problem);
    const clientOptions = { name: 'inventory', connectionsPerInstance: concurrency, bulkhead: { maxConcurrent: 1_000, maxQueue: 1_000 } };
    const onClient = createHttpClient({ ...clientOptions, urls: [on.url], identity: createServiceTokenMinter({ service: 'orders', key }) });
    const offClient = createHttpClient({ ...clientOptions, urls: [off.url] });
    const signal = new AbortController().signal;
    // The token's own bytes, sent without identity: a header of the token's length. Against it,
    // "on" shows what the check costs beyond carrying the token on every call.
    const tokenChars = (await createServiceTokenMinter({ service: 'orders', key }).tokenFor('inventory')).length;
    const padding = { 'x-bench-padding': 'p'.repeat(tokenChars + serviceTokenHeader.length - 'x-bench-padding'.length) };
    const variants: Record<string, () => Promise<unknown>> = {
      'identity on': () => onClient.request({ method: 'GET', path: '/v1/ping', signal }),
      'identity off': () => offClient.request({ method: 'GET', path: '/v1/ping', signal }),
      'identity off, a header as long as the token': () => offClient.request({ method: 'GET', path: '/v1/ping', signal, headers: padding }),
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
        const cpuBefore = process.cpuUsage();
        const result = await closedLoop(variants[name] as () => Promise<unknown>, { concurrency, durationMs: roundMs });
        const cpu = process.cpuUsage(cpuBefore);
        (perSecond[name] ??= []).push(result.perSecond);
        (cpuUs[name] ??= []).push((cpu.user + cpu.system) / Math.max(1, result.latenciesMs.length));
        errors[name] = (errors[name] ?? 0) + result.errors;
      }
    }
    const loadAtEnd = loadavg()[0] ?? Number.NaN;
    await onClient.close();
    await offClient.close();
    await on.shutdown('bench over');
    await off.shutdown('bench over');
    const paired = (values: Record<string, number[]>, baseline = 'identity off') => median((values['identity on'] ?? []).map((value, round) => value / (values[baseline]?.[round] ?? Number.NaN)));
    const rows: Row[] = names.flatMap((name) => [
      { variant: name, metric: 'throughput', value: median(perSecond[name] ?? []), unit: 'calls/s', note: errors[name] ? `${errors[name]} errors` : '' },
      { variant: name, metric: 'CPU per call', value: median(cpuUs[name] ?? []), unit: 'µs', note: 'client and server' },
    ]);
    rows.push({ variant: 'on / off', metric: 'ratio', value: paired(perSecond), unit: '×', note: 'target ≥ 0.95' });
    rows.push({ variant: 'on / off', metric: 'CPU per call ratio', value: paired(cpuUs), unit: '×', note: 'target ≤ 1.05' });
    const padded = 'identity off, a header as long as the token';
    rows.push({ variant: 'on / off with the padding', metric: 'ratio', value: paired(perSecond, padded), unit: '×', note: `the check beyond the token's ${tokenChars} characters on the wire` });
    rows.push({ variant: 'on / off with the padding', metric: 'CPU per call ratio', value: paired(cpuUs, padded), unit: '×', note: '' });
    rows.push({ variant: 'machine', metric: 'load average (1 min)', value: loadAtStart, unit: '', note: `at the start; ${loadAtEnd.toFixed(2)} at the end, on ${navigator.hardwareConcurrency} cores` });
    return rows;
  },
};
