import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';

export type ReadinessCheck = (signal: AbortSignal) => Promise<void>;

export interface Readiness {
  add(name: string, check: ReadinessCheck): void;
  /** After this, `/readyz` answers 503 whatever the checks say. */
  markShuttingDown(): void;
  readonly shuttingDown: boolean;
}

export function createReadiness(): Readiness & { checks: Map<string, ReadinessCheck> } {
  const checks = new Map<string, ReadinessCheck>();
  let shuttingDown = false;
  return {
    checks,
    add: (name, check) => void checks.set(name, check),
    markShuttingDown: () => { shuttingDown = true; },
    get shuttingDown() { return shuttingDown; },
  };
}

/**
 * `/healthz`: the process is alive and its event loop turns. `/readyz`: it can serve now,
 * every dependency answered within `checkTimeoutMs`. `/metrics`: Prometheus text.
 * None of them is logged at info, so probes do not drown the logs.
 */
export function installHealthRoutes(app: FastifyInstance, readiness: ReturnType<typeof createReadiness>, registry: Registry, { checkTimeoutMs = 2_000 } = {}): void {
  app.get('/healthz', { logLevel: 'warn', config: { priority: 'critical' } }, async function healthz() {
    return { status: 'ok' };
  });

  app.get('/readyz', { logLevel: 'warn', config: { priority: 'critical' } }, async function readyz(_request, reply) {
    if (readiness.shuttingDown) return reply.code(503).send({ status: 'shutting_down', checks: {} });
    const results: Record<string, string> = {};
    let ready = true;
    await Promise.all([...readiness.checks].map(async ([name, check]) => {
      try {
        await check(AbortSignal.timeout(checkTimeoutMs));
        results[name] = 'ok';
      } catch (error) {
        ready = false;
        // Only the error's kind goes out: a readiness answer is public and must leak nothing.
        results[name] = error instanceof Error && error.name === 'TimeoutError' ? 'timeout' : 'failing';
        app.log.warn({ err: error, check: name }, 'readiness check failed');
      }
    }));
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', checks: results });
  });

  app.get('/metrics', { logLevel: 'warn', config: { priority: 'critical' } }, async function metrics(_request, reply) {
    const body = await registry.metrics();
    return reply.type(registry.contentType).send(body);
  });
}
