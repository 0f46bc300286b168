import { readFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { z } from 'zod';
import { KitError, problemContentType, toProblem } from '@baton/kit/errors';
import { createTraceStore, registerTraceCollector, type TraceStore } from '@baton/kit/telemetry/collector';
import type { ConsoleLogLine, ConsoleStack } from './console-stack.ts';
import { answerLocalPagesOnly } from './local-only.ts';
import { createLogHub, type LogFilter } from './log-hub.ts';
import { createMailBox, type MailBox } from './mail-box.ts';
import { startMetricsPoller, type MetricsPoller } from './metrics-poller.ts';
import { coresUsed, sampleProcess, type ProcessSample } from './process-sampler.ts';
import { registerChaosReportRoutes } from './chaos-reports.ts';
import { registerScenarioRoutes } from './scenario-runs.ts';
import type { RunOptions } from '@baton/chaos';

export interface ConsoleOptions {
  host: string;
  port: number;
  /** The service whose requests are people's (its root spans start a user's trace): the public entry. */
  entryService: string;
  /** How the named fault scenarios run (their windows, their load); the scenarios' defaults otherwise. */
  scenarioRuns?: RunOptions;
  /** Where `npm run chaos` writes its reports (`<var>/chaos`), to list and serve them. */
  chaosReports?: string;
}

export interface Console {
  /** `http://host:port`: the console's page, and where services send their spans (`/v1/traces`). */
  url: string;
  store: TraceStore;
  /** Every line the runner writes goes here too, for the console's log view. */
  log(line: ConsoleLogLine): void;
  /**
   * Shows a stack once it exists (the services need the console's URL before the stack is made),
   * and the folder notifications writes its emails to, if it runs.
   */
  attach(stack: ConsoleStack, options?: { mailFolder?: string | undefined }): void;
  close(): Promise<void>;
}

const webFiles: Record<string, { file: URL; type: string }> = {
  'console.js': { file: new URL('../web/console.js', import.meta.url), type: 'text/javascript; charset=utf-8' },
  'console.css': { file: new URL('../web/console.css', import.meta.url), type: 'text/css; charset=utf-8' },
  // Preact and htm in one ES module, as their package ships it: the page's components need no build.
  'preact-htm.js': { file: new URL(import.meta.resolve('htm/preact/standalone')), type: 'text/javascript; charset=utf-8' },
};
// freeze and thaw: SIGSTOP and SIGCONT, a process that hangs with its connections open (the fault a
// timeout exists for), and back.
const actions = ['start', 'stop', 'kill', 'restart', 'freeze', 'thaw'] as const;
const logQuery = z.object({
  service: z.string().max(64).optional(),
  level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).optional(),
  q: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(1_000).default(200),
});

/**
 * The console `npm start` serves (issue 22): the services and their processes, their logs, the
 * map of who calls whom with its breakers and retries, traces, and switches for faults, live
 * through server-sent events. It grew from the trace view and keeps its routes (`/v1/traces`,
 * `/traces`). For a developer's machine only: on loopback, answering its own pages only
 * (local-only.ts); the runner starts it, never a deployment.
 */
export async function startConsole({ host, port, entryService, scenarioRuns, chaosReports }: ConsoleOptions): Promise<Console> {
  const app: FastifyInstance = Fastify({ forceCloseConnections: true });
  let listeningPort = port;
  answerLocalPagesOnly(app, () => listeningPort);
  // What the API answers (the shop's processes, its shoppers' emails) is kept by no cache and read as JSON only.
  app.addHook('onSend', async function apiHeaders(request, reply, payload) {
    if (request.url.startsWith('/api/') && reply.getHeader('cache-control') === undefined) void reply.headers({ 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
    return payload;
  });
  // The collector's routes throw KitErrors (an unknown or expired trace, a bad query): answered
  // with their own status as a problem document, as the standalone collector does, not as a 500.
  app.setErrorHandler(async function answerKitErrors(error, request, reply) {
    if (!(error instanceof KitError)) throw error;
    const problem = toProblem(error, { instance: request.url.split('?')[0] ?? '/', requestId: request.id });
    return reply.code(problem.status).type(problemContentType).send(JSON.stringify(problem));
  });
  const store = registerTraceCollector(app, createTraceStore({ maxTraces: 1_000, maxBackgroundTraces: 300, isUserRoot: (root) => isPersonsRequest(root, entryService) }));
  const logs = createLogHub();
  let stack: ConsoleStack | undefined;
  let metrics: MetricsPoller | undefined;
  let mailBox: MailBox | undefined;
  const processes = new Map<string, { pid: number; before?: { at: number; sample: ProcessSample | undefined }; after?: { at: number; sample: ProcessSample | undefined } }>();
  const streams = new Set<ServerResponse>();

  // The console's own lines, in the log view beside the services'.
  const note = (text: string, level: 'info' | 'error') => logs.add({ service: 'console', text, record: { level, msg: text } });
  const runs = registerScenarioRoutes(app, () => stack, { ...(scenarioRuns === undefined ? {} : { runOptions: scenarioRuns }), log: note });
  if (chaosReports !== undefined) registerChaosReportRoutes(app, chaosReports);

  /** Everything the pages show, now. */
  async function state() {
    if (stack === undefined) return { at: new Date().toISOString(), services: [], edges: [], scenarios: runs.summary() };
    const current = stack;
    const figures = metrics?.figures() ?? { nodes: new Map(), edges: [] };
    const services = await Promise.all(current.services.map(async (name) => {
      const status = current.status(name);
      let seen = status.pid === undefined ? undefined : processes.get(name);
      if (status.pid !== undefined && seen?.pid !== status.pid) {
        seen = { pid: status.pid };
        processes.set(name, seen);
      }
      if (seen !== undefined) {
        seen.before = seen.after;
        seen.after = { at: performance.now(), sample: await sampleProcess(seen.pid) };
      }
      const cores = seen?.before === undefined || seen.after === undefined ? undefined : coresUsed(seen.before.sample, seen.after.sample, seen.after.at - seen.before.at);
      return {
        // The runner does not know a process was frozen; Linux does.
        name, url: current.url(name), state: seen?.after?.sample?.frozen === true ? 'frozen' : status.state, pid: status.pid, restarts: status.restarts,
        uptimeMs: seen?.after?.sample === undefined || status.state !== 'ready' ? undefined : Date.now() - seen.after.sample.startedAtMs,
        cores, rssBytes: seen?.after?.sample?.rssBytes,
        figures: figures.nodes.get(name),
      };
    }));
    return { at: new Date().toISOString(), services, edges: figures.edges, scenarios: runs.summary() };
  }

  // Each second, one state to every open page.
  const ticker = setInterval(() => {
    if (streams.size === 0) return;
    void state().then((snapshot) => {
      const event = `event: state\ndata: ${JSON.stringify(snapshot)}\n\n`;
      for (const stream of streams) stream.write(event);
    });
  }, 1_000);
  ticker.unref();

  const openStream = (reply: { hijack(): void; raw: ServerResponse }, onClose: () => void) => {
    reply.hijack();
    reply.raw.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
    reply.raw.write(': open\n\n');
    reply.raw.on('close', onClose);
    return reply.raw;
  };

  app.get('/', async (_request, reply) => reply.type('text/html; charset=utf-8').headers(pageHeaders).send(await readFile(new URL('../web/index.html', import.meta.url))));
  app.get<{ Params: { name: string } }>('/assets/:name', async (request, reply) => {
    // Own names only: `__proto__` or `constructor` are not files.
    const asset = Object.hasOwn(webFiles, request.params.name) ? webFiles[request.params.name] : undefined;
    if (asset === undefined) return reply.code(404).type('text/plain').send('no such file');
    return reply.type(asset.type).header('cache-control', 'no-cache').header('x-content-type-options', 'nosniff').send(await readFile(asset.file));
  });

  app.get('/api/state', async () => state());
  app.get('/api/history', async () => ({ services: metrics?.history() ?? {} }));
  app.get('/api/stream', async (_request, reply) => {
    const raw = openStream(reply, () => streams.delete(raw));
    streams.add(raw);
    raw.write(`event: state\ndata: ${JSON.stringify(await state())}\n\n`);
  });

  app.get('/api/logs', async (request, reply) => {
    const parsed = logQuery.safeParse(request.query);
    if (!parsed.success) return reply.code(400).send({ error: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') });
    return { lines: logs.last(filterOf(parsed.data), parsed.data.limit) };
  });
  app.get('/api/logs/stream', async (request, reply) => {
    const parsed = logQuery.safeParse(request.query);
    if (!parsed.success) return reply.code(400).send({ error: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') });
    const filter = filterOf(parsed.data);
    let unwatch = () => {};
    const raw = openStream(reply, () => unwatch());
    for (const line of logs.last(filter, parsed.data.limit)) raw.write(`event: line\ndata: ${JSON.stringify(line)}\n\n`);
    unwatch = logs.watch(filter, (line) => raw.write(`event: line\ndata: ${JSON.stringify(line)}\n\n`));
  });

  app.post<{ Params: { name: string; action: string } }>('/api/services/:name/:action', async (request, reply) => {
    const { name, action } = request.params;
    if (stack === undefined || !stack.services.includes(name)) return reply.code(404).send({ error: `no service ${name}` });
    if (!(actions as readonly string[]).includes(action)) return reply.code(404).send({ error: `no action ${action}: ${actions.join(', ')}` });
    const current = stack;
    // Answered at once: a start waits for readiness, which the page sees in the state it streams.
    const done = action === 'start' ? current.start(name) : action === 'stop' ? current.stop(name) : action === 'kill' ? current.kill(name)
      : action === 'freeze' ? current.kill(name, 'SIGSTOP') : action === 'thaw' ? current.kill(name, 'SIGCONT') : current.restart(name);
    done.catch((error: unknown) => note(`${action} ${name} failed: ${String(error)}`, 'error'));
    return reply.code(202).send({ accepted: `${action} ${name}` });
  });

  app.get('/api/mail', async () => ({ items: mailBox === undefined ? [] : await mailBox.list(100) }));
  app.get<{ Params: { id: string } }>('/api/mail/:id', async (request, reply) => {
    const mail = await mailBox?.read(request.params.id);
    return mail === undefined ? reply.code(404).send({ error: 'no such email' }) : mail;
  });

  /**
   * A call to a service's admin listener with its admin token, its answer passed on as it is; 503
   * when the service does not answer (stopped, frozen) within 5 s. The console's one way to it.
   */
  async function passToAdmin(reply: FastifyReply, name: string, method: 'GET' | 'PUT' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<FastifyReply> {
    if (stack === undefined || !stack.services.includes(name)) return reply.code(404).send({ error: `no service ${name}` });
    const answer = await fetch(new URL(path, stack.adminUrl(name)), {
      method,
      headers: { authorization: `Bearer ${stack.adminToken(name)}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(5_000),
    }).catch((error: unknown) => ({ status: 503, text: async () => JSON.stringify({ error: `${name} did not answer: ${(error as Error).message}` }) }));
    return reply.code(answer.status).type('application/json').send(await answer.text());
  }

  // The kit's fault switches on each service's admin listener.
  app.route<{ Params: { name: string } }>({
    method: ['GET', 'PUT', 'DELETE'],
    url: '/api/faults/:name',
    handler: async (request, reply) => passToAdmin(reply, request.params.name, request.method as 'GET' | 'PUT' | 'DELETE', '/admin/faults', request.method === 'PUT' ? request.body : undefined),
  });

  // A consumer's dead letters (the kit's messaging admin routes): the events it gave up on, and their redrive.
  app.get<{ Params: { name: string } }>('/api/dead-letters/:name', async (request, reply) => passToAdmin(reply, request.params.name, 'GET', '/admin/dead-letters?limit=100'));
  app.post<{ Params: { name: string; id: string } }>('/api/dead-letters/:name/:id/replay', async (request, reply) => {
    if (!/^[0-9]{1,19}$/.test(request.params.id)) return reply.code(404).send({ error: 'no such dead letter' });
    return passToAdmin(reply, request.params.name, 'POST', `/admin/dead-letters/${request.params.id}/replay`, {});
  });
  app.post<{ Params: { name: string } }>('/api/dead-letters/:name/replay', async (request, reply) => passToAdmin(reply, request.params.name, 'POST', '/admin/dead-letters/replay', {}));

  const url = await app.listen({ host, port });
  listeningPort = (app.server.address() as { port: number }).port;

  return {
    url,
    store,
    log: (line) => logs.add(line),
    attach(attached, { mailFolder } = {}) {
      stack = attached;
      metrics = startMetricsPoller(attached);
      if (mailFolder !== undefined) mailBox = createMailBox(mailFolder);
    },
    async close() {
      clearInterval(ticker);
      metrics?.stop();
      for (const stream of streams) stream.end();
      await app.close();
    },
  };
}

// The console's page: its own scripts and styles only, never framed.
const pageHeaders = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'cache-control': 'no-cache',
  'x-content-type-options': 'nosniff',
};

/**
 * Whether a trace's root is a request someone made: one the public entry served (it starts a
 * trace of its own for every request from outside), not its own polls (its client spans) nor
 * the platform's probes.
 */
export function isPersonsRequest(root: { service: string; kind: string; name: string }, entryService: string): boolean {
  return root.service === entryService && root.kind === 'server' && !/ \/(healthz|readyz)$/.test(root.name);
}

function filterOf(query: z.output<typeof logQuery>): LogFilter {
  return { service: query.service || undefined, level: query.level, text: query.q || undefined };
}
