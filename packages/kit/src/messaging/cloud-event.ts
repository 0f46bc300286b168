import { z } from 'zod';

/** The media type of an event sent whole, attributes and data together (CloudEvents structured mode). */
export const cloudEventContentType = 'application/cloudevents+json';

/**
 * An event as it travels: a CloudEvents 1.0 envelope in structured JSON mode.
 *
 * Besides the required attributes, Baton events always carry:
 * - `subject`: the aggregate the event is about (an order id, a user id);
 * - `subjectseq`: the event's place among that aggregate's events, from 1 (an extension
 *   attribute), so a consumer can apply them in order whatever the transport did to them;
 * - `dataschema`: the contract and its version (`urn:baton:event:order.created:1`);
 * - `traceparent` (and `tracestate` when there is one): the W3C trace context of the work
 *   that caused the event, so the trace goes on through the broker (CloudEvents' distributed
 *   tracing extension);
 * - `baggage` (when there is any): the W3C baggage of that work, an extension attribute, so
 *   what the request carried (a tenant, a test run's name) reaches the consumer too.
 */
export interface CloudEvent<T = unknown> {
  specversion: '1.0';
  id: string;
  source: string;
  type: string;
  subject: string;
  time: string;
  datacontenttype: 'application/json';
  dataschema: string;
  subjectseq: number;
  traceparent: string;
  tracestate?: string;
  baggage?: string;
  data: T;
}

/** The envelope's shape, checked on every event a consumer receives before anything else. */
export const cloudEventSchema = z.object({
  specversion: z.literal('1.0'),
  id: z.string().min(1).max(200),
  source: z.string().min(1).max(200),
  type: z.string().min(1).max(200),
  subject: z.string().min(1).max(200),
  time: z.string().min(1),
  datacontenttype: z.literal('application/json'),
  dataschema: z.string().min(1),
  subjectseq: z.number().int().min(1),
  traceparent: z.string(),
  tracestate: z.string().optional(),
  baggage: z.string().max(8_192).optional(),
  data: z.unknown(),
});

/** `urn:baton:event:<type>:<version>`: which contract, and which version of it, the data follows. */
export function dataschemaOf(type: string, version: number): string {
  return `urn:baton:event:${type}:${version}`;
}

/** The domain an event belongs to: its source's last path segment (`/baton/orders` → `orders`). */
export function domainOf(event: Pick<CloudEvent, 'source'>): string {
  return event.source.split('/').filter(Boolean).at(-1) ?? event.source;
}

/** The source URI-reference of a service's events. */
export function sourceOf(domain: string): string {
  return `/baton/${domain}`;
}

/** Parses a received body into an event envelope; throws (a poison message) when it is not one. */
export function parseCloudEvent(body: string | Uint8Array): CloudEvent {
  const text = typeof body === 'string' ? body : Buffer.from(body).toString('utf8');
  return cloudEventSchema.parse(JSON.parse(text)) as CloudEvent;
}
