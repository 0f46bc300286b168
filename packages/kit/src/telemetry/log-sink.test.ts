import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogSink } from './log-sink.ts';

/** A stdout whose reader takes nothing until `read()`: every write stays queued in the stream. */
function stalledStdout() {
  const taken: string[] = [];
  const held: Array<() => void> = [];
  const stream = new Writable({
    highWaterMark: 64,
    write(chunk: Buffer, _encoding, done) {
      taken.push(chunk.toString());
      held.push(done);
    },
  });
  return {
    stream,
    taken,
    /** The reader takes everything queued, as the stream hands it over. */
    async read() {
      while (held.length > 0) {
        held.shift()?.();
        await new Promise((resolve) => setImmediate(resolve));
      }
    },
  };
}

void test('past its bound the sink drops whole lines, counts them, and reports the count once the reader is back', async () => {
  const stdout = stalledStdout();
  const sink = createLogSink(stdout.stream, 100);
  const reports: number[] = [];
  sink.reportDropsTo((dropped) => reports.push(dropped));

  for (let i = 0; i < 10; i++) sink.write(`${JSON.stringify({ i, pad: 'x'.repeat(40) })}\n`);
  // 57 bytes a line: two are held (114 bytes), past the bound of 100, so lines 2 to 9 are dropped.
  assert.equal(sink.droppedLines, 8);
  assert.deepEqual(reports, [], 'nothing is reported while the reader is away');

  await stdout.read();
  assert.deepEqual(reports, [8]);
  sink.write('{"after":true}\n');
  await stdout.read();
  assert.deepEqual(stdout.taken.map((line) => JSON.parse(line) as unknown), [{ i: 0, pad: 'x'.repeat(40) }, { i: 1, pad: 'x'.repeat(40) }, { after: true }],
    'every line that went out is whole, in order');
  assert.equal(sink.droppedLines, 8, 'the total stays for the metric');
});

void test('a stdout that fails (its reader gone: EPIPE) is no crash: lines are dropped from then on', () => {
  const stream = new Writable({ write(_chunk, _encoding, done) { done(); } });
  const sink = createLogSink(stream, 1024);
  stream.emit('error', Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
  sink.write('{"lost":true}\n');
  assert.equal(sink.droppedLines, 1);
});
