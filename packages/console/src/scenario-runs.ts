import type { FastifyInstance } from 'fastify';
import { onlyOnTheChaosShop, runScenario, scenarioNamed, scenarios, targetOf, type Phase, type RunOptions, type ScenarioReport } from '@baton/chaos';
import type { ConsoleStack } from './console-stack.ts';

export interface ScenarioRuns {
  /** What the state stream carries each second: the run in progress, and how many reports there are. */
  summary(): { running: { name: string; phase: Phase; startedAt: string } | null; reports: number };
}

// The reports a console keeps, newest first.
const keptReports = 20;

/**
 * The console's named fault scenarios (issue 22), from `@baton/chaos`: one at a time, each a
 * shopper load with its fault and a verdict computed from what the shoppers saw and the shop's
 * records. `POST /api/scenarios/{name}/run` answers 202 at once; the state stream shows the run's
 * phase, and `GET /api/scenarios` the reports when it is done.
 */
export function registerScenarioRoutes(app: FastifyInstance, stackOf: () => ConsoleStack | undefined, { runOptions = {}, log }: { runOptions?: RunOptions; log: (text: string, level: 'info' | 'error') => void }): ScenarioRuns {
  let running: { name: string; phase: Phase; startedAt: string } | null = null;
  const reports: Array<ScenarioReport | { scenario: string; title: string; startedAt: string; error: string }> = [];

  app.get('/api/scenarios', async () => {
    const stack = stackOf();
    return {
      scenarios: scenarios.map((s) => ({ name: s.name, title: s.title, promise: s.promise, runs: stack !== undefined && onlyOnTheChaosShop(s) === undefined && s.needs.every((name) => stack.services.includes(name)) })),
      running,
      reports,
    };
  });

  app.post<{ Params: { name: string } }>('/api/scenarios/:name/run', async (request, reply) => {
    const scenario = scenarioNamed(request.params.name);
    const stack = stackOf();
    if (scenario === undefined || stack === undefined) return reply.code(404).send({ error: `no scenario ${request.params.name}: ${scenarios.map((s) => s.name).join(', ')}` });
    if (running !== null) return reply.code(409).send({ error: `${running.name} is running; one scenario at a time` });
    const elsewhere = onlyOnTheChaosShop(scenario);
    if (elsewhere !== undefined) return reply.code(409).send({ error: `${scenario.name} runs only under npm run chaos: ${elsewhere}` });
    const missing = scenario.needs.filter((name) => !stack.services.includes(name));
    if (missing.length > 0) return reply.code(409).send({ error: `${scenario.name} needs ${missing.join(', ')}, which this stack does not run` });
    const startedAt = new Date().toISOString();
    const current = { name: scenario.name, phase: 'starting' as Phase, startedAt };
    running = current;
    log(`scenario ${scenario.name} started`, 'info');
    runScenario(targetOf(stack), scenario, { ...runOptions, onPhase: (phase) => { current.phase = phase; } }).then(
      (report) => {
        reports.unshift(report);
        log(`scenario ${scenario.name}: ${report.verdict.passed ? 'passed' : 'failed'} (${report.verdict.checks.map((c) => `${c.name} ${c.passed ? 'ok' : 'FAILED'}`).join(', ')})`, report.verdict.passed ? 'info' : 'error');
      },
      (error: unknown) => {
        reports.unshift({ scenario: scenario.name, title: scenario.title, startedAt, error: (error as Error).message });
        log(`scenario ${scenario.name} could not run: ${(error as Error).message}`, 'error');
      },
    ).finally(() => {
      reports.splice(keptReports);
      running = null;
    });
    return reply.code(202).send({ accepted: `scenario ${scenario.name}` });
  });

  return { summary: () => ({ running, reports: reports.length }) };
}
