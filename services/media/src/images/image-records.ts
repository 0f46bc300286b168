import type { Queryable, QueryOptions } from '@baton/kit/db';

export type ImageStatus = 'processing' | 'ready' | 'failed';

/** A rendered size, as the image's row keeps it. */
export interface SizeRecord {
  /** Its name, the width it was asked for (320, 640, 1280): its URL's. */
  size: number;
  width: number;
  height: number;
  bytes: number;
  sha256: string;
}

export interface ImageRow {
  id: string;
  sku: string;
  status: ImageStatus;
  content_type: string;
  bytes: string;
  sha256: string;
  width: number;
  height: number;
  sizes: SizeRecord[];
  failure: string | null;
  uploaded_by: string;
  created_at: Date;
  ready_at: Date | null;
}

export interface NewImage {
  id: string;
  sku: string;
  contentType: string;
  bytes: number;
  sha256: string;
  width: number;
  height: number;
  uploadedBy: string;
}

const columns = 'id, sku, status, content_type, bytes, sha256, width, height, sizes, failure, uploaded_by, created_at, ready_at';

/** The key of an image's original in the blob store. */
export const originalKey = (imageId: string) => `originals/${imageId}`;

export async function insertImage(tx: Queryable, image: NewImage, options: QueryOptions): Promise<ImageRow> {
  const { rows } = await tx.query<ImageRow>(
    `insert into images (id, sku, status, content_type, bytes, sha256, width, height, uploaded_by)
     values ($1, $2, 'processing', $3, $4, $5, $6, $7, $8) returning ${columns}`,
    [image.id, image.sku, image.contentType, image.bytes, image.sha256, image.width, image.height, image.uploadedBy], options);
  return rows[0]!;
}

export async function findImage(db: Queryable, id: string, options: QueryOptions): Promise<ImageRow | undefined> {
  const { rows } = await db.query<ImageRow>(`select ${columns} from images where id = $1`, [id], options);
  return rows[0];
}

/** A product's images the catalogue shows (ready), oldest first: the first is its main picture. */
export async function listReadyImages(db: Queryable, sku: string, options: QueryOptions & { limit: number }): Promise<ImageRow[]> {
  const { rows } = await db.query<ImageRow>(
    `select ${columns} from images where sku = $1 and status = 'ready' order by created_at, id limit $2`, [sku, options.limit], options);
  return rows;
}

/*
 * An image still processing, made ready or failed, is found by its id alone: `is not distinct
 * from` (status is never null, so it means `=`) keeps the render queue's partial index
 * (`images_processing`: `status = 'processing'`, by age) out of reach. With `status =
 * 'processing'`, the generic plan PostgreSQL keeps for these prepared statements, made on a new
 * shop's empty tables, went through that index and read every image waiting for its sizes on
 * each one finished, as many as a rush of uploads leaves queued (`test/image-plans.test.ts`;
 * inventory's confirm had the same, bench/README.md).
 */
export const markReadyStatement = `update images set status = 'ready', sizes = $2, ready_at = now()
  where id = $1 and status is not distinct from 'processing' returning ready_at`;
export const markFailedStatement = `update images set status = 'failed', failure = $2 where id = $1 and status is not distinct from 'processing'`;

/**
 * Marks an image ready with its sizes, if it is still processing: false when it was not (a
 * second delivery of its event, after the first was applied), so its event is not written twice.
 */
export async function markReady(tx: Queryable, id: string, sizes: readonly SizeRecord[], options: QueryOptions): Promise<Date | undefined> {
  const { rows } = await tx.query<{ ready_at: Date }>(markReadyStatement, [id, JSON.stringify(sizes)], options);
  return rows[0]?.ready_at;
}

/** Marks an image failed, for good: its original cannot be rendered (the reason says why). */
export async function markFailed(tx: Queryable, id: string, reason: string, options: QueryOptions): Promise<void> {
  await tx.query(markFailedStatement, [id, reason], options);
}

/** The thumbnail queue: images waiting for their sizes, and how long the oldest has waited. */
export async function renderQueue(db: Queryable, options: QueryOptions): Promise<{ depth: number; oldestAgeSeconds: number }> {
  const { rows } = await db.query<{ depth: string; oldest_age_seconds: number | null }>(
    `select count(*) as depth, extract(epoch from now() - min(created_at))::float8 as oldest_age_seconds from images where status = 'processing'`, [], options);
  return { depth: Number(rows[0]?.depth ?? 0), oldestAgeSeconds: rows[0]?.oldest_age_seconds ?? 0 };
}
