import type { Database } from './database.ts';
import { openPglite } from './pglite.ts';
import { openPostgres } from './postgres.ts';

/** PostgreSQL when a URL is given, else the embedded PGlite in `dataDir`. */
export async function openDatabase({ url, dataDir, applicationName }: {
  url?: string | undefined;
  dataDir: string;
  applicationName?: string;
}): Promise<Database> {
  if (url !== undefined) return openPostgres({ url, ...(applicationName ? { applicationName } : {}) });
  return openPglite(dataDir);
}
