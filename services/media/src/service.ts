import { fileURLToPath } from 'node:url';
import { createServiceTokenVerifier } from '@baton/kit/auth';
import { startConsuming, startPublishing } from '@baton/kit/messaging';
import { yieldTheCpu, type ServiceDefinition } from '@baton/kit/service';
import { catalogueHandlers } from './catalogue/catalogue-handlers.ts';
import type { Config } from './config.ts';
import { createRenderer } from './images/render-sizes.ts';
import { createMediaMetrics } from './media-metrics.ts';
import { registerImageRoutes } from './routes/image-routes.ts';
import type { BlobStore } from './store/blob-store.ts';
import { openFsStore } from './store/fs-store.ts';
import { thumbnailHandlers } from './thumbnails/thumbnail-worker.ts';

/** The blob store the config names: the S3 API with S3_URL, else the filesystem under MEDIA_DIR. */
async function openStore(config: Config): Promise<BlobStore> {
  if (config.S3_URL === undefined) return openFsStore(config.MEDIA_DIR);
  // AWS's SDK is loaded only for S3: it costs every process that loads it tens of megabytes.
  const { createS3Store } = await import('./store/s3-store.ts');
  return createS3Store({
    url: config.S3_URL, bucket: config.S3_BUCKET, region: config.S3_REGION,
    // The config refuses S3_URL without both (config.ts).
    accessKeyId: config.S3_ACCESS_KEY_ID!, secretAccessKey: config.S3_SECRET_ACCESS_KEY!,
  });
}

/**
 * The media service: product images, apart from checkout. Staff upload an image; it is streamed
 * into the blob store as it arrives and answered 202 once stored; its sizes are rendered out of
 * band by the thumbnail worker, from its `media.uploaded` event, and `media.ready` tells the
 * catalogue it can show it.
 */
export const mediaService: ServiceDefinition<Config> = {
  name: 'media',
  migrationsDir: fileURLToPath(new URL('../migrations/', import.meta.url)),
  async setup(app, context) {
    const { config, db, logger, metrics, onClose, createHttpClient } = context;
    await yieldTheCpu(config.PROCESS_NICENESS, logger);
    const store = await openStore(config);
    // Registered first, so it closes last: after the worker and the requests stopped using it.
    onClose(() => store.close());
    logger.info({ store: config.S3_URL === undefined ? 'filesystem' : 's3' }, config.S3_URL === undefined ? `keeping images under ${config.MEDIA_DIR}` : 'keeping images in S3');

    // media.uploaded for its thumbnail worker, media.ready for its catalogue worker: both its own.
    const { outbox, relay } = await startPublishing(app, context, { domain: 'media', readers: ['media'] });
    const renderer = createRenderer({ store, maxPixels: config.MAX_IMAGE_PIXELS, concurrency: config.RENDER_CONCURRENCY });
    const uploads = {
      db, store, events: { outbox, committed: () => relay.wake() }, maxBytes: config.MAX_UPLOAD_BYTES, maxPixels: config.MAX_IMAGE_PIXELS,
    };
    const inventory = createHttpClient({ name: 'inventory', urls: config.INVENTORY_URLS, timeoutMs: 2_000 });
    registerImageRoutes(app, {
      uploads,
      verifier: createServiceTokenVerifier(context, { ...config, usersUrls: config.USERS_URLS }),
      inventory,
      uploadIdleTimeoutMs: config.UPLOAD_IDLE_TIMEOUT_MS,
      uploadDeadlineMs: config.UPLOAD_DEADLINE_MS,
      metrics: createMediaMetrics({ registry: metrics.registry, db, renderer }),
    });

    // The workers: sizes rendered from media.uploaded, the catalogue told from media.ready.
    // Without a broker they read media's own feed. One delivery per transaction (a render takes
    // seconds), as many at once as renders run and one more, for the catalogue's short calls.
    await startConsuming(app, context, {
      subscription: 'media-workers',
      handlers: [...thumbnailHandlers(renderer, outbox), ...catalogueHandlers(inventory)],
      feedUrls: { media: config.MEDIA_URLS },
      maxBatch: 1,
      parallelBatches: config.RENDER_CONCURRENCY + 1,
      // Uploads are taken and images served with the workers stopped: their events wait in the outbox.
      essential: false,
    });
  },
};
