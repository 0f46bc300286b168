import { serviceNames, type ServiceName } from './services.ts';

/** The services only a shop that takes payment runs. */
export const paymentServices: readonly ServiceName[] = ['payment', 'provider'];

/**
 * The shop without payment, for a stack that does not test it (and benchmarks measuring the
 * checkout path without it): every service but payment and the provider, orders told to place
 * orders unpaid (`CHECKOUT_PAYMENT=off`) and notifications to read no payment events (an empty
 * `PAYMENT_URLS` counts as unset). Merge `serviceEnv` into a stack's own.
 */
export function withoutPayment(): { services: ServiceName[]; serviceEnv: Partial<Record<ServiceName, NodeJS.ProcessEnv>> } {
  return {
    services: serviceNames.filter((name) => !paymentServices.includes(name)),
    serviceEnv: { orders: { CHECKOUT_PAYMENT: 'off' }, notifications: { PAYMENT_URLS: '' } },
  };
}
