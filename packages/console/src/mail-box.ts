import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { simpleParser } from 'mailparser';

export interface MailSummary {
  /** The file's name under the mail folder: the message's id. */
  id: string;
  sentAt: string;
  to: string;
  subject: string;
}

export interface Mail extends MailSummary {
  from: string;
  text: string;
}

const mailFile = /^[A-Za-z0-9._@-]{1,200}\.eml$/;

/**
 * The emails notifications wrote under `npm start` (an `.eml` file each, in the var folder's
 * `mail/`), newest first, read with mailparser: what a shopper would have received.
 */
export function createMailBox(folder: string) {
  return {
    async list(limit: number): Promise<MailSummary[]> {
      const names = (await readdir(folder).catch(() => [] as string[])).filter((name) => mailFile.test(name));
      const dated = await Promise.all(names.map(async (name) => ({ name, mtimeMs: (await stat(join(folder, name)).catch(() => undefined))?.mtimeMs ?? 0 })));
      const newest = dated.sort((a, b) => b.mtimeMs - a.mtimeMs).slice(0, limit);
      return (await Promise.all(newest.map(({ name }) => this.read(name)))).filter((mail): mail is Mail => mail !== undefined)
        .map(({ id, sentAt, to, subject }) => ({ id, sentAt, to, subject }));
    },
    /** One message, or undefined when there is no such file (a name is never a path: it must be a file's name here). */
    async read(id: string): Promise<Mail | undefined> {
      if (!mailFile.test(id) || basename(id) !== id) return undefined;
      const bytes = await readFile(join(folder, id)).catch(() => undefined);
      if (bytes === undefined) return undefined;
      const parsed = await simpleParser(bytes);
      const addresses = (value: typeof parsed.to) => (value === undefined ? '' : (Array.isArray(value) ? value : [value]).map((a) => a.text).join(', '));
      return {
        id,
        sentAt: (parsed.date ?? new Date(0)).toISOString(),
        from: addresses(parsed.from),
        to: addresses(parsed.to),
        subject: parsed.subject ?? '',
        text: parsed.text ?? '',
      };
    },
  };
}

export type MailBox = ReturnType<typeof createMailBox>;
