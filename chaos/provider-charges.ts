import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import Stripe from 'stripe';
import type { ProviderCharge } from '@baton/chaos';

/**
 * The payment provider's side of the ledger, read as a merchant reads theirs: with Stripe's own
 * Node library, pointed at the shop's provider with the secret key the stack made for it, every
 * payment intent page after page, kept for the orders asked about.
 */
export function providerChargesOf({ varDir, providerUrl }: { varDir: string; providerUrl: string }): (orderIds: ReadonlySet<string>) => Promise<ProviderCharge[]> {
  let client: Stripe | undefined;
  return async (orderIds) => {
    if (client === undefined) {
      const key = (await readFile(join(varDir, 'secrets', 'provider-secret-key'), 'utf8')).trim();
      const { hostname, port } = new URL(providerUrl);
      client = new Stripe(key, { host: hostname, port: Number(port), protocol: 'http', maxNetworkRetries: 0, telemetry: false, timeout: 10_000 });
    }
    const charges: ProviderCharge[] = [];
    for await (const intent of client.paymentIntents.list({ limit: 100, expand: ['data.latest_charge'] })) {
      const orderId = intent.metadata.order_id;
      if (orderId === undefined || !orderIds.has(orderId)) continue;
      const charge = typeof intent.latest_charge === 'object' && intent.latest_charge !== null ? intent.latest_charge : undefined;
      charges.push({ orderId, status: intent.status, receivedCents: intent.amount_received, refundedCents: charge?.amount_refunded ?? 0 });
    }
    return charges;
  };
}
