// `npm test`'s one PostgreSQL for the whole run: every test file's process creates its own
// databases on it (createTestDatabase in @baton/kit/testing), instead of starting a server each.
// TEST_POSTGRES_URL set beforehand names a server of yours instead, and nothing is started.
//
// And the run's record of what the gateway answered: every gateway the tests start notes each
// public route and status it answers (ANSWER_RECORD_FILE), and at the end those are held
// against the statuses the OpenAPI document lists for each operation (support/api-statuses.ts).
//
// And the run's port bases: each stack a test starts takes a base no other stack of the run
// has (randomPortBase in @baton/runner), so a port freed by a killed service is not another
// stack's to take.
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalPostgres, type LocalPostgres } from '@baton/local-postgres';
import { portBasesDirVariable } from '@baton/runner';
import { checkAnswerRecord } from './support/api-statuses.ts';

let server: LocalPostgres | undefined;
let recordDir: string | undefined;

export async function globalSetup(): Promise<void> {
  recordDir = mkdtempSync(join(tmpdir(), 'baton-run-'));
  process.env.ANSWER_RECORD_FILE = join(recordDir, 'answers.txt');
  process.env[portBasesDirVariable] = join(recordDir, 'port-bases');
  mkdirSync(process.env[portBasesDirVariable]);
  if (process.env.TEST_POSTGRES_URL) return;
  server = await startLocalPostgres();
  process.env.TEST_POSTGRES_URL = server.adminUrl;
  process.stdout.write(`# PostgreSQL ${server.version} for this run: ${server.dataDir} (port ${server.port})\n`);
}

export async function globalTeardown(): Promise<void> {
  await server?.stop();
  if (!recordDir) return;
  process.stdout.write(`# port bases given to stacks: ${readdirSync(join(recordDir, 'port-bases')).length}\n`);
  try {
    await checkAnswerRecord(process.env.ANSWER_RECORD_FILE!);
  } finally {
    rmSync(recordDir, { recursive: true, force: true });
  }
}
