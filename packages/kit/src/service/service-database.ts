import type { Tracer } from '@opentelemetry/api';
import type { ServiceConfig } from '../config/index.ts';
import { migrate, openPostgres, traceDatabase, type Database } from '../db/index.ts';
import type { Logger } from '../telemetry/index.ts';

/** The service's own database, every query traced. Nothing connects until the first query. */
export function openServiceDatabase(service: string, config: ServiceConfig, tracer: Tracer): Database {
  return traceDatabase(openPostgres({ url: config.DATABASE_URL, applicationName: service, maxConnections: config.DATABASE_POOL_MAX }), tracer);
}

/** Applies the migrations not applied yet, before anything is served, and says which. */
export async function applyMigrations(db: Database, migrationsDir: string, logger: Logger): Promise<void> {
  const { applied } = await migrate(db, migrationsDir);
  logger.info({ applied }, applied.length > 0 ? 'migrations applied' : 'schema up to date');
}
