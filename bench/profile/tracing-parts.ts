// What tracing costs one call between two kit services, part by part (issue 18). In one process:
// a kit service whose route runs a statement and a transaction of two on PostgreSQL (a
// database of the bench server's own, as a service's), and a kit HTTP client calling it under a
// span of its own, as a request's handler would: 4 spans a call when recorded (the caller's, its
// attempt's, the server's, the transaction's) and the statement's 5th. Variants, rounds
// alternating (bench/harness/load.ts, `pairedRounds`):
//
//   off                    tracing off (OTEL_SDK_DISABLED): no ids, no headers
//   no exporter            the services' default: ids and `traceparent` flow, nothing recorded
//   recorded, untraced db  spans recorded (a processor that drops them), the database not traced
//   recorded               the same with the database traced as a service's is (a span a
//                          transaction, one a statement outside one)
//   recorded, batched      the same, the spans kept by OpenTelemetry's batch processor until
//                          its export, to an exporter that drops them: what holding them costs
//   exported               every span sent over OTLP/HTTP JSON to a kit collector in a process
//                          of its own (bench/harness/trace-collector-process.ts), as the
//                          services do with an endpoint set
//
// CPU per call is this process's, client and server together; the collector's is apart, from
// /proc, over the whole run. PostgreSQL's is not counted: it does the same work in every variant.
//
//   node bench/profile/tracing-parts.ts
//   TRACING_PARTS_ROUNDS=41 node bench/profile/tracing-parts.ts
import { BatchSpanProcessor, type ReadableSpan, type SpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace';
import type { FastifyInstance } from 'fastify';
import { loadConfig, serviceConfigFields, z } from '../../packages/kit/src/config/index.ts';
import { openPostgres, type Database } from '../../packages/kit/src/db/index.ts';
import { traceDatabase } from '../../packages/kit/src/db/traced-database.ts';
import { createHttpClient, type HttpClient } from '../../packages/kit/src/http/index.ts';
import { startService } from '../../packages/kit/src/service/index.ts';
import type { StatelessServiceDefinition } from '../../packages/kit/src/service/definition.ts';
import { createLogger } from '../../packages/kit/src/telemetry/index.ts';
import { createTracing, type Tracing } from '../../packages/kit/src/telemetry/tracing/tracing.ts';
import { createBenchDatabase } from '../harness/database.ts';
import { pairedRounds } from '../harness/load.ts';
import { cpuMsOf } from '../harness/process-cpu.ts';
import { startCollectorProcess } from '../harness/trace-collector-process.ts';

const rounds = Number(process.env.TRACING_PARTS_ROUNDS ?? 31);
const concurrency = 16;
const roundMs = 300;

const dropping: SpanExporter = { export: (_spans: ReadableSpan[], done) => done({ code: 0 }), shutdown: async () => {} };
const droppingProcessor = (): SpanProcessor => ({ onStart: () => {}, onEnd: () => {}, forceFlush: async () => {}, shutdown: async () => {} });
const batchedProcessor = (): SpanProcessor => new BatchSpanProcessor({ exporter: dropping, scheduledDelayMillis: 1_000 });

interface Variant {
  env: Record<string, string>;
  /** Processors of the server's and of the client's tracing (each its own), when not the env's. */
  processors?: () => SpanProcessor;
  tracedDatabase: boolean;
}

const collector = await startCollectorProcess();
const variants: Record<string, Variant> = {
  off: { env: { OTEL_SDK_DISABLED: 'true' }, tracedDatabase: false },
  'no exporter': { env: {}, tracedDatabase: false },
  'recorded, untraced db': { env: {}, processors: droppingProcessor, tracedDatabase: false },
  recorded: { env: {}, processors: droppingProcessor, tracedDatabase: true },
  'recorded, batched': { env: {}, processors: batchedProcessor, tracedDatabase: true },
  exported: { env: { OTEL_EXPORTER_OTLP_ENDPOINT: collector.url }, tracedDatabase: true },
};

const database = await createBenchDatabase();
const db = openPostgres({ url: database.url, maxConnections: 8, applicationName: 'tracing-parts' });
await db.exec('create table stock (sku text primary key, units int not null); insert into stock values (\'MUG\', 10)');

function definitionOf(traced: boolean): StatelessServiceDefinition {
  return {
    name: 'inventory',
    setup(app: FastifyInstance, context) {
      const queries: Database = traced ? traceDatabase(db, context.tracer) : db;
      app.get('/v1/stock', async () => {
        const { rows } = await queries.query<{ units: number }>('select units from stock where sku = $1', ['MUG']);
        await queries.transaction(async (tx) => {
          await tx.query('select units from stock where sku = $1 for update', ['MUG']);
          await tx.query('select sku from stock where sku = $1', ['MUG']);
        });
        return { units: rows[0]?.units };
      });
    },
  };
}

const fields = z.object(serviceConfigFields({ name: 'inventory', port: 0 }));
const calls: Record<string, () => Promise<unknown>> = {};
const closers: Array<() => Promise<unknown>> = [];
const signal = new AbortController().signal;
try {
  for (const [name, variant] of Object.entries(variants)) {
    const config = loadConfig(fields, { HOST: '127.0.0.1', PORT: '0', LOAD_SHEDDING: 'false', LOG_LEVEL: 'warn', ...variant.env });
    const server = await startService(definitionOf(variant.tracedDatabase), config, {
      logger: createLogger({ service: 'inventory', level: 'warn' }),
      ...(variant.processors === undefined ? {} : { spanProcessors: [variant.processors()] }),
    });
    closers.push(() => server.shutdown('bench over'));
    const callerTracing: Tracing = createTracing({
      service: 'orders',
      enabled: config.OTEL_SDK_DISABLED !== true,
      otlpEndpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT,
      ...(variant.processors === undefined ? {} : { spanProcessors: [variant.processors()] }),
    });
    const client: HttpClient = createHttpClient({
      name: 'inventory', urls: [server.url], connectionsPerInstance: concurrency,
      bulkhead: { maxConcurrent: 1_000, maxQueue: 1_000 }, tracer: callerTracing.tracer,
    });
    closers.push(() => client.close(), () => callerTracing.shutdown());
    const { tracer } = callerTracing;
    calls[name] = () => tracer.startActiveSpan('handle', async (span) => {
      try {
        return await client.request({ method: 'GET', path: '/v1/stock', signal });
      } finally {
        span.end();
      }
    });
  }
  const collectorBeforeMs = cpuMsOf(collector.pid);
  const measured = await pairedRounds(calls, { concurrency, rounds, roundMs });
  const collectorMs = cpuMsOf(collector.pid) - collectorBeforeMs;
  console.log(`${rounds} rounds of ${roundMs} ms, ${concurrency} callers; CPU µs per call of this process (client and server), medians of the rounds; ratios to off, medians of the rounds' ratios`);
  for (const name of Object.keys(calls)) {
    const errors = measured.errors(name);
    console.log(`${name.padEnd(22)} ${measured.cpuUsPerCall(name).toFixed(1).padStart(7)} µs  cpu ${measured.pairedCpuRatio(name, 'off').toFixed(3)}×  calls/s ${measured.pairedRatio(name, 'off').toFixed(3)}×${errors > 0 ? `  ${errors} errors` : ''}`);
  }
  const spans = await collector.stop();
  console.log(`collector: ${collectorMs.toFixed(0)} ms CPU over the run for ${spans} spans (${((collectorMs * 1000) / Math.max(spans, 1)).toFixed(1)} µs a span)`);
} finally {
  for (const close of closers) await close();
  await collector.stop();
  await db.close();
  await database.drop();
}
