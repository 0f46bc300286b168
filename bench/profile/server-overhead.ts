// What a kit service's HTTP server costs a request beside bare Fastify (issue 18): the same GET
// route answering a small JSON, one a kit service (`startService`, every default on: the request
// lifecycle, deadlines, shedding, metrics, tracing with no exporter, the request's logger), the
// other `Fastify()` alone, both in this process, called by the same undici pool (16 connections)
// in rounds that alternate. CPU per call is this process's (client and server together, so the
// difference is the server's); the medians of the rounds. Not a scenario: nothing to hold to a
// target, a measure to look for the kit's own cost per request with.
//
//   node bench/profile/server-overhead.ts
//   SERVER_OVERHEAD_PROFILE=1 node --cpu-prof bench/profile/server-overhead.ts   # the kit side alone, to profile
import Fastify from 'fastify';
import { Pool } from 'undici';
import { loadConfig, serviceConfigFields, z } from '../../packages/kit/src/config/index.ts';
import { startService } from '../../packages/kit/src/service/index.ts';
import type { StatelessServiceDefinition } from '../../packages/kit/src/service/definition.ts';
import { createLogger } from '../../packages/kit/src/telemetry/index.ts';
import { closedLoop } from '../harness/load.ts';
import { median } from '../harness/stats.ts';

const rounds = Number(process.env.SERVER_OVERHEAD_ROUNDS ?? 20);
const roundMs = Number(process.env.SERVER_OVERHEAD_ROUND_MS ?? 300);
const concurrency = 16;

const schema = z.object(serviceConfigFields({ name: 'inventory', port: 0 }));
const definition: StatelessServiceDefinition = { name: 'inventory', setup(app) { app.get('/v1/ping', async () => ({ pong: true })); } };
const kit = await startService(definition, loadConfig(schema, { HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'warn' }), { logger: createLogger({ service: 'inventory', level: 'warn' }) });
const bare = Fastify();
bare.get('/v1/ping', async () => ({ pong: true }));
const sides = { kit: new Pool(kit.url, { connections: concurrency }), bare: new Pool(await bare.listen({ host: '127.0.0.1', port: 0 }), { connections: concurrency }) };
const call = (pool: Pool) => async () => {
  const response = await pool.request({ method: 'GET', path: '/v1/ping' });
  await response.body.dump();
};
try {
  if (process.env.SERVER_OVERHEAD_PROFILE === '1') {
    await closedLoop(call(sides.kit), { concurrency, durationMs: rounds * roundMs });
  } else {
    const cpuUs: Record<keyof typeof sides, number[]> = { kit: [], bare: [] };
    for (const side of ['kit', 'bare'] as const) await closedLoop(call(sides[side]), { concurrency, durationMs: 1_000 });
    for (let round = 0; round < rounds; round++) {
      for (const side of round % 2 === 0 ? ['kit', 'bare'] as const : ['bare', 'kit'] as const) {
        const before = process.cpuUsage();
        const result = await closedLoop(call(sides[side]), { concurrency, durationMs: roundMs });
        const cpu = process.cpuUsage(before);
        cpuUs[side].push((cpu.user + cpu.system) / Math.max(1, result.latenciesMs.length));
      }
    }
    const kitUs = median(cpuUs.kit);
    const bareUs = median(cpuUs.bare);
    console.log(`CPU µs per call, client and server: kit service ${kitUs.toFixed(0)}, bare Fastify ${bareUs.toFixed(0)} (${(kitUs / bareUs).toFixed(2)}×, ${(kitUs - bareUs).toFixed(0)} µs more a request)`);
  }
} finally {
  await kit.shutdown('measured');
  await bare.close();
  await Promise.all(Object.values(sides).map((pool) => pool.close()));
}
