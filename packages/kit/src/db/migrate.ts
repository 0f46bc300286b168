import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Database } from './database.ts';

export interface MigrationResult {
  applied: string[];
}

/**
 * Applies the `NNNN_name.sql` files of a service's migrations folder that this database has
 * not seen, in name order, all in one transaction. An advisory lock makes two replicas that
 * start together apply them once.
 *
 * Hand-written rather than a migration library because Baton's migrations are plain SQL
 * files and this is the whole of it.
 */
export async function migrate(db: Database, migrationsDir: string): Promise<MigrationResult> {
  const files = (await readdir(migrationsDir)).filter((name) => /^\d+_.+\.sql$/.test(name)).sort();
  return db.transaction(async (tx) => {
    await tx.query(`select pg_advisory_xact_lock(hashtext('baton_migrations'))`);
    await tx.exec(`create table if not exists baton_migrations (
      version text primary key,
      applied_at timestamptz not null default now()
    )`);
    const done = await tx.query<{ version: string }>('select version from baton_migrations');
    const seen = new Set(done.rows.map((row) => row.version));
    const applied: string[] = [];
    for (const file of files) {
      if (seen.has(file)) continue;
      await tx.exec(await readFile(join(migrationsDir, file), 'utf8'));
      await tx.query('insert into baton_migrations (version) values ($1)', [file]);
      applied.push(file);
    }
    return { applied };
  });
}
