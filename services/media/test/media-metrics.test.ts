import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { Registry } from 'prom-client';
import { migrate, openPostgres, type Database } from '@baton/kit/db';
import { addCleanup, createTestDatabase, metricValue, parseMetrics } from '@baton/kit/testing';
import { createMediaMetrics } from '../src/media-metrics.ts';
import type { Renderer } from '../src/images/render-sizes.ts';

// The thumbnail queue's gauges are read from media's own database at each scrape. The console
// scrapes every service from the moment it starts, so a database slow to answer (a loaded machine
// at start-up) must not fail media's whole scrape: it did, logging "deadline exceeded".

const migrationsDir = fileURLToPath(new URL('../migrations/', import.meta.url));
const idle: Renderer = { render: () => Promise.reject(new Error('no renders here')), running: 0, queued: 0 };

async function addProcessingImage(db: Database): Promise<void> {
  await db.query(
    `insert into images (id, sku, status, content_type, bytes, sha256, width, height, uploaded_by)
     values ($1, 'SKU-1', 'processing', 'image/png', 10, $2, 1, 1, 'staff')`, [randomUUID(), '0'.repeat(64)]);
}

void test('a scrape while the images table is locked answers, with the queue gauges at their last values; they are read again after', async (t) => {
  const url = await createTestDatabase(t);
  if (url === undefined) return;
  const db = openPostgres({ url, applicationName: 'media-metrics-test' });
  addCleanup(t, () => db.close());
  await migrate(db, migrationsDir);
  const registry = new Registry();
  createMediaMetrics({ registry, db, renderer: idle });
  const depth = async () => metricValue(parseMetrics(await registry.metrics()), 'media_thumbnail_queue_depth');

  await addProcessingImage(db);
  assert.equal(await depth(), 1);

  // Another image waits, and a migration (say) holds the table: the read cannot answer.
  await addProcessingImage(db);
  const locker = new pg.Client({ connectionString: url });
  await locker.connect();
  addCleanup(t, () => locker.end());
  await locker.query('begin');
  await locker.query('lock table images in access exclusive mode');
  // Past the second in which one scrape's read is shared by the next, so this scrape reads.
  await sleep(1_100);
  assert.equal(await depth(), 1, 'the scrape answers, with the last depth read');
  const waited = await locker.query<{ count: number }>(
    `select count(*)::int as count from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`);
  assert.equal(waited.rows[0]?.count, 0, 'the read given up was cancelled in the database too, not left waiting for the lock');

  await locker.query('commit');
  await sleep(1_100);
  assert.equal(await depth(), 2, 'read again once the database answers');
});
