import { accessTokenConfigFields } from '@baton/kit/auth';
import { databaseConfigFields, env, loadConfig, serviceConfigFields, serviceIdentityFields, z } from '@baton/kit/config';
import { messagingConfigFields } from '@baton/kit/messaging';

/** Every variable the media service reads, checked once at start. */
export const configSchema = z.object({
  ...serviceConfigFields({ name: 'media', port: 8086 }),
  ...serviceIdentityFields(),
  ...databaseConfigFields(),
  /**
   * Where its events go and come from: NATS_URL, AMQP_URL, or neither (its own HTTP feed, which
   * its thumbnail worker reads too); see docs/messaging.md.
   */
  ...messagingConfigFields(),
  /** The users instances: their JWKS verifies staff's tokens. */
  USERS_URLS: env.urlList(),
  /** USERS_JWKS_URL, TOKEN_*: how access tokens are checked (the kit's, with `media` as the audience). */
  ...accessTokenConfigFields({ audience: 'media' }),
  /** The inventory instances: an image is taken only for a product the catalogue has, and the catalogue is told of it once ready. */
  INVENTORY_URLS: env.urlList(),
  /** Its own instances: without a broker, its workers read its event feed there. */
  MEDIA_URLS: env.urlList().optional(),
  /** The largest upload taken; past it, 413 as soon as the bytes say so (50 MiB). */
  MAX_UPLOAD_BYTES: env.positiveInt(50 * 1024 * 1024),
  /** An upload whose bytes stop arriving for this long is cut off (408), whatever its size. */
  UPLOAD_IDLE_TIMEOUT_MS: env.positiveInt(30_000),
  /** The longest a whole upload may take, however steadily its bytes arrive. */
  UPLOAD_DEADLINE_MS: env.positiveInt(600_000),
  /** Images with more pixels are refused (422 `image_too_large`): the guard against decompression bombs. */
  MAX_IMAGE_PIXELS: env.positiveInt(50_000_000),
  /** Sizes rendered at once, one libvips thread each: the rest of the CPU stays checkout's. */
  RENDER_CONCURRENCY: env.positiveInt(1),
  /**
   * The process's scheduling niceness (0-19, as `nice` counts): with the CPU contended, the
   * kernel gives media's renders and uploads what checkout's processes leave. 0 keeps the default.
   */
  PROCESS_NICENESS: env.niceness(10),
  /** Where the filesystem store keeps the bytes, when there is no S3_URL (relative to the working directory). */
  MEDIA_DIR: z.string().min(1).default('var/media'),
  /** An S3 API (`https://s3.eu-west-1.amazonaws.com`, or a server of its kind): the bytes go there instead. */
  S3_URL: env.url().optional(),
  S3_BUCKET: z.string().min(3).default('baton-media'),
  S3_REGION: z.string().min(1).default('us-east-1'),
  /** The S3 credentials; in files with S3_ACCESS_KEY_ID_FILE and S3_SECRET_ACCESS_KEY_FILE. */
  S3_ACCESS_KEY_ID: z.string().min(1).optional(),
  S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
}).refine((config) => config.S3_URL === undefined || (config.S3_ACCESS_KEY_ID !== undefined && config.S3_SECRET_ACCESS_KEY !== undefined), {
  path: ['S3_ACCESS_KEY_ID'], message: 'expected S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY with S3_URL',
});

export type Config = z.output<typeof configSchema>;

export function readConfig(environment: Record<string, string | undefined> = process.env): Config {
  return loadConfig(configSchema, environment);
}
