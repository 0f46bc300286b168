import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

export interface S3rverProcess {
  /** `http://127.0.0.1:<port>`, with a bucket `media`. */
  url: string;
  close(): Promise<void>;
}

const main = new URL('./s3rver-main.ts', import.meta.url).pathname;

/**
 * s3rver, an S3 API server written in Node, in a child process serving `directory`. Not in the
 * test's own process: what the server holds while it receives an upload would count as the
 * store's when a test measures what a put keeps alive.
 */
export async function startS3rverProcess(directory: string): Promise<S3rverProcess> {
  const child = spawn(process.execPath, [main, directory], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = once(child, 'exit');
  const lines = createInterface({ input: child.stdout });
  const first = await Promise.race([
    once(lines, 'line').then(([line]) => String(line)),
    exited.then(([code]) => { throw new Error(`s3rver exited with ${String(code)} before it listened`); }),
  ]);
  lines.close();
  // Read on and dropped from here, so nothing it might print fills the pipe and stalls it.
  child.stdout.resume();
  const { port } = JSON.parse(first) as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      if (child.exitCode !== null) return;
      child.stdin.end();
      await exited;
    },
  };
}
