import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request, type Agent } from 'undici';
import { startLocalPostgres, type LocalPostgres } from '../../../packages/local-postgres/src/index.ts';
import { mediaServices, paymentServices, serviceNames, startStackOnFreePorts, withoutPaymentOrMedia, type ServiceName, type Stack, type StackOptions } from '../../../packages/runner/src/index.ts';
import { startBareChain } from '../../bare-chain/start-bare-chain.ts';
import { cpuMsOfTree } from '../../harness/process-cpu.ts';

/** One shop under test: where to send orders, as whom, and how to read the CPU of each of its processes. */
export interface Side {
  name: string;
  gateway: string;
  token: string;
  /** How its orders pay (a test card), where the shop takes payment. */
  paymentMethod?: string;
  /** Its PostgreSQL server's URL as its superuser. */
  adminUrl: string;
  /** Each process's CPU by pid now (PostgreSQL: the server and every backend under it), by process name. */
  cpu(): Map<string, Map<number, number>>;
  stop(): Promise<void>;
}

/** Each Node process of a side by name, with its own pid (the root of its tree); PostgreSQL left out. */
export function servicePids(side: Side): Array<readonly [string, number]> {
  return [...side.cpu()].flatMap(([name, tree]) => (name === 'postgres' ? [] : [...tree.keys()].slice(0, 1).map((pid) => [name, pid] as const)));
}

/** A PostgreSQL of its own for each side, started alike, so each side's database CPU is that server's alone. */
function postgres(settings?: Readonly<Record<string, string>>): Promise<LocalPostgres> {
  return startLocalPostgres(settings === undefined ? {} : { settings });
}

/** A new account's access token, signed up and signed in through the gateway (staff, if users' STAFF_EMAILS names `email`). */
export async function signIn(gateway: string, dispatcher: Agent, email = `bench-${randomUUID()}@example.com`): Promise<string> {
  const password = 'correct horse battery staple';
  const json = { 'content-type': 'application/json' };
  await (await request(`${gateway}/api/v1/users`, { method: 'POST', headers: json, body: JSON.stringify({ email, password, name: 'Bench' }), dispatcher })).body.dump();
  const login = await request(`${gateway}/api/v1/auth/login`, { method: 'POST', headers: json, body: JSON.stringify({ email, password }), dispatcher });
  return ((await login.body.json()) as { accessToken: string }).accessToken;
}

export interface BatonOptions {
  /** The payment service and the provider too, orders paid with a test card, as `npm start` runs the shop. */
  payment?: boolean;
  /** The media service too (product images). */
  media?: boolean;
  name?: string;
  /** Variables of one service, applied over the bench's own (the gateway's rate limits, orders unpaid). */
  serviceEnv?: Partial<Record<ServiceName, NodeJS.ProcessEnv>>;
  /** Key pairs of some services (the test identity's), for a bench that calls a service as another would. */
  serviceKeys?: StackOptions['serviceKeys'];
  /** More settings of its PostgreSQL (`name=value`), as for counting statements. */
  postgresSettings?: Readonly<Record<string, string>>;
}

/** A Baton shop, with the stack that runs it (each process's pid and URLs). */
export interface BatonSide extends Side {
  stack: Stack;
}

/**
 * Baton's shop (every guarantee on, defaults), on a PostgreSQL of its own: without payment or
 * media by default, as the bare chain works; with `payment`, as `npm start` runs checkout (the
 * payment service and the provider too, orders paid with a test card); with `media`, the media
 * service too.
 */
export async function startBaton(dispatcher: Agent, extraEnv: NodeJS.ProcessEnv = {}, { payment = false, media = false, name = 'Baton', serviceEnv = {}, serviceKeys, postgresSettings }: BatonOptions = {}): Promise<BatonSide> {
  const server = await postgres(postgresSettings);
  const varDir = await mkdtemp(join(tmpdir(), 'baton-bench-bare-'));
  // Only what is measured: a service left out is one process less on the two cores.
  const services = serviceNames.filter((service) => (payment || !paymentServices.includes(service)) && (media || !mediaServices.includes(service)));
  // Checkout without payment, as the bare chain does it, unless payment is measured.
  const unpaid: Partial<Record<ServiceName, NodeJS.ProcessEnv>> = payment ? {} : withoutPaymentOrMedia().serviceEnv;
  // The bench measures the path, not the rate limits that protect it.
  const benchEnv: Partial<Record<ServiceName, NodeJS.ProcessEnv>> = { gateway: { RATE_LIMIT_PER_ADDRESS_PER_MINUTE: '10000000', RATE_LIMIT_PER_USER_PER_MINUTE: '10000000' } };
  let stack: Stack | undefined;
  try {
    stack = await startStackOnFreePorts({
      varDir, databaseUrl: server.adminUrl, startTimeoutMs: 120_000,
      env: { ...process.env, LOG_LEVEL: 'warn', ...extraEnv },
      services,
      serviceEnv: Object.fromEntries(services.map((service) => [service, { ...unpaid[service], ...benchEnv[service], ...serviceEnv[service] }])),
      ...(serviceKeys === undefined ? {} : { serviceKeys }),
    });
  } catch (error) {
    await server.stop();
    await rm(varDir, { recursive: true, force: true });
    throw error;
  }
  const running = stack;
  const gateway = running.url('gateway');
  // This stack's own processes (another stack may run beside it, with the same names).
  const processes = running.services.flatMap((service) => {
    const pid = running.status(service).pid;
    return pid === undefined ? [] : [{ name: service, pid }];
  });
  return {
    name, gateway, stack: running, adminUrl: server.adminUrl, token: await signIn(gateway, dispatcher), ...(payment ? { paymentMethod: 'pm_card_visa' } : {}),
    cpu: () => new Map([...processes.map(({ name: service, pid }) => [service, cpuMsOfTree(pid)] as const), ['postgres', cpuMsOfTree(server.pid)]]),
    async stop() {
      await running.shutdown();
      await server.stop();
      await rm(varDir, { recursive: true, force: true });
    },
  };
}

/** The bare chain (bench/bare-chain/), on a PostgreSQL of its own. */
export async function startBare({ postgresSettings, nodeOptions }: { postgresSettings?: Readonly<Record<string, string>>; nodeOptions?: string } = {}): Promise<Side> {
  const server = await postgres(postgresSettings);
  const chain = await startBareChain(server.adminUrl, nodeOptions === undefined ? {} : { nodeOptions }).catch(async (error: unknown) => {
    await server.stop();
    throw error;
  });
  return {
    name: 'bare', gateway: chain.gateway, token: chain.token, adminUrl: server.adminUrl,
    cpu: () => new Map([...Object.entries(chain.pids).map(([name, pid]) => [name, cpuMsOfTree(pid)] as const), ['postgres', cpuMsOfTree(server.pid)]]),
    async stop() {
      await chain.stop();
      await server.stop();
    },
  };
}
