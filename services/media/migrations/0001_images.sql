-- One row per uploaded image of a product: its original is in the blob store under
-- `originals/<id>`, its sizes under `sizes/<id>/<width>.webp` once rendered. An image never
-- changes once stored (a new upload is a new id), so its SHA-256 is its ETag for good.
create table images (
  id            uuid primary key,
  sku           text not null check (length(sku) between 1 and 64),
  -- processing: the original is stored, its sizes are being rendered; ready: the catalogue shows
  -- it; failed: its sizes could not be rendered (the reason says why), and it is never shown.
  status        text not null check (status in ('processing', 'ready', 'failed')),
  content_type  text not null,
  bytes         bigint not null check (bytes > 0),
  sha256        text not null check (sha256 ~ '^[0-9a-f]{64}$'),
  width         integer not null check (width > 0),
  height        integer not null check (height > 0),
  -- The sizes rendered, once ready: [{"size": 320, "width": 320, "height": 240, "bytes": 9120, "sha256": "…"}].
  sizes         jsonb not null default '[]',
  failure       text,
  uploaded_by   text not null,
  created_at    timestamptz not null default now(),
  ready_at      timestamptz
);

-- A product's images, oldest first (the first is its main picture).
create index images_by_sku on images (sku, created_at, id);
-- The thumbnail queue: images still waiting for their sizes, oldest first (its depth and lag).
create index images_processing on images (created_at) where status = 'processing';
