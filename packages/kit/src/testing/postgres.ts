import { randomBytes } from 'node:crypto';
import type { TestContext } from 'node:test';
import pg from 'pg';
import { startLocalPostgres, type LocalPostgres } from '@baton/local-postgres';
import { addCleanup, type CleanupScope } from './cleanup.ts';

export interface TestDatabaseOptions {
  /** A superuser URL of the server to create the database on; by default the test run's server. */
  adminUrl?: string;
}

/** The part of a test context the helper uses; a plain object with these two works too. */
export interface TestHooks extends CleanupScope {
  skip: TestContext['skip'];
}

let ownServer: Promise<LocalPostgres> | undefined;

/**
 * The superuser URL of the test run's PostgreSQL. `npm test` starts one server for the whole
 * run (test/global-setup.ts) and names it in `TEST_POSTGRES_URL`; a test file run on its own
 * (`npx node --test file.test.ts`) starts a throw-away server of its own on first use, which
 * stops when the file's process ends. `TEST_POSTGRES_URL` may also name a server of yours.
 */
export function testPostgresAdminUrl(): Promise<string> {
  const named = process.env.TEST_POSTGRES_URL;
  if (named !== undefined && named !== '') return Promise.resolve(named);
  ownServer ??= startLocalPostgres();
  return ownServer.then((server) => server.adminUrl);
}

/**
 * Creates a fresh, empty database `baton_test_<random>` on the test run's PostgreSQL for one
 * test, returns its superuser URL, and drops it after the test (`WITH (FORCE)`, so connections a
 * failed test left open cannot keep it alive). Register what uses it with `addCleanup` so that
 * it closes first.
 *
 * PostgreSQL is always there (an embedded server when no other is named), so this never skips;
 * the result is `undefined` only in type, for the callers written when it could.
 *
 * @example
 * test('orders survive a restart', async (t) => {
 *   const url = await createTestDatabase(t);
 *   if (url === undefined) return;
 *   // ... start the service with DATABASE_URL=url
 * });
 */
export async function createTestDatabase(t: TestHooks, { adminUrl }: TestDatabaseOptions = {}): Promise<string | undefined> {
  const serverUrl = adminUrl ?? await testPostgresAdminUrl();
  const name = `baton_test_${randomBytes(6).toString('hex')}`;
  await asAdmin(serverUrl, (admin) => admin.query(`create database ${name}`));
  addCleanup(t, function dropTestDatabase() {
    return asAdmin(serverUrl, (admin) => admin.query(`drop database if exists ${name} with (force)`));
  });
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function asAdmin<T>(adminUrl: string, work: (admin: pg.Client) => Promise<T>): Promise<T> {
  const admin = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 10_000, application_name: 'baton-tests' });
  // A connection that breaks while idle emits here; without a listener the test process would crash.
  admin.on('error', () => {});
  try {
    await admin.connect();
  } catch (error) {
    throw new Error(`the tests' PostgreSQL does not answer at ${describeServer(adminUrl)}`, { cause: error });
  }
  try {
    return await work(admin);
  } finally {
    await admin.end();
  }
}

/** `host:port` (or the socket folder) of a URL, never its password. */
function describeServer(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.searchParams.get('host') ?? parsed.hostname}:${parsed.port || '5432'}`;
  } catch {
    return '(an unparsable URL)';
  }
}
