import { mediaReady, mediaUploaded } from '@baton/contracts/events';
import { Code, KitError } from '@baton/kit/errors';
import { on, type EventHandler, type Outbox } from '@baton/kit/messaging';
import { markFailed, markReady, originalKey } from '../images/image-records.ts';
import type { Renderer } from '../images/render-sizes.ts';

/**
 * The thumbnail worker: for each `media.uploaded`, renders the image's sizes into the store and
 * marks it ready, with `media.ready`, in the consumer's transaction (so the event and the row
 * change commit with the inbox entry, or none of them does). An image that cannot be rendered
 * (damaged past its header, or over the pixel limit) is marked failed for good: rendering it
 * again would fail again. Anything else (the store down, shutdown) fails the delivery, and the
 * consumer tries it again later; a render is all sizes or none, so doing it again is safe.
 */
export function thumbnailHandlers(renderer: Renderer, outbox: Outbox): Array<EventHandler<unknown>> {
  return [
    on(mediaUploaded, async (event, { tx, signal, logger }) => {
      const { imageId, sku } = event.data;
      let sizes;
      try {
        sizes = await renderer.render(imageId, originalKey(imageId), { signal });
      } catch (error) {
        const failure = KitError.from(error);
        if (failure.code !== Code.FailedPrecondition && failure.code !== Code.NotFound) throw error;
        logger.warn({ image_id: imageId, reason: failure.reason ?? failure.code }, 'image cannot be rendered; marked failed');
        await markFailed(tx, imageId, failure.reason ?? failure.code, { signal });
        return;
      }
      const readyAt = await markReady(tx, imageId, sizes.map(({ size, width, height, bytes, sha256 }) => ({ size, width, height, bytes, sha256 })), { signal });
      if (readyAt === undefined) return;
      await outbox.add(tx, mediaReady, { aggregateId: imageId, data: { imageId, sku, widths: sizes.map(({ size }) => size), readyAt: readyAt.toISOString() } }, { signal });
    }),
  ];
}
