import type { Tracer } from '@opentelemetry/api';
import type { DatabaseConfig, ServiceConfig } from '../config/index.ts';
import { migrate, openPostgres, type Database } from '../db/index.ts';
import { traceDatabase } from '../db/traced-database.ts';
import type { Logger } from '../telemetry/index.ts';
import type { AnyServiceDefinition } from './definition.ts';

/**
 * The service's own database, every query traced, when it keeps data (has migrations); none for
 * a stateless one. Nothing connects until the first query.
 */
export function openServiceDatabase(definition: AnyServiceDefinition, config: ServiceConfig & Partial<DatabaseConfig>, tracer: Tracer): Database | undefined {
  if (definition.migrationsDir === undefined) return undefined;
  // The overloads make this a type error; a caller that got round them is told what is missing.
  if (config.DATABASE_URL === undefined) {
    throw new TypeError(`${definition.name} has migrations but its config has no DATABASE_URL: spread databaseConfigFields() into its schema`);
  }
  return traceDatabase(openPostgres({ url: config.DATABASE_URL, applicationName: definition.name, maxConnections: config.DATABASE_POOL_MAX }), tracer);
}

/** Applies the migrations not applied yet, before anything is served, and says which. */
export async function applyMigrations(db: Database, migrationsDir: string, logger: Logger): Promise<void> {
  const { applied } = await migrate(db, migrationsDir);
  logger.info({ applied }, applied.length > 0 ? 'migrations applied' : 'schema up to date');
}
