import { existsSync, readFileSync } from 'node:fs';
import { startService } from '@baton/kit/service';
import { createSilentLogger, testIdentity } from '@baton/kit/testing';
import { readConfig } from '../../services/gateway/src/config.ts';
import { gatewayService } from '../../services/gateway/src/service.ts';

/** `METHOD /route status`, as the gateway's answer record writes it (`:sku`, not `{sku}`). */
export type OperationStatus = string;

interface OpenApiDocument {
  paths: Record<string, Record<string, { responses?: Record<string, unknown> }>>;
}

/** The gateway's OpenAPI document, from a gateway started in this process for the purpose. */
export async function gatewayApiDocument(): Promise<OpenApiDocument> {
  // Nothing is called behind it: the document is built from the routes alone.
  const nowhere = 'http://127.0.0.1:9';
  const config = readConfig({
    ...testIdentity.env('gateway', []), HOST: '127.0.0.1', PORT: '0',
    USERS_URLS: nowhere, INVENTORY_URLS: nowhere, ORDERS_URLS: nowhere, NOTIFICATIONS_URLS: nowhere, USERS_JWKS_URL: `${nowhere}/.well-known/jwks.json`,
  });
  const gateway = await startService(gatewayService, config, { logger: createSilentLogger('gateway') });
  try {
    return await (await fetch(`${gateway.url}/api/v1/docs/json`)).json() as OpenApiDocument;
  } finally {
    await gateway.shutdown('document read');
  }
}

/** Each operation's documented statuses, in the answer record's form. */
export function documentedStatuses(document: OpenApiDocument): Set<OperationStatus> {
  const documented = new Set<OperationStatus>();
  for (const [path, operations] of Object.entries(document.paths)) {
    const route = path.replace(/\{(\w+)\}/g, ':$1');
    for (const [method, operation] of Object.entries(operations)) {
      for (const status of Object.keys(operation.responses ?? {})) documented.add(`${method.toUpperCase()} ${route} ${status}`);
    }
  }
  return documented;
}

/**
 * Holds what the run's gateways answered against the document: every status answered must be
 * documented for its operation, always; and when the whole suite ran (BATON_WHOLE_SUITE=true,
 * set by `npm test`), every documented status must have been answered by some test. A part of
 * the suite is not expected to produce them all. Says what it found on standard error, and sets
 * a failing exit code when either does not hold.
 */
export async function checkAnswerRecord(file: string): Promise<void> {
  // HEAD is GET without the body (RFC 9110 9.3.2): Fastify answers it on every GET route, and
  // the document lists the GET.
  const answered = new Set((existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : []).map((line) => line.replace(/^HEAD /, 'GET ')));
  const documented = documentedStatuses(await gatewayApiDocument());
  const undocumented = [...answered].filter((s) => !documented.has(s)).sort();
  const whole = process.env.BATON_WHOLE_SUITE === 'true';
  const unproduced = whole ? [...documented].filter((s) => !answered.has(s)).sort() : [];
  const say = (line: string) => process.stderr.write(`# API statuses: ${line}\n`);
  for (const s of undocumented) say(`answered but not in the OpenAPI document: ${s}`);
  for (const s of unproduced) say(`in the OpenAPI document but answered by no test: ${s}`);
  if (undocumented.length > 0 || unproduced.length > 0) {
    process.exitCode = 1;
    return;
  }
  say(whole
    ? `every one of the ${documented.size} documented operation statuses was answered in this run, and nothing undocumented`
    : `${answered.size} operation statuses answered, each documented (a part of the suite: not every documented status is expected)`);
}
