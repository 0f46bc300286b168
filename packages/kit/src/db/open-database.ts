import type { Database } from './database.ts';
import { openPostgres } from './postgres.ts';

/**
 * The service's own database: the PostgreSQL its `DATABASE_URL` names (`npm start` gives each
 * service a database and a role of its own on one server).
 */
export function openDatabase({ url, applicationName }: { url: string; applicationName?: string }): Database {
  return openPostgres({ url, ...(applicationName ? { applicationName } : {}) });
}
