import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dedicatedUser, serverUser } from './server-user.ts';

void test('the server runs as whoever runs Baton; under root, as a system user of its own (never root, not the machine\'s postgres user)', async () => {
  const user = await serverUser();
  if (process.getuid?.() === 0) {
    assert.equal(user.name, dedicatedUser, 'made with useradd when missing');
    assert.ok(user.uid !== undefined && user.uid !== 0);
  } else {
    assert.deepEqual(user, { name: 'the current user' });
  }
});
