import { databaseConfigFields, env, loadConfig, serviceConfigFields, serviceIdentityFields, z } from '@baton/kit/config';
import { messagingConfigFields } from '@baton/kit/messaging';

/** Every variable the payment service reads, checked once at start. */
export const configSchema = z.object({
  ...serviceConfigFields({ name: 'payment', port: 8085 }),
  /** Where orders calls it over gRPC. */
  GRPC_PORT: env.port(9085),
  ...serviceIdentityFields(),
  ...databaseConfigFields(),
  /** Where its events go: NATS_URL, AMQP_URL, or neither (its own HTTP feed); see docs/messaging.md. */
  ...messagingConfigFields(),
  /** The payment provider's API (the sandbox's, or Stripe's `https://api.stripe.com`). */
  PROVIDER_URL: env.url(),
  /** The provider's secret key (`sk_…`); in a file with PROVIDER_SECRET_KEY_FILE. */
  PROVIDER_SECRET_KEY: z.string().min(16, 'expected at least 16 characters'),
  /** The secret the provider signs its webhooks with (`whsec_…`); in a file with PROVIDER_WEBHOOK_SECRET_FILE. */
  PROVIDER_WEBHOOK_SECRET: z.string().min(16, 'expected at least 16 characters'),
  /** The longest one call to the provider may take; past it, its outcome is unknown until asked again. */
  PROVIDER_TIMEOUT_MS: env.milliseconds(3_000),
});

export type Config = z.output<typeof configSchema>;

export function readConfig(environment: Record<string, string | undefined> = process.env): Config {
  return loadConfig(configSchema, environment);
}
