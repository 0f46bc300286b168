-- The product's images, as the media service tells of each once its sizes are rendered, in the
-- order they were uploaded (the first is the main picture): [{"id", "url", "width", "height",
-- "sizes": [{"size", "width", "height", "url"}]}]. Kept here so a catalogue read never waits on
-- media, and shows the pictures while media is down.
alter table products add column images jsonb not null default '[]' check (jsonb_typeof(images) = 'array');
-- image_urls (0006) was never written; it goes in a later migration, once no instance reads it.
