import { setTimeout as sleep } from 'node:timers/promises';
import { create } from '@bufbuild/protobuf';
import type { ServiceImpl } from '@connectrpc/connect';
import { type Health, HealthCheckResponseSchema, HealthCheckResponse_ServingStatus as ServingStatus, type HealthCheckResponse } from '@baton/contracts/grpc/health/v1';
import { Code, KitError } from '../../errors/index.ts';
import type { Readiness } from '../../service/health.ts';

export interface HealthServiceOptions {
  readiness: Readiness;
  /** The fully qualified names of the services this server serves; each can be asked for by name. */
  services: readonly string[];
  /** How often a Watch looks at readiness again; shutdown is heard at once. */
  watchIntervalMs?: number;
}

/**
 * The standard gRPC health protocol (`grpc.health.v1.Health`), following the service's one
 * readiness, the same that `/readyz` answers: SERVING while every readiness check passes,
 * NOT_SERVING when one fails and from the moment shutdown starts. The empty name asks for the
 * server as a whole; every service it serves answers the same. A Watch sends the status at once
 * and again on every change; when shutdown starts it sends NOT_SERVING and ends, so it does not
 * hold the connection open while the server drains.
 *
 * @example
 * router.service(Health, createHealthService({ readiness, services: ['baton.users.v1.UsersService'] }));
 */
export function createHealthService({ readiness, services, watchIntervalMs = 5_000 }: HealthServiceOptions): ServiceImpl<typeof Health> {
  const known = new Set(['', ...services]);
  const answer = (status: ServingStatus) => create(HealthCheckResponseSchema, { status });

  async function statusNow(): Promise<ServingStatus> {
    if (readiness.shuttingDown) return ServingStatus.NOT_SERVING;
    const report = await readiness.evaluate();
    return report.ready ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
  }

  return {
    async check(request) {
      if (!known.has(request.service)) throw new KitError(Code.NotFound, 'this server serves no such service', { details: { service: request.service } });
      return answer(await statusNow());
    },
    async list() {
      const status = await statusNow();
      const statuses: Record<string, HealthCheckResponse> = {};
      for (const name of known) statuses[name] = answer(status);
      return { statuses };
    },
    async *watch(request, context) {
      const stop = AbortSignal.any([context.signal, readiness.shutdownSignal]);
      if (!known.has(request.service)) {
        // As the protocol asks: say so and keep the stream open; this server's services never change.
        yield answer(ServingStatus.SERVICE_UNKNOWN);
        await sleep(2 ** 31 - 1, undefined, { signal: stop }).catch(() => undefined);
        return;
      }
      let last: ServingStatus | undefined;
      for (;;) {
        const status = await statusNow();
        if (status !== last) yield answer(status);
        last = status;
        if (readiness.shuttingDown || context.signal.aborted) return;
        await sleep(watchIntervalMs, undefined, { signal: stop }).catch(() => undefined);
      }
    },
  };
}
