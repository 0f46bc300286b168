import { loadavg } from 'node:os';
import { generateServiceKeyPair, parseServiceKey } from '../../packages/kit/src/auth/service-identity/keys.ts';
import { createServiceTokenMinter } from '../../packages/kit/src/auth/service-identity/minter.ts';
import { serviceTokenHeader } from '../../packages/kit/src/auth/service-identity/service-token.ts';
import { loadConfig, serviceConfigFields, serviceIdentityFields, z } from '../../packages/kit/src/config/index.ts';
import { createHttpClient } from '../../packages/kit/src/http/index.ts';
import { startService } from '../../packages/kit/src/service/index.ts';
import type { StatelessServiceDefinition } from '../../packages/kit/src/service/definition.ts';
import { createLogger } from '../../packages/kit/src/telemetry/index.ts';
import { alternatingCalls } from '../harness/alternating-calls.ts';
import { pairedRounds } from '../harness/load.ts';
import type { Row, Scenario } from '../harness/report.ts';
import { formatInterval } from '../harness/stats.ts';

const concurrency = 16;
// Many short rounds, not a few long ones: this machine's speed moves by ±20% from one 300 ms
// window to the next, and two variants measured 300 ms apart saw different machines (61 rounds
// of 300 ms gave a ratio's 95% interval ±4-5% wide, as wide as identity's cost; 1,000 of 20 ms,
// the same time in all, ±0.5-0.8%: bench/README.md, the fifteenth session).
const roundMs = 20;
const rounds = 1_000;
// Each a call to every variant in an order drawn anew: ~25 s.
const sets = 15_000;
const callsTarget = 0.95;
const cpuTarget = 1.05;

export const serviceIdentity: Scenario = {
  name: 'service-identity',
  description: `What workload identity costs a call between two Baton services: the kit's HTTP client calling a kit service's route (\`callers: ['orders']\`), in one process on loopback, with service identity on (the client's cached token attached to every attempt, the server's check of it against its cache of verified tokens) and off (the same service without SERVICE_KEY, the same client without a token source), off again with a header as long as the token (what carrying its bytes costs, without the check), and off on a second server (the control: how far two identical servers come out apart in the same run). ${concurrency} concurrent callers, ${rounds} rounds of ${roundMs} ms, every variant once per round in an order that rotates; throughput and CPU time per call (client and server together, process.cpuUsage) are the medians of the rounds, each ratio the median of the rounds' ratios, with the 95% interval of that median (distribution-free: order statistics of the rounds' ratios). Then ${sets} sets of calls one at a time, each set calling every variant once in an order drawn anew, each call timed (wall and process CPU): the ratios are the medians of the sets' ratios, with their 95% intervals. Rounds are short because this machine's speed moves by ±20% from one 300 ms window to the next; a set's calls are some hundred microseconds apart. The target holds with a margin when both measurements' 95% intervals are inside it.`,
  target: `identity on ≥ ${callsTarget}× the calls/s of off, CPU per call ≤ ${cpuTarget}×, 16 at once and one at a time (with a margin when every 95% interval is inside)`,
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
    const oneAtATime = await alternatingCalls(variants, { sets });
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
    const calls = measured.pairedInterval('identity on', 'identity off');
    const cpu = measured.pairedCpuInterval('identity on', 'identity off');
    rows.push({ variant: 'on / off', metric: 'calls/s ratio', value: measured.pairedRatio('identity on', 'identity off'), unit: '×', note: `16 at once; target ≥ ${callsTarget}; ${formatInterval(calls)}` });
    rows.push({ variant: 'on / off', metric: 'calls/s ratio, 95% low', value: calls.low, unit: '×', note: '' });
    rows.push({ variant: 'on / off', metric: 'CPU per call ratio', value: measured.pairedCpuRatio('identity on', 'identity off'), unit: '×', note: `16 at once; target ≤ ${cpuTarget}; ${formatInterval(cpu)}` });
    rows.push({ variant: 'on / off', metric: 'CPU per call ratio, 95% high', value: cpu.high, unit: '×', note: '' });
    const padded = 'identity off, a header as long as the token';
    rows.push({ variant: 'on / off with the padding', metric: 'calls/s ratio', value: measured.pairedRatio('identity on', padded), unit: '×', note: `the check beyond the token's ${tokenChars} characters on the wire` });
    rows.push({ variant: 'on / off with the padding', metric: 'CPU per call ratio', value: measured.pairedCpuRatio('identity on', padded), unit: '×', note: '' });
    const control = 'identity off, a second server';
    rows.push({ variant: 'off, a second server / off', metric: 'calls/s ratio', value: measured.pairedRatio(control, 'identity off'), unit: '×', note: `the control: the same server twice; its distance from 1 is noise; ${formatInterval(measured.pairedInterval(control, 'identity off'))}` });
    rows.push({ variant: 'off, a second server / off', metric: 'CPU per call ratio', value: measured.pairedCpuRatio(control, 'identity off'), unit: '×', note: formatInterval(measured.pairedCpuInterval(control, 'identity off')) });
    for (const name of Object.keys(variants)) {
      rows.push({ variant: name, metric: 'one at a time: time per call', value: oneAtATime.wallUsPerCall(name), unit: 'µs', note: `median of ${sets} calls` });
      rows.push({ variant: name, metric: 'one at a time: CPU per call', value: oneAtATime.cpuUsPerCall(name), unit: 'µs', note: 'client and server' });
    }
    // Calls one at a time: a variant's calls/s is one over its time per call, so on/off calls/s
    // is, set by set, off's time over on's.
    const pairs: Array<[string, string, string]> = [
      ['on / off', 'identity on', 'identity off'],
      ['on / off with the padding', 'identity on', padded],
      ['off, a second server / off', control, 'identity off'],
    ];
    for (const [variant, name, to] of pairs) {
      const calls = oneAtATime.pairedTime(to, name);
      const cpu = oneAtATime.pairedCpu(name, to);
      const target = variant === 'on / off';
      rows.push({ variant, metric: 'one at a time: calls/s ratio', value: calls.median, unit: '×', note: `${target ? `target ≥ ${callsTarget}; ` : ''}${formatInterval(calls)}` });
      rows.push({ variant, metric: 'one at a time: calls/s ratio, 95% low', value: calls.low, unit: '×', note: '' });
      rows.push({ variant, metric: 'one at a time: CPU per call ratio', value: cpu.median, unit: '×', note: `${target ? `target ≤ ${cpuTarget}; ` : ''}${formatInterval(cpu)}` });
      rows.push({ variant, metric: 'one at a time: CPU per call ratio, 95% high', value: cpu.high, unit: '×', note: '' });
    }
    rows.push({ variant: 'machine', metric: 'load average (1 min)', value: loadAtStart, unit: '', note: `at the start; ${loadAtEnd.toFixed(2)} at the end, on ${navigator.hardwareConcurrency} cores` });
    return rows;
  },
  summary(rows) {
    const value = (metric: string) => rows.find((row) => row.variant === 'on / off' && row.metric === metric)?.value ?? Number.NaN;
    const measured = (prefix: string) => ({
      calls: value(`${prefix}calls/s ratio`), callsLow: value(`${prefix}calls/s ratio, 95% low`),
      cpu: value(`${prefix}CPU per call ratio`), cpuHigh: value(`${prefix}CPU per call ratio, 95% high`),
    });
    const both = [measured(''), measured('one at a time: ')];
    const verdict = both.every((m) => m.callsLow >= callsTarget && m.cpuHigh <= cpuTarget) ? 'holds, every 95% interval inside the target'
      : both.every((m) => m.calls >= callsTarget && m.cpu <= cpuTarget) ? 'holds at its edge: the medians inside the target, not all their 95% intervals'
        : 'not met';
    const [atOnce, oneAtATime] = both as [ReturnType<typeof measured>, ReturnType<typeof measured>];
    const say = (m: ReturnType<typeof measured>) => `calls/s ${m.calls.toFixed(3)} (95% ≥ ${m.callsLow.toFixed(3)}), CPU per call ${m.cpu.toFixed(3)} (95% ≤ ${m.cpuHigh.toFixed(3)})`;
    return `service-identity: on/off 16 at once ${say(atOnce)}; one at a time ${say(oneAtATime)}: ${verdict}`;
  },
};

