// `npm run chaos`: the whole shop started, every named scenario run on it one after another
// (a shopper load, one fault, and a verdict from the data), and a report written to
// `var/chaos/<run>/report.html` and `report.json`. Exits 1 when any verdict fails.
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { hostScenarios, runScenario, scenarios, type RunOptions, type Scenario, type ScenarioReport } from '@baton/chaos';
import { repoRoot } from '@baton/runner';
import { parseChaosArgs } from './args.ts';
import { reachable } from './broker-link.ts';
import { renderReport, type ChaosRun } from './report-html.ts';
import { brokers, shopKindOf, shopKinds, startShop, type ShopKind } from './shops.ts';

const windows: Record<'short' | 'full', Pick<RunOptions, 'beforeMs' | 'faultMs' | 'afterMs' | 'load'>> = {
  short: { beforeMs: 2_000, faultMs: 4_000, afterMs: 6_000, load: { shoppers: 4 } },
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
    for (const s of [...scenarios, ...hostScenarios]) console.log(`${s.name.padEnd(20)} ${s.title}`);
    return 0;
  }
  const startedAt = new Date();
  const run = startedAt.toISOString().replace(/[:.]/g, '-');
  // The run's digits: its names on a broker others share, its staff member's email.
  const tag = run.replace(/[^0-9]/g, '').slice(-12);
  // The environment, read once here: where var/ is (as npm start reads it), and what the services inherit.
  const env = process.env;
  const ci = env.CI === 'true';
  const varDir = resolve(env.BATON_VAR_DIR ?? join(repoRoot, 'var'));
  const folder = join(varDir, 'chaos', run);
  await mkdir(folder, { recursive: true, mode: 0o700 });
  const say = (text: string) => console.log(`[${((Date.now() - startedAt.getTime()) / 1_000).toFixed(1).padStart(6)} s] ${text}`);
  const reports: ChaosRun['scenarios'] = [];
  // What a scenario needs and this machine lacks is said, and the run goes on; under CI it is required.
  const cannot = (scenario: Pick<Scenario, 'name' | 'title'>, why: string) => {
    reports.push(ci ? { scenario: scenario.name, title: scenario.title, error: why } : { scenario: scenario.name, title: scenario.title, skipped: why });
    say(`${scenario.name}: ${ci ? 'could not run' : 'skipped'}: ${why}`);
  };
  // One shop for the scenarios whose events go over the services' own feeds (npm start's way),
  // one for each broker that some scenario's events go through, and one whose runner is a
  // process of its own (to be killed).
  for (const kind of shopKinds) {
    const group = args.scenarios.filter((s) => shopKindOf(s) === kind);
    if (group.length === 0) continue;
    const broker = kind === 'nats' || kind === 'rabbitmq' ? brokers[kind] : undefined;
    if (broker !== undefined && !await reachable(broker)) {
      for (const scenario of group) cannot(scenario, `no ${kind === 'nats' ? 'NATS' : 'RabbitMQ'} server answers on ${broker.host}:${broker.port}`);
      continue;
    }
    await runGroup(kind, group);
  }

  async function runGroup(kind: ShopKind, group: readonly Scenario[]): Promise<void> {
    // The shop's own data, thrown away after: in the system's temporary folder, which the embedded
    // PostgreSQL's user can reach when this runs as root (var/ is closed to it).
    const shopDir = await mkdtemp(join(tmpdir(), 'baton-chaos-'));
    const cleanups: Array<() => Promise<void>> = [() => rm(shopDir, { recursive: true, force: true })];
    // The load's member of staff, who uploads images: made staff by the shop's STAFF_EMAILS.
    const staffEmail = `chaos-staff-${tag}@example.com`;
    const shopEnv = { ...env, STAFF_EMAILS: staffEmail };
    try {
      const shop = await startShop({ kind, shopDir, env: shopEnv, group, cleanups, logFile: join(folder, 'services.log'), namespace: `chaos_${tag}`, say });
      cleanups.unshift(shop.stop);
      say(`shop ready: the gateway at ${shop.target.gatewayUrl}`);
      for (const scenario of group) {
        say(`${scenario.name}: ${scenario.title}`);
        const lacking = shop.lacks(scenario);
        if (lacking !== undefined) {
          cannot(scenario, lacking);
          continue;
        }
        try {
          await shop.whole(wholeAgainMs);
          const window = windows[args.short ? 'short' : 'full'];
          const report = await runScenario(shop.target, scenario, { ...window, load: { ...window.load, staffEmail }, onPhase: (phase) => say(`  ${phase}`) });
          reports.push(report);
          say(`${scenario.name}: ${report.verdict.passed ? 'passed' : 'FAILED'}`);
        } catch (error) {
          reports.push({ scenario: scenario.name, title: scenario.title, error: (error as Error).message });
          say(`${scenario.name}: could not run: ${(error as Error).message}`);
        }
      }
    } finally {
      // The shop first, then what it stood on (a broker link, a small disk), then its folder.
      for (const cleanup of cleanups) await cleanup();
    }
  }

  // The faults on the wire and the rolling restart: the multi-host proof, run as its own command.
  if (args.hosts.length > 0) {
    say('the multi-host proof (npm run test:hosts): faults on the wire, a rolling restart');
    const file = join(folder, 'hosts.json');
    const code = await new Promise<number | null>((done) => spawn(process.execPath, ['test/hosts/hosts-proof.ts', '--report', file, ...(args.short ? ['--short'] : [])], { cwd: repoRoot, stdio: 'inherit' }).once('exit', done));
    const written = await readFile(file, 'utf8').then((text) => JSON.parse(text) as { scenarios: ScenarioReport[] }, () => undefined);
    for (const scenario of args.hosts) {
      const report = written?.scenarios.find((r) => r.scenario === scenario.name);
      if (report !== undefined) reports.push(report);
      else if (code === 0) cannot(scenario, 'the multi-host proof was skipped, as its line above says');
      else reports.push({ scenario: scenario.name, title: scenario.title, error: `the multi-host proof failed (exit ${code}) before its verdicts: see its lines above` });
    }
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
