import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConsoleLogLine } from './console-stack.ts';
import { createLogHub, type ShownLine } from './log-hub.ts';

/** A line as pino writes it: numeric level, epoch ms time, msg. */
function pinoLine(service: string, level: number, msg: string, extra: Record<string, unknown> = {}): ConsoleLogLine {
  const record = { level, time: Date.UTC(2025, 0, 2, 3, 4, 5, 678), msg, ...extra };
  return { service, text: JSON.stringify(record), record };
}

const messages = (lines: ShownLine[]) => lines.map((line) => `${line.service} ${line.level} ${line.msg}`);

test('each service keeps its own last lines: a chatty one does not push a quiet one\'s out', () => {
  const hub = createLogHub({ perService: 3 });
  hub.add(pinoLine('users', 30, 'users started'));
  for (let i = 1; i <= 5; i++) hub.add(pinoLine('orders', 30, `order ${i}`));

  assert.deepEqual(messages(hub.last({}, 100)), ['users info users started', 'orders info order 3', 'orders info order 4', 'orders info order 5']);
  assert.deepEqual(messages(hub.last({ service: 'orders' }, 2)), ['orders info order 4', 'orders info order 5'], 'the newest, oldest first');
  assert.deepEqual(hub.last({ service: 'nobody' }, 10), []);
  const seqs = hub.last({}, 100).map((line) => line.seq);
  assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), 'in the order they were written, across services');
});

test('a level filter keeps that level and above, from pino\'s numbers, the runner\'s words, or neither (plain output is info)', () => {
  const hub = createLogHub();
  hub.add(pinoLine('inventory', 10, 'a trace'));
  hub.add(pinoLine('inventory', 20, 'a debug'));
  hub.add(pinoLine('inventory', 30, 'an info'));
  hub.add(pinoLine('inventory', 40, 'a warning'));
  hub.add(pinoLine('inventory', 50, 'an error'));
  hub.add(pinoLine('inventory', 60, 'a fatal'));
  hub.add({ service: 'runner', text: 'stopping', record: { level: 'warn', time: '2025-01-02T03:04:05.678Z', msg: 'stopping' } });
  hub.add({ service: 'postgres', text: 'LOG:  database system is ready', record: undefined });

  assert.deepEqual(messages(hub.last({ level: 'warn' }, 100)), ['inventory warn a warning', 'inventory error an error', 'inventory fatal a fatal', 'runner warn stopping']);
  assert.deepEqual(messages(hub.last({ level: 'error', service: 'inventory' }, 100)), ['inventory error an error', 'inventory fatal a fatal']);
  assert.deepEqual(messages(hub.last({ service: 'postgres' }, 100)), ['postgres info LOG:  database system is ready'], 'a line that is not JSON is shown whole, as info');
  assert.equal(hub.last({ level: 'trace' }, 100).length, 8, 'trace is everything');

  const [fatal] = hub.last({ level: 'fatal' }, 1);
  assert.equal(fatal?.time, '2025-01-02T03:04:05.678Z', 'pino\'s epoch ms as an ISO time');
});

test('a text filter finds words anywhere in the line as written, any case', () => {
  const hub = createLogHub();
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  hub.add(pinoLine('gateway', 30, 'request completed', { traceId, url: '/api/v1/products' }));
  hub.add(pinoLine('inventory', 30, 'request completed', { traceId }));
  hub.add(pinoLine('inventory', 30, 'Stock Reserved', { traceId: 'a'.repeat(32) }));

  assert.deepEqual(messages(hub.last({ text: traceId }, 100)), ['gateway info request completed', 'inventory info request completed']);
  assert.deepEqual(messages(hub.last({ text: 'stock reserved' }, 100)), ['inventory info Stock Reserved']);
  assert.deepEqual(messages(hub.last({ text: traceId.toUpperCase(), service: 'inventory' }, 100)), ['inventory info request completed']);

  const long = 'x'.repeat(5_000);
  hub.add({ service: 'media', text: long, record: undefined });
  const [shown] = hub.last({ service: 'media' }, 1);
  assert.equal(shown?.text.length, 4_001, 'a very long line is cut at 4,000 characters, with an ellipsis');
  assert.ok(shown?.text.endsWith('…'));
});

test('a watcher gets each new line that matches its filter, and nothing after it stops watching', () => {
  const hub = createLogHub();
  hub.add(pinoLine('inventory', 50, 'before anyone watched'));
  const seen: ShownLine[] = [];
  const everything: ShownLine[] = [];
  const unwatch = hub.watch({ service: 'inventory', level: 'warn' }, (line) => seen.push(line));
  hub.watch({}, (line) => everything.push(line));

  hub.add(pinoLine('inventory', 30, 'an info'));
  hub.add(pinoLine('gateway', 50, 'the gateway\'s error'));
  hub.add(pinoLine('inventory', 40, 'injecting a fault'));
  unwatch();
  hub.add(pinoLine('inventory', 50, 'after it stopped watching'));

  assert.deepEqual(messages(seen), ['inventory warn injecting a fault']);
  assert.equal(everything.length, 4, 'the other watcher still gets every line');
});
