import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { loadConfig, serviceConfigFields, z, type ServiceConfig } from '../config/index.ts';
import { createSilentLogger } from '../testing/logger.ts';
import { startService, type StatelessServiceDefinition } from './index.ts';

const run = promisify(execFile);

// The kernel says what a listening socket's accept queue holds: `ss -ltn` shows it as Send-Q.
void test('a service\'s public listener queues 4096 connections waiting to be accepted, not Node\'s 511: a storm of them is answered (shed), not dropped', { skip: process.platform !== 'linux' && 'ss is Linux\'s' }, async (t) => {
  const definition: StatelessServiceDefinition<ServiceConfig> = { name: 'backlog', setup(app) { app.get('/v1/x', async () => ({ ok: true })); } };
  const config = loadConfig(z.object(serviceConfigFields({ name: 'backlog', port: 0 })), { HOST: '127.0.0.1', PORT: '0' });
  const running = await startService(definition, config, { logger: createSilentLogger('backlog') });
  t.after(() => running.shutdown('test over'));
  const { port } = new URL(running.url);
  const { stdout } = await run('ss', ['-ltnH', `sport = :${port}`]);
  const sendQ = Number(stdout.trim().split(/\s+/)[2]);
  const somaxconn = Number((await run('cat', ['/proc/sys/net/core/somaxconn'])).stdout.trim());
  assert.equal(sendQ, Math.min(4_096, somaxconn), stdout);
});
