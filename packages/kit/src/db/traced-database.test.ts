import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { createTracing } from '../telemetry/tracing/tracing.ts';
import { ATTR_BATON_DB_STATEMENTS } from '../telemetry/tracing/attributes.ts';
import { addCleanup, createTestDatabase } from '../testing/index.ts';
import { openPostgres } from './index.ts';
import { traceDatabase } from './traced-database.ts';

void test('a span per transaction and per statement outside one; the statements inside a transaction get spans only when asked', async (t) => {
  const url = await createTestDatabase(t);
  if (url === undefined) return;
  const exporter = new InMemorySpanExporter();
  const tracing = createTracing({ service: 'db-test', spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  addCleanup(t, () => tracing.shutdown());
  const plain = openPostgres({ url, applicationName: 'baton-traced-db-test' });
  addCleanup(t, () => plain.close());

  /** One request's worth of work under a span: a statement alone, then a transaction of two; the names of the spans it made. */
  async function spansOf(statements: boolean) {
    const db = traceDatabase(plain, tracing.tracer, { statements });
    exporter.reset();
    await tracing.tracer.startActiveSpan('request', async (span) => {
      await db.query('select 1 as one');
      await db.transaction(async (tx) => {
        await tx.query('select 2 as two');
        await tx.savepoint(() => tx.query('select 3 as three'));
      });
      span.end();
    });
    return exporter.getFinishedSpans();
  }

  const byDefault = await spansOf(false);
  assert.deepEqual(byDefault.map((s) => s.name).sort(), ['SELECT', 'TRANSACTION', 'request']);
  assert.equal(byDefault.find((s) => s.name === 'TRANSACTION')?.attributes[ATTR_BATON_DB_STATEMENTS], 2, 'the transaction says how many statements it ran');

  const opted = await spansOf(true);
  assert.deepEqual(opted.map((s) => s.name).sort(), ['SAVEPOINT', 'SELECT', 'SELECT', 'SELECT', 'TRANSACTION', 'request']);
  const transaction = opted.find((s) => s.name === 'TRANSACTION');
  const savepoint = opted.find((s) => s.name === 'SAVEPOINT');
  assert.deepEqual(opted.filter((s) => s.parentSpanContext?.spanId === transaction?.spanContext().spanId).map((s) => s.name).sort(), ['SAVEPOINT', 'SELECT'], 'the statements are the transaction\'s children');
  assert.equal(opted.filter((s) => s.parentSpanContext?.spanId === savepoint?.spanContext().spanId).length, 1, 'and a savepoint\'s statement its child');
});
