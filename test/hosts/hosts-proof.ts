// The multi-host proof of issue 23: `npm run test:hosts` (Linux, root). Every service runs from
// its built image's filesystem as a host of its own (lab-network.ts, image-process.ts), two
// replicas of every service but the gateway and the provider, found by name through a DNS
// server with several A records (name-server.ts), NATS JetStream on a host of its own,
// PostgreSQL on the machine. A shopper load (@baton/chaos) runs throughout while faults go on
// the wire, one after the other: one inventory replica partitioned, one given 500 ms of delay,
// one losing 20% of its packets, the broker's host cut off for 10 s; then a rolling restart of
// every replicated service. The verdicts are computed from the data and printed as a table;
// the run fails if one fails.
import { randomBytes, randomInt } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { spawn, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { parseArgs } from 'node:util';
import { checkLedger, judge, startShopperLoad, defaultDeadlinesMs, hostScenarios, type RequestRecord, type ScenarioReport } from '@baton/chaos';
import { provisionDatabases, startLocalPostgres } from '@baton/local-postgres';
import { createStackKeys } from '@baton/runner';
import { serviceEnvironment } from '../../packages/runner/src/environment.ts';
import { grpcPortOf, portOf, serviceNames, specOf, type ServiceName } from '../../packages/runner/src/services.ts';
import { developmentSecret } from '../../packages/runner/src/var-modes.ts';
import { startImageProcess, type ImageProcess } from './image-process.ts';
import { createLabNetwork, run, type LabHost } from './lab-network.ts';
import { startNameServer } from './name-server.ts';

const repoRoot = new URL('../../', import.meta.url).pathname;
const domain = 'baton.test';
// The hosts: two replicas of every service but the gateway (the public entry, which the load
// calls by its address: a second would need a load balancer in front) and the payment
// provider (a stand-in for one outside); media is left out (nothing in a checkout needs it, and
// the gateway answers its routes 503 without it).
const topology: Array<{ service: ServiceName; replicas: number }> = [
  { service: 'users', replicas: 2 }, { service: 'inventory', replicas: 2 }, { service: 'payment', replicas: 2 }, { service: 'provider', replicas: 1 },
  { service: 'orders', replicas: 2 }, { service: 'notifications', replicas: 2 }, { service: 'gateway', replicas: 1 },
];
const eventServices = new Set<ServiceName>(['users', 'orders', 'payment', 'notifications']);

function missingTools(): string[] {
  return ['ip', 'iptables', 'podman', 'unshare', 'chroot', 'nats-server'].filter((tool) => spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status !== 0);
}

// `--report FILE`: the verdicts also written as JSON, a report per scenario (`npm run chaos` reads
// them). `--short`: each fault 6 s with 6 s after it, not 10 s and 8 s (`npm run chaos -- --short`, CI's).
const { values: { report: reportFile, short } } = parseArgs({ options: { report: { type: 'string' }, short: { type: 'boolean', default: false } }, strict: true });
const faultMs = short ? 6_000 : 10_000;
const afterMs = short ? 6_000 : 8_000;

async function main(): Promise<number> {
  // What this proof writes is read by other users (PostgreSQL's reads pg_hba.conf, the services'
  // uid 1000 their resolv.conf): a private umask inherited from the caller (npm run chaos has
  // run the runner, which sets 077 for var/) would close them.
  process.umask(0o022);
  const missing = missingTools();
  const cannot = process.getuid?.() !== 0 ? 'it must run as root (network namespaces, chroot)' : missing.length > 0 ? `missing: ${missing.join(', ')}` : undefined;
  if (cannot !== undefined) {
    if (process.env.CI === 'true') throw new Error(`the multi-host proof cannot run: ${cannot}`);
    console.log(`multi-host proof skipped: ${cannot} (CI=true requires it)`);
    return 0;
  }
  const cleanups: Array<() => Promise<unknown>> = [];
  let workFolder: string | undefined;
  const t0 = performance.now();
  const say = (what: string) => console.log(`[${((performance.now() - t0) / 1_000).toFixed(1).padStart(6)} s] ${what}`);
  try {
    // Images: every service's built here (deploy/images/build.sh, media's too, though it is not
    // run; podman's cache makes a rebuild of what has not changed quick), those run mounted read-only.
    const services = [...new Set(topology.map((h) => h.service))];
    say('building every service\'s image');
    const built = spawnSync(join(repoRoot, 'deploy/images/build.sh'), [], { stdio: 'inherit' });
    if (built.status !== 0) throw new Error('deploy/images/build.sh failed');
    const rootfs = new Map<string, string>();
    for (const service of services) rootfs.set(service, (await run('podman', ['image', 'mount', `localhost/baton-${service}:dev`])).trim());
    cleanups.push(() => run('podman', ['image', 'unmount', ...services.map((s) => `localhost/baton-${s}:dev`)]).catch(() => undefined));

    const tag = randomBytes(2).toString('hex');
    const subnet = `10.${randomInt(200, 250)}.${randomInt(0, 250)}`;
    const work = await mkdtemp(join(tmpdir(), 'baton-hosts-'));
    workFolder = work;
    await chmod(work, 0o755);
    cleanups.push(() => rm(work, { recursive: true, force: true }));
    const lab = await createLabNetwork({ tag, subnet });
    cleanups.push(() => lab.close());
    const names = await startNameServer(lab.gateway);
    cleanups.push(() => names.close());
    const resolvConf = join(work, 'resolv.conf');
    await writeFile(resolvConf, `nameserver ${lab.gateway}\noptions timeout:1 attempts:2\n`, { mode: 0o644 });
    say(`lab ${subnet}.0/24 up, names served at ${lab.gateway}:53`);

    // PostgreSQL on the machine, reached across the bridge by password (scram), a database each.
    const hba = join(work, 'pg_hba.conf');
    await writeFile(hba, `local all all trust\nhost sameuser all ${subnet}.0/24 scram-sha-256\nhost sameuser all 127.0.0.1/32 scram-sha-256\n`, { mode: 0o644 });
    const postgres = await startLocalPostgres({ settings: { listen_addresses: `127.0.0.1,${lab.gateway}`, hba_file: hba } });
    cleanups.push(() => postgres.stop());
    const databases = await provisionDatabases({ adminUrl: postgres.adminUrl, services: services.filter((s) => s !== 'gateway'), prefix: `hosts_${tag}_`, serviceUrlBase: `postgres://postgres@${lab.gateway}:${postgres.port}/postgres` });
    say(`PostgreSQL ${postgres.version} on ${lab.gateway}:${postgres.port}`);

    // NATS JetStream, a host of its own.
    const natsHost = await lab.addHost('nats');
    names.set(`nats.${domain}`, [natsHost.address]);
    const natsDir = join(work, 'nats');
    await mkdir(natsDir);
    const nats = spawn('ip', ['netns', 'exec', natsHost.netns, 'nats-server', '-a', '0.0.0.0', '-p', '4222', '-js', '-sd', natsDir], { stdio: 'ignore' });
    cleanups.push(async () => { nats.kill('SIGTERM'); await sleep(300); });

    // The services, each replica a host.
    const keys = createStackKeys();
    const secrets = join(work, 'secrets');
    const hosts = new Map<string, LabHost[]>();
    for (const { service, replicas } of topology) {
      const list: LabHost[] = [];
      for (let i = 1; i <= replicas; i++) list.push(await lab.addHost(replicas === 1 ? service : `${service}-${i}`));
      hosts.set(service, list);
      names.set(`${service}.${domain}`, list.map((h) => h.address));
    }
    // Media is not run: its name points where nothing listens, so the gateway's image routes answer 503.
    names.set(`media.${domain}`, [lab.gateway]);
    // Each host's process, by host name: a rolling restart starts one again in its place.
    const processes = new Map<string, ImageProcess>();
    cleanups.push(async () => { await Promise.all([...processes.values()].map((p) => p.stop(5_000))); });
    const startHost = async (service: ServiceName, host: LabHost) => {
      const runFolder = join(work, 'run', host.name);
      await mkdir(join(runFolder, 'secrets'), { recursive: true });
      await mkdir(join(runFolder, 'mail'), { recursive: true });
      for (const file of Object.values(specOf(service).secrets ?? {})) {
        const path = await developmentSecret(secrets, file);
        await run('cp', [path, join(runFolder, 'secrets', file)]);
      }
      await run('chown', ['-R', '1000:1000', runFolder]);
      const env = hostEnvironment(service, { databaseUrl: databases.find((d) => d.service === service)?.url, keys });
      processes.set(host.name, startImageProcess({
        host, rootfs: rootfs.get(service)!, entry: `/app/services/${service}/src/main.ts`, env, runFolder, resolvConf, logFile: join(work, `${host.name}.log`),
      }));
    };
    for (const { service } of topology) for (const host of hosts.get(service)!) await startHost(service, host);
    await waitReady(hosts, say);
    say(`${processes.size} service hosts ready (logs in ${work})`);

    // The load, from the machine through the bridge to the gateway host.
    const gateway = `http://${hosts.get('gateway')![0]!.address}:${portOf('gateway', 8080)}`;
    const load = await startShopperLoad({ gatewayUrl: gateway, shoppers, spreadAddresses: false, thinkMs: 300 });
    const since = () => performance.now() - load.startedAt;
    const [inventory1, inventory2] = hosts.get('inventory')!;
    const ordersHosts = hosts.get('orders')!;
    // Every series of orders' and the gateway's clients that takes an instance out of rotation
    // (ejections, failed health checks), from their /metrics: what the verdict reads, and prints.
    const ejectionLines = async () => {
      const lines: Array<{ host: string; line: string }> = [];
      for (const [service, list] of [['orders', ordersHosts], ['gateway', hosts.get('gateway')!]] as const) {
        for (const host of list) {
          const text = await metricsOf(`http://${host.address}:${portOf(service, 8080) + 2_000}/metrics`);
          lines.push(...text.split('\n').filter((line) => line.startsWith('baton_client_ejections_total{') || line.startsWith('baton_client_unhealthy_total{')).map((line) => ({ host: host.name, line })));
        }
      }
      return lines;
    };
    // How many times the orders replicas' inventory clients took one instance (any of its ports)
    // out of rotation: by its failed health checks, or by outlier ejection.
    const ejectionsOf = async (instance: LabHost) => (await ejectionLines())
      .filter(({ host, line }) => host.startsWith('orders') && line.includes('upstream="inventory"') && line.includes(`${instance.address}:`))
      .reduce((total, { line }) => total + Number(line.split(' ').at(-1)), 0);

    const faults: Array<{ name: string; scenario: string; host: LabHost; on: () => Promise<void>; off: () => Promise<void>; ejects: boolean }> = [
      {
        name: 'inventory-1 partitioned', scenario: 'partition-inventory', host: inventory1!, ejects: true,
        on: () => lab.iptables(inventory1!, ['-A', 'INPUT', '-j', 'DROP']).then(() => lab.iptables(inventory1!, ['-A', 'OUTPUT', '-j', 'DROP'])),
        off: () => lab.iptables(inventory1!, ['-F']),
      },
      {
        name: 'inventory-2 500 ms delay', scenario: 'delay-inventory', host: inventory2!, ejects: false,
        on: () => delay(inventory2!, 500),
        off: () => undelay(inventory2!),
      },
      {
        name: 'inventory-1 loses 20% of packets', scenario: 'loss-inventory', host: inventory1!, ejects: false,
        on: () => lab.iptables(inventory1!, ['-A', 'INPUT', '-m', 'statistic', '--mode', 'random', '--probability', '0.2', '-j', 'DROP']).then(() => lab.iptables(inventory1!, ['-A', 'OUTPUT', '-m', 'statistic', '--mode', 'random', '--probability', '0.2', '-j', 'DROP'])),
        off: () => lab.iptables(inventory1!, ['-F']),
      },
      {
        name: `broker host cut off ${faultMs / 1_000} s`, scenario: 'broker-host-cut', host: natsHost, ejects: false,
        on: () => lab.setLinkUp(natsHost, false),
        off: () => lab.setLinkUp(natsHost, true),
      },
    ];
    const relays = new Map<string, ReturnType<typeof spawn>>();
    async function delay(host: LabHost, ms: number): Promise<void> {
      const relay = spawn('ip', ['netns', 'exec', host.netns, process.execPath, join(repoRoot, 'test/hosts/delay-relay.ts'), '19082', String(grpcPortOf('inventory', 8080)), String(ms)], { stdio: 'ignore' });
      const httpRelay = spawn('ip', ['netns', 'exec', host.netns, process.execPath, join(repoRoot, 'test/hosts/delay-relay.ts'), '18082', String(portOf('inventory', 8080)), String(ms)], { stdio: 'ignore' });
      relays.set(host.name, relay);
      relays.set(`${host.name}-http`, httpRelay);
      await sleep(500);
      await lab.iptables(host, ['-t', 'nat', '-A', 'PREROUTING', '-p', 'tcp', '--dport', String(grpcPortOf('inventory', 8080)), '-j', 'REDIRECT', '--to-ports', '19082']);
      await lab.iptables(host, ['-t', 'nat', '-A', 'PREROUTING', '-p', 'tcp', '--dport', String(portOf('inventory', 8080)), '-j', 'REDIRECT', '--to-ports', '18082']);
    }
    async function undelay(host: LabHost): Promise<void> {
      await lab.iptables(host, ['-t', 'nat', '-F']);
      relays.get(host.name)?.kill();
      relays.get(`${host.name}-http`)?.kill();
    }

    // The reservations a replica has answered (orders' calls, over HTTP, its default, or gRPC):
    // that the partitioned one was in rotation before its partition, or the verdict that it left
    // rotation proves nothing.
    const reservation = (line: string) => (line.startsWith('rpc_server_requests_total{') && line.includes('method="CreateReservation"'))
      || (line.startsWith('http_server_requests_total{') && line.includes('route="/v1/reservations"') && line.includes('method="POST"'));
    const reservationsServed = async (host: LabHost) => (await metricsOf(`http://${host.address}:${portOf('inventory', 8080) + 2_000}/metrics`))
      .split('\n').filter(reservation).reduce((total, line) => total + Number(line.split(' ').at(-1)), 0);
    const windows: Array<{ name: string; scenario: string; startMs: number; endMs: number; ejections: number; ejects: boolean; servedBefore: number; rolling?: boolean }> = [];
    const servedAtStart = new Map(await Promise.all(faults.filter((f) => f.ejects).map(async (f) => [f.host.name, await reservationsServed(f.host)] as const)));
    await sleep(5_000);
    for (const fault of faults) {
      const before = await ejectionsOf(fault.host).catch(() => 0);
      const servedBefore = fault.ejects ? await reservationsServed(fault.host) - (servedAtStart.get(fault.host.name) ?? 0) : 0;
      const startMs = since();
      say(`fault on: ${fault.name}`);
      await fault.on();
      await sleep(faultMs);
      await fault.off();
      const endMs = since();
      say(`fault off: ${fault.name}`);
      await sleep(afterMs);
      windows.push({ name: fault.name, scenario: fault.scenario, startMs, endMs, ejects: fault.ejects, servedBefore, ejections: fault.ejects ? await ejectionsOf(fault.host) - before : 0 });
    }
    // A rolling restart, as a Deployment's rollout: every replica of every service that has two,
    // one at a time, stopped with SIGTERM (it drains), started again, and ready before the next.
    {
      const startMs = since();
      say('rolling restart: every replicated service, one replica at a time');
      for (const { service, replicas } of topology) {
        if (replicas < 2) continue;
        for (const host of hosts.get(service)!) {
          const exit = await processes.get(host.name)!.stop(15_000);
          await startHost(service, host);
          await waitReady(new Map([[service, [host]]]), () => undefined);
          say(`  ${host.name} restarted (it exited ${exit})`);
        }
      }
      const endMs = since();
      await sleep(afterMs);
      windows.push({ name: 'rolling restart', scenario: 'rolling-restart', startMs, endMs, ejects: false, servedBefore: 0, ejections: 0, rolling: true });
    }
    await load.stop();
    const endMs = since();
    for (const { host, line } of await ejectionLines()) say(`${host}: ${line}`);
    say('load stopped; reading the ledger');

    // Every acknowledged order is there, once; every event's email went out once.
    let ledger = checkLedger(load.orders, await load.notifications());
    for (let i = 0; i < 60 && ledger.missing.length > 0; i++) {
      await sleep(500);
      ledger = checkLedger(load.orders, await load.notifications());
    }
    let lost = 0;
    for (const shopper of load.orders) {
      for (const id of shopper.placed) {
        const answer = await fetch(`${gateway}/api/v1/orders/${id}`, { headers: { authorization: `Bearer ${shopper.token}` } });
        await answer.body?.cancel();
        if (answer.status !== 200) lost += 1;
      }
    }
    await load.close();

    const startedAt = new Date(Date.now() - endMs);
    const whole = [
      { name: 'every acknowledged order kept', passed: lost === 0, detail: `${ledger.acknowledged} acknowledged, ${lost} missing from orders` },
      { name: 'no email twice', passed: ledger.duplicated.length === 0 && ledger.missing.length === 0, detail: `${ledger.missing.length} without their email, ${ledger.duplicated.length} events told twice` },
    ];
    const reports: ScenarioReport[] = windows.map((w) => {
      const during = load.records.filter((r) => r.startedAtMs >= w.startMs && r.startedAtMs < w.endMs + afterMs);
      const timing = { faultStartMs: 0, faultEndMs: w.endMs - w.startMs, endMs: w.endMs - w.startMs + afterMs };
      const verdict = judge(during.map((r) => ({ ...r, startedAtMs: r.startedAtMs - w.startMs })), timing, defaultDeadlinesMs, { recoveryBudgetMs: afterMs }, undefined);
      const checkouts = during.filter((r) => r.kind === 'checkout');
      const good = checkouts.filter((r) => r.outcome === 'ok' || r.outcome === 'refused').length;
      const checks = [
        ...verdict.checks,
        { name: 'checkout keeps working', passed: checkouts.length > 0 && good / checkouts.length >= 0.9, detail: `${good} of ${checkouts.length} checkouts succeeded` },
        ...(w.ejects ? [takenOutOfRotation(checkouts, w)] : []),
        ...(w.rolling === true ? [noneFailed(during), ...whole] : []),
      ];
      const scenario = hostScenarios.find((h) => h.name === w.scenario)!;
      return {
        scenario: scenario.name, title: `${scenario.title} (${w.name})`, promise: scenario.promise,
        startedAt: new Date(startedAt.getTime() + w.startMs).toISOString(), ...timing, ledger,
        verdict: { ...verdict, checks, passed: checks.every((c) => c.passed) },
      };
    });
    if (reportFile !== undefined) await writeFile(reportFile, `${JSON.stringify({ scenarios: reports }, null, 2)}\n`, { mode: 0o600 });
    const rows = [...reports.map((r) => ({ fault: r.title.replace(/.*\((.*)\)$/, '$1'), checks: r.verdict.checks.filter((c) => !whole.includes(c)) })), { fault: 'the whole run', checks: whole }];
    printTable(rows, load.records, endMs);
    return rows.every((r) => r.checks.every((c) => c.passed)) ? 0 : 1;
  } catch (error) {
    // What each host said last, before its folder goes.
    if (workFolder !== undefined) {
      for (const file of (await readdir(workFolder)).filter((f) => f.endsWith('.log'))) {
        const lines = (await readFile(join(workFolder, file), 'utf8')).trim().split('\n').slice(-4);
        console.error(`--- ${file}\n${lines.join('\n')}`);
      }
    }
    throw error;
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch((error: unknown) => console.error(`cleanup: ${String(error)}`));
  }
}

// The load: shoppers, each one request at a time with 300 ms between them.
const shoppers = 6;

// Orders' calls to inventory time out after UPSTREAM_TIMEOUT_MS (3 s): a checkout that took that
// long waited on the partitioned replica.
const upstreamTimeoutMs = 3_000;
// By when, into the partition, the clients must have stopped choosing the partitioned replica:
// half the 10 s window (each client learns from its first call there that waits out the timeout).
const outOfRotationWithinMs = 5_000;

/**
 * The partitioned replica, in rotation before (it answered calls in the 5 s before: else this
 * proves nothing), is out of rotation: none of the checkouts that wait out orders' upstream
 * timeout on it is sent after `outOfRotationWithinMs`, and there are at most as many as there are
 * shoppers. A shopper has one checkout at a time, so those are the ones in flight when the
 * partition began or sent before the first timeout there could teach anyone; orders' balancer moves
 * off the replica as its stuck calls pile up (its cost counts calls in flight) and for good on
 * its first timeout (its cost is then that latency), and the health checks take it out within
 * about three seconds for every client. (The bound was two per orders replica, four, until a run
 * had five, all sent in the first 0.3 s: at the partition, each replica's balancer can have as
 * many calls stuck there as checkouts it is serving, which its shoppers bound, not its count.)
 */
function takenOutOfRotation(checkouts: readonly RequestRecord[], w: { startMs: number; endMs: number; ejections: number; servedBefore: number }): { name: string; passed: boolean; detail: string } {
  const slow = checkouts.filter((r) => r.startedAtMs < w.endMs && r.tookMs >= upstreamTimeoutMs - 100);
  const late = slow.filter((r) => r.startedAtMs >= w.startMs + outOfRotationWithinMs);
  const lastSlowS = slow.length === 0 ? 0 : (Math.max(...slow.map((r) => r.startedAtMs)) - w.startMs) / 1_000;
  return {
    name: 'the bad replica out of rotation',
    passed: w.servedBefore > 0 && late.length === 0 && slow.length <= shoppers,
    detail: `it answered ${w.servedBefore} reservations in the 5 s before; ${slow.length} checkouts waited on it (at most ${shoppers}, one a shopper), the last sent ${lastSlowS.toFixed(1)} s into the partition (${late.length} after ${outOfRotationWithinMs / 1_000} s); taken out by orders' clients ${w.ejections} times (health checks and ejections)`,
  };
}

/** A rolling restart with a second replica of each service costs nobody anything: every request `ok` or `refused`. */
function noneFailed(records: readonly RequestRecord[]): { name: string; passed: boolean; detail: string } {
  const failed = records.filter((r) => r.outcome !== 'ok' && r.outcome !== 'refused');
  return {
    name: 'no request failed',
    passed: records.length > 0 && failed.length === 0,
    detail: failed.length === 0 ? `all ${records.length} requests succeeded` : `${failed.length} of ${records.length} did not: ${[...new Set(failed.map((r) => `${r.kind} ${r.status}`))].join(', ')}`,
  };
}

/** What a service on a lab host is told: as npm start tells it, with names for addresses. */
function hostEnvironment(service: ServiceName, { databaseUrl, keys }: { databaseUrl: string | undefined; keys: ReturnType<typeof createStackKeys> }): Record<string, string> {
  const local = serviceEnvironment(service, { env: {}, portBase: 8080, varDir: '/run', adminToken: randomBytes(16).toString('hex'), databaseUrl, keys });
  const named = Object.fromEntries(Object.entries(local).filter((entry): entry is [string, string] => entry[1] !== undefined).map(([variable, value]) => {
    const match = /^http:\/\/127\.0\.0\.1:(\d+)(.*)$/.exec(value);
    if (match === null) return [variable, value];
    const target = portOwner(Number(match[1]));
    // A list of instances is a name with an A record each (the kit's dns: discovery); a single address a URL with the name.
    return [variable, /_URLS$/.test(variable) ? `dns:${target}.${domain}:${match[1]}` : `http://${target}.${domain}:${match[1]}${match[2]}`];
  }));
  const { NODE_COMPILE_CACHE: _cache, ...rest } = named;
  return {
    ...rest,
    HOST: '0.0.0.0', ADMIN_HOST: '0.0.0.0', LOG_LEVEL: 'warn', NODE_DISABLE_COMPILE_CACHE: '1',
    ...(eventServices.has(service) ? { NATS_URL: `nats://nats.${domain}:4222` } : {}),
    ...(service === 'gateway' ? { RATE_LIMIT_PER_ADDRESS_PER_MINUTE: '1000000', RATE_LIMIT_PER_USER_PER_MINUTE: '1000000', REGISTRATIONS_PER_ADDRESS_PER_HOUR: '1000000' } : {}),
    ...(service === 'users' ? { PASSWORD_SCRYPT_LOG2_N: '14' } : {}),
  };
}

/** A service's /metrics (undici's request: fetch refuses some of the admin ports, 10080 among them, as "bad ports"). */
async function metricsOf(url: string): Promise<string> {
  const answer = await request(url, { signal: AbortSignal.timeout(5_000) });
  return answer.body.text();
}

function portOwner(port: number): string {
  for (const service of serviceNames) {
    if (port === portOf(service, 8080) || port === grpcPortOf(service, 8080)) return service;
  }
  throw new Error(`no service listens on ${port}`);
}

async function waitReady(hosts: Map<string, LabHost[]>, say: (what: string) => void): Promise<void> {
  const until = performance.now() + 120_000;
  for (const [service, list] of hosts) {
    for (const host of list) {
      for (;;) {
        const ok = await fetch(`http://${host.address}:${portOf(service as ServiceName, 8080)}/readyz`, { signal: AbortSignal.timeout(2_000) }).then((r) => r.status === 200, () => false);
        if (ok) break;
        if (performance.now() > until) throw new Error(`${host.name} was not ready within 120 s`);
        await sleep(250);
      }
    }
    say(`${service} ready`);
  }
}

function printTable(rows: Array<{ fault: string; checks: Array<{ name: string; passed: boolean; detail: string }> }>, records: readonly RequestRecord[], endMs: number): void {
  console.log(`\n${records.length} requests over ${(endMs / 1_000).toFixed(0)} s\n`);
  console.log('| fault | check | verdict | what the data says |');
  console.log('|---|---|---|---|');
  for (const row of rows) for (const check of row.checks) console.log(`| ${row.fault} | ${check.name} | ${check.passed ? 'passed' : 'FAILED'} | ${check.detail} |`);
}

// A command: it ends when its verdicts are in, whatever handle (a pooled socket to a host now gone) is still open.
process.exit(await main());
