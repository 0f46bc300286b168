import pg from 'pg';
import { Code, KitError } from '../errors/index.ts';
import type { Database, QueryOptions, QueryResult, Queryable, Row, Transaction } from './database.ts';
import { namedStatements } from './named-statements.ts';
import { type AheadStatement, beginAhead, isMissingAhead, prepareAhead, queryAfter, rollbackToSavepoint, savepointAhead } from './statements-ahead.ts';

export interface PostgresOptions {
  url: string;
  maxConnections?: number;
  applicationName?: string;
  /** How long to wait for a connection (a new one, or a free one of the pool) before giving up. */
  connectTimeoutMs?: number;
  /**
   * How many different statement texts (with parameters) are kept prepared on each connection;
   * past it, a new text is sent unprepared every time. Bounds what each backend holds for us.
   * With 0 nothing is prepared, not even the BEGIN and SAVEPOINT that go with the next statement
   * (a connection pooler in transaction mode keeps none): each is sent on its own.
   */
  preparedStatementLimit?: number;
}

/**
 * A real PostgreSQL through a connection pool (node-postgres).
 *
 * Cancellation is written here by hand because node-postgres has no API for it: when a
 * query's signal fires, we ask the server to cancel that backend's statement
 * (`pg_cancel_backend`) from another connection, so the work stops on the server and not
 * only in our process. Each connection's backend is asked its pid once, when the connection is
 * made (`pg_backend_pid()`, before the pool hands it out), rather than read from the
 * client's private `processID`, which node-postgres does not document and may change.
 *
 * A lost connection is never more than a failed call: every error that says the database cannot
 * be reached or went away (the server shut down or restarted, the backend was terminated, the
 * network broke, no connection could be had in time) is rejected as `unavailable`, reason
 * `database_unavailable`; errors about the statement itself (a unique violation, say) reach the
 * caller unchanged. A connection that broke is never handed out again.
 */
export function openPostgres({ url, maxConnections = 10, applicationName = 'baton', connectTimeoutMs = 5_000, preparedStatementLimit = 200 }: PostgresOptions): Database {
  // Each connection's backend pid, asked once when the pool makes the connection, in pg-pool's
  // `onConnect`, which it awaits before handing the client over: the caller's first statement
  // never queues behind it (node-postgres deprecates a query sent while another runs, and 9.0
  // removes it).
  const backendPids = new WeakMap<pg.ClientBase, number | undefined>();
  // BEGIN and SAVEPOINT go with the next statement (statements-ahead.ts), prepared for that.
  const sendAhead = preparedStatementLimit > 0;
  const pool = new pg.Pool({
    connectionString: url,
    max: maxConnections,
    application_name: applicationName,
    connectionTimeoutMillis: connectTimeoutMs,
    idleTimeoutMillis: 30_000,
    // @types/pg says onConnect returns void; pg-pool awaits the promise it returns (pg-pool/index.js).
    // eslint-disable-next-line @typescript-eslint/no-misused-promises
    async onConnect(client) {
      // Bounded like the connecting itself: pg-pool keeps the connection's place in the pool
      // until this settles, so an answer that never came would hold that place for good. Timed
      // out, it rejects as pg-pool's own connect timeout does (the caller gets `unavailable`),
      // and pg-pool ends the connection.
      const asked = (async () => {
        const answer = await client.query<{ pid: number }>('select pg_backend_pid() as pid');
        if (sendAhead) await prepareAhead(client);
        return answer;
      })();
      asked.catch(() => {});
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error('timeout exceeded when trying to connect')), connectTimeoutMs);
      });
      try {
        const { rows } = await Promise.race([asked, timedOut]);
        backendPids.set(client, rows[0]?.pid);
      } catch (error) {
        if (error instanceof Error && error.message === 'timeout exceeded when trying to connect') throw error;
        // The connection is already failing; the caller's statement will say so.
      } finally {
        clearTimeout(timer);
      }
    },
  });
  // An idle client that loses its connection emits here, and the pool drops it; without a
  // listener the process would crash. A checked-out client has a listener of its own (leaseClient).
  pool.on('error', () => {});
  const statementNames = namedStatements(preparedStatementLimit);

  async function cancelBackend(client: pg.ClientBase): Promise<void> {
    try {
      const pid = backendPids.get(client);
      if (pid === undefined) return;
      await pool.query('select pg_cancel_backend($1)', [pid]);
    } catch {
      // Best effort: if we cannot reach the server, the statement will end with the connection.
    }
  }

  /** A pooled client while it is out, and what became of its connection meanwhile. */
  interface Lease {
    client: pg.PoolClient;
    /** Why its connection is no good any more, once that is known. */
    broken: Error | undefined;
    /** Gives the client back: dropped if broken, to the pool otherwise. */
    release(): void;
    /** Cancels the connection's statement when `signal` aborts, until the client is given back. */
    watch(signal: AbortSignal): void;
  }

  function wrap(lease: Lease, ahead: AheadStatement[] = []): Queryable {
    const { client } = lease;
    async function run<R extends object>(text: string, params: readonly unknown[] | undefined, options: QueryOptions): Promise<QueryResult<R>> {
      const { signal } = options;
      signal?.throwIfAborted();
      if (signal !== undefined) lease.watch(signal);
      // Taken before they are sent: a statement that fails may still have run them.
      const before = ahead.length === 0 ? undefined : ahead.splice(0);
      try {
        const name = params === undefined || params.length === 0 ? undefined : statementNames.nameOf(text);
        const answer = before !== undefined
          ? await queryAfter(client, before, text, params ?? [], name)
          : name === undefined
            ? await client.query<Row>(text, params as unknown[] | undefined)
            : await runNamed(client, text, params!, name);
        // A script of several statements (a migration) answers with one result per statement.
        const results = answer as pg.QueryResult<Row> | Array<pg.QueryResult<Row>>;
        const result = Array.isArray(results) ? results.at(-1) : results;
        const rows = (result?.rows ?? []) as R[];
        return { rows, rowCount: result?.rowCount ?? rows.length };
      } catch (error) {
        // A statement we cancelled fails with 57014; report the abort, which says why.
        if (signal?.aborted) throw signal.reason;
        if (isConnectionError(error)) {
          lease.broken ??= error as Error;
          throw databaseUnavailable(error);
        }
        // A statement this connection prepared whose answer's columns changed since (a `*` over a
        // table a migration added to): it fails here once, and the connection goes, so the next
        // statement is prepared afresh on another. So does one that lost its prepared BEGIN or
        // SAVEPOINT: every transaction on it would fail.
        if (isStalePlan(error) || isMissingAhead(error)) lease.broken ??= error as Error;
        throw error;
      }
    }
    return {
      query: (text, params = [], options = {}) => run(text, params, options),
      exec: (script, options = {}) => run(script, undefined, options),
    };
  }

  /**
   * A client of the pool, with an 'error' listener from the moment it is handed over until it is
   * given back: pg-pool removes its own while a client is out, and an 'error' event nobody listens
   * to (the server ending the connection between two statements of a transaction, say) would be
   * an uncaught exception. The listener goes on in pg-pool's callback, which runs in the same turn
   * as the hand-over: a new connection can be handed over and end in one read from its socket
   * (its ready message and a FATAL in one packet), before an awaiting caller would run.
   */
  function leaseClient(): Promise<Lease> {
    return new Promise((resolve, reject) => {
      pool.connect((error, client) => {
        if (error || client === undefined) {
          reject(error ?? new Error('the pool handed over no client'));
          return;
        }
        const onError = (clientError: Error) => {
          leased.broken ??= clientError;
        };
        // The cancel goes over another connection and lands whenever it lands: if the statement
        // ends first, it would cancel whatever the backend runs next, another caller's statement
        // once the connection is back in the pool. So a connection a cancel was asked for is
        // never handed out again, whatever became of its statement.
        const onAbort = () => {
          leased.broken ??= new Error('a statement on this connection was cancelled');
          void cancelBackend(client);
        };
        // Heard once for the lease, not once a statement: a transaction's statements share one
        // signal, and a listener added and removed around each was 1-1.4% of orders' and
        // inventory's profile samples under checkout load (bench/profile/folded-shares.ts). An abort
        // between two statements cancels nothing that runs, and breaks the connection all the same.
        let watched: AbortSignal | undefined;
        const leased: Lease = {
          client,
          broken: undefined,
          watch(signal) {
            if (signal === watched) return;
            watched?.removeEventListener('abort', onAbort);
            watched = signal;
            signal.addEventListener('abort', onAbort, { once: true });
          },
          release() {
            watched?.removeEventListener('abort', onAbort);
            watched = undefined;
            client.removeListener('error', onError);
            // Released with an error, the client is closed and dropped, never handed out again;
            // the pool puts its own listener back first, so a late event still finds one.
            client.release(leased.broken);
          },
        };
        client.on('error', onError);
        resolve(leased);
      });
    });
  }

  async function checkOut(signal: AbortSignal | undefined): Promise<Lease> {
    signal?.throwIfAborted();
    const leasing = leaseClient();
    try {
      return signal === undefined ? await leasing : await untilAborted(leasing, signal);
    } catch (error) {
      if (signal?.aborted) {
        // Given up on: a connection that arrives after all goes straight back to the pool.
        void leasing.then((late) => late.release(), () => {});
        throw signal.reason;
      }
      throw isConnectionError(error) ? databaseUnavailable(error) : error;
    }
  }

  async function withClient<T>(work: (lease: Lease) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const lease = await checkOut(signal);
    try {
      return await work(lease);
    } catch (error) {
      // A connection whose statement was cancelled mid-transaction is returned as broken,
      // so the pool never hands out a connection in an unknown state.
      if (signal?.aborted) lease.broken ??= error instanceof Error ? error : new Error(String(error));
      throw error;
    } finally {
      lease.release();
    }
  }

  /** A transaction's statements, with its savepoints: their SAVEPOINT goes ahead of the next statement. */
  function transactionOn(queryable: Queryable, ahead: AheadStatement[]): Transaction {
    return {
      ...queryable,
      async savepoint(work, options = {}) {
        // Never released: the commit ends them all, and a rollback to the name goes to the latest.
        // Its own object, so it is found in `ahead` while it waits there, whatever else does.
        const mark: AheadStatement = { ...savepointAhead };
        if (sendAhead) ahead.push(mark);
        else await queryable.exec(savepointAhead.text, options);
        try {
          return await work();
        } catch (error) {
          // Never sent (work failed before its first statement): nothing to undo.
          if (!ahead.includes(mark)) await queryable.exec(rollbackToSavepoint, options);
          throw error;
        } finally {
          // Work that sent nothing leaves it waiting: it is not wanted any more.
          const waiting = ahead.indexOf(mark);
          if (waiting !== -1) ahead.splice(waiting, 1);
        }
      },
    };
  }

  return {
    poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    query: (text, params = [], options = {}) => withClient((lease) => wrap(lease).query(text, params, options), options.signal),
    exec: (script, options = {}) => withClient((lease) => wrap(lease).exec(script, options), options.signal),
    transaction: (work, options = {}) =>
      withClient(async (lease) => {
        // BEGIN goes with the first statement; a transaction that sent none has nothing to end.
        const ahead: AheadStatement[] = [];
        const tx = transactionOn(wrap(lease, ahead), ahead);
        if (sendAhead) ahead.push(beginAhead);
        else await tx.query('begin', [], options);
        const begun = () => !ahead.includes(beginAhead);
        try {
          const result = await work(tx);
          if (begun()) await tx.query('commit', [], options);
          return result;
        } catch (error) {
          if (begun()) await lease.client.query('rollback').catch(() => {});
          throw error;
        }
      }, options.signal),
    async ping(options = {}) {
      await withClient((lease) => wrap(lease).query('select 1', [], options), options.signal);
    },
    async close() {
      await pool.end();
    },
  };
}

/** `promise`, or the signal's reason as soon as it fires. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

// SQLSTATEs outside class 08 (connection_exception) that also mean the server will not serve this
// connection: it is shutting down, crashed, is starting up, or has no room for another one.
const unavailableSqlStates = new Set([
  '57P01', // admin_shutdown: pg_terminate_backend, or a fast shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '53300', // too_many_connections
]);

// What Node's sockets and resolver say when the server cannot be reached or the connection broke.
const networkErrorCodes = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'EHOSTDOWN',
  'ENETUNREACH', 'ENETDOWN', 'ENOTFOUND', 'EAI_AGAIN',
]);

/**
 * Sends a named statement as a `pg.Query` made from its text, so node-postgres takes it as it is.
 * Given a config object instead (`{ text, values, name }`, its documented form), node-postgres
 * copies it property by property (`cloneQueryConfig`): 3.1 µs a statement against 23 ns for a
 * text, measured in a loop of a million on this machine, and 1.6% of every service's samples in
 * the checkout profile. The name is the one field the text cannot carry; `Query.prepare` reads it.
 */
function runNamed(client: pg.PoolClient, text: string, values: readonly unknown[], name: string): Promise<pg.QueryResult<Row>> {
  return new Promise((resolve, reject) => {
    const query = new pg.Query(text, values as unknown[], (error: Error | undefined, result: unknown) => {
      if (error) reject(error);
      else resolve(result as unknown as pg.QueryResult<Row>);
    });
    (query as typeof query & { name: string }).name = name;
    client.query(query);
  });
}

function isStalePlan(error: unknown): boolean {
  return error instanceof pg.DatabaseError && error.code === '0A000' && /cached plan must not change result type/.test(error.message);
}

/**
 * Whether `error` says the database cannot be reached or went away, as opposed to an answer about
 * the statement, which its caller decides on.
 */
function isConnectionError(error: unknown): boolean {
  if (error instanceof AggregateError && error.errors.length > 0) return error.errors.every(isConnectionError);
  if (!(error instanceof Error)) return false;
  const { code } = error as { code?: unknown };
  if (error instanceof pg.DatabaseError) return typeof code === 'string' && (code.startsWith('08') || unavailableSqlStates.has(code));
  if (typeof code === 'string') return networkErrorCodes.has(code);
  return isNodePostgresConnectionError(error);
}

// node-postgres and pg-pool report their own connection failures as plain Errors with no code,
// so these few are told apart by their messages, here and nowhere else: "Connection terminated
// unexpectedly" (and "... due to connection timeout"), "Client has encountered a connection error
// and is not queryable", "Client was closed and is not queryable", and pg-pool's "timeout exceeded
// when trying to connect". connection-loss.test.ts (a transaction whose backend was terminated,
// a pool with no free connection) and service/database-loss.test.ts (connections cut by a proxy)
// meet them on a real server, so a release of pg that rewords one fails there rather than turning
// a lost database into a 500.
function isNodePostgresConnectionError(error: Error): boolean {
  return /^Connection terminated\b|\bis not queryable$|^timeout exceeded when trying to connect$/.test(error.message);
}

/**
 * The one error a service sees when its database is out of reach: `unavailable` (503 with
 * Retry-After at the HTTP edge, UNAVAILABLE over gRPC), reason `database_unavailable`, with the
 * driver's error as the cause, for the log.
 */
function databaseUnavailable(cause: unknown): KitError {
  return new KitError(Code.Unavailable, 'the database is unavailable', { reason: 'database_unavailable', cause });
}
