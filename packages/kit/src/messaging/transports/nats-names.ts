// The names alone, apart from nats-connection.ts: the barrel exports them, and importing them
// must not load nats.js into a service that publishes without a broker.
export interface NatsNames {
  /** The stream of a domain's events: `<namespace>_<domain>`. */
  stream(domain: string): string;
  /** The subject an event travels on: `<namespace>.<domain>.<type>`. */
  subject(domain: string, type: string): string;
  /** Every subject of a domain: `<namespace>.<domain>.>`. */
  domainSubjects(domain: string): string;
  deadLetterStream: string;
  deadLetterSubject(subscription: string, type: string): string;
}

/** Every name a namespace uses, so two test runs (or two shops) on one server never meet. */
export function natsNames(namespace: string): NatsNames {
  return {
    stream: (domain) => `${namespace}_${domain}`,
    subject: (domain, type) => `${namespace}.${domain}.${type}`,
    domainSubjects: (domain) => `${namespace}.${domain}.>`,
    deadLetterStream: `${namespace}_dead_letters`,
    deadLetterSubject: (subscription, type) => `${namespace}.dead-letters.${subscription}.${type}`,
  };
}
