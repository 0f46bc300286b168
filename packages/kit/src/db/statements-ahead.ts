import pg from 'pg';

/**
 * Statements that go in the same write as the next one: a transaction's BEGIN with its first
 * statement, a savepoint's SAVEPOINT with the first statement inside it. The server runs them in
 * order and answers all of them before one ReadyForQuery, so each costs no round trip of its own.
 * PgJDBC sends BEGIN this way for every transaction it opens.
 *
 * Why by hand: each round trip to PostgreSQL is a socket write and a wake-up at both ends, the
 * largest single cost of a checkout in the CPU profile (`writev` under node-postgres's
 * `Query.submit`, bench/README.md), and a checkout pair's transactions (two in orders, three in
 * inventory) and the consumer's savepoints (one an event in notifications) each paid one for a
 * statement that answers nothing. node-postgres sends one statement a round trip and has no
 * option for this.
 *
 * How: each is a statement prepared once on each connection under its name (`prepareAhead`,
 * when the pool makes the connection), so here it is only bound and run: no Parse of its own,
 * whose ParseComplete node-postgres would credit to the statement that follows. The statement's
 * own messages follow as node-postgres writes them, with the one Sync at the end. A statement
 * with no parameters goes by the simple protocol, the texts ahead of its own, one message.
 * Either way the answer is a result for each, and the caller takes the last, as it does for a
 * script.
 *
 * It rests on node-postgres's `Query.prepare(connection)` and the connection's `bind` and
 * `execute`, what its own sibling pg-cursor writes its messages with; `postgres.test.ts` counts
 * the round trips and checks the answers and the server's transaction state on a real
 * PostgreSQL, so a release that changes them fails there.
 */
export interface AheadStatement {
  /** Its name on every connection of the pool. */
  name: string;
  text: string;
}

export const beginAhead: AheadStatement = { name: 'baton_begin', text: 'begin' };
export const savepointAhead: AheadStatement = { name: 'baton_savepoint', text: 'savepoint baton_savepoint' };
/** Undoes what was written since the latest `savepointAhead`. */
export const rollbackToSavepoint = 'rollback to savepoint baton_savepoint';

const aheadNames = new Set([beginAhead.name, savepointAhead.name]);

interface Connection {
  bind(config: { statement: string }): void;
  execute(config: Record<string, never>): void;
}

class QueryAfter extends pg.Query {
  ahead: readonly AheadStatement[] = [];

  prepare(connection: Connection): void {
    for (const { name } of this.ahead) {
      connection.bind({ statement: name });
      connection.execute({});
    }
    (pg.Query.prototype as unknown as { prepare(connection: Connection): void }).prepare.call(this, connection);
  }
}

/** Prepares the statements that go ahead on a new connection, under their names: they run, and are rolled back at once. */
export async function prepareAhead(client: pg.ClientBase): Promise<void> {
  await client.query({ name: beginAhead.name, text: beginAhead.text });
  await client.query({ name: savepointAhead.name, text: savepointAhead.text });
  await client.query('rollback');
}

/** `text` with `values` (named `name`, when it has one) after the statements `ahead`, in one round trip. */
export function queryAfter(client: pg.ClientBase, ahead: readonly AheadStatement[], text: string, values: readonly unknown[], name: string | undefined): Promise<unknown> {
  if (values.length === 0) return client.query(`${ahead.map((statement) => `${statement.text};\n`).join('')}${text}`);
  return new Promise((resolve, reject) => {
    const query = new QueryAfter(text, values as unknown[], (error: Error | undefined, result: unknown) => {
      if (error) reject(error);
      else resolve(result);
    });
    query.ahead = ahead;
    // The one field a text cannot carry; `Query.prepare` reads it (see `runNamed` in postgres.ts).
    if (name !== undefined) (query as typeof query & { name: string }).name = name;
    client.query(query);
  });
}

/** Whether `error` says the connection lost one of them (a `deallocate all` sent on it). */
export function isMissingAhead(error: unknown): boolean {
  if (!(error instanceof pg.DatabaseError) || error.code !== '26000') return false;
  return [...aheadNames].some((name) => error.message.includes(name));
}
