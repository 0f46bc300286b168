import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyBaseLogger } from 'fastify';
import { loadConfig, serviceConfigFields, z } from '../config/index.ts';
import { addCleanup, createCapturedLogger } from '../testing/index.ts';
import { LazyRequestLogger } from './request-logger.ts';
import { startService, type StatelessServiceDefinition } from './index.ts';

/** A parent that counts the children made of it and the lines written through them. */
function countingParent(level = 'info') {
  const levels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];
  const made: Array<{ bindings: Record<string, unknown>; lines: unknown[][] }> = [];
  const logger = (bindings: Record<string, unknown>, lines: unknown[][]): FastifyBaseLogger => {
    const write = (...args: unknown[]) => void lines.push(args);
    return {
      level, fatal: write, error: write, warn: write, info: write, debug: write, trace: write, silent: () => {},
      isLevelEnabled: (asked: string) => levels.indexOf(asked) >= levels.indexOf(level),
      child(childBindings: Record<string, unknown>) {
        const child = { bindings: { ...bindings, ...childBindings }, lines: [] as unknown[][] };
        made.push(child);
        return logger(child.bindings, child.lines);
      },
    } as unknown as FastifyBaseLogger;
  };
  return { parent: logger({}, []), made };
}

void test('a request\'s logger is made only when a line at an enabled level is written, once, with the request\'s bindings', () => {
  const { parent, made } = countingParent('info');
  const log = new LazyRequestLogger(parent, { request_id: 'r1' }, {});
  assert.equal(log.level, 'info');
  assert.equal(log.isLevelEnabled('debug'), false);
  log.debug({ detail: 1 }, 'not at this level');
  log.trace('nor this');
  assert.equal(made.length, 0, 'nothing written: no child made');
  log.info({ a: 1 }, 'first');
  log.warn('second');
  assert.equal(made.length, 1, 'made once, on the first line');
  assert.deepEqual(made[0]?.bindings, { request_id: 'r1' });
  assert.deepEqual(made[0]?.lines, [[{ a: 1 }, 'first'], ['second']]);
  log.child({ step: 'x' }).error('from a child of it');
  assert.deepEqual(made.map((m) => m.bindings), [{ request_id: 'r1' }, { request_id: 'r1', step: 'x' }]);
});

void test('through a kit service: a quiet request makes no logger; a line written carries the request id, the trace id and the redaction', async (t) => {
  const { logger, lines } = createCapturedLogger({ service: 'kit-test' });
  const schema = z.object(serviceConfigFields({ name: 'kit-test', port: 0 }));
  const definition: StatelessServiceDefinition = {
    name: 'kit-test',
    setup(app) {
      app.get('/v1/quiet', async (request) => ({ isLazy: request.log instanceof LazyRequestLogger }));
      app.get('/v1/loud', async (request) => {
        request.log.info({ password: 'hunter2', sku: 'MUG' }, 'said something');
        request.log.debug('below the level');
        return { ok: true };
      });
    },
  };
  const service = await startService(definition, loadConfig(schema, { HOST: '127.0.0.1', PORT: '0' }), { logger });
  addCleanup(t, () => service.shutdown('test over'));
  const quiet = await fetch(`${service.url}/v1/quiet`);
  assert.deepEqual(await quiet.json(), { isLazy: true });
  const loud = await fetch(`${service.url}/v1/loud`);
  assert.equal(loud.status, 200);
  const said = lines.filter((line) => line.msg === 'said something');
  assert.equal(said.length, 1);
  assert.equal(said[0]?.request_id, loud.headers.get('x-request-id'), 'bound to the request');
  assert.equal(said[0]?.password, '[REDACTED]', 'redacted as every line is');
  assert.equal(said[0]?.sku, 'MUG');
  assert.match(String(said[0]?.trace_id), /^[0-9a-f]{32}$/, 'with the request\'s trace id');
  assert.equal(lines.some((line) => line.msg === 'below the level'), false);
});
