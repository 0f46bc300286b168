import pg from 'pg';

/**
 * A pg pool of 5 on the process's DATABASE_URL: Baton's services run pools of 5
 * (DATABASE_POOL_MAX), so each side holds as many PostgreSQL backends.
 */
export function openPool(): pg.Pool {
  const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 5 });
  pool.on('error', () => {});
  return pool;
}

/** Runs `work` in a transaction on one connection: begin, commit, or rollback on a throw. */
export async function transaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('begin');
    const result = await work(client);
    await client.query('commit');
    return result;
  } catch (error) {
    await client.query('rollback').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}
