import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import MailComposer from 'nodemailer/lib/mail-composer';
import { createMailBox } from './mail-box.ts';

/** An .eml file as notifications writes one (nodemailer's MailComposer). */
async function eml(folder: string, name: string, subject: string, text: string, sentAtSeconds: number): Promise<void> {
  const bytes = await new MailComposer({ from: 'Baton <shop@baton.invalid>', to: 'ada@example.com', subject, text, date: new Date(sentAtSeconds * 1000) }).compile().build();
  await writeFile(join(folder, name), bytes);
  await utimes(join(folder, name), sentAtSeconds, sentAtSeconds);
}

void test('lists the emails newest first and opens one as its recipient reads it; a name that is not a file there is nothing', async (t) => {
  const folder = await mkdtemp(join(tmpdir(), 'baton-mail-'));
  t.after(() => rm(folder, { recursive: true, force: true }));
  await eml(folder, 'a1@baton.invalid.eml', 'Welcome to Baton', 'Hello Ada,\n\nwelcome.', 1_800_000_000);
  await eml(folder, 'b2@baton.invalid.eml', 'Your order × 2 is confirmed', 'Hello Ada,\n\n- 2 × MUG\n', 1_800_000_100);
  await writeFile(join(folder, 'notes.txt'), 'not an email');
  const box = createMailBox(folder);

  assert.deepEqual((await box.list(10)).map((m) => [m.id, m.subject, m.to]), [
    ['b2@baton.invalid.eml', 'Your order × 2 is confirmed', 'ada@example.com'],
    ['a1@baton.invalid.eml', 'Welcome to Baton', 'ada@example.com'],
  ]);
  assert.equal((await box.list(1)).length, 1);
  const mail = await box.read('b2@baton.invalid.eml');
  assert.equal(mail?.from, '"Baton" <shop@baton.invalid>');
  assert.equal(mail?.sentAt, new Date(1_800_000_100_000).toISOString());
  assert.match(mail?.text ?? '', /2 × MUG/);
  for (const name of ['../b2@baton.invalid.eml', 'notes.txt', 'missing.eml', '/etc/passwd']) assert.equal(await box.read(name), undefined, name);
  assert.deepEqual(await createMailBox(join(folder, 'none')).list(10), [], 'no folder yet: no email');
});
