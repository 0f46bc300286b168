import { readFileSync } from 'node:fs';
import { z } from 'zod';

function portNumber() {
  return z.coerce.number({ error: 'expected a TCP port number' }).int('expected a TCP port number')
    .min(0, 'expected a TCP port number').max(65_535, 'expected a TCP port number');
}

/**
 * Reusable environment-variable types. Each one parses the string an environment gives and
 * says in its error what it wanted, without echoing the value.
 */
export const env = {
  port: (defaultPort: number) => portNumber().default(defaultPort),

  /** A TCP port with no default, for a port whose default depends on another variable. */
  portNumber: () => portNumber(),

  milliseconds: (defaultMs: number) =>
    z.coerce.number({ error: 'expected a whole number of milliseconds' })
      .int('expected a whole number of milliseconds').min(0, 'expected a whole number of milliseconds')
      .default(defaultMs),

  /** A process's scheduling niceness (0-19, as `nice` counts; 0 keeps the default): see `yieldTheCpu`. */
  niceness: (defaultValue: number) =>
    z.coerce.number({ error: 'expected a whole number from 0 to 19' }).int('expected a whole number from 0 to 19')
      .min(0, 'expected a whole number from 0 to 19').max(19, 'expected a whole number from 0 to 19').default(defaultValue),

  positiveInt: (defaultValue: number) =>
    z.coerce.number({ error: 'expected a positive whole number' }).int('expected a positive whole number')
      .positive('expected a positive whole number').default(defaultValue),

  boolean: (defaultValue: boolean) =>
    z.enum(['true', 'false', '1', '0'], { error: 'expected true or false' })
      .transform((v) => v === 'true' || v === '1').default(defaultValue),

  url: () => z.url({ error: 'expected a URL' }),

  /** A comma-separated list of base URLs: several instances of one upstream. */
  urlList: () =>
    z.string().transform((raw, ctx) => {
      const urls = raw.split(',').map((part) => part.trim()).filter((part) => part.length > 0);
      for (const url of urls) {
        if (!URL.canParse(url)) {
          ctx.addIssue({ code: 'custom', message: 'expected comma-separated URLs' });
          return z.NEVER;
        }
      }
      if (urls.length === 0) {
        ctx.addIssue({ code: 'custom', message: 'expected at least one URL' });
        return z.NEVER;
      }
      return urls;
    }),

  /**
   * A comma-separated list of IP addresses or CIDR ranges (`10.0.0.0/8, ::1`); empty for none.
   * Checked with zod's own IP and CIDR rules, so a typo is a start error, not a proxy trusted.
   */
  addressList: () =>
    z.string().default('').transform((raw, ctx) => {
      const entries = raw.split(',').map((part) => part.trim()).filter((part) => part.length > 0);
      const address = z.union([z.ipv4(), z.ipv6(), z.cidrv4(), z.cidrv6()]);
      for (const entry of entries) {
        if (!address.safeParse(entry).success) {
          ctx.addIssue({ code: 'custom', message: 'expected comma-separated IP addresses or CIDR ranges' });
          return z.NEVER;
        }
      }
      return entries;
    }),

  /** A JSON document checked against a schema (fault rules, for example). */
  json: <T extends z.ZodType>(schema: T) =>
    z.string().transform((raw, ctx) => {
      let value: unknown;
      try {
        value = JSON.parse(raw);
      } catch {
        ctx.addIssue({ code: 'custom', message: 'expected JSON' });
        return z.NEVER;
      }
      const result = schema.safeParse(value);
      if (!result.success) {
        ctx.addIssue({ code: 'custom', message: `expected JSON matching its schema: ${result.error.issues[0]?.message ?? 'invalid'}` });
        return z.NEVER;
      }
      return result.data as z.output<T>;
    }),

  /**
   * A secret kept in a file (a Kubernetes or Docker secret mounted as a file): the variable names
   * the file, the value is its text without a trailing newline. Read once, with the rest of the
   * config; an error says why the file could not be read, never what it holds.
   */
  secretFile: (minLength: number) =>
    z.string().transform((path, ctx) => {
      try {
        return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: `expected a readable file (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})` });
        return z.NEVER;
      }
    }).pipe(z.string().min(minLength, `expected a file of at least ${minLength} characters`)),

  logLevel: () =>
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
      error: 'expected one of fatal, error, warn, info, debug, trace, silent',
    }).default('info'),
};
