import type { ImageRow } from '../images/image-records.ts';

// Where the shop's one public entry, the gateway, serves an image's bytes: the URLs an image
// lists are the ones a browser fetches, not media's own.
const publicImagesPath = '/api/v1/images';

/** An image as the API shows it: what it is, where it stands, and the URLs of its bytes once ready. */
export function imageView(row: ImageRow) {
  const base = `${publicImagesPath}/${row.id}`;
  const ready = row.status === 'ready';
  return {
    id: row.id,
    sku: row.sku,
    status: row.status,
    contentType: row.content_type,
    bytes: Number(row.bytes),
    width: row.width,
    height: row.height,
    createdAt: row.created_at.toISOString(),
    readyAt: row.ready_at?.toISOString() ?? null,
    failure: row.failure,
    url: ready ? `${base}/original` : null,
    sizes: ready ? row.sizes.map(({ size, width, height }) => ({ size, width, height, url: `${base}/sizes/${size}` })) : [],
  };
}
