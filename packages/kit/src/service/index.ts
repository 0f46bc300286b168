export type { ServiceContext, ServiceDefinition, StatelessServiceContext, StatelessServiceDefinition } from './definition.ts';
export { startService, type RunningService, type ShutdownResult, type StartOptions } from './start-service.ts';
export { runService, exitCodeConfig } from './run-service.ts';
export { sendProblem, kitErrorFromFastify } from './error-handler.ts';
export { requestIdHeader } from './request-id.ts';
export { signalOf, setRequestSignal } from './request-signal.ts';
export { installFaultInjection, faultRulesSchema, type FaultRule } from './faults.ts';
