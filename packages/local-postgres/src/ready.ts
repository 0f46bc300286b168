import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';

/** Whether the server answers a query now (it accepts connections and is not starting or recovering). */
export async function isPostgresReady(adminUrl: string, { timeoutMs = 1_000 }: { timeoutMs?: number } = {}): Promise<boolean> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: timeoutMs, application_name: 'baton-readiness' });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * Polls until the server answers a query. Rejects only when `signal` aborts (the server
 * exited, or the caller gave up), with the signal's reason.
 */
export async function waitForPostgres(adminUrl: string, { signal, pollIntervalMs = 50 }: { signal: AbortSignal; pollIntervalMs?: number }): Promise<void> {
  for (;;) {
    signal.throwIfAborted();
    if (await isPostgresReady(adminUrl)) return;
    await sleep(pollIntervalMs, undefined, { signal });
  }
}
