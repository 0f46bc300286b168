import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { Code, KitError } from '../errors/index.ts';
import { codeFromHttpStatus } from '../errors/http-status.ts';
import { signalOf } from './request-signal.ts';

/**
 * One fault to inject: for a share of the requests to a route, add latency, answer with an
 * error status, or reset the connection. Off unless configured, so anyone can watch a breaker
 * open on a running system without touching code.
 */
export const faultRuleSchema = z.object({
  /**
   * A route template as registered (`/v1/products/:sku`), a gRPC method's path
   * (`/baton.inventory.v1.InventoryService/Reserve`), or `*` for every route and method.
   */
  route: z.string().min(1),
  method: z.string().transform((m) => m.toUpperCase()).optional(),
  percent: z.number().min(0).max(100).default(100),
  latencyMs: z.number().int().min(0).max(120_000).optional(),
  status: z.number().int().min(400).max(599).optional(),
  reset: z.boolean().optional(),
  /**
   * The work is done first, then its answer is held back by the latency (or, over HTTP, the
   * connection reset): the effect is real and its answer late or lost, as when a payment
   * provider charges and then times out. gRPC holds back latency only.
   */
  after: z.boolean().optional(),
}).strict().refine((rule) => rule.after !== true || rule.status === undefined, { path: ['status'], message: 'a rule that acts after the work cannot change its status: use latencyMs or reset' });

export const faultRulesSchema = z.array(faultRuleSchema).max(100);

export type FaultRule = z.output<typeof faultRuleSchema>;

/** The fault rules in force: set from `FAULTS` at start, replaced through `/admin/faults`. */
export interface FaultRules {
  readonly active: readonly FaultRule[];
  replace(rules: readonly FaultRule[]): void;
}

export function createFaultRules(initial: readonly FaultRule[] = []): FaultRules {
  let active = initial;
  return {
    get active() { return active; },
    replace(rules) { active = rules; },
  };
}

export interface FaultInjectionOptions {
  faults: FaultRules;
  random?: () => number;
}

function matches(rule: FaultRule, method: string, route: string): boolean {
  return (rule.route === '*' || rule.route === route) && (rule.method === undefined || rule.method === method);
}

/**
 * The rule a request meets, if any, its share drawn: the one place the HTTP and gRPC listeners
 * decide. `accept` narrows the rules looked at (the gRPC listener resets a stream before it is
 * read, and applies the other rules in an interceptor).
 */
export function drawFault(active: readonly FaultRule[], method: string, route: string, random: () => number, accept?: (rule: FaultRule) => boolean): FaultRule | undefined {
  const rule = active.find((r) => matches(r, method, route) && (accept === undefined || accept(r)));
  return rule === undefined || random() * 100 >= rule.percent ? undefined : rule;
}

/**
 * Waits a rule's latency, cut short when the signal fires, as real slow work that listens to its
 * signal is: a spent deadline throws its error (the caller gets the deadline's answer, naming
 * this service); for a caller that left, the waiting stops and this resolves false.
 */
export async function waitFaultLatency(rule: FaultRule, signal: AbortSignal): Promise<boolean> {
  if (rule.latencyMs === undefined) return true;
  try {
    await sleep(rule.latencyMs, undefined, { signal });
    return true;
  } catch {
    const reason = KitError.from(signal.reason);
    if (reason.code === Code.DeadlineExceeded) throw reason;
    return false;
  }
}

/** The error an error-status rule answers with, on either listener. */
export function injectedFaultError(status: number): KitError {
  return new KitError(codeFromHttpStatus(status), 'injected fault', { reason: 'injected_fault' });
}

/**
 * Applies the fault rules to matching requests of the service's public listener. The rules are
 * read and replaced at run time on the admin listener (`registerFaultRoutes`), never here.
 */
export function installFaultInjection(app: FastifyInstance, { faults, random = Math.random }: FaultInjectionOptions): void {
  // The requests whose answer an `after` rule holds back, once their work is done.
  const heldBack = new WeakMap<FastifyRequest, FaultRule>();
  // Callback style, so a service with no rules (every request of a real one) pays no promise;
  // a matching rule goes on in `applyFault`.
  app.addHook('onRequest', function injectFault(request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void) {
    const active = faults.active;
    const route = request.routeOptions.url;
    const rule = active.length === 0 || route === undefined ? undefined : drawFault(active, request.method, route, random);
    if (rule === undefined) {
      done();
      return;
    }
    if (rule.after === true) {
      heldBack.set(request, rule);
      done();
      return;
    }
    applyFault(request, rule).then((answered) => {
      // A reset connection is answered by nobody: the request goes no further.
      if (!answered) done();
    }, (error: unknown) => done(error as Error));
  });
  app.addHook('onSend', function holdBackAnswer(request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (error: Error | null, payload?: unknown) => void) {
    const rule = heldBack.get(request);
    if (rule === undefined) {
      done(null, payload);
      return;
    }
    heldBack.delete(request);
    request.log.warn({ fault: rule }, 'injecting a fault after the work');
    // The work is done whatever happens now: a caller that leaves only ends the wait.
    sleep(rule.latencyMs ?? 0, undefined, { signal: signalOf(request) }).catch(() => undefined).then(() => {
      if (rule.reset === true) request.raw.socket.destroy();
      done(null, payload);
    }, () => undefined);
  });
}

/** Applies a matching rule: its latency, then its reset or its status. True when the request must go no further. */
async function applyFault(request: FastifyRequest, rule: FaultRule): Promise<boolean> {
  request.log.warn({ fault: rule }, 'injecting a fault');
  if (!await waitFaultLatency(rule, signalOf(request))) return false;
  if (rule.reset) {
    request.raw.socket.destroy();
    return true;
  }
  if (rule.status !== undefined) throw injectedFaultError(rule.status);
  return false;
}

/**
 * `GET|PUT|DELETE /admin/faults` on the admin listener, behind its admin token (checked by the
 * listener for every `/admin/*` route): read, replace or clear the rules at run time.
 */
export function registerFaultRoutes(adminApp: FastifyInstance, faults: FaultRules): void {
  adminApp.get('/admin/faults', async function listFaults() {
    return { rules: faults.active };
  });

  adminApp.put('/admin/faults', async function replaceFaults(request) {
    const parsed = faultRulesSchema.safeParse((request.body as { rules?: unknown } | undefined)?.rules);
    if (!parsed.success) {
      throw new KitError(Code.InvalidArgument, 'the fault rules are not valid', {
        fields: parsed.error.issues.map((issue) => ({ field: ['body', 'rules', ...issue.path.map(String)].join('.'), message: issue.message })),
      });
    }
    faults.replace(parsed.data);
    request.log.warn({ rules: parsed.data }, 'fault rules replaced');
    return { rules: faults.active };
  });

  adminApp.delete('/admin/faults', async function clearFaults(request) {
    faults.replace([]);
    request.log.warn('fault rules cleared');
    return { rules: faults.active };
  });
}
