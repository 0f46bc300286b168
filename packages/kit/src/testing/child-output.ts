import type { ChildProcess } from 'node:child_process';

/** What a child process wrote: its JSON log lines parsed, and all of it as text for a failure message. */
export interface ChildOutput {
  /** Every whole stdout line that is a JSON object, in order (the kit's and the runner's log lines). */
  readonly records: Array<Record<string, unknown>>;
  /** stdout and stderr as they came. */
  text(): string;
}

/**
 * Collects a child's output as tests read it: JSON log lines parsed as they arrive (a line split
 * across chunks is joined first), everything kept as text.
 *
 * @example
 * const child = spawn(process.execPath, ['services/users/src/main.ts'], { stdio: ['ignore', 'pipe', 'pipe'] });
 * const output = captureOutput(child);
 * // … output.records.find((r) => r.msg === 'users listening')
 */
export function captureOutput(child: ChildProcess): ChildOutput {
  const records: Array<Record<string, unknown>> = [];
  let text = '';
  let pending = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    text += chunk;
    pending += chunk;
    const complete = pending.split('\n');
    pending = complete.pop() ?? '';
    for (const line of complete) {
      try {
        const value: unknown = JSON.parse(line);
        if (typeof value === 'object' && value !== null && !Array.isArray(value)) records.push(value as Record<string, unknown>);
      } catch {
        // Not a log line; it stays in the text.
      }
    }
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => { text += chunk; });
  return { records, text: () => text };
}
