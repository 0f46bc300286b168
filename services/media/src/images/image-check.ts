import { PassThrough, type Readable } from 'node:stream';
import { fileTypeStream } from 'file-type';
import sharp, { type Metadata } from 'sharp';
import { Code, KitError } from '@baton/kit/errors';

/** The image types media takes, by the media type their first bytes show, with the extension it keeps them under. */
export const imageTypes: ReadonlyMap<string, string> = new Map([
  ['image/jpeg', 'jpg'],
  ['image/png', 'png'],
  ['image/webp', 'webp'],
  ['image/avif', 'avif'],
]);

// As much of the start as file-type needs to tell every type it knows apart.
const sampleBytes = 4_100;

/**
 * What an upload is, from its first bytes alone: the name and Content-Type a client gives are
 * not asked (a PNG named `.jpg` is a PNG; a text file named `.png` is text). Gives back a stream
 * of every byte, the sample included, to store. Anything but a JPEG, PNG, WebP or AVIF is
 * refused before it is stored: 415, reason `not_an_image`.
 */
export async function sniffImage(body: Readable): Promise<{ stream: Readable; mediaType: string }> {
  // Read through a stream of our own: file-type waits on its source's events, and a body that
  // had ended before anyone read it (an empty upload) has none left to give: it waited for good.
  const source = new PassThrough();
  body.on('error', (error) => source.destroy(error));
  body.pipe(source);
  const stream = await fileTypeStream(source, { sampleSize: sampleBytes });
  const mediaType = stream.fileType?.mime;
  if (mediaType === undefined || !imageTypes.has(mediaType)) {
    // The sample's streams go; the request is left to the answer. Destroyed, it reset the
    // connection: a 30 MB text file through the gateway came back 503 (the gateway saw media's
    // reset) instead of 415. The kit reads what is left of it and drops it once answered.
    stream.destroy();
    throw new KitError(Code.InvalidArgument, `not an image media takes (JPEG, PNG, WebP or AVIF)${mediaType === undefined ? '' : `: its bytes are ${mediaType}`}`, {
      reason: 'not_an_image', details: { detected: mediaType ?? null },
    });
  }
  return { stream, mediaType };
}

export interface ImageHeader {
  width: number;
  height: number;
  format: string;
}

/**
 * The size an image says it has, read from its header (sharp reads no pixel for this), checked
 * against `maxPixels` before anything decodes it: a decompression bomb (a few kilobytes that
 * say 100,000 × 100,000) is refused here, 422 `image_too_large`, and so is a sharp call later
 * (`limitInputPixels`). An image sharp cannot read is 422 `image_unreadable`.
 */
export async function readImageHeader(input: Readable, { maxPixels }: { maxPixels: number }): Promise<ImageHeader> {
  const reader = sharp({ limitInputPixels: maxPixels, failOn: 'error' });
  // The input's failure (a client gone, a store read cut) fails the read rather than leaving it waiting.
  let inputError: unknown;
  const inputFailed = new Promise<never>((_resolve, reject) => input.on('error', (error) => {
    inputError = error;
    reject(error);
  }));
  input.pipe(reader);
  let metadata: Metadata;
  try {
    metadata = await Promise.race([reader.metadata(), inputFailed]);
  } catch (error) {
    throw inputError ?? imageError(error, maxPixels);
  } finally {
    input.unpipe(reader);
    input.destroy();
  }
  const { width, height, format } = metadata;
  if (width === undefined || height === undefined) {
    throw new KitError(Code.FailedPrecondition, 'the image does not say its size', { reason: 'image_unreadable' });
  }
  if (width * height > maxPixels) throw tooLarge(maxPixels);
  return { width, height, format };
}

/**
 * What sharp's failure to read an image means: over the pixel limit (422 `image_too_large`), or
 * damaged (422 `image_unreadable`). Errors that are already the kit's (an aborted read) stay.
 */
export function imageError(error: unknown, maxPixels: number): KitError {
  if (error instanceof KitError) return error;
  if (/pixel limit/i.test((error as Error).message)) return tooLarge(maxPixels, error);
  return new KitError(Code.FailedPrecondition, 'the image cannot be read: it is damaged or not what its first bytes say', { reason: 'image_unreadable', cause: error });
}

function tooLarge(maxPixels: number, cause?: unknown): KitError {
  return new KitError(Code.FailedPrecondition, `the image has more than ${maxPixels} pixels`, { reason: 'image_too_large', details: { maxPixels }, cause });
}
