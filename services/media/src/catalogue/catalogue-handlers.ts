import { mediaReady } from '@baton/contracts/events';
import type { HttpClient } from '@baton/kit/http';
import { on, type EventHandler } from '@baton/kit/messaging';
import { findImage } from '../images/image-records.ts';
import { imageView } from '../routes/image-views.ts';

/**
 * Tells the catalogue (inventory) of each image once it is ready, so a product read lists it
 * without asking media, and goes on listing it while media is down. From `media.ready`, through
 * the consumer: inventory down or slow fails the delivery, which is tried again later, so an
 * image reaches the catalogue however long inventory was away. Telling twice changes nothing.
 */
export function catalogueHandlers(inventory: HttpClient): Array<EventHandler<unknown>> {
  return [
    on(mediaReady, async (event, { tx, signal }) => {
      const row = await findImage(tx, event.data.imageId, { signal });
      // Its row and its event were written together: without the one there is no other.
      if (row === undefined) throw new Error(`image ${event.data.imageId} has an event and no row`);
      const { id, url, width, height, sizes } = imageView(row);
      await inventory.request({
        method: 'PUT',
        path: `/v1/products/${encodeURIComponent(row.sku)}/images/${id}`,
        body: { id, url, width, height, sizes },
        signal,
      });
    }),
  ];
}
