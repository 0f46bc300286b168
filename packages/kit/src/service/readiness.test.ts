import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createReadiness } from './health.ts';

const failing = () => Promise.reject(new Error('down'));
const passing = () => Promise.resolve();

void test('a failing essential check makes the service not ready; a failing non-essential one shows, and the service stays ready', async () => {
  const readiness = createReadiness();
  readiness.add('database', passing);
  readiness.add('event_feeds', failing, { essential: false });
  assert.deepEqual(await readiness.evaluate(), { ready: true, status: 'ready', checks: { database: 'ok', event_feeds: 'failing' } });
  readiness.add('broker', failing);
  assert.deepEqual(await readiness.evaluate(), { ready: false, status: 'not_ready', checks: { database: 'ok', event_feeds: 'failing', broker: 'failing' } });
});

void test('a check is essential unless told otherwise', async () => {
  const readiness = createReadiness();
  readiness.add('database', failing, {});
  assert.equal((await readiness.evaluate()).ready, false);
});
