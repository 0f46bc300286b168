// The names alone, apart from rabbitmq-connection.ts: the barrel exports them, and importing
// them must not load amqplib into a service that publishes without a broker.
export interface RabbitNames {
  /** A domain's topic exchange: `<namespace>.<domain>`, routing key = event type. */
  exchange(domain: string): string;
  /** A subscription's quorum queue for one domain: `<namespace>.<subscription>.<domain>`. */
  queue(subscription: string, domain: string): string;
  deadLetterExchange: string;
  deadLetterQueue(subscription: string): string;
}

export function rabbitNames(namespace: string): RabbitNames {
  return {
    exchange: (domain) => `${namespace}.${domain}`,
    queue: (subscription, domain) => `${namespace}.${subscription}.${domain}`,
    deadLetterExchange: `${namespace}.dead-letters`,
    deadLetterQueue: (subscription) => `${namespace}.${subscription}.dead-letters`,
  };
}
