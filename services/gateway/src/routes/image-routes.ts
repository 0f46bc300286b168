import type { IncomingMessage } from 'node:http';
import { PassThrough, type Transform } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { image, imageParams, imageSizeParams, skuParams } from '@baton/contracts/http';
import { Code, KitError } from '@baton/kit/errors';
import type { HttpClient } from '@baton/kit/http';
import { createBandwidth, type Bandwidth } from '@baton/kit/resilience';
import { signalOf } from '@baton/kit/service';
import { callerChecks, type Authenticate } from '../auth.ts';
import { forward, withServiceDetails } from '../forward.ts';
import { problemsOf } from './problems.ts';

export interface ImageRouteOptions {
  /** Media's client; undefined in a shop without media (`MEDIA_URLS` unset): the routes answer 503. */
  media: HttpClient | undefined;
  authenticate: Authenticate;
  /** The largest upload the route lets through (media checks it again, byte by byte). */
  maxUploadBytes: number;
  /** An upload whose bytes stop arriving for this long is cut off (408). */
  uploadIdleTimeoutMs: number;
  /** The longest a whole upload may take. */
  uploadDeadlineMs: number;
  /** What all uploads together may send on to media each second; 0: no bound. */
  uploadBytesPerSecond: number;
}

const bearer = [{ bearer: [] }];
const open: Array<Record<string, string[]>> = [];
// What an image's GET answers, for the document (the bytes go through as media sent them).
const imageAnswers = {
  200: z.string().meta({ description: 'the image\'s bytes, with its Content-Type, ETag (its SHA-256) and Cache-Control: public, max-age=31536000, immutable', format: 'binary' }),
  206: z.string().meta({ description: 'the one range the Range header asked for, with its Content-Range', format: 'binary' }),
  304: z.null().meta({ description: 'the copy If-None-Match names is this one' }),
};

// The answer headers of an image that reach the client: what it is, its validators, its range.
const imageHeaders = ['content-type', 'content-length', 'content-range', 'accept-ranges', 'etag', 'cache-control', 'last-modified', 'x-content-type-options', 'content-security-policy'];
// The request headers that decide how an image is answered.
const conditionalHeaders = ['range', 'if-none-match', 'if-range'];

/**
 * The public routes of product images: staff upload one (the body streamed through to media as
 * it arrives, never held: a 50 MB route, the only one; every other keeps the gateway's small
 * body limit), anyone reads an image's state and its bytes (streamed back from media with its
 * ETag, caching and ranges). Product reads list a product's images without these: inventory
 * keeps them (media tells it once an image is ready).
 */
export function registerImageRoutes(app: FastifyInstance, options: ImageRouteOptions): void {
  const { authenticate } = options;
  // One budget for every upload at once: ten uploads share it, each gets a tenth.
  const uploadBandwidth = options.uploadBytesPerSecond > 0 ? createBandwidth({ bytesPerSecond: options.uploadBytesPerSecond }) : undefined;
  const mediaOf = (): HttpClient => {
    if (options.media === undefined) throw new KitError(Code.Unavailable, 'this shop keeps no product images', { reason: 'media_not_configured' });
    return options.media;
  };

  // In a scope of its own: only this route takes bodies that are not JSON, and it does not read
  // them. Whatever type a body says it is goes through: media decides what it is from its bytes.
  void app.register(async function uploadScope(scope) {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, _payload, done) => done(null));
    scope.withTypeProvider<ZodTypeProvider>().post('/api/v1/products/:sku/images', {
      onRequest: callerChecks(authenticate).staffOnly,
      schema: {
        operationId: 'uploadProductImage', tags: ['staff'], security: bearer, params: skuParams,
        summary: 'Upload an image of a product (staff): the body is the file itself with its Content-Type, or multipart/form-data with one file; at most 50 MB. Answered 202 once stored: its sizes are rendered after, and the product lists it once ready',
        response: { 202: image },
      },
      config: {
        problems: problemsOf({ input: true, caller: 'staff' }, ['body_too_large', 'not_found', 'not_an_image', 'image_unreadable', 'image_too_large']),
        bodyIdleTimeoutMs: options.uploadIdleTimeoutMs,
        deadlineMs: options.uploadDeadlineMs,
      },
    }, async function uploadImage(request, reply) {
      const declaredBytes = Number(request.headers['content-length']);
      if (declaredBytes > options.maxUploadBytes) {
        throw new KitError(Code.ResourceExhausted, `an image may be ${options.maxUploadBytes} bytes at most`, { reason: 'body_too_large' });
      }
      const headers: Record<string, string> = { 'content-type': request.headers['content-type'] ?? 'application/octet-stream' };
      if (Number.isFinite(declaredBytes)) headers['content-length'] = String(declaredBytes);
      if (request.headers.authorization) headers.authorization = request.headers.authorization;
      try {
        const response = await mediaOf().request({
          method: 'POST', path: `/v1/products/${encodeURIComponent(request.params.sku)}/images`,
          body: passedOn(request.raw, { bandwidth: uploadBandwidth, stalledAfterMs: options.uploadIdleTimeoutMs }), headers, signal: signalOf(request), requestId: request.id, timeoutMs: options.uploadDeadlineMs,
        });
        const id = (response.body as { id?: string } | undefined)?.id;
        if (id !== undefined) void reply.header('location', `/api/v1/images/${id}`);
        // Sent as media wrote it, as forward() does: the schema documents, it does not reshape.
        return await (reply as FastifyReply).code(response.status).type('application/json; charset=utf-8').send(JSON.stringify(response.body));
      } catch (error) {
        // The kit answered already: the upload stopped arriving (408), and media's call failed after.
        if (reply.sent) return reply;
        throw withServiceDetails(KitError.from(error));
      }
    });
  });

  const api = app.withTypeProvider<ZodTypeProvider>();
  api.get('/api/v1/images/:id', {
    schema: { operationId: 'getImage', security: open, tags: ['catalogue'], summary: 'An uploaded image: its state (processing, ready, failed) and, once ready, where its original and sizes are served', params: imageParams, response: { 200: image } },
    config: { problems: problemsOf({ input: true, caller: 'anyone' }, ['not_found']), priority: 'low' },
  }, async (request, reply) => {
    await forward(request, reply, mediaOf(), { method: 'GET', path: `/v1/images/${request.params.id}` });
  });

  api.get('/api/v1/images/:id/original', {
    // Staff only: the file as uploaded keeps its metadata (a photo's EXIF can say where it was
    // taken and by whom); the sizes anyone may fetch are rendered anew and carry none.
    onRequest: async (request) => { await authenticate(request, { role: 'staff' }); },
    schema: { operationId: 'getImageOriginal', security: bearer, tags: ['staff'], summary: 'An image as uploaded, metadata and all (staff), once ready: ETag, immutable caching, ranges (206, 416) and If-None-Match (304)', params: imageParams, response: imageAnswers },
    config: { problems: problemsOf({ input: true, caller: 'staff' }, ['not_found', 'range_not_satisfiable']), priority: 'low' },
  }, async (request, reply) => sendImage(request, reply, mediaOf(), `/v1/images/${request.params.id}/original`));

  api.get('/api/v1/images/:id/sizes/:size', {
    schema: { operationId: 'getImageSize', security: open, tags: ['catalogue'], summary: 'An image at a width of 320, 640 or 1280 px, as WebP (a narrower original is not enlarged), once ready: caching and ranges as the original', params: imageSizeParams, response: imageAnswers },
    config: { problems: problemsOf({ input: true, caller: 'anyone' }, ['not_found', 'range_not_satisfiable']), priority: 'low' },
  }, async (request, reply) => sendImage(request, reply, mediaOf(), `/v1/images/${request.params.id}/sizes/${request.params.size}`));
}

/**
 * The client's body as the call to media reads it, no faster than `bandwidth` lets it. Not the
 * request itself: the kit destroys a streamed body whose call fails (so its source stops), and
 * destroying the request would close the client's connection before it heard why (a 504, a 413
 * from media). Piped, the call's end only unpipes it, and the gateway answers; a client that
 * goes away mid-upload ends the call.
 *
 * And media that stops taking the bytes (frozen, or its disk hung) ends the call too, after
 * `stalledAfterMs` with bytes waiting and none passed on: 503. The client's idle timeout does not
 * see this (time the gateway holds a body back is not the client's: receive-timeout.ts), and the
 * call's deadline is the whole upload's, minutes.
 */
function passedOn(raw: IncomingMessage, { bandwidth, stalledAfterMs }: { bandwidth: Bandwidth | undefined; stalledAfterMs: number }): Transform {
  const body = bandwidth?.throttle() ?? new PassThrough();
  raw.pipe(body);
  raw.once('close', () => {
    if (!raw.complete) body.destroy(new KitError(Code.Canceled, 'the client went away mid-upload'));
  });
  let receivedBytes = 0;
  raw.on('data', (chunk: Buffer) => { receivedBytes += chunk.length; });
  let passedBytes = 0;
  let passedAtMs = performance.now();
  const watch = setInterval(() => {
    const passed = receivedBytes - body.writableLength - body.readableLength;
    // Nothing ready for media and not taken: whatever waits is the client's, or the bandwidth
    // budget's (a chunk held back by the throttle), not media's.
    if (passed !== passedBytes || body.readableLength === 0) {
      passedBytes = passed;
      passedAtMs = performance.now();
    } else if (performance.now() - passedAtMs > stalledAfterMs) {
      body.destroy(new KitError(Code.Unavailable, `media took no byte of the upload for ${stalledAfterMs} ms`));
    }
  }, Math.max(25, stalledAfterMs / 4));
  watch.unref();
  body.once('close', () => clearInterval(watch));
  return body;
}

/** An image's bytes from media, streamed through with the headers that describe them. */
async function sendImage(request: FastifyRequest, reply: FastifyReply, media: HttpClient, path: string): Promise<FastifyReply> {
  const headers: Record<string, string> = {};
  for (const name of conditionalHeaders) {
    const value = request.headers[name];
    if (typeof value === 'string') headers[name] = value;
  }
  let answer;
  try {
    answer = await media.stream({ method: 'GET', path, headers, signal: signalOf(request), requestId: request.id }, { acceptStatuses: [304] });
  } catch (error) {
    const failure = withServiceDetails(KitError.from(error));
    // A range past the end says how long the image is, as RFC 9110 asks of a 416.
    const bytes = failure.details.bytes;
    if (failure.reason === 'range_not_satisfiable' && typeof bytes === 'number') void reply.header('content-range', `bytes */${bytes}`);
    throw failure;
  }
  for (const name of imageHeaders) {
    const value = answer.headers[name];
    if (typeof value === 'string') void reply.header(name, value);
  }
  if (answer.status === 304) {
    // Nothing to send but the headers; the empty body is read to its end, so its connection is reused.
    answer.body.resume();
    return reply.code(304).send();
  }
  return reply.code(answer.status).send(answer.body);
}
