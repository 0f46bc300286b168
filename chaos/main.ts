// `npm run chaos`: the whole shop started, every named scenario run on it one after another
// (a shopper load, one fault, and a verdict from the data), and a report written to
// `var/chaos/<run>/report.html` and `report.json`. Exits 1 when any verdict fails.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { runScenario, scenarios, targetOf, type RunOptions } from '@baton/chaos';
import { repoRoot, serviceNames } from '@baton/runner';
import { parseChaosArgs } from './args.ts';
import { startChaosShop } from './chaos-shop.ts';
import { movableClocks } from './clocks.ts';
import { renderReport, type ChaosRun } from './report-html.ts';

const windows: Record<'short' | 'full', Pick<RunOptions, 'beforeMs' | 'faultMs' | 'afterMs' | 'load'>> = {
  short: { beforeMs: 2_000, faultMs: 4_000, afterMs: 8_000, load: { shoppers: 4 } },
  full: { beforeMs: 5_000, faultMs: 10_000, afterMs: 15_000, load: { shoppers: 6 } },
};
// Between scenarios: how long the shop may take to be whole again (a killed service restarted).
const wholeAgainMs = 60_000;

async function main(): Promise<number> {
  const parsed = parseChaosArgs(process.argv.slice(2));
  if (!parsed.ok) {
    console.error(`npm run chaos: ${parsed.problem}\nusage: npm run chaos -- [--scenario NAME[,NAME]] [--short] [--list]`);
    return 2;
  }
  const { args } = parsed;
  if (args.list) {
    for (const s of scenarios) console.log(`${s.name.padEnd(20)} ${s.title}`);
    return 0;
  }
  const startedAt = new Date();
  const run = startedAt.toISOString().replace(/[:.]/g, '-');
  // The environment, read once here: where var/ is (as npm start reads it), and what the services inherit.
  const env = process.env;
  const ci = env.CI === 'true';
  const varDir = resolve(env.BATON_VAR_DIR ?? join(repoRoot, 'var'));
  const folder = join(varDir, 'chaos', run);
  await mkdir(folder, { recursive: true, mode: 0o700 });
  // The shop's own data, thrown away after: in the system's temporary folder, which the embedded
  // PostgreSQL's user can reach when this runs as root (var/ is closed to it).
  const shopDir = await mkdtemp(join(tmpdir(), 'baton-chaos-'));
  const say = (text: string) => console.log(`[${((Date.now() - startedAt.getTime()) / 1_000).toFixed(1).padStart(6)} s] ${text}`);

  say('starting the shop');
  // Each service's wall clock movable (the clock scenarios), when Debian's libfaketime is installed.
  const clocks = await movableClocks(join(shopDir, 'clocks'), serviceNames);
  const serviceEnv = Object.fromEntries(serviceNames.map((name) => [name, clocks?.environment(name) ?? {}]));
  const shop = await startChaosShop({ varDir: shopDir, logFile: join(folder, 'services.log'), env, serviceEnv }).catch(async (error: unknown) => {
    await rm(shopDir, { recursive: true, force: true });
    throw error;
  });
  const reports: ChaosRun['scenarios'] = [];
  try {
    say(`shop ready: the gateway at ${shop.stack.url('gateway')}`);
    for (const scenario of args.scenarios) {
      say(`${scenario.name}: ${scenario.title}`);
      if (scenario.needsMovableClocks === true && clocks === undefined) {
        // What is not installed is said, and the run goes on; under CI it is required.
        const why = 'Debian\'s libfaketime is not installed (apt-get install libfaketime): each service\'s clock cannot be moved';
        reports.push(ci ? { scenario: scenario.name, title: scenario.title, error: why } : { scenario: scenario.name, title: scenario.title, skipped: why });
        say(`${scenario.name}: ${ci ? 'could not run' : 'skipped'}: ${why}`);
        continue;
      }
      try {
        await shop.whole(wholeAgainMs);
        const report = await runScenario(targetOf(shop.stack, { setClockOffset: clocks?.set }), scenario, { ...windows[args.short ? 'short' : 'full'], onPhase: (phase) => say(`  ${phase}`) });
        reports.push(report);
        say(`${scenario.name}: ${report.verdict.passed ? 'passed' : 'FAILED'}`);
      } catch (error) {
        reports.push({ scenario: scenario.name, title: scenario.title, error: (error as Error).message });
        say(`${scenario.name}: could not run: ${(error as Error).message}`);
      }
    }
  } finally {
    await shop.stop();
    await rm(shopDir, { recursive: true, force: true });
  }
  const result: ChaosRun = {
    run, startedAt: startedAt.toISOString(), short: args.short,
    passed: reports.every((r) => 'skipped' in r || (!('error' in r) && r.verdict.passed)),
    scenarios: reports,
  };
  await writeFile(join(folder, 'report.json'), `${JSON.stringify(result, null, 2)}\n`);
  await writeFile(join(folder, 'report.html'), renderReport(result));
  printTable(result);
  console.log(`\nreport: ${relative(process.cwd(), join(folder, 'report.html'))} (and report.json)`);
  return result.passed ? 0 : 1;
}

function printTable(run: ChaosRun): void {
  console.log('\n| scenario | check | verdict | what the data says |');
  console.log('|---|---|---|---|');
  for (const s of run.scenarios) {
    if ('skipped' in s) {
      console.log(`| ${s.scenario} | - | skipped | ${s.skipped} |`);
      continue;
    }
    if ('error' in s) {
      console.log(`| ${s.scenario} | - | FAILED | could not run: ${s.error} |`);
      continue;
    }
    for (const check of s.verdict.checks) console.log(`| ${s.scenario} | ${check.name} | ${check.passed ? 'passed' : 'FAILED'} | ${check.detail} |`);
    const a = s.verdict.amplification;
    if (a !== undefined) console.log(`| ${s.scenario} | amplification (a figure) | - | calls reaching ${a.service} per shopper request: ${a.beforePerRequest?.toFixed(2) ?? '?'} before the fault, ${a.duringPerRequest?.toFixed(2) ?? '?'} from its start on |`);
  }
}

// A command: it ends when its report is written, whatever handle is still open. A shop that
// cannot start is said in a line (the runner's message names the cause and the way out).
process.exit(await main().catch((error: unknown) => {
  console.error(`npm run chaos: ${(error as Error).message}`);
  return 1;
}));
