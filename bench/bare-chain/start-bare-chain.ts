import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { onDatabase } from '../harness/database.ts';
import { tokenAudience, tokenIssuer } from './token-claims.ts';

export interface BareChain {
  gateway: string;
  /** A valid access token of the one user the chain knows. */
  token: string;
  /** Each service's database URL, by service. */
  databases: Record<'users' | 'inventory' | 'orders' | 'notifications', string>;
  /** Each process's pid, by name. */
  pids: Record<'gateway' | 'orders' | 'users' | 'inventory' | 'notifications', number>;
  /** Where the notifications process writes each message, an .eml file named by its event's id. */
  mailDir: string;
  stop(): Promise<void>;
}

const repo = new URL('../../', import.meta.url);
// Baton's own migrations, so the bare chain's tables, indexes, constraints and seeded stock are
// Baton's: the SQL compares like with like. Orders also has the kit's outbox tables.
const migrations = {
  users: ['services/users/migrations/'],
  inventory: ['services/inventory/migrations/'],
  orders: ['packages/kit/src/messaging/migrations/', 'services/orders/migrations/'],
  notifications: ['services/notifications/migrations/'],
} as const;

function migrate(url: string, folders: readonly string[]): Promise<void> {
  return onDatabase(url, async (client) => {
    for (const folder of folders) {
      const dir = new URL(folder, repo);
      for (const file of (await readdir(dir)).filter((name) => name.endsWith('.sql')).sort()) {
        await client.query(await readFile(new URL(file, dir), 'utf8'));
      }
    }
  });
}

/** Starts one bare process and resolves with it and its port once it listens. */
function startProcess(name: string, env: NodeJS.ProcessEnv, nodeOptions: string): Promise<{ child: ChildProcess; port: number | null }> {
  const child = spawn(process.execPath, [fileURLToPath(new URL(`${name}.ts`, import.meta.url))], {
    // Baton's runner gives its services the same young generation (packages/runner/src/environment.ts).
    env: { ...process.env, ...env, NODE_OPTIONS: `--max-semi-space-size=8 ${nodeOptions}`.trim() },
    // Each in a session of its own, as Baton's runner starts each service: with Linux's autogroup
    // scheduling the CPU is shared between sessions first, and the five processes were one group
    // with the bench's load generator, against one for each of Baton's services. The channel is
    // how a process knows the bench that started it is gone (`orphan.ts`): in its own session it
    // no longer goes with the bench's terminal.
    detached: true,
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  // The channel alone does not keep the bench running.
  child.channel?.unref();
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`bare ${name} exited (${code}) before it listened`)));
    createInterface({ input: child.stdout! }).once('line', (line) => resolve({ child, port: (JSON.parse(line) as { port: number | null }).port }));
  });
}

/**
 * The bare chain on the PostgreSQL at `adminUrl` (a user that may create databases): a database
 * per service (users, inventory, orders, notifications), migrated with Baton's migrations, one
 * user, and the five processes, started callees first (each with `nodeOptions` too, as a
 * profile's); the mail goes to a new folder under the system's temporary one.
 */
export async function startBareChain(adminUrl: string, { nodeOptions = '' }: { nodeOptions?: string } = {}): Promise<BareChain> {
  const prefix = `bare_${randomBytes(4).toString('hex')}_`;
  const urls = Object.fromEntries(Object.keys(migrations).map((name) => {
    const url = new URL(adminUrl);
    url.pathname = `/${prefix}${name}`;
    return [name, url.toString()];
  })) as Record<keyof typeof migrations, string>;
  for (const [name, folders] of Object.entries(migrations) as Array<[keyof typeof migrations, readonly string[]]>) {
    await onDatabase(adminUrl, (admin) => admin.query(`create database ${prefix}${name}`));
    await migrate(urls[name], folders);
  }
  const userId = randomUUID();
  await onDatabase(urls.users, (db) => db.query(`insert into users (id, email, name, password_hash) values ($1, $2, 'Bench', 'not-a-hash')`, [userId, `bench-${userId}@example.com`]));

  const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
  const token = await new SignJWT({}).setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt' }).setSubject(userId)
    .setIssuer(tokenIssuer).setAudience(tokenAudience).setIssuedAt().setExpirationTime('2h').sign(privateKey);
  const BARE_PUBLIC_JWK = JSON.stringify(await exportJWK(publicKey));

  const mailDir = await mkdtemp(join(tmpdir(), 'baton-bare-mail-'));
  const started: ChildProcess[] = [];
  const stop = async () => {
    await Promise.all(started.map((child) => new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    })));
    await onDatabase(adminUrl, async (admin) => {
      for (const name of Object.keys(migrations)) await admin.query(`drop database if exists ${prefix}${name} with (force)`);
    });
    await rm(mailDir, { recursive: true, force: true });
  };
  try {
    const start = async (name: string, env: NodeJS.ProcessEnv) => {
      const { child, port } = await startProcess(name, { BARE_PUBLIC_JWK, ...env }, nodeOptions);
      started.push(child);
      // The notifications process listens on nothing: no URL.
      return { pid: child.pid!, url: port === null ? '' : `http://127.0.0.1:${port}` };
    };
    const users = await start('users', { DATABASE_URL: urls.users });
    const inventory = await start('inventory', { DATABASE_URL: urls.inventory });
    const orders = await start('orders', { DATABASE_URL: urls.orders, USERS_URL: users.url, INVENTORY_URL: inventory.url });
    const notifications = await start('notifications', { DATABASE_URL: urls.notifications, ORDERS_URL: orders.url, MAIL_DIR: mailDir });
    const gateway = await start('gateway', { ORDERS_URL: orders.url });
    return {
      gateway: gateway.url, token, databases: urls, mailDir, stop,
      pids: { gateway: gateway.pid, orders: orders.pid, users: users.pid, inventory: inventory.pid, notifications: notifications.pid },
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
