import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { checkoutSteps } from '../checkout/checkout-store.ts';
import type { SagaObserver } from '../checkout/saga-observer.ts';

const crashBody = z.strictObject({ after: z.enum(checkoutSteps).nullable() });

/**
 * The crash fault, on the admin listener (its token required, loopback by default):
 * `PUT /admin/faults/checkout-crash {"after":"capturing"}` ends the orders process with SIGKILL
 * right after the next checkout writes that step; `{"after":null}` takes it back. For showing
 * that the reconciler brings every checkout a crash left to an end (test/e2e/checkout-crash.test.ts).
 */
export function registerCheckoutFaults(adminApp: FastifyInstance, observer: SagaObserver): void {
  adminApp.withTypeProvider<ZodTypeProvider>().put('/admin/faults/checkout-crash', { schema: { body: crashBody } }, async (request, reply) => {
    observer.crashAfter(request.body.after ?? undefined);
    request.log.warn({ after: request.body.after }, 'checkout crash fault set');
    return reply.code(204).send();
  });
}
