// `npm test`'s one PostgreSQL for the whole run: every test file's process creates its own
// databases on it (createTestDatabase in @baton/kit/testing), instead of starting a server each.
// TEST_POSTGRES_URL set beforehand names a server of yours instead, and nothing is started.
import { startLocalPostgres, type LocalPostgres } from '@baton/local-postgres';

let server: LocalPostgres | undefined;

export async function globalSetup(): Promise<void> {
  if (process.env.TEST_POSTGRES_URL) return;
  server = await startLocalPostgres();
  process.env.TEST_POSTGRES_URL = server.adminUrl;
  process.stdout.write(`# PostgreSQL ${server.version} for this run: ${server.dataDir} (port ${server.port})\n`);
}

export async function globalTeardown(): Promise<void> {
  await server?.stop();
}
