import { mkdir } from 'node:fs/promises';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import type { Database, QueryOptions, QueryResult, Queryable } from './database.ts';

/**
 * The embedded default: PostgreSQL compiled to WebAssembly, in this process, its files under
 * `dataDir`. Only one process may open a data directory at a time.
 *
 * PGlite runs one statement at a time on this thread, so a running statement cannot be
 * interrupted; a signal that has already fired stops the work before it starts.
 */
export async function openPglite(dataDir: string): Promise<Database> {
  await mkdir(dataDir, { recursive: true });
  const pg = await PGlite.create({ dataDir });
  return createPgliteDatabase(pg);
}

/** An in-memory PGlite: for tests that want a real SQL engine and no files. */
export async function openMemoryPglite(): Promise<Database> {
  return createPgliteDatabase(await PGlite.create());
}

function wrap(target: PGlite | Transaction): Queryable {
  return {
    async query<R extends object>(text: string, params: readonly unknown[] = [], options: QueryOptions = {}): Promise<QueryResult<R>> {
      options.signal?.throwIfAborted();
      const result = await target.query<R>(text, params as unknown[]);
      return { rows: result.rows, rowCount: result.affectedRows ?? result.rows.length };
    },
    async exec(script: string, options: QueryOptions = {}): Promise<void> {
      options.signal?.throwIfAborted();
      await target.exec(script);
    },
  };
}

function createPgliteDatabase(pg: PGlite): Database {
  const base = wrap(pg);
  return {
    kind: 'pglite',
    ...base,
    // No pool: one connection in this process, whose queue PGlite does not report.
    poolStats: () => undefined,
    async transaction<T>(work: (tx: Queryable) => Promise<T>, options: QueryOptions = {}): Promise<T> {
      options.signal?.throwIfAborted();
      return pg.transaction((tx) => work(wrap(tx)));
    },
    async ping(options: QueryOptions = {}): Promise<void> {
      await base.query('select 1', [], options);
    },
    async close(): Promise<void> {
      if (!pg.closed) await pg.close();
    },
  };
}
