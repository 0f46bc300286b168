import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';

/** One `npm run chaos` report, as the console lists it. */
export interface ChaosRunSummary {
  run: string;
  startedAt: string;
  short: boolean;
  passed: boolean;
  scenarios: number;
  failed: string[];
}

// A run's folder name (an ISO time with `-` for `:` and `.`): nothing else is ever read from disk.
const runName = /^[0-9A-Za-z-]{1,64}$/;
const listed = 20;
// The report is one page with its own styles and no script.
const reportHeaders = {
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'cache-control': 'no-cache',
  'x-content-type-options': 'nosniff',
};

/**
 * The reports `npm run chaos` wrote under `<var>/chaos/<run>/`, linked from the console's Faults
 * page: `GET /api/chaos-runs` lists the newest, `GET /chaos/<run>/report.html` serves one.
 */
export function registerChaosReportRoutes(app: FastifyInstance, folder: string): void {
  app.get('/api/chaos-runs', async () => {
    const names = await readdir(folder).catch(() => [] as string[]);
    const runs: ChaosRunSummary[] = [];
    for (const name of names.filter((n) => runName.test(n)).toSorted().toReversed()) {
      if (runs.length === listed) break;
      const report = await readFile(join(folder, name, 'report.json'), 'utf8').then((text) => JSON.parse(text) as {
        startedAt: string; short: boolean; passed: boolean; scenarios: Array<{ scenario: string; error?: string; skipped?: string; verdict?: { passed: boolean } }>;
      }, () => undefined);
      // A run still going (or one that died) has no report yet.
      if (report === undefined) continue;
      runs.push({
        run: name, startedAt: report.startedAt, short: report.short, passed: report.passed, scenarios: report.scenarios.length,
        failed: report.scenarios.filter((s) => s.skipped === undefined && (s.error !== undefined || s.verdict?.passed !== true)).map((s) => s.scenario),
      });
    }
    return { runs };
  });

  app.get<{ Params: { run: string } }>('/chaos/:run/report.html', async (request, reply) => {
    const { run } = request.params;
    const page = runName.test(run) ? await readFile(join(folder, run, 'report.html')).catch(() => undefined) : undefined;
    if (page === undefined) return reply.code(404).type('text/plain; charset=utf-8').send('no such chaos report');
    return reply.type('text/html; charset=utf-8').headers(reportHeaders).send(page);
  });
}
