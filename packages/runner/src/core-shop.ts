import { serviceNames, type ServiceName } from './services.ts';

/** The services only a shop that takes payment runs. */
export const paymentServices: readonly ServiceName[] = ['payment', 'provider'];

/** The services only a shop with product images runs. */
export const mediaServices: readonly ServiceName[] = ['media'];

/**
 * The shop without payment and without media, for a stack that tests neither (and benchmarks
 * measuring the checkout path without them): every other service, orders told to place orders
 * unpaid (`CHECKOUT_PAYMENT=off`) and notifications to read no payment events (an empty
 * `PAYMENT_URLS` counts as unset). Nothing else needs media: the gateway answers an image's
 * routes 503 without it, and the catalogue lists the images inventory was told of. Merge
 * `serviceEnv` into a stack's own.
 */
export function withoutPaymentOrMedia(): { services: ServiceName[]; serviceEnv: Partial<Record<ServiceName, NodeJS.ProcessEnv>> } {
  return {
    services: serviceNames.filter((name) => !paymentServices.includes(name) && !mediaServices.includes(name)),
    serviceEnv: { orders: { CHECKOUT_PAYMENT: 'off' }, notifications: { PAYMENT_URLS: '' } },
  };
}
