// `npm start`: the whole shop on one machine, each service its own process. See ../README.md.
import { createLogSink } from '@baton/kit/telemetry';
import { readyBanner, readyLines } from './banner.ts';
import { readCliConfig } from './cli-config.ts';
import { RunnerError } from './errors.ts';
import { createLogFormatter } from './log-format.ts';
import { runnerLogLine, type LogLine } from './log-line.ts';
import { startLocalConsole } from './local-console.ts';
import { folderOf } from './environment.ts';
import { alreadyRunning, createStack } from './stack.ts';
import { runningStackIn } from './var-lock.ts';

/** Exit status for a configuration error (sysexits' EX_CONFIG), the same as the services'. */
const exitCodeConfig = 78;
/** A second Ctrl-C means "now": the children are killed and the runner exits with this. */
const exitCodeInterrupted = 130;
// npm passes the terminal's Ctrl-C on to the runner, which has already had it from the
// terminal itself: a repeat this soon is the same keypress, not a second one.
const repeatedSignalWindowMs = 1_000;
/** How many of a failed service's lines to show again below the error, on a terminal. */
const repeatedLines = 10;

const stdoutIsTty = process.stdout.isTTY === true;
const configResult = readCliConfig(process.env, { stdoutIsTty, args: process.argv.slice(2) });
if (!configResult.ok) {
  process.stderr.write(`baton runner: invalid configuration:\n${configResult.problems.map((p) => `  ${p}\n`).join('')}`);
  process.exit(exitCodeConfig);
}
const { portBase, varDir, logFormat, databaseUrl, databasePrefix, services, named } = configResult.config;

// A reader that went away (`npm start | head`) must not crash the runner and orphan the services,
// and one that stops reading must not grow the runner without bound: the kit's sink drops lines
// past its bound and says how many once the reader is back.
const stdout = createLogSink(process.stdout);
const colors = stdoutIsTty && process.stdout.hasColors();
const format = createLogFormatter({ format: logFormat, colors });
// Every line goes to the console's log view too, once it is up.
const toConsole: { log?: (line: LogLine) => void } = {};
const write = (line: LogLine) => {
  toConsole.log?.(line);
  stdout.write(format(line));
};
stdout.reportDropsTo((droppedLines) => write(runnerLogLine('warn', `stdout was not read: ${droppedLines} lines were dropped`, { event: 'lines_dropped', dropped_lines: droppedLines })));

// Said before anything starts (the stack checks again, for real, as it takes the folder).
const running = await runningStackIn(varDir);
if (running !== undefined) {
  write(runnerLogLine('fatal', alreadyRunning(varDir, running), { event: 'start_failed', code: 'already_running' }));
  // Exit once the line is out (a pipe may take its writes later).
  await new Promise<never>(() => process.stdout.write('', () => process.exit(1)));
}

// The console shows the stack live; spans go to it, unless the user sends them somewhere already.
const local = await startLocalConsole({ env: process.env, portBase, varDir, onLog: write });
if (local.console !== undefined) toConsole.log = local.console.log;
const stack = createStack({ services, portBase, varDir, databaseUrl, databasePrefix, onLog: write, env: local.env });
// The emails notifications writes as files (its MAIL_DIR under the var folder), for the console's Mail tab.
local.console?.attach(stack, { mailFolder: services.includes('notifications') ? folderOf('notifications', 'MAIL_DIR', varDir) : undefined });

let firstSignalAtMs: number | undefined;
function onSignal(signal: NodeJS.Signals): void {
  const nowMs = performance.now();
  if (firstSignalAtMs === undefined) {
    firstSignalAtMs = nowMs;
    write(runnerLogLine('info', `${signal}: stopping every service (press Ctrl-C again to kill them)`, { event: 'signal', signal }));
    void stack.shutdown();
    return;
  }
  if (nowMs - firstSignalAtMs < repeatedSignalWindowMs) return;
  write(runnerLogLine('warn', `${signal} again: killing every service`, { event: 'signal', signal }));
  // The exit hook in service-process.ts sends SIGKILL to every child still running.
  process.exit(exitCodeInterrupted);
}
// SIGHUP too: a closed terminal would otherwise end the runner without stopping its services.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onSignal);

let startFailed = false;
try {
  await stack.startAll();
  // The services asked for by name come first (the gateway comes first of all when it runs).
  const ready = stack.services.map((name) => ({ name, url: stack.url(name), adminUrl: stack.adminUrl(name) }))
    .sort((a, b) => Number(named.includes(b.name)) - Number(named.includes(a.name)));
  const database = { location: stack.database.location, kind: stack.database.kind, prefix: databasePrefix };
  const urls = { consoleUrl: local.consoleUrl, tracesUrl: local.tracesUrl, database };
  if (logFormat === 'json') readyLines(ready, urls).forEach(write);
  else stdout.write(readyBanner(ready, { colors, varDir, ...urls }));
} catch (error) {
  // Stopping on a signal also ends the wait for readiness; that is no failure.
  if (firstSignalAtMs === undefined) {
    startFailed = true;
    reportStartFailure(error);
    void stack.shutdown();
  }
}

const stopped = await stack.stopped;
await local.close();
process.exitCode = stopped.reason === 'config_error' ? exitCodeConfig : !startFailed && stopped.clean ? 0 : 1;

function reportStartFailure(error: unknown): void {
  if (!(error instanceof RunnerError)) {
    write(runnerLogLine('fatal', `could not start Baton: ${String(error)}`, { event: 'start_failed', err: String((error as Error)?.stack ?? error) }));
    return;
  }
  write(runnerLogLine('fatal', `could not start Baton: ${error.summary}`, { event: 'start_failed', code: error.code, name: error.service }));
  // On a terminal the failed service's lines are shown again, together: at start they were
  // interleaved with four other services' lines. In JSON they are already in the stream.
  if (logFormat === 'pretty' && error.lastLines.length > 0) {
    write(runnerLogLine('info', `the last lines of ${error.service}:`));
    error.lastLines.slice(-repeatedLines).forEach(write);
  }
}
