import { SpanKind, SpanStatusCode, context, trace, type Tracer } from '@opentelemetry/api';
import { ATTR_DB_OPERATION_NAME, ATTR_DB_QUERY_TEXT, ATTR_DB_SYSTEM_NAME, ATTR_ERROR_TYPE, DB_SYSTEM_NAME_VALUE_POSTGRESQL } from '@opentelemetry/semantic-conventions';
import { ATTR_BATON_DB_STATEMENTS } from '../telemetry/tracing/attributes.ts';
import type { Database, QueryOptions, Queryable, Transaction } from './database.ts';

// Longer statements are cut in spans: a migration script is no use in a trace.
const queryTextLimit = 2_000;

function operationOf(text: string): string {
  const match = /^\s*(\w+)/.exec(text);
  return match?.[1]?.toUpperCase() ?? 'QUERY';
}

/**
 * Runs `work` as a CLIENT span named after the operation, as the database conventions say.
 * The statement text is recorded as written: Baton passes values as parameters, never inside
 * the SQL, so the text carries no data.
 */
async function inSpan<T>(tracer: Tracer, kind: string, text: string, work: () => Promise<T>): Promise<T> {
  // A query outside any trace (a background sweep) starts no trace of its own: noise.
  if (trace.getActiveSpan() === undefined) return work();
  const operation = kind === 'query' ? operationOf(text) : kind.toUpperCase();
  const span = tracer.startSpan(operation, {
    kind: SpanKind.CLIENT,
    attributes: {
      [ATTR_DB_SYSTEM_NAME]: DB_SYSTEM_NAME_VALUE_POSTGRESQL,
      [ATTR_DB_OPERATION_NAME]: operation,
      ...(text === '' ? {} : { [ATTR_DB_QUERY_TEXT]: text.length > queryTextLimit ? `${text.slice(0, queryTextLimit)}…` : text }),
    },
  });
  try {
    return await context.with(trace.setSpan(context.active(), span), work);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    span.setAttribute(ATTR_ERROR_TYPE, typeof code === 'string' ? code : 'error');
    span.setStatus({ code: SpanStatusCode.ERROR });
    throw error;
  } finally {
    span.end();
  }
}

function tracedQueryable(inner: Queryable, tracer: Tracer): Queryable {
  return {
    query: (text, params, options) => inSpan(tracer, 'query', text, () => inner.query(text, params, options)),
    exec: (script, options) => inSpan(tracer, 'exec', '', () => inner.exec(script, options)),
  };
}

/** The transaction traced: each statement, and each savepoint, a span. */
function tracedTransaction(inner: Transaction, tracer: Tracer): Transaction {
  return {
    ...tracedQueryable(inner, tracer),
    savepoint: (work, options) => inSpan(tracer, 'savepoint', '', () => inner.savepoint(work, options)),
  };
}

/** The transaction's own queryable, counting its statements for the transaction's span. */
function countedTransaction(inner: Transaction, counter: { statements: number }): Transaction {
  return {
    savepoint: (work, options) => inner.savepoint(work, options),
    query: (text, params, options) => {
      counter.statements++;
      return inner.query(text, params, options);
    },
    exec: (script, options) => {
      counter.statements++;
      return inner.exec(script, options);
    },
  };
}

export interface DatabaseTracingOptions {
  /**
   * A span for every statement inside a transaction too (`TRACE_DB_STATEMENTS`). Off by
   * default: the transaction's span (with `baton.db.statements`, how many it ran) says where the
   * time went at a fraction of the spans.
   */
  statements?: boolean;
}

/**
 * The same database traced, children of whatever span is active (the request's, the
 * consumer's), so a trace shows where its time went: a CLIENT span per transaction, and one per
 * statement run outside a transaction (it is a transaction of its own). The statements inside a
 * transaction have spans of their own only with `statements`.
 *
 * @example
 * const db = traceDatabase(openPostgres({ url, applicationName: 'orders' }), tracing.tracer, { statements: config.TRACE_DB_STATEMENTS });
 */
export function traceDatabase(db: Database, tracer: Tracer, { statements = false }: DatabaseTracingOptions = {}): Database {
  const queryable = tracedQueryable(db, tracer);
  function transaction<T>(work: (tx: Transaction) => Promise<T>, options?: QueryOptions): Promise<T> {
    if (statements) return inSpan(tracer, 'transaction', '', () => db.transaction((tx) => work(tracedTransaction(tx, tracer)), options));
    const counter = { statements: 0 };
    return inSpan(tracer, 'transaction', '', async () => {
      try {
        return await db.transaction((tx) => work(countedTransaction(tx, counter)), options);
      } finally {
        trace.getActiveSpan()?.setAttribute(ATTR_BATON_DB_STATEMENTS, counter.statements);
      }
    });
  }
  return {
    query: queryable.query,
    exec: queryable.exec,
    transaction,
    ping: (options) => db.ping(options),
    poolStats: () => db.poolStats(),
    close: () => db.close(),
  };
}
