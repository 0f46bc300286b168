import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findFreePort, type CleanupScope } from '@baton/kit/testing';

export interface PrometheusServer {
  url: string;
  /** The value of the first series an instant query returns, or undefined when there is none. */
  query(expr: string): Promise<Array<{ metric: Record<string, string>; value: number }>>;
}

const installed = (command: string) => spawnSync(command, ['--version'], { stdio: 'ignore' }).status === 0;

/**
 * Whether Debian's prometheus and promtool are here. Under CI=true they must be (.ci/run installs
 * them); elsewhere a test without them is skipped, saying so.
 */
export function prometheusAvailability(): { skip: false } | { skip: string } {
  if (installed('prometheus') && installed('promtool')) return { skip: false };
  if (process.env.CI === 'true') throw new Error('prometheus and promtool are required under CI=true (apt-get install prometheus)');
  return { skip: 'prometheus/promtool not installed (apt-get install prometheus) — skipped (CI=true requires them)' };
}

/** Runs promtool with `input` on stdin; returns its exit status and what it printed. */
export function promtool(args: readonly string[], input?: string): { status: number | null; output: string } {
  const result = spawnSync('promtool', args, { input, encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/**
 * A Prometheus of the test's own, scraping `targets` (job name → host:port) every second, with
 * its data in a temporary folder; stopped and removed after the test.
 */
export async function startPrometheus(scope: CleanupScope, targets: Record<string, string>, ruleFiles: readonly string[] = []): Promise<PrometheusServer> {
  const dir = await mkdtemp(join(tmpdir(), 'baton-prometheus-'));
  scope.after(() => rm(dir, { recursive: true, force: true }));
  const config = [
    'global: { scrape_interval: 1s, evaluation_interval: 1s }',
    `rule_files: [${ruleFiles.map((f) => JSON.stringify(f)).join(', ')}]`,
    'scrape_configs:',
    ...Object.entries(targets).map(([job, target]) => `  - { job_name: ${job}, static_configs: [{ targets: ['${target}'] }] }`),
  ].join('\n');
  await writeFile(join(dir, 'prometheus.yml'), config);
  const port = await findFreePort();
  const child = spawn('prometheus', [
    `--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  scope.after(async () => {
    child.kill('SIGTERM');
    await exited;
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`prometheus exited: ${stderr}`);
    try {
      if ((await fetch(`${url}/-/ready`)).ok) break;
    } catch {
      // Not listening yet.
    }
    if (i > 300) throw new Error(`prometheus not ready after 30 s: ${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
    async query(expr) {
      const response = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`);
      const body = await response.json() as { status: string; data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } };
      if (body.status !== 'success') throw new Error(`query ${expr} failed: ${JSON.stringify(body)}`);
      return body.data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
    },
  };
}
