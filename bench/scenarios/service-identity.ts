import { loadavg } from 'node:os';
import { generateServiceKeyPair, parseServiceKey } from '../../packages/kit/src/auth/service-identity/keys.ts';
import { createServiceTokenMinter } from '../../packages/kit/src/auth/service-identity/minter.ts';
import { serviceTokenHeader } from '../../packages/kit/src/auth/service-identity/service-token.ts';
import { loadConfig, serviceConfigFields, serviceIdentityFields, z } from '../../packages/kit/src/config/index.ts';
import { createHttpClient } from '../../packages/kit/src/http/index.ts';
import { startService } from '../../packages/kit/src/service/index.ts';
import type { StatelessServiceDefinition } from '../../packages/kit/src/service/definition.ts';
import { createLogger } from '../../packages/kit/src/telemetry/index.ts';
import { pairedRounds } from '../harness/load.ts';
import type { Row, Scenario } from '../harness/report.ts';

const concurrency = 16;
const roundMs = 300;
// 61, not 21 as once: identity's cost is a few per cent of a call, and with 21 rounds the same code
// moved by more than that between runs on this machine (bench/README.md, the twelfth session).
const rounds = 61;

export const serviceIdentity: Scenario = {
  name: 'service-identity',
  description: `What workload identity costs a call between two Baton services: the kit's HTTP client calling a kit service's route (\`callers: ['orders']\`), in one process on loopback, with service identity on (the client's cached token attached to every attempt, the server's check of it against its cache of verified tokens) and off (the same service without SERVICE_KEY, the same client without a token source), off again with a header as long as the token (what carrying its bytes costs, without the check), and off on a second server (the control: how far two identical servers come out apart in the same run). ${concurrency} concurrent callers, ${rounds} rounds of ${roundMs} ms, every variant once per round in an order that rotates; throughput and CPU time per call (client and server together, process.cpuUsage) are the medians of the rounds, each ratio the median of the rounds' ratios.`,
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
    // The control: a second server the same as "off". What the two come out apart by is what
    // this run cannot tell apart (each server and its client settle differently: 0.95-1.06× seen).
    const offAgain = await startService(definition, loadConfig(without, base), { logger: logger() });
    const key = parseServiceKey(JSON.stringify(orders.privateJwk));
    if ('problem' in key) throw new Error(key.problem);
    const clientOptions = { name: 'inventory', connectionsPerInstance: concurrency, bulkhead: { maxConcurrent: 1_000, maxQueue: 1_000 } };
    const onClient = createHttpClient({ ...clientOptions, urls: [on.url], identity: createServiceTokenMinter({ service: 'orders', key }) });
    const offClient = createHttpClient({ ...clientOptions, urls: [off.url] });
    const offAgainClient = createHttpClient({ ...clientOptions, urls: [offAgain.url] });
    const signal = new AbortController().signal;
    // The token's own bytes, sent without identity: a header of the token's length. Against it,
    // "on" shows what the check costs beyond carrying the token on every call.
    const tokenChars = (await createServiceTokenMinter({ service: 'orders', key }).tokenFor('inventory')).length;
    const padding = { 'x-bench-padding': 'p'.repeat(tokenChars + serviceTokenHeader.length - 'x-bench-padding'.length) };
    const variants: Record<string, () => Promise<unknown>> = {
      'identity on': () => onClient.request({ method: 'GET', path: '/v1/ping', signal }),
      'identity off': () => offClient.request({ method: 'GET', path: '/v1/ping', signal }),
      'identity off, a second server': () => offAgainClient.request({ method: 'GET', path: '/v1/ping', signal }),
      'identity off, a header as long as the token': () => offClient.request({ method: 'GET', path: '/v1/ping', signal, headers: padding }),
    };
    const loadAtStart = loadavg()[0] ?? Number.NaN;
    const measured = await pairedRounds(variants, { concurrency, rounds, roundMs });
    const loadAtEnd = loadavg()[0] ?? Number.NaN;
    await onClient.close();
    await offClient.close();
    await offAgainClient.close();
    await on.shutdown('bench over');
    await off.shutdown('bench over');
    await offAgain.shutdown('bench over');
    const rows: Row[] = Object.keys(variants).flatMap((name) => [
      { variant: name, metric: 'throughput', value: measured.perSecond(name), unit: 'calls/s', note: measured.errors(name) > 0 ? `${measured.errors(name)} errors` : '' },
      { variant: name, metric: 'CPU per call', value: measured.cpuUsPerCall(name), unit: 'µs', note: 'client and server' },
    ]);
    rows.push({ variant: 'on / off', metric: 'ratio', value: measured.pairedRatio('identity on', 'identity off'), unit: '×', note: 'target ≥ 0.95' });
    rows.push({ variant: 'on / off', metric: 'CPU per call ratio', value: measured.pairedCpuRatio('identity on', 'identity off'), unit: '×', note: 'target ≤ 1.05' });
    const padded = 'identity off, a header as long as the token';
    rows.push({ variant: 'on / off with the padding', metric: 'ratio', value: measured.pairedRatio('identity on', padded), unit: '×', note: `the check beyond the token's ${tokenChars} characters on the wire` });
    rows.push({ variant: 'on / off with the padding', metric: 'CPU per call ratio', value: measured.pairedCpuRatio('identity on', padded), unit: '×', note: '' });
    const control = 'identity off, a second server';
    rows.push({ variant: 'off, a second server / off', metric: 'ratio', value: measured.pairedRatio(control, 'identity off'), unit: '×', note: 'the control: the same server twice; its distance from 1 is noise' });
    rows.push({ variant: 'off, a second server / off', metric: 'CPU per call ratio', value: measured.pairedCpuRatio(control, 'identity off'), unit: '×', note: '' });
    rows.push({ variant: 'machine', metric: 'load average (1 min)', value: loadAtStart, unit: '', note: `at the start; ${loadAtEnd.toFixed(2)} at the end, on ${navigator.hardwareConcurrency} cores` });
    return rows;
  },
};
