// The throwaway variant of checkout-beside-uploads: image uploads taken INSIDE the orders process,
// as a shop that never split them out would take them. Never part of the shop: the bench gives it
// to orders alone, as a preload (`NODE_OPTIONS=--import <this file's URL>`), and it starts a
// small node:http server beside orders' own, on a port of the system's choosing, written to
// BENCH_UPLOADS_IN_ORDERS_PORT_FILE for the bench to read.
//
// It takes an upload with media's own code (the same check by bytes, the same filesystem store,
// the same header read) and renders the sizes right after, in the same process, with media's
// renderer at media's settings (one render at a time, one libvips thread), the way a monolith
// would, and its uploads share the bandwidth bound the gateway gives phase 2's (the kit's
// createBandwidth at the gateway's UPLOAD_BYTES_PER_SECOND): the one thing that differs from
// phase 2 is the process the work runs in. Nothing else
// of media's is here: no token check, no product asked of inventory, no database row or outbox
// event. Each of those is work the variant skips, so every difference favours it.
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { PassThrough } from 'node:stream';
import { createBandwidth } from '../../../packages/kit/src/resilience/bandwidth.ts';
import { readImageHeader, sniffImage } from '../../../services/media/src/images/image-check.ts';
import { originalKey } from '../../../services/media/src/images/image-records.ts';
import { createRenderer } from '../../../services/media/src/images/render-sizes.ts';
import { openFsStore } from '../../../services/media/src/store/fs-store.ts';

const portFile = process.env.BENCH_UPLOADS_IN_ORDERS_PORT_FILE;
const storeDir = process.env.BENCH_UPLOADS_IN_ORDERS_DIR;
if (portFile === undefined || storeDir === undefined) throw new Error('uploads-in-orders.ts needs BENCH_UPLOADS_IN_ORDERS_PORT_FILE and BENCH_UPLOADS_IN_ORDERS_DIR');

// Media's defaults (services/media/src/config.ts): MAX_UPLOAD_BYTES, MAX_IMAGE_PIXELS, RENDER_CONCURRENCY.
const maxBytes = 50 * 1024 * 1024;
const maxPixels = 50_000_000;
// As receive-upload.ts reads it: the start of the original holds its size.
const headerBytes = 512 * 1024;

// The gateway's default (services/gateway/src/config.ts), or what its variable says: the bench's
// environment reaches the gateway and orders alike. 0: no bound.
const bytesPerSecond = Number(process.env.UPLOAD_BYTES_PER_SECOND ?? 40_000_000);
const bandwidth = bytesPerSecond > 0 ? createBandwidth({ bytesPerSecond }) : undefined;

const store = await openFsStore(storeDir);
const renderer = createRenderer({ store, maxPixels, concurrency: 1 });
const renders = { done: 0, failed: 0 };
// How late orders' event loop runs what is due: what a checkout's every step waits behind. The
// histogram records the whole interval between its timer's runs; less the interval, the delay.
const resolutionMs = 10;
const loopDelay = monitorEventLoopDelay({ resolution: resolutionMs });
loopDelay.enable();

async function takeUpload(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const cut = new AbortController();
  req.once('close', () => {
    if (!req.complete) cut.abort(new Error('the uploader went away'));
  });
  const body = bandwidth?.throttle() ?? new PassThrough();
  req.on('error', (error) => body.destroy(error));
  req.pipe(body);
  const { stream, mediaType } = await sniffImage(body);
  const id = randomUUID();
  const key = originalKey(id);
  const stored = await store.put(key, stream, { signal: cut.signal, contentType: mediaType, maxBytes, ownChunks: true });
  const start = await store.get(key, { signal: cut.signal, range: { start: 0, end: Math.min(stored.bytes, headerBytes) - 1 } });
  if (start === undefined) throw new Error(`the original ${key} was stored and is gone`);
  const { width, height } = await readImageHeader(start.body, { maxPixels });
  res.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify({ id, bytes: stored.bytes, width, height, status: 'processing' }));
  // The sizes right after, in this process: queued behind the renders already running.
  renderer.render(id, key, { signal: AbortSignal.timeout(600_000) }).then(() => {
    renders.done += 1;
  }, () => {
    renders.failed += 1;
  });
}

const server = createServer((req, res) => {
  // The renders, and the event loop's delay since the last `?reset`, in ms.
  if (req.method === 'GET' && (req.url === '/stats' || req.url === '/stats?reset')) {
    const ms = (ns: number) => Math.max(0, ns / 1e6 - resolutionMs);
    const loopDelayMs = { p50: ms(loopDelay.percentile(50)), p99: ms(loopDelay.percentile(99)), max: ms(loopDelay.max) };
    if (req.url.endsWith('?reset')) loopDelay.reset();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ running: renderer.running, queued: renderer.queued, ...renders, loopDelayMs }));
    return;
  }
  if (req.method !== 'POST' || !/^\/v1\/products\/[A-Z0-9-]+\/images$/.test(req.url ?? '')) {
    res.writeHead(404).end();
    return;
  }
  takeUpload(req, res).catch((error: unknown) => {
    if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' }).end(String(error));
    req.destroy();
  });
});
// Orders' own shutdown decides when the process ends: this server does not hold it open.
server.unref();
server.listen(0, '127.0.0.1', () => {
  void writeFile(portFile, String((server.address() as { port: number }).port));
});
