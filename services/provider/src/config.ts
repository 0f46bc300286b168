import { databaseConfigFields, env, loadConfig, serviceConfigFields, z } from '@baton/kit/config';

/**
 * Every variable the provider reads, checked once at start. It stands outside the shop, as
 * Stripe does: callers present its secret key, and it has no Baton service identity (it
 * neither signs nor checks service tokens). Each secret may be given in a file instead
 * (`SECRET_KEY_FILE`), as every variable may.
 */
export const configSchema = z.object({
  ...serviceConfigFields({ name: 'provider', port: 8087 }),
  ...databaseConfigFields(),
  /** The secret key callers send as `Authorization: Bearer <key>` (Stripe's `sk_test_…`). */
  SECRET_KEY: z.string().min(16, 'expected at least 16 characters'),
  /** Where outcomes are posted as Stripe-style events (`payment_intent.succeeded`, …); unset: none are sent. */
  WEBHOOK_URL: env.url().optional(),
  /** The secret that signs each delivery (`Stripe-Signature`); needed with WEBHOOK_URL. */
  WEBHOOK_SECRET: z.string().min(16, 'expected at least 16 characters').optional(),
  /** The share of events delivered twice, as Stripe may: a receiver must be idempotent. */
  WEBHOOK_DUPLICATE_PERCENT: z.coerce.number().min(0).max(100).default(10),
  /** The longest an event waits before it is sent (a random time up to this), so events come after answers, and out of order. */
  WEBHOOK_MAX_DELAY_MS: env.milliseconds(500),
  /** How long the endpoint has to answer a delivery before it counts as failed and is sent again. */
  WEBHOOK_TIMEOUT_MS: env.milliseconds(5_000),
}).superRefine((config, ctx) => {
  if (config.WEBHOOK_URL !== undefined && config.WEBHOOK_SECRET === undefined) {
    ctx.addIssue({ code: 'custom', path: ['WEBHOOK_SECRET'], message: 'required with WEBHOOK_URL' });
  }
});

export type Config = z.output<typeof configSchema>;

export function readConfig(environment: Record<string, string | undefined> = process.env): Config {
  return loadConfig(configSchema, environment);
}
