import { renameSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import MailComposer from 'nodemailer/lib/mail-composer';
import { z } from '@baton/kit/config';
import { Code, KitError } from '@baton/kit/errors';

/**
 * A message's key is the id of the event that caused it, and it becomes a file name under
 * MAIL_DIR. Event ids come from other services (and, on a broker, from whoever can publish to
 * it), so only a UUID is taken: no `/`, `..`, NUL or over-long name can reach the file system.
 */
const messageKey = z.uuid();

/** The key, if it can name a file; else an error that dead-letters the event (it can never succeed). */
export function checkedMessageKey(key: string): string {
  const checked = messageKey.safeParse(key);
  if (!checked.success) {
    throw new KitError(Code.InvalidArgument, 'the message key is not a UUID', { reason: 'invalid_event', fields: [{ field: 'id', message: 'expected a UUID' }] });
  }
  return checked.data;
}

export interface OutgoingMessage {
  /** Stable for a given event, so a message sent twice (a crash between sending and committing) can be recognised. */
  messageId: string;
  /** Names the .eml file: a second write of the same message replaces the first. A UUID, else `send` refuses it. */
  key: string;
  to: string;
  subject: string;
  text: string;
}

export interface Mailer {
  readonly via: 'smtp' | 'file';
  send(message: OutgoingMessage): Promise<void>;
  close(): void;
}

/**
 * Email through SMTP (nodemailer) when `smtpUrl` is set, else each message as an .eml file under
 * `mailDir`, named by its key and written whole (to a temporary name, then renamed), so a reader
 * never sees half a message and a message written again replaces itself. A file holds the message
 * as SMTP would carry it (RFC 5322, CRLF line ends), which any mail program opens.
 */
export function createMailer({ smtpUrl, mailDir, from, timeoutMs }: { smtpUrl?: string | undefined; mailDir: string; from: string; timeoutMs: number }): Mailer {
  if (smtpUrl !== undefined) {
    const transport = nodemailer.createTransport({
      url: smtpUrl, connectionTimeout: timeoutMs, greetingTimeout: timeoutMs, socketTimeout: timeoutMs,
    });
    return {
      via: 'smtp',
      async send({ messageId, to, subject, text }) {
        try {
          await transport.sendMail({ from, to, subject, text, messageId });
        } catch (error) {
          // The server's answer (550 mailbox unavailable, say) stays in the cause, for the dead letter.
          throw new KitError(Code.Unavailable, 'the SMTP server did not take the message', { cause: error });
        }
      },
      close: () => transport.close(),
    };
  }
  let created: Promise<unknown> | undefined;
  return {
    via: 'file',
    async send({ messageId, key, to, subject, text }) {
      const file = join(mailDir, `${checkedMessageKey(key)}.eml`);
      created ??= mkdir(mailDir, { recursive: true });
      await created;
      // nodemailer's composer itself, the message a transport would send, without a transport's
      // stream pipeline and plugins around it (a sixth of the CPU of each message, measured). Its
      // lines end in CRLF, as the message travels over SMTP and as mail programs write .eml files
      // (the text's own lines too, made so here: the composer keeps them as given). Its `newline`
      // option, Unix line ends, is one more stream in the pipeline, and took more than half of a
      // message's CPU (402 µs against 181, measured once with nodemailer 10 on Node 24).
      const crlfText = text.replace(/\r?\n/g, '\r\n');
      const message = await new MailComposer({ from, to, subject, text: crlfText, messageId }).compile().build();
      // Written synchronously, as pino writes its log lines: each step of the promise API (open,
      // write, close, rename) is a round trip through libuv's thread pool, and those cost more
      // than the kernel's work. `node bench/profile/mail-write.ts`, two runs here: 233-311 µs of
      // CPU a message this way, 454-644 µs through fs/promises. The loop waits that long (about
      // what composing the message takes); a disk that hangs stalls the process, and its
      // liveness probe (`/healthz`) then fails.
      const partial = `${file}.partial`;
      writeFileSync(partial, message);
      renameSync(partial, file);
    },
    close: () => {},
  };
}
