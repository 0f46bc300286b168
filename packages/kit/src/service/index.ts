export type { ServiceContext, ServiceDefinition } from './definition.ts';
export { startService, type RunningService, type ShutdownResult, type StartOptions } from './start-service.ts';
export { runService, exitCodeConfig } from './run-service.ts';
export { signalOf } from './request-signal.ts';
