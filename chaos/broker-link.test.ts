import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer } from 'node:net';
import { reachable, startBrokerLink } from './broker-link.ts';

// An echo server stands in for the broker: what crosses the link comes back.
void test('the broker link relays, and once cut resets what was open and refuses what comes, until restored on the same port', async (t) => {
  const echo = createServer((socket) => socket.pipe(socket));
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => echo.close(() => resolve())));
  const target = { host: '127.0.0.1', port: (echo.address() as { port: number }).port };
  const link = await startBrokerLink(target);
  t.after(() => link.close());

  const open = connect({ host: '127.0.0.1', port: link.port });
  const echoed = new Promise<string>((resolve) => open.once('data', (data) => resolve(data.toString())));
  open.write('ping');
  assert.equal(await echoed, 'ping');

  const closed = new Promise<void>((resolve) => open.once('close', () => resolve()));
  open.on('error', () => undefined);
  await link.cut();
  await closed;
  assert.equal(await reachable({ host: '127.0.0.1', port: link.port }), false, 'refused while cut');

  const port = link.port;
  await link.restore();
  assert.equal(link.port, port);
  assert.equal(await reachable({ host: '127.0.0.1', port: link.port }), true);
});
