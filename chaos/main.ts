// `npm run chaos`: the whole shop started, every named scenario run on it one after another
// (a shopper load, one fault, and a verdict from the data), and a report written to
// `var/chaos/<run>/report.html` and `report.json`. Exits 1 when any verdict fails.
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { hostScenarios, runScenario, scenarios, targetOf, type ChaosTarget, type RunOptions, type Scenario, type ScenarioReport, type StackHandle } from '@baton/chaos';
import { repoRoot, serviceNames } from '@baton/runner';
import { parseChaosArgs } from './args.ts';
import { reachable, startBrokerLink } from './broker-link.ts';
import { startChaosShop } from './chaos-shop.ts';
import { movableClocks } from './clocks.ts';
import { poisonWriterOf } from './poison-event.ts';
import { providerChargesOf } from './provider-charges.ts';
import { renderReport, type ChaosRun } from './report-html.ts';
import { startRunnerShop } from './runner-shop.ts';
import { mountSmallDisk } from './small-disk.ts';

const windows: Record<'short' | 'full', Pick<RunOptions, 'beforeMs' | 'faultMs' | 'afterMs' | 'load'>> = {
  short: { beforeMs: 2_000, faultMs: 4_000, afterMs: 8_000, load: { shoppers: 4 } },
  full: { beforeMs: 5_000, faultMs: 10_000, afterMs: 15_000, load: { shoppers: 6 } },
};
// Between scenarios: how long the shop may take to be whole again (a killed service restarted).
const wholeAgainMs = 60_000;
// The shops, in the order they are started: events over the services' feeds, through NATS,
// through RabbitMQ; and npm start's runner as a process of its own (its events over the feeds).
type ShopKind = 'feed' | 'nats' | 'rabbitmq' | 'runner';
const shopKinds: readonly ShopKind[] = ['feed', 'nats', 'rabbitmq', 'runner'];
const shopKindOf = (scenario: Scenario): ShopKind => (scenario.runnerProcess === true ? 'runner' : scenario.events ?? 'feed');
// Media's small disk: room for a run's uploads (64×48 pictures and their sizes), little to fill.
const smallDiskMiB = 64;
// The brokers of this machine (.ci/run starts them) that a broker's shop reaches through a link of its own.
const brokers = { nats: { host: '127.0.0.1', port: 4222 }, rabbitmq: { host: '127.0.0.1', port: 5672 } } as const;

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
    const staffEmail = `chaos-staff-${run.replace(/[^0-9]/g, '').slice(-12)}@example.com`;
    const shopEnv = { ...env, STAFF_EMAILS: staffEmail };
    try {
      const shop = await startShop(kind, shopDir, shopEnv, group, cleanups);
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

  /** Starts the shop a group of scenarios runs on, and registers in `cleanups` what must go after it. */
  async function startShop(kind: ShopKind, shopDir: string, shopEnv: NodeJS.ProcessEnv, group: readonly Scenario[], cleanups: Array<() => Promise<void>>): Promise<{
    target: ChaosTarget; whole(timeoutMs: number): Promise<void>; stop(): Promise<void>; lacks(scenario: Scenario): string | undefined;
  }> {
    const logFile = join(folder, 'services.log');
    if (kind === 'runner') {
      say('starting the shop with npm start\'s runner, a process of its own');
      const shop = await startRunnerShop({ varDir: shopDir, logFile, env: shopEnv, startTimeoutMs: 120_000 });
      const { handle } = shop;
      const target = targetOf(handle, { runner: shop.runner, providerCharges: providerChargesOf({ varDir: shopDir, providerUrl: handle.url('provider') }) });
      return { target, stop: shop.stop, whole: (timeoutMs) => allReady(handle, timeoutMs), lacks: () => undefined };
    }
    const link = kind === 'feed' ? undefined : await startBrokerLink(brokers[kind]);
    if (link !== undefined) cleanups.unshift(() => link.close());
    const messaging = link === undefined ? {} : {
      ...(kind === 'nats' ? { NATS_URL: `nats://127.0.0.1:${link.port}` } : { AMQP_URL: `amqp://guest:guest@127.0.0.1:${link.port}/` }),
      // Streams, subjects, exchanges and queues of this run's own, on a broker others share.
      MESSAGING_NAMESPACE: `chaos_${run.replace(/[^0-9]/g, '').slice(-12)}`,
    };
    // Media's folder on a small disk of its own, when a scenario fills it (root, on Linux).
    const disk = group.some((s) => s.needsSmallDisk === true) ? await mountSmallDisk(join(shopDir, 'media'), smallDiskMiB) : undefined;
    if (disk !== undefined) cleanups.unshift(() => disk.close());
    say(`starting the shop${link === undefined ? '' : `, its events through ${kind === 'nats' ? 'NATS' : 'RabbitMQ'}`}`);
    // Each service's wall clock movable (the clock scenarios), when Debian's libfaketime is installed.
    const clocks = await movableClocks(join(shopDir, 'clocks'), serviceNames);
    const serviceEnv = Object.fromEntries(serviceNames.map((name) => [name, { ...clocks?.environment(name), ...messaging }]));
    const shop = await startChaosShop({ varDir: shopDir, logFile, env: shopEnv, serviceEnv });
    const { stack } = shop;
    const target = targetOf(stack, {
      setClockOffset: clocks?.set, brokerLink: link, mediaDisk: disk, writePoisonEvent: poisonWriterOf(stack),
      providerCharges: providerChargesOf({ varDir: stack.varDir, providerUrl: stack.url('provider') }),
    });
    return {
      target, stop: shop.stop, whole: shop.whole,
      lacks(scenario) {
        if (scenario.needsMovableClocks === true && clocks === undefined) return 'Debian\'s libfaketime is not installed (apt-get install libfaketime): each service\'s clock cannot be moved';
        if (scenario.needsSmallDisk === true && disk === undefined) return 'media\'s folder cannot be put on a small disk of its own: that takes mounting a tmpfs, as root on Linux';
        return undefined;
      },
    };
  }
  // The faults on the wire and the rolling restart: the multi-host proof, run as its own command.
  if (args.hosts.length > 0) {
    say('the multi-host proof (npm run test:hosts): faults on the wire, a rolling restart');
    const file = join(folder, 'hosts.json');
    const code = await new Promise<number | null>((done) => spawn(process.execPath, ['test/hosts/hosts-proof.ts', '--report', file], { cwd: repoRoot, stdio: 'inherit' }).once('exit', done));
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

function allReady(stack: StackHandle, timeoutMs: number): Promise<void> {
  return Promise.all(stack.services.map((name) => stack.waitReady(name, { timeoutMs }))).then(() => undefined);
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
