// What one email costs notifications' file mailer (issue 18), step by step, in one process: the
// CPU (user + system, every thread: process.cpuUsage) and the wall time per message of composing
// a receipt with nodemailer's MailComposer, and of writing it as an .eml file the two ways the
// mailer could: fs/promises (writeFile then rename, each step a round trip through libuv's thread
// pool) and synchronously (writeFileSync then renameSync, what services/notifications writes).
// MAIL_WRITE_MESSAGES messages each (default 2000), after 200 unmeasured; the files go to new
// folders under the system's temporary one, removed at the end.
//
//   node bench/profile/mail-write.ts
import { randomUUID } from 'node:crypto';
import { renameSync, writeFileSync } from 'node:fs';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import MailComposer from 'nodemailer/lib/mail-composer';

const messages = Number(process.env.MAIL_WRITE_MESSAGES ?? 2_000);
const dir = await mkdtemp(join(tmpdir(), 'baton-mail-write-'));
const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};
const text = ['Hello Bench,', '', 'thank you for your order:', '', '  1 × Filter papers (FILTER-PAPER-100) at 4.90 EUR = 4.90 EUR', '',
  'Total: 4.90 EUR', `Order: ${randomUUID()}`].join('\r\n');
const compose = () => new MailComposer({
  from: 'Baton shop <shop@baton.invalid>', to: 'bench@example.com', subject: 'Your Baton order 12345678 is confirmed', text, messageId: `<${randomUUID()}@notifications.baton.invalid>`,
}).compile().build();

async function measure(label: string, step: () => unknown): Promise<void> {
  for (let i = 0; i < 200; i++) await step();
  const cpuBefore = cpuMs();
  const wallBefore = performance.now();
  for (let i = 0; i < messages; i++) await step();
  const perMessage = (ms: number) => `${((ms / messages) * 1000).toFixed(0).padStart(5)} µs`;
  console.log(`${label.padEnd(34)} CPU ${perMessage(cpuMs() - cpuBefore)}   wall ${perMessage(performance.now() - wallBefore)}   a message`);
}

try {
  const message = await compose();
  await measure('compose (MailComposer)', compose);
  // Each way three times, taking turns (the one that goes first swapping), each time into a new
  // folder: a folder's size changes the cost, and so does whatever the disk is doing.
  const ways: Array<[string, (folder: string) => () => unknown]> = [
    ['fs/promises', (folder) => async () => {
      const file = join(folder, `${randomUUID()}.eml`);
      await writeFile(`${file}.partial`, message);
      await rename(`${file}.partial`, file);
    }],
    ['synchronous', (folder) => () => {
      const file = join(folder, `${randomUUID()}.eml`);
      writeFileSync(`${file}.partial`, message);
      renameSync(`${file}.partial`, file);
    }],
  ];
  for (const turn of [1, 2, 3]) {
    for (const [name, step] of turn % 2 === 1 ? ways : [...ways].reverse()) {
      await measure(`write + rename, ${name} (${turn})`, step(await mkdtemp(join(dir, 'turn-'))));
    }
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
