import pg from 'pg';
import type { Database, QueryOptions, QueryResult, Queryable, Row } from './database.ts';

export interface PostgresOptions {
  url: string;
  maxConnections?: number;
  applicationName?: string;
}

/**
 * A real PostgreSQL through a connection pool (node-postgres).
 *
 * Cancellation is written here by hand because node-postgres has no API for it: when a
 * query's signal fires, we ask the server to cancel that backend's statement
 * (`pg_cancel_backend`) from another connection, so the work stops on the server and not
 * only in our process.
 */
export function openPostgres({ url, maxConnections = 10, applicationName = 'baton' }: PostgresOptions): Database {
  const pool = new pg.Pool({
    connectionString: url,
    max: maxConnections,
    application_name: applicationName,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
  });
  // An idle client that loses its connection emits here; without a listener the process would crash.
  pool.on('error', () => {});

  async function cancelBackend(pid: number): Promise<void> {
    try {
      await pool.query('select pg_cancel_backend($1)', [pid]);
    } catch {
      // Best effort: if we cannot reach the server, the statement will end with the connection.
    }
  }

  function wrap(client: pg.PoolClient): Queryable {
    async function run<R extends object>(text: string, params: readonly unknown[] | undefined, options: QueryOptions): Promise<QueryResult<R>> {
      const { signal } = options;
      signal?.throwIfAborted();
      const pid = (client as unknown as { processID: number }).processID;
      const onAbort = () => void cancelBackend(pid);
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        const answer = params === undefined ? await client.query<Row>(text) : await client.query<Row>(text, params as unknown[]);
        // A script of several statements (a migration) answers with one result per statement.
        const results = answer as pg.QueryResult<Row> | Array<pg.QueryResult<Row>>;
        const result = Array.isArray(results) ? results.at(-1) : results;
        const rows = (result?.rows ?? []) as R[];
        return { rows, rowCount: result?.rowCount ?? rows.length };
      } catch (error) {
        // A statement we cancelled fails with 57014; report the abort, which says why.
        if (signal?.aborted) throw signal.reason;
        throw error;
      } finally {
        signal?.removeEventListener('abort', onAbort);
      }
    }
    return {
      query: (text, params = [], options = {}) => run(text, params, options),
      exec: async (script, options = {}) => { await run(script, undefined, options); },
    };
  }

  async function withClient<T>(work: (client: pg.PoolClient) => Promise<T>, signal?: AbortSignal): Promise<T> {
    signal?.throwIfAborted();
    const client = await pool.connect();
    let broken: Error | undefined;
    try {
      return await work(client);
    } catch (error) {
      // A connection whose statement was cancelled mid-transaction is returned as broken,
      // so the pool never hands out a connection in an unknown state.
      if (signal?.aborted) broken = error instanceof Error ? error : new Error(String(error));
      throw error;
    } finally {
      client.release(broken);
    }
  }

  return {
    poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    query: (text, params = [], options = {}) => withClient((client) => wrap(client).query(text, params, options), options.signal),
    exec: (script, options = {}) => withClient((client) => wrap(client).exec(script, options), options.signal),
    transaction: (work, options = {}) =>
      withClient(async (client) => {
        const tx = wrap(client);
        await tx.query('begin', [], options);
        try {
          const result = await work(tx);
          await tx.query('commit', [], options);
          return result;
        } catch (error) {
          await client.query('rollback').catch(() => {});
          throw error;
        }
      }, options.signal),
    async ping(options = {}) {
      await withClient((client) => wrap(client).query('select 1', [], options), options.signal);
    },
    async close() {
      await pool.end();
    },
  };
}
