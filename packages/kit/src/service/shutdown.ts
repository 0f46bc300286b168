import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import type { Database } from '../db/index.ts';
import type { GrpcServer } from '../rpc/index.ts';
import type { Logger, Tracing } from '../telemetry/index.ts';
import type { Readiness } from './health.ts';
import type { ServiceLimits } from './service-limits.ts';

export type Closer = () => Promise<void> | void;

export interface ShutdownResult {
  /** False when in-flight requests were cut because SHUTDOWN_TIMEOUT_MS ran out. */
  clean: boolean;
}

/** What shutdown shares with the steps that act on it. */
export interface ShutdownState {
  /** True once the listeners begin to close: answers then say `Connection: close`. */
  closing: boolean;
  /** The gRPC listener's drain, once it began: the resources close after it. */
  grpcClosed: Promise<{ clean: boolean }> | undefined;
  /** The admin listener's close, once it began: its routes use the resources too. */
  adminClosed: Promise<void> | undefined;
}

/**
 * Last, when the HTTP server closes (and after the gRPC and admin listeners have drained): the service's
 * own closers and its clients' in reverse order, then its database, then its tracing, so the
 * spans of the shutdown itself are sent.
 */
export function installResourceClosing(
  app: FastifyInstance,
  { state, closers, db, tracing, logger }: { state: ShutdownState; closers: Closer[]; db: Database | undefined; tracing: Tracing; logger: Logger },
): void {
  app.addHook('onClose', async function closeResources() {
    await state.grpcClosed;
    await state.adminClosed?.catch((error: unknown) => logger.warn({ err: error }, 'the admin listener did not close cleanly'));
    for (const close of closers.reverse()) {
      try {
        await close();
      } catch (error) {
        logger.error({ err: error }, 'a closer failed during shutdown');
      }
    }
    await db?.close();
    await tracing.shutdown().catch((error: unknown) => logger.warn({ err: error }, 'spans could not be sent at shutdown'));
  });
}

export interface ShutdownParts {
  app: FastifyInstance;
  adminApp: FastifyInstance;
  grpcServer: GrpcServer | undefined;
  readiness: Readiness;
  logger: Logger;
  limits: Pick<ServiceLimits, 'shutdownTimeoutMs' | 'shutdownDrainDelayMs' | 'shutdownNoticeMs'>;
  state: ShutdownState;
}

/**
 * The service's shutdown: readiness turns false at once; after the drain delay the gRPC listener
 * says GOAWAY and new HTTP requests are refused (503 `shutting_down`) for the notice time; then
 * the HTTP listeners (public and admin) close, idle keep-alive connections are closed, in-flight requests and calls
 * finish (up to the shutdown timeout, then they are cut), and the resources close last. Safe to
 * call twice.
 */
export function createShutdown({ app, adminApp, grpcServer, readiness, logger, limits, state }: ShutdownParts): (reason: string) => Promise<ShutdownResult> {
  const { shutdownTimeoutMs, shutdownDrainDelayMs, shutdownNoticeMs } = limits;
  async function drainAndClose(reason: string): Promise<ShutdownResult> {
    readiness.markShuttingDown();
    logger.info({ reason, timeout_ms: shutdownTimeoutMs }, 'shutting down');
    if (shutdownDrainDelayMs > 0) await sleep(shutdownDrainDelayMs);
    let forced = false;
    const deadline = setTimeout(() => {
      forced = true;
      logger.warn('shutdown timeout reached; closing the connections still open');
      app.server.closeAllConnections();
      adminApp.server.closeAllConnections();
    }, shutdownTimeoutMs);
    state.closing = true;
    state.grpcClosed = grpcServer?.close({ timeoutMs: shutdownTimeoutMs });
    // Refusals first (`shutting_down`, which a kit client tries again elsewhere at once), so the
    // connections clients keep open carry them, and not a request, when they close.
    if (shutdownNoticeMs > 0) await sleep(shutdownNoticeMs);
    try {
      // Both listeners close together; the resources close only once both have (see installResourceClosing).
      state.adminClosed = adminApp.close();
      await app.close();
    } finally {
      clearTimeout(deadline);
    }
    const grpcClean = (await state.grpcClosed)?.clean ?? true;
    logger.info({ clean: !forced && grpcClean }, 'shut down');
    return { clean: !forced && grpcClean };
  }
  let closing: Promise<ShutdownResult> | undefined;
  return function shutdown(reason) {
    closing ??= drainAndClose(reason);
    return closing;
  };
}
