import type { z } from 'zod';

/**
 * One event type: its name, the version of its data's schema, the one service that publishes
 * it (its owner, also the domain it travels in) and the schema of its data. Consumers import
 * the same object, so publisher and consumers cannot drift apart.
 *
 * A change a consumer could misread (a field removed, renamed or retyped) is a new version,
 * published beside the old one until every consumer reads the new one.
 */
export interface EventDefinition<S extends z.ZodType> {
  type: string;
  version: number;
  domain: string;
  data: S;
}

export function defineEvent<S extends z.ZodType>(definition: EventDefinition<S>): EventDefinition<S> {
  return Object.freeze(definition);
}
