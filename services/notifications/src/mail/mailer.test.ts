import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
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

void test('an .eml file is the whole message as SMTP carries it: its headers, a non-ASCII subject encoded, CRLF line ends, and written again it replaces itself', async (t) => {
  const mailDir = await mkdtemp(join(tmpdir(), 'baton-mailer-'));
  t.after(() => rm(mailDir, { recursive: true, force: true }));
  const mailer = createMailer({ mailDir, from: 'Baton <shop@baton.invalid>', timeoutMs: 1_000 });
  t.after(() => mailer.close());
  const key = randomUUID();
  const message = { messageId: `<${key}@baton.invalid>`, key, to: 'ada@example.com', subject: 'Your order × 2 is confirmed', text: 'Hello Ada,\n\n- 2 × MUG-STONEWARE\n' };
  await mailer.send(message);
  await mailer.send(message);
  assert.deepEqual(await readdir(mailDir), [`${key}.eml`]);
  const raw = await readFile(join(mailDir, `${key}.eml`), 'utf8');
  assert.ok(raw.endsWith('\r\n') && !/[^\r]\n/.test(raw), 'every line ends in CRLF (RFC 5322)');
  const eml = raw.replaceAll('\r\n', '\n');
  const blank = eml.indexOf('\n\n');
  assert.ok(blank > 0, 'headers, a blank line, the body');
  const head = eml.slice(0, blank);
  const body = eml.slice(blank + 2);
  assert.match(head, /^From: Baton <shop@baton\.invalid>$/m);
  assert.match(head, /^To: ada@example\.com$/m);
  assert.match(head, new RegExp(`^Message-ID: <${key}@baton\\.invalid>$`, 'm'));
  assert.match(head, /^Subject: =\?UTF-8\?Q\?.+\?=$/m, 'the subject in an encoded word');
  assert.match(head, /^Content-Type: text\/plain; charset=utf-8$/m);
  assert.match(head, /^Content-Transfer-Encoding: quoted-printable$/m);
  assert.equal(body, 'Hello Ada,\n\n- 2 =C3=97 MUG-STONEWARE\n');
});
