import { randomBytes } from 'node:crypto';
import type { TestContext } from 'node:test';
import pg from 'pg';
import { addCleanup, type CleanupScope } from './cleanup.ts';

/** The server tests use unless `TEST_POSTGRES_URL` names another. */
export const defaultTestPostgresUrl = 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabaseOptions {
  /** A URL of the server to create the database on, whose user may create databases. */
  adminUrl?: string;
  /** How long to wait for the server before calling it unreachable. */
  connectTimeoutMs?: number;
  /**
   * Whether an unreachable server fails the test (true) or skips it (false). Under CI the
   * PostgreSQL tests are required, so a server that is down cannot pass as a green run.
   */
  required?: boolean;
}

/** The part of a test context the helper uses; a plain object with these two works too. */
export interface TestHooks extends CleanupScope {
  skip: TestContext['skip'];
}

/**
 * Creates a fresh, empty database `baton_test_<random>` on a real PostgreSQL for one test,
 * returns its URL, and drops it after the test (`WITH (FORCE)`, so connections a failed test
 * left open cannot keep it alive). Register what uses it with `addCleanup` so that it closes first.
 *
 * When the server does not answer within `connectTimeoutMs`, the test is skipped with a reason
 * that says so and `undefined` is returned, unless `CI=true`: then it throws and the test fails.
 *
 * @example
 * test('orders survive a restart', async (t) => {
 *   const url = await createTestDatabase(t);
 *   if (url === undefined) return;
 *   // ... start the service with DATABASE_URL=url
 * });
 */
export async function createTestDatabase(t: TestHooks, {
  adminUrl = process.env.TEST_POSTGRES_URL || defaultTestPostgresUrl,
  connectTimeoutMs = 2_000,
  required = process.env.CI === 'true',
}: TestDatabaseOptions = {}): Promise<string | undefined> {
  const admin = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: connectTimeoutMs, application_name: 'baton-tests' });
  // A connection that breaks while idle emits here; without a listener the test process would crash.
  admin.on('error', () => {});
  try {
    await admin.connect();
  } catch (error) {
    // A server that answered with an error (bad password, no such database) is reachable but
    // misconfigured: that is never a reason to skip.
    if (error instanceof pg.DatabaseError) throw error;
    const where = describeServer(adminUrl);
    if (required) {
      throw new Error(`PostgreSQL not reachable at ${where}, and CI=true requires it: ${errorText(error)}`, { cause: error });
    }
    t.skip(`PostgreSQL not reachable at ${where} — skipped (set CI=true to require it)`);
    return undefined;
  }

  const name = `baton_test_${randomBytes(6).toString('hex')}`;
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  addCleanup(t, async function dropTestDatabase() {
    const dropper = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: connectTimeoutMs, application_name: 'baton-tests' });
    dropper.on('error', () => {});
    await dropper.connect();
    try {
      await dropper.query(`drop database if exists ${name} with (force)`);
    } finally {
      await dropper.end();
    }
  });
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** `host:port` of a URL, never its password. */
function describeServer(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || '5432'}`;
  } catch {
    return '(an unparsable TEST_POSTGRES_URL)';
  }
}

function errorText(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return error.errors.map(errorText).join('; ');
  if (error instanceof Error) return (error as NodeJS.ErrnoException).code ?? error.message;
  return String(error);
}
