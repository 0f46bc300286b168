import type { Readable } from 'node:stream';
import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { skuParams } from '@baton/contracts/http';
import { bearerTokenOf, requireRole, type TokenVerifier } from '@baton/kit/auth';
import { z } from '@baton/kit/config';
import { Code, KitError } from '@baton/kit/errors';
import type { HttpClient } from '@baton/kit/http';
import { signalOf } from '@baton/kit/service';
import { findImage, listReadyImages, originalKey, type ImageRow } from '../images/image-records.ts';
import { sizeKey } from '../images/render-sizes.ts';
import { blobAnswer } from '../serving/blob-answer.ts';
import { receiveUpload, type Uploads } from '../uploads/receive-upload.ts';
import type { MediaMetrics } from '../media-metrics.ts';
import { imageView } from './image-views.ts';

export interface ImageRouteOptions {
  uploads: Uploads;
  verifier: TokenVerifier;
  /** The catalogue: an image is taken only for a product it has. */
  inventory: HttpClient;
  /** An upload whose bytes stop arriving for this long is cut off (408). */
  uploadIdleTimeoutMs: number;
  /** The longest a whole upload may take. */
  uploadDeadlineMs: number;
  metrics: MediaMetrics;
}

const imageParams = z.strictObject({ id: z.uuid() });
const sizeParams = z.strictObject({ id: z.uuid(), size: z.enum(['320', '640', '1280']) });

/**
 * Media's API, behind the gateway: staff upload a product's images (the body is the file, or a
 * multipart form with one file), anyone reads a product's ready images and their bytes.
 */
export function registerImageRoutes(app: FastifyInstance, options: ImageRouteOptions): void {
  const { uploads, verifier, inventory } = options;
  const api = app.withTypeProvider<ZodTypeProvider>();
  const config = { callers: ['gateway'] } as const;

  // Uploads in a scope of their own: only this route takes image bodies, and it reads them itself.
  void app.register(async function uploadScope(scope) {
    // Whatever type it says it is: its bytes decide (image-check.ts), not its Content-Type.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, _payload, done) => done(null));
    await scope.register(multipart, { limits: { files: 1, fields: 0, parts: 1, fileSize: uploads.maxBytes + 1 } });
    scope.withTypeProvider<ZodTypeProvider>().post('/v1/products/:sku/images', {
      config: { ...config, bodyIdleTimeoutMs: options.uploadIdleTimeoutMs, deadlineMs: options.uploadDeadlineMs },
      schema: { params: skuParams },
    }, async function uploadImage(request, reply) {
      const signal = signalOf(request);
      // Everything that can refuse the upload is asked before a byte of it is read.
      const token = requireRole(await verifier.verify(bearerTokenOf(request.headers.authorization)), 'staff');
      const declaredBytes = Number(request.headers['content-length']);
      if (declaredBytes > uploads.maxBytes + multipartOverheadBytes) throw tooLarge(uploads.maxBytes);
      await requireProduct(inventory, request.params.sku, signal, request.id);
      try {
        const row = await options.metrics.upload(declaredBytes, async () => receiveUpload(uploads, {
          sku: request.params.sku, ...await bodyOf(request), uploadedBy: token.userId, signal,
        }));
        request.log.info({ actor: token.userId, sku: row.sku, image_id: row.id, bytes: Number(row.bytes) }, 'image uploaded');
        return await reply.code(202).header('location', `/v1/images/${row.id}`).send(imageView(row));
      } catch (error) {
        // The kit answered already: the upload stopped arriving (408), and its read failed after.
        if (reply.sent) return reply;
        // A form the parser cannot read (no boundary, cut short) is the client's, not a 500.
        if (request.isMultipart() && !(error instanceof KitError)) {
          throw new KitError(Code.InvalidArgument, 'the multipart form cannot be read', { fields: [{ field: 'body', message: 'not a multipart form with one file' }], cause: error });
        }
        throw error;
      }
    });
  });

  api.get('/v1/products/:sku/images', { config, schema: { params: skuParams } }, async function productImages(request) {
    const rows = await listReadyImages(uploads.db, request.params.sku, { limit: 50, signal: signalOf(request) });
    return { items: rows.map(imageView) };
  });

  api.get('/v1/images/:id', { config, schema: { params: imageParams } }, async function image(request) {
    return imageView(await imageOf(uploads, request.params.id, signalOf(request)));
  });

  api.get('/v1/images/:id/original', { config, schema: { params: imageParams } }, async function original(request, reply) {
    const row = await readyImageOf(uploads, request.params.id, signalOf(request));
    return sendBlob(request, reply, uploads, { key: originalKey(row.id), bytes: Number(row.bytes), sha256: row.sha256, contentType: row.content_type });
  });

  api.get('/v1/images/:id/sizes/:size', { config, schema: { params: sizeParams } }, async function size(request, reply) {
    const row = await readyImageOf(uploads, request.params.id, signalOf(request));
    const rendered = row.sizes.find((s) => String(s.size) === request.params.size);
    if (rendered === undefined) throw noImage(row.id);
    return sendBlob(request, reply, uploads, { key: sizeKey(row.id, rendered.size), bytes: rendered.bytes, sha256: rendered.sha256, contentType: 'image/webp' });
  });
}

// A multipart form's boundaries and part headers, on top of the file itself.
const multipartOverheadBytes = 16 * 1024;

function tooLarge(maxBytes: number): KitError {
  return new KitError(Code.ResourceExhausted, `the image is larger than ${maxBytes} bytes`, { reason: 'body_too_large', details: { maxBytes } });
}

/** The file's bytes: the body itself (its chunks its own), or the one file of a multipart form. */
async function bodyOf(request: FastifyRequest): Promise<{ body: Readable; ownChunks: boolean }> {
  if (!request.isMultipart()) return { body: request.raw, ownChunks: true };
  const part = await request.file();
  if (part === undefined) {
    throw new KitError(Code.InvalidArgument, 'the form has no file', { fields: [{ field: 'body.file', message: 'required: one file' }] });
  }
  return { body: part.file, ownChunks: false };
}

async function requireProduct(inventory: HttpClient, sku: string, signal: AbortSignal, requestId: string): Promise<void> {
  try {
    await inventory.request({ method: 'GET', path: `/v1/products/${encodeURIComponent(sku)}`, signal, requestId });
  } catch (error) {
    const failure = KitError.from(error);
    if (failure.code !== Code.NotFound) throw failure;
    throw new KitError(Code.NotFound, 'no such product', { reason: 'product_not_found', details: { sku } });
  }
}

function noImage(id: string): KitError {
  return new KitError(Code.NotFound, 'no such image', { reason: 'image_not_found', details: { id } });
}

async function imageOf(uploads: Uploads, id: string, signal: AbortSignal): Promise<ImageRow> {
  const row = await findImage(uploads.db, id, { signal });
  if (row === undefined) throw noImage(id);
  return row;
}

/** An image whose bytes are served: only once ready, as the catalogue shows it. */
async function readyImageOf(uploads: Uploads, id: string, signal: AbortSignal): Promise<ImageRow> {
  const row = await imageOf(uploads, id, signal);
  if (row.status !== 'ready') throw noImage(id);
  return row;
}

interface BlobToSend {
  key: string;
  bytes: number;
  sha256: string;
  contentType: string;
}

/** An original or a size, answered as blob-answer.ts decides (200, 206, 304, 416), streamed from the store. */
async function sendBlob(request: FastifyRequest, reply: FastifyReply, uploads: Uploads, blob: BlobToSend): Promise<FastifyReply> {
  const header = (name: string) => {
    const value = request.headers[name];
    return typeof value === 'string' ? value : undefined;
  };
  const answer = blobAnswer({ bytes: blob.bytes, sha256: blob.sha256, range: header('range'), ifNoneMatch: header('if-none-match'), ifRange: header('if-range') });
  // An image is never a page: no script in it runs, and no browser guesses it is something else.
  void reply.headers({ ...answer.headers, 'x-content-type-options': 'nosniff', 'content-security-policy': "default-src 'none'; sandbox" });
  if (answer.status === 304) return reply.code(304).send();
  if (answer.status === 416) {
    throw new KitError(Code.OutOfRange, 'the range asked for is past the end of the image', { reason: 'range_not_satisfiable', details: { bytes: blob.bytes } });
  }
  const found = await uploads.store.get(blob.key, { signal: signalOf(request), range: answer.range });
  if (found === undefined) throw new KitError(Code.Unavailable, 'the image is recorded but its bytes are missing from the store', { reason: 'blob_store_unavailable' });
  return reply.code(answer.status).type(blob.contentType).send(found.body);
}
