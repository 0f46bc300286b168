import type { StackHandle } from '@baton/chaos';

/**
 * What the console needs of the stack it shows: the runner's `Stack` has all of it. Named here so
 * the console does not depend on the runner (the runner starts the console); what its fault
 * scenarios need of it is `@baton/chaos`'s `StackHandle`.
 */
export type ProcessState = 'stopped' | 'starting' | 'ready' | 'backoff' | 'stopping' | 'failed';

export interface ConsoleStack extends StackHandle {
  status(name: string): { state: ProcessState; pid: number | undefined; restarts: number };
  start(name: string): Promise<void>;
  stop(name: string): Promise<unknown>;
  restart(name: string): Promise<void>;
}

/** One line a service (or the runner) wrote, as the runner hands it on. */
export interface ConsoleLogLine {
  service: string;
  text: string;
  record: Record<string, unknown> | undefined;
}
