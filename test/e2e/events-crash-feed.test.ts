import { test } from 'node:test';
import { crashScenario } from './crash-scenario.ts';

// 500 orders while orders (its relay inside) is killed with SIGKILL three times and
// notifications twice: see crash-scenario.ts.
void test('500 orders, orders killed 3 times, notifications twice, with no broker (the HTTP feed): every 201 order has exactly one confirmation, none extra', async (t) => {
  await crashScenario(t, 'feed');
});
