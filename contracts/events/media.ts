import { z } from 'zod';
import { defineEvent } from './define.ts';

// Owned by the media service: only it publishes these, in its domain.

const image = {
  imageId: z.uuid(),
  sku: z.string().min(1).max(64),
};

/** An image's original is stored: its sizes are still to be rendered (media's own worker does it). */
export const mediaUploaded = defineEvent({
  type: 'media.uploaded',
  version: 1,
  domain: 'media',
  data: z.object({
    ...image,
    contentType: z.string(),
    bytes: z.number().int().min(1),
    width: z.number().int().min(1),
    height: z.number().int().min(1),
  }),
});

/** An image's sizes are rendered: the catalogue shows it from now on. */
export const mediaReady = defineEvent({
  type: 'media.ready',
  version: 1,
  domain: 'media',
  data: z.object({
    ...image,
    widths: z.array(z.number().int().min(1)).min(1),
    readyAt: z.string(),
  }),
});

export type MediaUploaded = z.output<typeof mediaUploaded.data>;
export type MediaReady = z.output<typeof mediaReady.data>;
