import { styleText } from 'node:util';
import { runnerLogLine, type LogLine } from './log-line.ts';
import { specOf, type ServiceName } from './services.ts';

export interface ReadyService {
  name: ServiceName;
  url: string;
  /** Its admin listener: `/metrics`, and `/admin/*` with its admin token. */
  adminUrl: string;
}

/** Where the banner says metrics and admin routes are, and how to get a service's admin token. */
const adminNote = 'admin: /metrics, and /admin/* with Authorization: Bearer <token>; each service has its own token, random each start unless <NAME>_ADMIN_TOKEN sets it';

/** Where the stack's PostgreSQL is, with no credentials. */
export interface ReadyDatabase {
  location: string;
  kind: 'embedded' | 'external';
  /** What each service's database and role are named with: `baton_` → `baton_orders`. */
  prefix: string;
}

function describeDatabase({ kind, prefix }: ReadyDatabase): string {
  return `${kind === 'embedded' ? 'PostgreSQL, embedded' : 'your PostgreSQL'}: a database and a role per service that keeps data (${prefix}<service>)`;
}

/** The public entry first, then the others in list order. */
function entryFirst(services: readonly ReadyService[]): ReadyService[] {
  return [...services].sort((a, b) => Number(specOf(b.name).entry === true) - Number(specOf(a.name).entry === true));
}

/**
 * The "ready" block as JSON log lines: one `{"event":"ready","name":…,"url":…,"admin_url":…}` line a service
 * (message `ready <name> <url>`), the public entry first, then one `{"event":"baton_ready"}`
 * line whose message is `Baton is ready: <url> …`. Tests and scripts wait for these.
 */
export function readyLines(services: readonly ReadyService[], { consoleUrl, tracesUrl, database }: { consoleUrl?: string | undefined; tracesUrl?: string | undefined; database?: ReadyDatabase | undefined } = {}): LogLine[] {
  const ordered = entryFirst(services);
  const entryUrl = ordered[0]?.url ?? '';
  return [
    ...ordered.map(({ name, url, adminUrl }) => runnerLogLine('info', `ready ${name} ${url}`, {
      event: 'ready', name, url, admin_url: adminUrl, entry: specOf(name).entry === true,
    })),
    ...(consoleUrl === undefined ? [] : [runnerLogLine('info', `console ${consoleUrl}`, { event: 'console', url: consoleUrl })]),
    ...(tracesUrl === undefined ? [] : [runnerLogLine('info', `traces ${tracesUrl}`, { event: 'traces', url: tracesUrl })]),
    ...(database === undefined ? [] : [runnerLogLine('info', `database ${database.location}`, { event: 'database', url: database.location, kind: database.kind })]),
    runnerLogLine('info', `Baton is ready: ${entryUrl} (press Ctrl-C to stop)`, {
      event: 'baton_ready', url: entryUrl, services: Object.fromEntries(ordered.map(({ name, url }) => [name, url])),
    }),
  ];
}

/** The same block for a person at a terminal. */
export function readyBanner(services: readonly ReadyService[], { colors = false, varDir, consoleUrl, tracesUrl, database }: { colors?: boolean; varDir: string; consoleUrl?: string | undefined; tracesUrl?: string | undefined; database?: ReadyDatabase | undefined }): string {
  const ordered = entryFirst(services);
  const entryUrl = ordered[0]?.url ?? '';
  const paint = (style: Parameters<typeof styleText>[0], text: string) => (colors ? styleText(style, text, { validateStream: false }) : text);
  const width = Math.max(...ordered.map(({ name }) => name.length)) + 2;
  const rows = ordered.map(({ name, url, adminUrl }) => {
    const note = specOf(name).entry === true ? paint('dim', '  public entry: the shop at /, the API at /api/v1 (docs /api/v1/docs)') : '';
    return `    ${name.padEnd(width)}${paint('cyan', url)}  ${paint('dim', 'admin')} ${paint('cyan', adminUrl)}${note}`;
  });
  return [
    '',
    `  ${paint('bold', 'Baton is ready:')} ${paint(['bold', 'green'], entryUrl)}`,
    '',
    ...rows,
    ...(consoleUrl === undefined ? [] : [`    ${'console'.padEnd(width)}${paint('cyan', consoleUrl)}${paint('dim', '  the services, their logs, calls, traces and fault switches, live')}`]),
    ...(tracesUrl === undefined ? [] : [`    ${'traces'.padEnd(width)}${paint('cyan', tracesUrl)}${paint('dim', '  recent traces as JSON; /traces/<trace id> for one')}`]),
    ...(database === undefined ? [] : [`    ${'database'.padEnd(width)}${paint('cyan', database.location)}${paint('dim', `  ${describeDatabase(database)}`)}`]),
    '',
    `  ${paint('dim', adminNote)}`,
    `  Data in ${varDir}. Press Ctrl-C to stop.`,
    '',
    '',
  ].join('\n');
}
