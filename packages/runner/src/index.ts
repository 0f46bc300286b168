// The dev runner as a library: tests and chaos scenarios start the whole shop with startStack().
export {
  startStack, startStackOnFreePorts, createStack, repoRoot,
  type Stack, type StackOptions, type StackStopped, type ServiceStatus, type ShutdownResult,
} from './stack.ts';
export { RunnerError, type RunnerErrorCode, type ExitInfo } from './errors.ts';
export { serviceSpecs, serviceNames, portOf, adminPortOf, adminTokenVariableOf, type ServiceName, type ServiceSpec } from './services.ts';
export { mediaServices, paymentServices, withoutPaymentOrMedia } from './core-shop.ts';
export { callersOf, createStackKeys, identityEnvironment, type ServiceKeyPair, type StackKeys } from './service-keys.ts';
export { portBasesDirVariable, randomPortBase } from './port-bases.ts';
export { createLogFormatter, type LogFormat } from './log-format.ts';
export type { LogLine } from './log-line.ts';
export type { ProcessState } from './service-process.ts';
export type { BackoffOptions } from './backoff.ts';
export { serviceGrpcUrl } from './environment.ts';
