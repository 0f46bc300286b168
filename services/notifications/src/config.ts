import { accessTokenConfigFields } from '@baton/kit/auth';
import { databaseConfigFields, env, loadConfig, serviceConfigFields, serviceIdentityFields, z } from '@baton/kit/config';
import { messagingConfigFields } from '@baton/kit/messaging';

/** Every variable the notifications service reads, checked once at start. */
export const configSchema = z.object({
  ...serviceConfigFields({ name: 'notifications', port: 8084 }),
  ...serviceIdentityFields(),
  ...databaseConfigFields(),
  /** Where events come from: NATS_URL, AMQP_URL, or neither (the publishers' HTTP feeds); see docs/messaging.md. */
  ...messagingConfigFields(),
  /** The users instances: their JWKS verifies tokens, and without a broker their feed brings user events. */
  USERS_URLS: env.urlList(),
  /** The orders instances, whose feed brings order events when no broker is configured. */
  ORDERS_URLS: env.urlList().optional(),
  /**
   * The payment instances, where the shop takes payment: receipts and refund emails are sent for
   * its events (read from its feed when no broker is configured). Unset: none are.
   */
  PAYMENT_URLS: env.urlList().optional(),
  /** USERS_JWKS_URL, TOKEN_*: how access tokens are checked (the kit's, with `notifications` as the audience). */
  ...accessTokenConfigFields({ audience: 'notifications' }),
  /** `smtp://user:password@host:587`: send email there. Unset: each message is written as an .eml file under MAIL_DIR. */
  SMTP_URL: env.url().optional(),
  /** Where messages are written when there is no SMTP_URL (relative to the working directory). */
  MAIL_DIR: z.string().min(1).default('var/mail'),
  /** The sender of every message. */
  MAIL_FROM: z.string().min(3).default('Baton shop <shop@baton.invalid>'),
  /** The longest one message may take to send before the attempt counts as failed. */
  SMTP_TIMEOUT_MS: env.milliseconds(10_000),
  /**
   * The process's scheduling niceness (0-19, as `nice` counts): with the CPU contended, the
   * kernel gives the emails what checkout's processes leave, so an email waits a little rather
   * than an order. 0 keeps the default.
   */
  PROCESS_NICENESS: env.niceness(10),
});

export type Config = z.output<typeof configSchema>;

export function readConfig(environment: Record<string, string | undefined> = process.env): Config {
  return loadConfig(configSchema, environment);
}
