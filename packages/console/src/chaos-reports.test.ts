import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { registerChaosReportRoutes } from './chaos-reports.ts';

void test('the console lists npm run chaos\'s reports, newest first, serves each page, and reads nothing outside their folder', async (t) => {
  const folder = await mkdtemp(join(tmpdir(), 'baton-chaos-reports-'));
  t.after(() => rm(folder, { recursive: true, force: true }));
  const write = async (run: string, report: unknown) => {
    await mkdir(join(folder, run));
    await writeFile(join(folder, run, 'report.json'), JSON.stringify(report));
    await writeFile(join(folder, run, 'report.html'), `<!doctype html><title>${run}</title>`);
  };
  await write('2026-12-05T00-40-40-855Z', { startedAt: '2026-12-05T00:40:40.855Z', short: true, passed: true, scenarios: [{ scenario: 'kill-inventory', verdict: { passed: true } }] });
  await write('2026-12-06T09-00-00-000Z', {
    startedAt: '2026-12-06T09:00:00.000Z', short: false, passed: false,
    scenarios: [{ scenario: 'kill-orders', verdict: { passed: false } }, { scenario: 'kill-postgres', error: 'no embedded PostgreSQL' }, { scenario: 'clock-orders', skipped: 'no libfaketime' }, { scenario: 'slow-payment', verdict: { passed: true } }],
  });
  // A run still going: no report yet, so not listed.
  await mkdir(join(folder, '2026-12-07T00-00-00-000Z'));
  await writeFile(join(folder, 'secret.txt'), 'not a report');

  const app = Fastify();
  registerChaosReportRoutes(app, folder);
  t.after(() => app.close());

  const listing = await app.inject({ method: 'GET', url: '/api/chaos-runs' });
  assert.deepEqual((listing.json() as { runs: unknown[] }).runs, [
    { run: '2026-12-06T09-00-00-000Z', startedAt: '2026-12-06T09:00:00.000Z', short: false, passed: false, scenarios: 4, failed: ['kill-orders', 'kill-postgres'] },
    { run: '2026-12-05T00-40-40-855Z', startedAt: '2026-12-05T00:40:40.855Z', short: true, passed: true, scenarios: 1, failed: [] },
  ]);

  const page = await app.inject({ method: 'GET', url: '/chaos/2026-12-05T00-40-40-855Z/report.html' });
  assert.equal(page.statusCode, 200);
  assert.match(page.headers['content-type'] as string, /^text\/html/);
  assert.match(page.headers['content-security-policy'] as string, /default-src 'none'/);
  assert.match(page.body, /2026-12-05T00-40-40-855Z/);

  for (const url of ['/chaos/..%2Fsecret.txt/report.html', '/chaos/%2E%2E/report.html', '/chaos/2026-12-07T00-00-00-000Z/report.html', '/chaos/nothing/report.html']) {
    const refused = await app.inject({ method: 'GET', url });
    assert.equal(refused.statusCode, 404, url);
    assert.doesNotMatch(refused.body, /not a report/);
  }
});

void test('with no chaos folder yet, the list is empty', async (t) => {
  const app = Fastify();
  registerChaosReportRoutes(app, join(tmpdir(), 'baton-no-such-folder-for-chaos'));
  t.after(() => app.close());
  assert.deepEqual((await app.inject({ method: 'GET', url: '/api/chaos-runs' })).json(), { runs: [] });
});
