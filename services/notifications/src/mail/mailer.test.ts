import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KitError } from '@baton/kit/errors';
import { createMailer } from './mailer.ts';

const hostileKeys = [
  { name: 'a path out of MAIL_DIR', key: '../../x' },
  { name: 'an absolute path', key: '/tmp/x' },
  { name: 'a NUL byte', key: `${randomUUID()}\u0000.txt` },
  { name: 'a very long id', key: 'a'.repeat(10_000) },
  { name: 'a UUID with a path after it', key: `${randomUUID()}/../../x` },
];

void test('an .eml file is named by a UUID key only: a hostile key writes nothing, inside or outside MAIL_DIR', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'baton-mailer-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const mailDir = join(root, 'a', 'b', 'mail');
  const mailer = createMailer({ mailDir, from: 'Baton <shop@baton.invalid>', timeoutMs: 1_000 });
  t.after(() => mailer.close());

  for (const { name, key } of hostileKeys) {
    await assert.rejects(
      mailer.send({ messageId: '<m@baton.invalid>', key, to: 'ada@example.com', subject: 'Hi', text: 'Hello' }),
      (error: unknown) => error instanceof KitError && error.code === 'invalid_argument' && error.reason === 'invalid_event',
      name);
  }
  assert.deepEqual(await readdir(root, { recursive: true }), [], 'nothing was written anywhere under the root');

  const key = randomUUID();
  await mailer.send({ messageId: `<${key}@baton.invalid>`, key, to: 'ada@example.com', subject: 'Hi', text: 'Hello' });
  assert.deepEqual(await readdir(mailDir), [`${key}.eml`]);
});
