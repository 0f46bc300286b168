import pg from 'pg';

/**
 * A transaction's BEGIN sent in the same write as its first statement, so that a transaction
 * costs one round trip less: the server runs BEGIN, then the statement, and answers both before
 * one ReadyForQuery. PgJDBC does the same for every transaction it opens.
 *
 * Why by hand: each round trip to PostgreSQL is a socket write and a wake-up at both ends, the
 * largest single cost of a checkout in the CPU profile (`writev` under node-postgres's
 * `Query.submit`, bench/README.md), and a checkout's transactions (two in orders, three in
 * inventory a pair) each paid one for BEGIN alone. node-postgres sends one statement a round
 * trip and has no option for this.
 *
 * How: BEGIN is a statement prepared once on each connection under `beginStatementName`
 * (`prepareBegin`, when the pool makes the connection), so here it is only bound and run: no
 * Parse of its own, whose ParseComplete node-postgres would credit to the statement that
 * follows. The statement's own messages follow as node-postgres writes them, with the one Sync
 * at the end. A statement with no parameters goes by the simple protocol as `begin;` and its
 * text, one message. Either way the answer is two results, BEGIN's and the statement's, and the
 * caller takes the last, as it does for a script.
 *
 * It rests on node-postgres's `Query.prepare(connection)` and the connection's `bind` and
 * `execute`, what its own sibling pg-cursor writes its messages with; `postgres.test.ts` checks
 * the answer and the server's transaction state on a real PostgreSQL, so a release that changes
 * them fails there.
 */
export const beginStatementName = 'baton_begin';

interface Connection {
  bind(config: { statement: string }): void;
  execute(config: Record<string, never>): void;
}

class QueryAfterBegin extends pg.Query {
  prepare(connection: Connection): void {
    connection.bind({ statement: beginStatementName });
    connection.execute({});
    (pg.Query.prototype as unknown as { prepare(connection: Connection): void }).prepare.call(this, connection);
  }
}

/** Prepares BEGIN on a new connection, under its name: it runs, and is rolled back at once. */
export async function prepareBegin(client: pg.ClientBase): Promise<void> {
  await client.query({ name: beginStatementName, text: 'begin' });
  await client.query('rollback');
}

/** `text` with `values` (named `name`, when it has one) after BEGIN, in one round trip. */
export function queryAfterBegin(client: pg.ClientBase, text: string, values: readonly unknown[], name: string | undefined): Promise<unknown> {
  if (values.length === 0) return client.query(`begin;\n${text}`);
  return new Promise((resolve, reject) => {
    const query = new QueryAfterBegin(text, values as unknown[], (error: Error | undefined, result: unknown) => {
      if (error) reject(error);
      else resolve(result);
    });
    // The one field a text cannot carry; `Query.prepare` reads it (see `runNamed` in postgres.ts).
    if (name !== undefined) (query as typeof query & { name: string }).name = name;
    client.query(query);
  });
}
