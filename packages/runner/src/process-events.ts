import { describeExit } from './errors.ts';
import type { Level } from './log-line.ts';
import type { ProcessEvent } from './service-process.ts';

/** A runner log line about a service: its level, message and fields (`event` names its kind). */
export interface EventLog {
  level: Level;
  msg: string;
  fields: Record<string, unknown> & { event: string };
}

/**
 * What the runner logs when something happens to a service's process. The `event` names are
 * listed in the README; scripts and tests match on them, never on the message.
 */
export function eventLog(name: string, url: string, event: ProcessEvent): EventLog {
  switch (event.type) {
    case 'spawned':
      return {
        level: 'info',
        msg: event.restarts === 0 ? `${name} starting (pid ${event.pid})` : `${name} started again (pid ${event.pid}, restart ${event.restarts})`,
        fields: { event: 'service_starting', name, child_pid: event.pid, restarts: event.restarts, url },
      };
    case 'ready':
      return {
        level: 'info',
        msg: `${name} is ready at ${url} (${event.startupMs} ms)`,
        fields: { event: 'service_ready', name, child_pid: event.pid, url, startup_ms: event.startupMs },
      };
    case 'stop-timeout':
      return {
        level: 'warn',
        msg: `${name} did not exit within ${event.stopTimeoutMs} ms of SIGTERM; killing it`,
        fields: { event: 'service_stop_timeout', name, child_pid: event.pid },
      };
    case 'exited': {
      const { exit } = event;
      const fields = { name, child_pid: exit.pid, exit_code: exit.code, signal: exit.signal, uptime_ms: exit.uptimeMs };
      switch (event.outcome) {
        case 'stopped':
          return { level: 'info', msg: `${name} stopped (${describeExit(exit)})`, fields: { event: 'service_stopped', ...fields } };
        case 'restarting':
          return {
            level: 'warn',
            msg: `${name} ${describeExit(exit)} after ${exit.uptimeMs} ms; restarting it in ${event.restartInMs} ms (attempt ${event.attempt})`,
            fields: { event: 'service_crashed', ...fields, restart_in_ms: event.restartInMs, attempt: event.attempt },
          };
        case 'fatal':
          return {
            level: 'fatal',
            msg: `${name} ${describeExit(exit)}: its configuration is invalid (see its log above). It is not restarted; stopping Baton`,
            fields: { event: 'service_config_error', ...fields },
          };
      }
    }
  }
}
