import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startConsole, type ConsoleOptions } from '@baton/console';
import { addCleanup, metricValue, parseMetrics, testIdentity, testPostgresAdminUrl, type CleanupScope } from '@baton/kit/testing';
import { dropDatabases } from '@baton/local-postgres';
import { mediaServices, serviceNames, startStackOnFreePorts, withoutPaymentOrMedia, type ServiceName, type Stack, type StackOptions } from '@baton/runner';

export interface ShopStack {
  stack: Stack;
  gateway: string;
  /** Kept for the callers that print it: the shop always runs on PostgreSQL now. */
  note: string | undefined;
  /** The console's base URL (`http://127.0.0.1:<port>`) with `console`, else undefined. */
  consoleUrl: string | undefined;
}

/**
 * The whole shop as real processes, for end-to-end tests, started as `npm start` starts it but
 * on the test run's PostgreSQL (`BATON_DATABASE_URL`'s path): every service that keeps data (all
 * but the gateway) gets a database and a role of its own, named with a prefix of this shop's
 * (`e2e_<random>_orders`), dropped after.
 * Ports and data folder are its own, so it never meets a developer's running stack. Each service
 * signs with the test process's key for it (`testIdentity`), so a test can call a service as another would.
 * With `payment`, the payment service and the provider run too, and checkout takes payment, as
 * under `npm start`; with `media`, the media service (product images). `backoff` sets how soon a crashed service is started again.
 * With `console`, the runner's console (@baton/console) too, as `npm start` runs it: started
 * first, on a port of its own, receiving every service's spans and log lines, showing the stack.
 */
export async function startShop(scope: CleanupScope, serviceEnv: Partial<Record<ServiceName, NodeJS.ProcessEnv>> = {}, { payment = false, media = false, only, backoff, console: withConsole = false }: {
  payment?: boolean;
  media?: boolean;
  /** Just these services, for a test of a few that needs no other (media's needs users and inventory). */
  only?: readonly ServiceName[];
  backoff?: StackOptions['backoff'];
  /** The console too; an object sets how its fault scenarios run (shorter windows for a test). */
  console?: boolean | Pick<ConsoleOptions, 'scenarioRuns'>;
} = {}): Promise<ShopStack> {
  const adminUrl = await testPostgresAdminUrl();
  const databasePrefix = `e2e_${randomBytes(4).toString('hex')}_`;
  const varDir = await mkdtemp(join(tmpdir(), 'baton-e2e-'));
  addCleanup(scope, () => rm(varDir, { recursive: true, force: true }));
  addCleanup(scope, () => dropDatabases({ adminUrl, services: serviceNames, prefix: databasePrefix }));
  // Before the stack, as the runner does: the services need its URL to send their spans to.
  const shown = withConsole === false ? undefined : await startConsole({ host: '127.0.0.1', port: 0, entryService: 'gateway', ...(withConsole === true ? {} : withConsole) });
  if (shown !== undefined) addCleanup(scope, () => shown.close());
  // Passwords hashed at the least cost the users service accepts (2^14, half the default's time):
  // the tests sign up many buyers, and the hash's strength is not what they test.
  // And no half-second notice before a stopping service's listeners close (SHUTDOWN_NOTICE_MS):
  // the stack stops at the test's end with nothing calling it; a test that stops a service under
  // load (rolling-restart) sets the notice back for it.
  // Without payment (the default here: two processes fewer for the tests that do not pay),
  // orders places orders unpaid (see withoutPaymentOrMedia).
  // Media (product images) runs only for the tests of images: no other needs it.
  const unpaid = withoutPaymentOrMedia();
  const services = only !== undefined ? [...only]
    : (payment ? serviceNames : unpaid.services).filter((name) => media || !mediaServices.includes(name)).concat(media && !payment ? mediaServices : []);
  const defaults = (name: ServiceName): NodeJS.ProcessEnv => ({
    LOG_LEVEL: 'warn', SHUTDOWN_NOTICE_MS: '0',
    ...(name === 'users' ? { PASSWORD_SCRYPT_LOG2_N: '14' } : {}),
    ...(payment ? {} : unpaid.serviceEnv[name]),
    // Sent often, as local-console.ts sets it: a request's trace is in the console a moment after it.
    ...(shown === undefined ? {} : { OTEL_EXPORTER_OTLP_ENDPOINT: shown.url, OTEL_BSP_SCHEDULE_DELAY: '200' }),
  });
  const env = Object.fromEntries(serviceNames.map((name) => [name, { ...defaults(name), ...serviceEnv[name] }])) as unknown as Record<ServiceName, NodeJS.ProcessEnv>;
  const serviceKeys = Object.fromEntries(serviceNames.map((name) => [name, testIdentity.keyPair(name)]));
  const stack = await startStackOnFreePorts({
    services, varDir, databaseUrl: adminUrl, databasePrefix, serviceEnv: env, startTimeoutMs: 90_000, serviceKeys,
    ...(backoff === undefined ? {} : { backoff }), ...(shown === undefined ? {} : { onLog: (line) => shown.log(line) }),
  });
  addCleanup(scope, () => stack.shutdown());
  shown?.attach(stack);
  return { stack, gateway: services.includes('gateway') ? stack.url('gateway') : '', note: undefined, consoleUrl: shown?.url };
}

/** How many calls of one gRPC method a service answered successfully, from its `/metrics` (on its admin listener). */
export async function rpcCount(shop: ShopStack, name: ServiceName, service: string, method: string): Promise<number> {
  const text = await (await fetch(new URL('/metrics', shop.stack.adminUrl(name)))).text();
  return metricValue(parseMetrics(text), 'rpc_server_requests_total', { service, method, code: 'ok' });
}
