import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { checkAdminToken } from '../auth/admin-token.ts';
import { Code, KitError } from '../errors/index.ts';
import { codeFromHttpStatus } from '../errors/http-status.ts';
import { signalOf } from './request-signal.ts';

/**
 * One fault to inject: for a share of the requests to a route, add latency, answer with an
 * error status, or reset the connection. Off unless configured, so anyone can watch a breaker
 * open on a running system without touching code.
 */
export const faultRuleSchema = z.object({
  /** A route template as registered (`/v1/products/:sku`), or `*` for every route. */
  route: z.string().min(1),
  method: z.string().transform((m) => m.toUpperCase()).optional(),
  percent: z.number().min(0).max(100).default(100),
  latencyMs: z.number().int().min(0).max(120_000).optional(),
  status: z.number().int().min(400).max(599).optional(),
  reset: z.boolean().optional(),
}).strict();

export const faultRulesSchema = z.array(faultRuleSchema).max(100);

export type FaultRule = z.output<typeof faultRuleSchema>;

export interface FaultInjectionOptions {
  rules?: readonly FaultRule[];
  /** Bearer token guarding `/admin/faults`; without one the admin endpoint does not exist. */
  adminToken?: string | undefined;
  random?: () => number;
}

const adminPath = '/admin/faults';

function matches(rule: FaultRule, method: string, route: string): boolean {
  return (rule.route === '*' || rule.route === route) && (rule.method === undefined || rule.method === method);
}

/**
 * Applies the fault rules to matching requests, and serves `GET|PUT|DELETE /admin/faults` to
 * read and replace them at run time when an admin token is configured.
 */
export function installFaultInjection(app: FastifyInstance, { rules = [], adminToken, random = Math.random }: FaultInjectionOptions = {}): void {
  let active: readonly FaultRule[] = rules;

  app.addHook('onRequest', async function injectFault(request: FastifyRequest, reply: FastifyReply) {
    if (active.length === 0) return;
    const route = request.routeOptions.url;
    if (route === undefined || route === adminPath) return;
    const rule = active.find((r) => matches(r, request.method, route));
    if (rule === undefined || random() * 100 >= rule.percent) return;
    request.log.warn({ fault: rule }, 'injecting a fault');
    if (rule.latencyMs !== undefined) {
      // The latency ends early at the request's deadline or when the caller goes away, as real
      // slow work that listens to its signal does: at the deadline the answer is a 504 naming
      // this service, and for a caller that left the waiting simply stops.
      const signal = signalOf(request);
      try {
        await sleep(rule.latencyMs, undefined, { signal });
      } catch {
        const reason = KitError.from(signal.reason);
        if (reason.code === Code.DeadlineExceeded) throw reason;
        return;
      }
    }
    if (rule.reset) {
      request.raw.socket.destroy();
      return reply;
    }
    if (rule.status !== undefined) {
      throw new KitError(codeFromHttpStatus(rule.status), 'injected fault', { reason: 'injected_fault' });
    }
    return;
  });

  if (adminToken === undefined) return;

  // Public to service identity: the admin token guards them (issue 17's admin listener moves them).
  const adminCallers = { callers: 'public' } as const;
  const authorize = async (request: FastifyRequest) => checkAdminToken(request.headers.authorization, adminToken);

  app.get(adminPath, { onRequest: authorize, config: adminCallers }, async function listFaults() {
    return { rules: active };
  });

  app.put(adminPath, { onRequest: authorize, config: adminCallers }, async function replaceFaults(request) {
    const parsed = faultRulesSchema.safeParse((request.body as { rules?: unknown } | undefined)?.rules);
    if (!parsed.success) {
      throw new KitError(Code.InvalidArgument, 'the fault rules are not valid', {
        fields: parsed.error.issues.map((issue) => ({ field: ['body', 'rules', ...issue.path.map(String)].join('.'), message: issue.message })),
      });
    }
    active = parsed.data;
    request.log.warn({ rules: active }, 'fault rules replaced');
    return { rules: active };
  });

  app.delete(adminPath, { onRequest: authorize, config: adminCallers }, async function clearFaults(request) {
    active = [];
    request.log.warn('fault rules cleared');
    return { rules: active };
  });
}
