export type Row = Record<string, unknown>;

export interface QueryResult<R extends object = Row> {
  rows: R[];
  rowCount: number;
}

export interface QueryOptions {
  /** Fires when nobody waits for the answer any more: the statement is then cancelled. */
  signal?: AbortSignal | undefined;
}

/** Something SQL can be sent to: the database itself, or one transaction on it. */
export interface Queryable {
  query<R extends object = Row>(text: string, params?: readonly unknown[], options?: QueryOptions): Promise<QueryResult<R>>;
  /**
   * Runs a script of several statements with no parameters (migrations; a relay pass of the
   * feed), in one round trip and, unless it says otherwise, one transaction; answers the rows of
   * its last statement.
   */
  exec<R extends object = Row>(script: string, options?: QueryOptions): Promise<QueryResult<R>>;
}

/** One transaction on the database: its statements, and savepoints within it. */
export interface Transaction extends Queryable {
  /**
   * Runs `work` in a savepoint: if it throws, what it wrote is undone, the transaction goes on,
   * and the error is thrown again; if it resolves, what it wrote stays in the transaction.
   * The SAVEPOINT goes with `work`'s first statement, so it costs no round trip of its own.
   */
  savepoint<T>(work: () => Promise<T>, options?: QueryOptions): Promise<T>;
}

/** A service's own database: a PostgreSQL reached through a pool of connections. */
export interface Database extends Queryable {
  /** Runs `work` in one transaction: it commits if `work` resolves and rolls back if it throws. */
  transaction<T>(work: (tx: Transaction) => Promise<T>, options?: QueryOptions): Promise<T>;
  /** Answers if the database can serve a query now; used by readiness. */
  ping(options?: QueryOptions): Promise<void>;
  /** Connections now: in all, idle, and callers waiting for one. */
  poolStats(): PoolStats;
  close(): Promise<void>;
}

export interface PoolStats {
  total: number;
  idle: number;
  waiting: number;
}
