import { test } from 'node:test';
import { useTestNats } from '@baton/kit/testing';
import { crashScenario } from './crash-scenario.ts';

// 500 orders while orders (its relay inside) is killed with SIGKILL three times and
// notifications twice: see crash-scenario.ts.
void test('500 orders, orders killed 3 times, notifications twice, over NATS JetStream: every 201 order has exactly one confirmation, none extra', async (t) => {
  const broker = await useTestNats(t);
  if (broker === undefined) return;
  await crashScenario(t, 'nats', broker);
});
