// `npm run chaos`: the whole shop started, every named scenario run on it one after another
// (a shopper load, one fault, and a verdict from the data), and a report written to
// `var/chaos/<run>/report.html` and `report.json`. Exits 1 when any verdict fails.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { runScenario, scenarios, targetOf, type RunOptions, type Scenario } from '@baton/chaos';
import { repoRoot, serviceNames } from '@baton/runner';
import { parseChaosArgs } from './args.ts';
import { reachable, startBrokerLink } from './broker-link.ts';
import { startChaosShop } from './chaos-shop.ts';
import { movableClocks } from './clocks.ts';
import { providerChargesOf } from './provider-charges.ts';
import { renderReport, type ChaosRun } from './report-html.ts';

const windows: Record<'short' | 'full', Pick<RunOptions, 'beforeMs' | 'faultMs' | 'afterMs' | 'load'>> = {
  short: { beforeMs: 2_000, faultMs: 4_000, afterMs: 8_000, load: { shoppers: 4 } },
  full: { beforeMs: 5_000, faultMs: 10_000, afterMs: 15_000, load: { shoppers: 6 } },
};
// Between scenarios: how long the shop may take to be whole again (a killed service restarted).
const wholeAgainMs = 60_000;
// How a shop's events travel, in the order the shops are started.
type EventRoute = 'feed' | 'nats' | 'rabbitmq';
const eventRoutes: readonly EventRoute[] = ['feed', 'nats', 'rabbitmq'];
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
  const say = (text: string) => console.log(`[${((Date.now() - startedAt.getTime()) / 1_000).toFixed(1).padStart(6)} s] ${text}`);
  const reports: ChaosRun['scenarios'] = [];
  // What a scenario needs and this machine lacks is said, and the run goes on; under CI it is required.
  const cannot = (scenario: Scenario, why: string) => {
    reports.push(ci ? { scenario: scenario.name, title: scenario.title, error: why } : { scenario: scenario.name, title: scenario.title, skipped: why });
    say(`${scenario.name}: ${ci ? 'could not run' : 'skipped'}: ${why}`);
  };
  // One shop for the scenarios whose events go over the services' own feeds (npm start's way),
  // and one for each broker that some scenario's events go through.
  for (const events of eventRoutes) {
    const group = args.scenarios.filter((s) => (s.events ?? 'feed') === events);
    if (group.length === 0) continue;
    const broker = events === 'feed' ? undefined : brokers[events];
    if (broker !== undefined && !await reachable(broker)) {
      for (const scenario of group) cannot(scenario, `no ${events === 'nats' ? 'NATS' : 'RabbitMQ'} server answers on ${broker.host}:${broker.port}`);
      continue;
    }
    await runGroup(events, group);
  }

  async function runGroup(events: EventRoute, group: readonly Scenario[]): Promise<void> {
    // The shop's own data, thrown away after: in the system's temporary folder, which the embedded
    // PostgreSQL's user can reach when this runs as root (var/ is closed to it).
    const shopDir = await mkdtemp(join(tmpdir(), 'baton-chaos-'));
    const link = events === 'feed' ? undefined : await startBrokerLink(brokers[events]);
    const messaging = link === undefined ? {} : {
      ...(events === 'nats' ? { NATS_URL: `nats://127.0.0.1:${link.port}` } : { AMQP_URL: `amqp://guest:guest@127.0.0.1:${link.port}/` }),
      // Streams, subjects, exchanges and queues of this run's own, on a broker others share.
      MESSAGING_NAMESPACE: `chaos_${run.replace(/[^0-9]/g, '').slice(-12)}`,
    };
    try {
      say(`starting the shop${link === undefined ? '' : `, its events through ${events === 'nats' ? 'NATS' : 'RabbitMQ'}`}`);
      // Each service's wall clock movable (the clock scenarios), when Debian's libfaketime is installed.
      const clocks = await movableClocks(join(shopDir, 'clocks'), serviceNames);
      const serviceEnv = Object.fromEntries(serviceNames.map((name) => [name, { ...clocks?.environment(name), ...messaging }]));
      const shop = await startChaosShop({ varDir: shopDir, logFile: join(folder, 'services.log'), env, serviceEnv });
      const providerCharges = providerChargesOf(shop.stack);
      try {
        say(`shop ready: the gateway at ${shop.stack.url('gateway')}`);
        for (const scenario of group) {
          say(`${scenario.name}: ${scenario.title}`);
          if (scenario.needsMovableClocks === true && clocks === undefined) {
            cannot(scenario, 'Debian\'s libfaketime is not installed (apt-get install libfaketime): each service\'s clock cannot be moved');
            continue;
          }
          try {
            await shop.whole(wholeAgainMs);
            const target = targetOf(shop.stack, { setClockOffset: clocks?.set, providerCharges, brokerLink: link });
            const report = await runScenario(target, scenario, { ...windows[args.short ? 'short' : 'full'], onPhase: (phase) => say(`  ${phase}`) });
            reports.push(report);
            say(`${scenario.name}: ${report.verdict.passed ? 'passed' : 'FAILED'}`);
          } catch (error) {
            reports.push({ scenario: scenario.name, title: scenario.title, error: (error as Error).message });
            say(`${scenario.name}: could not run: ${(error as Error).message}`);
          }
        }
      } finally {
        await shop.stop();
      }
    } finally {
      await link?.close();
      await rm(shopDir, { recursive: true, force: true });
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
