import type { FastifyInstance } from 'fastify';
import type { FaultRules } from './faults.ts';
import type { ServiceIdentity } from '../auth/service-identity/service-identity.ts';
import { startGrpcServer, type GrpcServer } from '../rpc/index.ts';
import type { AnyServiceContext, AnyServiceDefinition } from './definition.ts';
import type { Readiness } from './health.ts';
import type { ServiceLimits } from './service-limits.ts';

/**
 * The gRPC listener of a service whose definition has `grpc`, beside its HTTP one, with the same
 * context, readiness and limits. If it cannot listen, the HTTP server it was started beside is
 * closed before the error goes on.
 */
export async function startGrpcListener(
  definition: AnyServiceDefinition,
  context: AnyServiceContext,
  { app, readiness, limits, identity, faults }: { app: FastifyInstance; readiness: Readiness; limits: ServiceLimits; identity?: ServiceIdentity | undefined; faults?: FaultRules },
): Promise<GrpcServer | undefined> {
  const { grpc } = definition;
  if (grpc === undefined) return undefined;
  const { config, logger, metrics, tracer } = context;
  try {
    return await startGrpcServer({
      host: config.HOST,
      port: grpc.port(config),
      service: definition.name,
      routes: (router) => grpc.routes(router, context),
      readiness,
      logger,
      metrics: metrics.rpcServer,
      defaultDeadlineMs: limits.requestDeadlineMs,
      answerGraceMs: limits.deadlineAnswerGraceMs,
      maxMessageBytes: limits.grpcMaxMessageBytes,
      tracer,
      ...(faults === undefined ? {} : { faults }),
      ...(identity === undefined ? {} : { callers: { callers: grpc.callers ?? {}, verifier: identity.verifier } }),
    });
  } catch (error) {
    await app.close();
    throw error;
  }
}
