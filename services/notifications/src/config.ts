import { loadConfig, serviceConfigFields, z } from '@baton/kit/config';

/** Every variable the notifications service reads, checked once at start. */
export const configSchema = z.object({
  ...serviceConfigFields({ name: 'notifications', port: 8084 }),
});

export type Config = z.output<typeof configSchema>;

export function readConfig(environment: Record<string, string | undefined> = process.env): Config {
  return loadConfig(configSchema, environment);
}
