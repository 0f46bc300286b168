/**
 * What the kit needs of an event type: its name, the version of its data's schema, the domain
 * that owns (publishes) it, and a parser for its data. The definitions themselves live in
 * `contracts/events`, one owner per type; this shape is restated here so the kit does not
 * depend on the contracts package.
 */
export interface EventContract<T> {
  type: string;
  version: number;
  /** The one service that publishes this type; also the domain (stream, exchange) it travels in. */
  domain: string;
  data: { parse(value: unknown): T };
}

/** The data type an event contract describes. */
export type EventData<C> = C extends EventContract<infer T> ? T : never;
