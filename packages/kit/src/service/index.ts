export type { ServiceContext, ServiceDefinition, StatelessServiceContext, StatelessServiceDefinition } from './definition.ts';
export { startService, type RunningService, type StartOptions } from './start-service.ts';
export type { ShutdownResult } from './shutdown.ts';
export type { ServiceLimits } from './service-limits.ts';
export { runService, exitCodeConfig } from './run-service.ts';
export { signalOf } from './request-signal.ts';
export type { RouteCallers } from './route-callers.ts';
export { createPageCursor, type PageCursor, type PageCursorOptions } from './page-cursor.ts';
export type { ProblemPresenter } from './error-handler.ts';
