import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request, type Agent } from 'undici';
import { startLocalPostgres, type LocalPostgres } from '../../../packages/local-postgres/src/index.ts';
import { randomPortBase, startStack, withoutPaymentOrMedia, type Stack } from '../../../packages/runner/src/index.ts';
import { startBareChain } from '../../bare-chain/start-bare-chain.ts';
import { cpuMsOfTree } from '../../harness/process-cpu.ts';

/** One shop under test: where to send orders, as whom, and how to read the CPU of each of its processes. */
export interface Side {
  name: string;
  gateway: string;
  token: string;
  /** How its orders pay (a test card), where the shop takes payment. */
  paymentMethod?: string;
  /** Each process's CPU by pid now (PostgreSQL: the server and every backend under it), by process name. */
  cpu(): Map<string, Map<number, number>>;
  stop(): Promise<void>;
}

/** A PostgreSQL of its own for each side, started alike, so each side's database CPU is that server's alone. */
function postgres(): Promise<LocalPostgres> {
  return startLocalPostgres();
}

async function signIn(gateway: string, dispatcher: Agent): Promise<string> {
  const email = `bench-${randomUUID()}@example.com`;
  const password = 'correct horse battery staple';
  const json = { 'content-type': 'application/json' };
  await (await request(`${gateway}/api/v1/users`, { method: 'POST', headers: json, body: JSON.stringify({ email, password, name: 'Bench' }), dispatcher })).body.dump();
  const login = await request(`${gateway}/api/v1/auth/login`, { method: 'POST', headers: json, body: JSON.stringify({ email, password }), dispatcher });
  return ((await login.body.json()) as { accessToken: string }).accessToken;
}

/**
 * Baton's shop (every guarantee on, defaults), on a PostgreSQL of its own: without payment by
 * default, as the bare chain works; with `payment`, as `npm start` runs it (the payment service
 * and the provider too, orders paid with a test card).
 */
export async function startBaton(dispatcher: Agent, extraEnv: NodeJS.ProcessEnv = {}, { payment = false, name = 'Baton' }: { payment?: boolean; name?: string } = {}): Promise<Side> {
  const server = await postgres();
  const varDir = await mkdtemp(join(tmpdir(), 'baton-bench-bare-'));
  let stack: Stack | undefined;
  try {
    stack = await startStack({
      portBase: randomPortBase(), varDir, databaseUrl: server.adminUrl, startTimeoutMs: 120_000,
      env: { ...process.env, LOG_LEVEL: 'warn', ...extraEnv },
      // Checkout without payment, as the bare chain does it, unless payment is measured.
      ...(payment ? {} : { services: withoutPaymentOrMedia().services }),
      // The bench measures the path, not the rate limits that protect it.
      serviceEnv: { ...(payment ? {} : withoutPaymentOrMedia().serviceEnv), gateway: { RATE_LIMIT_PER_ADDRESS_PER_MINUTE: '10000000', RATE_LIMIT_PER_USER_PER_MINUTE: '10000000' } },
    });
  } catch (error) {
    await server.stop();
    await rm(varDir, { recursive: true, force: true });
    throw error;
  }
  const running = stack;
  const gateway = running.url('gateway');
  // This stack's own processes (another stack may run beside it, with the same names).
  const services = running.services.flatMap((name) => {
    const pid = running.status(name).pid;
    return pid === undefined ? [] : [{ name, pid }];
  });
  return {
    name, gateway, token: await signIn(gateway, dispatcher), ...(payment ? { paymentMethod: 'pm_card_visa' } : {}),
    cpu: () => new Map([...services.map(({ name, pid }) => [name, cpuMsOfTree(pid)] as const), ['postgres', cpuMsOfTree(server.pid)]]),
    async stop() {
      await running.shutdown();
      await server.stop();
      await rm(varDir, { recursive: true, force: true });
    },
  };
}

/** The bare chain (bench/bare-chain/), on a PostgreSQL of its own. */
export async function startBare(): Promise<Side> {
  const server = await postgres();
  const chain = await startBareChain(server.adminUrl).catch(async (error: unknown) => {
    await server.stop();
    throw error;
  });
  return {
    name: 'bare', gateway: chain.gateway, token: chain.token,
    cpu: () => new Map([...Object.entries(chain.pids).map(([name, pid]) => [name, cpuMsOfTree(pid)] as const), ['postgres', cpuMsOfTree(server.pid)]]),
    async stop() {
      await chain.stop();
      await server.stop();
    },
  };
}
