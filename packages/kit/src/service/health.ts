import type { FastifyInstance } from 'fastify';

export type ReadinessCheck = (signal: AbortSignal) => Promise<void>;

/** What one look at readiness found: every check by name, `ok`, `failing` or `timeout`. */
export interface ReadinessReport {
  ready: boolean;
  status: 'ready' | 'not_ready' | 'shutting_down';
  checks: Record<string, 'ok' | 'failing' | 'timeout'>;
}

export interface ReadinessCheckOptions {
  /**
   * False for a dependency the service can serve without: its failure shows in the report's
   * checks, and the service stays ready (true unless told).
   */
  essential?: boolean;
}

export interface Readiness {
  add(name: string, check: ReadinessCheck, options?: ReadinessCheckOptions): void;
  /** After this, readiness is false whatever the checks say (`/readyz` 503, gRPC NOT_SERVING). */
  markShuttingDown(): void;
  readonly shuttingDown: boolean;
  /** Fires once, when shutdown starts: a gRPC health watcher hears it at once. */
  readonly shutdownSignal: AbortSignal;
  /** Runs every check, each bounded by `checkTimeoutMs`; one failing essential check makes it not ready. */
  evaluate(options?: { checkTimeoutMs?: number }): Promise<ReadinessReport>;
}

export interface ReadinessOptions {
  /** Told of each failing check, for a log line; the report itself only says its kind. */
  onCheckFailed?: (name: string, error: unknown) => void;
}

/** The one readiness of a service, which `/readyz` and the gRPC health service both read. */
export function createReadiness({ onCheckFailed }: ReadinessOptions = {}): Readiness {
  const checks = new Map<string, { check: ReadinessCheck; essential: boolean }>();
  const shutdown = new AbortController();
  return {
    add: (name, check, { essential = true } = {}) => void checks.set(name, { check, essential }),
    markShuttingDown: () => shutdown.abort(),
    get shuttingDown() { return shutdown.signal.aborted; },
    shutdownSignal: shutdown.signal,
    async evaluate({ checkTimeoutMs = 2_000 } = {}) {
      if (shutdown.signal.aborted) return { ready: false, status: 'shutting_down', checks: {} };
      const results: ReadinessReport['checks'] = {};
      let ready = true;
      await Promise.all([...checks].map(async ([name, { check, essential }]) => {
        try {
          await check(AbortSignal.timeout(checkTimeoutMs));
          results[name] = 'ok';
        } catch (error) {
          if (essential) ready = false;
          // Only the error's kind goes out: a readiness answer is public and must leak nothing.
          results[name] = error instanceof Error && error.name === 'TimeoutError' ? 'timeout' : 'failing';
          onCheckFailed?.(name, error);
        }
      }));
      return { ready, status: ready ? 'ready' : 'not_ready', checks: results };
    },
  };
}

/**
 * `/healthz`: the process is alive and its event loop turns. `/readyz`: it can serve now,
 * every dependency answered within its check timeout. Neither is logged at info, so probes do
 * not drown the logs. (`/metrics` is on the admin listener: `admin-listener.ts`.)
 */
export function installHealthRoutes(app: FastifyInstance, readiness: Readiness): void {
  app.get('/healthz', { logLevel: 'warn', config: { priority: 'critical', callers: 'public' } }, async function healthz() {
    return { status: 'ok' };
  });

  app.get('/readyz', { logLevel: 'warn', config: { priority: 'critical', callers: 'public' } }, async function readyz(_request, reply) {
    const report = await readiness.evaluate();
    return reply.code(report.ready ? 200 : 503).send({ status: report.status, checks: report.checks });
  });
}
