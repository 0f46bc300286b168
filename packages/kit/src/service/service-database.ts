import type { DatabaseConfig, ServiceConfig } from '../config/index.ts';
import { migrate, openPostgres, type Database } from '../db/index.ts';
import { traceDatabase } from '../db/traced-database.ts';
import type { Logger, Tracing } from '../telemetry/index.ts';
import type { AnyServiceDefinition } from './definition.ts';

/**
 * The service's own database when it keeps data (has migrations); none for a stateless one.
 * Traced (per transaction, per statement with `TRACE_DB_STATEMENTS`) when someone listens for
 * spans; when nothing does, not even wrapped. Nothing connects until the first query.
 */
export function openServiceDatabase(definition: AnyServiceDefinition, config: ServiceConfig & Partial<DatabaseConfig>, tracing: Pick<Tracing, 'tracer' | 'recording'>): Database | undefined {
  if (definition.migrationsDir === undefined) return undefined;
  // The overloads make this a type error; a caller that got round them is told what is missing.
  if (config.DATABASE_URL === undefined) {
    throw new TypeError(`${definition.name} has migrations but its config has no DATABASE_URL: spread databaseConfigFields() into its schema`);
  }
  const db = openPostgres({ url: config.DATABASE_URL, applicationName: definition.name, maxConnections: config.DATABASE_POOL_MAX, preparedStatementLimit: config.DATABASE_PREPARED_STATEMENTS_MAX });
  return tracing.recording ? traceDatabase(db, tracing.tracer, { statements: config.TRACE_DB_STATEMENTS === true }) : db;
}

/** Applies the migrations not applied yet, before anything is served, and says which. */
export async function applyMigrations(db: Database, migrationsDir: string, logger: Logger): Promise<void> {
  const { applied } = await migrate(db, migrationsDir);
  logger.info({ applied }, applied.length > 0 ? 'migrations applied' : 'schema up to date');
}
