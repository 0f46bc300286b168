import { fileURLToPath } from 'node:url';
import { bearerTokenOf, createServiceTokenVerifier } from '@baton/kit/auth';
import { startConsuming } from '@baton/kit/messaging';
import { yieldTheCpu, type ServiceDefinition } from '@baton/kit/service';
import type { Config } from './config.ts';
import { createMailer } from './mail/mailer.ts';
import { notificationHandlers } from './notifications/handlers.ts';
import { registerNotificationRoutes } from './routes/notification-routes.ts';

/**
 * The notifications service: it consumes order, payment and user events, sends an email for each (SMTP,
 * or an .eml file by default), and lists a user's notifications.
 */
export const notificationsService: ServiceDefinition<Config> = {
  name: 'notifications',
  migrationsDir: fileURLToPath(new URL('../migrations/', import.meta.url)),
  async setup(app, context) {
    const { config, db, logger, onClose } = context;
    await yieldTheCpu(config.PROCESS_NICENESS, logger);
    const mailer = createMailer({
      smtpUrl: config.SMTP_URL,
      mailDir: config.MAIL_DIR,
      from: config.MAIL_FROM,
      timeoutMs: config.SMTP_TIMEOUT_MS,
    });
    // Registered first, so it closes last: after the consumer has stopped using it.
    onClose(() => mailer.close());
    logger.info({ mail: mailer.via }, mailer.via === 'smtp' ? 'sending email through SMTP' : 'writing email as .eml files');

    const verifier = createServiceTokenVerifier(context, { ...config, usersUrls: config.USERS_URLS });
    registerNotificationRoutes(app, {
      db,
      authenticate: async (request) => (await verifier.verify(bearerTokenOf(request.headers.authorization))).userId,
    });

    await startConsuming(app, context, {
      subscription: 'notifications',
      handlers: notificationHandlers(mailer, { payments: config.PAYMENT_URLS !== undefined }),
      feedUrls: { orders: config.ORDERS_URLS, users: config.USERS_URLS, payment: config.PAYMENT_URLS },
    });
  },
};
