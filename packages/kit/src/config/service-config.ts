import { z } from 'zod';
import { env } from './fields.ts';
import { faultRulesSchema } from '../service/faults.ts';
import { defaultServiceLimits as limits } from '../service/service-limits.ts';
import { otlpProtocols, samplerNames } from '../telemetry/tracing/tracing.ts';

/**
 * The variables every service reads. A service's own config.ts spreads these into its schema
 * and adds its own, so `PORT` means the same thing everywhere. `port` is the service's default
 * port; `name` (the service's) is taken for the defaults that may depend on it, none today.
 */
export function serviceConfigFields({ port }: { name: string; port: number }) {
  return {
    HOST: z.string().default('127.0.0.1'),
    PORT: env.port(port),
    LOG_LEVEL: env.logLevel(),
    /** The deadline of a request whose route sets none, and the cap on the budget a caller sends. */
    REQUEST_DEADLINE_MS: env.milliseconds(limits.requestDeadlineMs),
    /** The largest request body a route accepts unless it sets its own; larger ones get 413. */
    BODY_LIMIT_BYTES: env.positiveInt(limits.bodyLimitBytes),
    /** Slow-loris protection: a request must arrive whole within this; 0 turns it off. */
    REQUEST_RECEIVE_TIMEOUT_MS: env.milliseconds(limits.requestReceiveTimeoutMs),
    /** How long an idle keep-alive connection stays open; above a load balancer's idle timeout. */
    KEEP_ALIVE_TIMEOUT_MS: env.positiveInt(limits.keepAliveTimeoutMs),
    /** Shed load with an adaptive concurrency limit (503 + Retry-After) when latency shows queueing. */
    LOAD_SHEDDING: env.boolean(limits.loadShedding),
    /** The concurrency limit load shedding starts at, before latency teaches it. */
    LOAD_SHEDDING_INITIAL_LIMIT: env.positiveInt(limits.shedInitialLimit),
    /** The floor load shedding's learnt limit never goes below. */
    LOAD_SHEDDING_MIN_LIMIT: env.positiveInt(limits.shedMinLimit),
    /** How long in-flight requests may take to finish after SIGTERM before they are cut. */
    SHUTDOWN_TIMEOUT_MS: env.milliseconds(limits.shutdownTimeoutMs),
    /** Time between readiness turning false and the listener closing, for load balancers to notice. */
    SHUTDOWN_DRAIN_DELAY_MS: env.milliseconds(limits.shutdownDrainDelayMs),
    /** Then, how long new requests are refused with 503 shutting_down before the listener and idle connections close. */
    SHUTDOWN_NOTICE_MS: env.milliseconds(limits.shutdownNoticeMs),
    /**
     * The proxies in front of this service whose `X-Forwarded-For` is believed, as addresses or
     * CIDR ranges; none by default, so a forged header from the internet changes nothing.
     */
    TRUSTED_PROXIES: env.addressList(),
    /**
     * Whether an inbound `traceparent`/`baggage` continues the caller's trace. True between
     * services; a public entry (the gateway) sets false and starts its own trace for each request.
     */
    TRUST_INBOUND_TRACE_CONTEXT: env.boolean(true),
    /** Fault injection rules, as JSON: `[{"route":"/v1/products","percent":50,"status":503}]`. Off by default. */
    FAULTS: env.json(faultRulesSchema).optional(),
    /**
     * Where the admin listener binds: `/metrics` and every `/admin/*` route, apart from the public
     * port. Loopback by default; in a cluster, the pod's own address (never a public one).
     */
    ADMIN_HOST: z.string().default('127.0.0.1'),
    /** The admin listener's port; unset: `PORT` + 2000 (a free port when `PORT` is 0). See `adminSettingsOf`. */
    ADMIN_PORT: env.portNumber().optional(),
    /** This service's own bearer token for its `/admin/*` routes; without one they refuse every request. */
    ADMIN_TOKEN: z.string().min(16, 'expected at least 16 characters').optional(),
    /** The same token read from a file (a mounted secret); set this or `ADMIN_TOKEN`, not both. */
    ADMIN_TOKEN_FILE: env.secretFile(16).optional(),
    /** Tracing off altogether (the OpenTelemetry name): no spans, no trace ids in logs. */
    OTEL_SDK_DISABLED: env.boolean(false),
    /** Where spans are sent as OTLP/HTTP (`<endpoint>/v1/traces`); without it they are made but not sent. */
    OTEL_EXPORTER_OTLP_ENDPOINT: env.url().optional(),
    /**
     * How spans travel to the endpoint, as in the OpenTelemetry specification: `http/json` (Baton's
     * default, the cheaper for the service to make) or `http/protobuf` (the specification's
     * default). OTLP over gRPC is not offered.
     */
    OTEL_EXPORTER_OTLP_PROTOCOL: z.enum(otlpProtocols, { error: `expected one of ${otlpProtocols.join(', ')}` }).default('http/json'),
    /** Which traces are kept, as in the OpenTelemetry specification; by default the caller's choice, else the ratio. */
    OTEL_TRACES_SAMPLER: z.enum(samplerNames, { error: `expected one of ${samplerNames.join(', ')}` }).default('parentbased_traceidratio'),
    /** The share of traces a ratio sampler keeps, in [0, 1]. */
    OTEL_TRACES_SAMPLER_ARG: z.coerce.number({ error: 'expected a number from 0 to 1' }).min(0, 'expected a number from 0 to 1').max(1, 'expected a number from 0 to 1').default(1),
    /** How often finished spans are sent. */
    OTEL_BSP_SCHEDULE_DELAY: env.milliseconds(1_000),
  };
}

/** What the service skeleton needs of any service's config. */
export type ServiceConfig = Readonly<z.output<z.ZodObject<ReturnType<typeof serviceConfigFields>>>>;

/**
 * The variables of a service that keeps data, spread into its schema beside
 * `serviceConfigFields`. A stateless service (the gateway) leaves them out and is given no
 * database.
 */
const preparedStatementsError = 'expected a whole number from 0 to 1000';

export function databaseConfigFields() {
  return {
    /**
     * The PostgreSQL database the service keeps its data in, its own: `npm start` gives each
     * such service a database and a role of its own and hands it this URL. Required.
     */
    DATABASE_URL: env.url(),
    /**
     * Connections the service may hold to its database at once. Small by default: the server
     * runs best with a few busy connections for each core, every connection costs it a process,
     * and four services share one server under `npm start`.
     */
    DATABASE_POOL_MAX: env.positiveInt(5).pipe(z.number().max(100, 'expected at most 100')),
    /**
     * How many different statement texts are prepared on each connection (the first ones sent;
     * later texts go unprepared). 0 prepares none: for a connection pooler in transaction mode
     * that cannot carry prepared statements from one transaction to the next.
     */
    DATABASE_PREPARED_STATEMENTS_MAX: z.coerce.number({ error: preparedStatementsError })
      .int(preparedStatementsError).min(0, preparedStatementsError).max(1_000, preparedStatementsError).default(200),
    /**
     * A span for every SQL statement, not only for each transaction (and each statement run
     * outside one). Off by default: a checkout runs a dozen statements. Only when spans are exported.
     */
    TRACE_DB_STATEMENTS: env.boolean(false),
  };
}

/** What the service skeleton needs of the config of a service that keeps data. */
export type DatabaseConfig = Readonly<z.output<z.ZodObject<ReturnType<typeof databaseConfigFields>>>>;
