import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { once } from 'node:events';
import { createLogFormatter } from './log-format.ts';
import { parseLogLine, readLines } from './log-line.ts';

const pinoLine = '{"level":"info","time":"2030-01-01T10:00:00.000Z","service":"users","pid":7,"msg":"users listening","port":8081}';

test('in json a JSON line passes through unchanged and any other line is wrapped', () => {
  const format = createLogFormatter({ format: 'json' });
  assert.equal(format(parseLogLine('users', 'stdout', pinoLine)), `${pinoLine}\n`);

  const wrapped = format(parseLogLine('orders', 'stderr', 'Error: something {not json'));
  assert.ok(wrapped.endsWith('\n') && !wrapped.slice(0, -1).includes('\n'), 'one line');
  const record = JSON.parse(wrapped) as Record<string, unknown>;
  assert.equal(record.service, 'orders');
  assert.equal(record.msg, 'Error: something {not json');
  assert.equal(record.level, 'warn');
  assert.equal(record.stream, 'stderr');
});

test('in pretty every line, a stack trace too, starts with the service', () => {
  const format = createLogFormatter({ format: 'pretty', colors: false });
  const listening = format(parseLogLine('users', 'stdout', pinoLine));
  assert.match(listening, /^\[users\] +\[\d\d:\d\d:\d\d\.\d{3}\] INFO: users listening \{"port":8081\}\n$/);

  const crash = JSON.stringify({ level: 'fatal', service: 'orders', msg: 'boom', err: { type: 'Error', message: 'boom', stack: 'Error: boom\n    at a (x.ts:1:1)' } });
  const lines = format(parseLogLine('orders', 'stdout', crash)).trimEnd().split('\n');
  assert.ok(lines.length > 2, 'the error is rendered on several lines');
  for (const line of lines) assert.match(line, /^\[orders\] /);
  assert.equal(format(parseLogLine('gateway', 'stderr', 'plain text')), '[gateway]       plain text\n');
});

test('lines are whole even when chunks split them, mid-character too', async () => {
  const input = new PassThrough();
  const seen: string[] = [];
  readLines(input, (text) => seen.push(text));
  const bytes = Buffer.from('{"msg":"caf\u00e9"}\nsecond li');
  // Split inside the two bytes of "é".
  const cut = bytes.indexOf(0xc3) + 1;
  input.write(bytes.subarray(0, cut));
  input.write(bytes.subarray(cut));
  input.write('ne\nthird without newline');
  input.end();
  await once(input, 'end');
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(seen, ['{"msg":"café"}', 'second line', 'third without newline']);
});
