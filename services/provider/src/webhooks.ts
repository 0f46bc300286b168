import { createHmac } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Database } from '@baton/kit/db';
import type { Logger } from '@baton/kit/telemetry';

export interface WebhookOptions {
  url: string;
  secret: string;
  timeoutMs: number;
  maxDelayMs: number;
  /** How often due events are looked for. */
  pollMs?: number;
}

/**
 * Stripe's signature header: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` with the
 * endpoint's secret, which a receiver checks (Stripe's own libraries do) before it trusts a body.
 */
export function signatureOf(body: string, secret: string, nowSeconds = Math.floor(Date.now() / 1_000)): string {
  return `t=${nowSeconds},v1=${createHmac('sha256', secret).update(`${nowSeconds}.${body}`).digest('hex')}`;
}

interface EventRow { id: string; type: string; payload: { object: unknown }; created: Date; attempts: number; copies: number }

/**
 * Delivers the ledger's events to the webhook endpoint as Stripe does: each after a delay of
 * its own (so they arrive after the answers, and not in order), signed, some twice, and again
 * with a growing wait while the endpoint fails (up to a minute between tries). Runs until
 * `stop`; a delivery in flight is given up at once.
 */
export function startWebhookDelivery(db: Database, logger: Logger, options: WebhookOptions): { stop(): Promise<void> } {
  const controller = new AbortController();
  const { signal } = controller;
  const pollMs = options.pollMs ?? 50;

  async function deliver(event: EventRow): Promise<boolean> {
    const body = JSON.stringify({
      id: event.id, object: 'event', api_version: null, created: Math.floor(event.created.getTime() / 1_000), type: event.type,
      livemode: false, pending_webhooks: 1, data: event.payload,
    });
    try {
      const response = await fetch(options.url, {
        method: 'POST', body,
        headers: { 'content-type': 'application/json; charset=utf-8', 'stripe-signature': signatureOf(body, options.secret), 'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)' },
        signal: AbortSignal.any([signal, AbortSignal.timeout(options.timeoutMs)]),
      });
      await response.arrayBuffer();
      return response.ok;
    } catch (error) {
      if (!signal.aborted) logger.info({ event: event.id, err: error }, 'webhook delivery failed; it will be sent again');
      return false;
    }
  }

  const loop = (async () => {
    while (!signal.aborted) {
      try {
        const { rows } = await db.query<EventRow>(
          `select id, type, payload, created, attempts, copies from events
            where delivered_at is null and next_try_at <= now() order by next_try_at limit 20`, [], { signal });
        await Promise.all(rows.map(async (event) => {
          const delivered = await deliver(event);
          if (signal.aborted) return;
          const retryInMs = delivered ? Math.random() * options.maxDelayMs : Math.min(60_000, 250 * 2 ** event.attempts);
          await db.query(
            `update events set attempts = attempts + 1, copies = copies - $2,
                    delivered_at = case when copies - $2 = 0 then now() end,
                    next_try_at = now() + make_interval(secs => $3::double precision / 1000)
              where id = $1`,
            [event.id, delivered ? 1 : 0, retryInMs], { signal });
        }));
      } catch (error) {
        if (!signal.aborted) logger.warn({ err: error }, 'webhook delivery could not read its events');
      }
      await sleep(pollMs, undefined, { signal }).catch(() => undefined);
    }
  })();

  return {
    async stop() {
      controller.abort();
      await loop;
    },
  };
}
