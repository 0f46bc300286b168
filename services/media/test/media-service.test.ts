import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { before, describe, test } from 'node:test';
import sharp from 'sharp';
import { createSuiteScope, hasProcFs, metricValue, nicenessOf, parseMetrics, testIdentity } from '@baton/kit/testing';
import { startShop, type ShopStack } from '../../../test/e2e/shop-stack.ts';
import { picture, pngClaiming } from './support/images.ts';
import { rawUpload as sendRawUpload, waitFor, type RawUpload } from './support/uploads.ts';

interface Image {
  id: string;
  sku: string;
  status: 'processing' | 'ready' | 'failed';
  contentType: string;
  bytes: number;
  width: number;
  height: number;
  url: string | null;
  sizes: Array<{ size: number; width: number; height: number; url: string }>;
  failure: string | null;
}

const mib = 1024 * 1024;

/** A histogram series' count, from the text itself (the parser folds labelled histograms together). */
function histogramCount(text: string, name: string, labels: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}_count{${labels}}`));
  return line === undefined ? 0 : Number(line.split(' ').at(-1));
}
const maxUploadBytes = 50 * mib;
const password = 'correct horse battery staple';

// Media as the gateway calls it (with the gateway's service token and the user's bearer token),
// beside the real users and inventory it asks, each its own process on its own database.
void describe('media: product images', () => {
  const suite = createSuiteScope();
  const staffEmail = `staff-${randomUUID()}@example.com`;
  let shop: ShopStack;
  let media: string;
  let staffToken: string;
  let shopperToken: string;

  const asGateway = async (callee: string, token?: string) => ({
    ...await testIdentity.headers('gateway', callee),
    ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
  });

  async function signUp(email: string): Promise<string> {
    const users = shop.stack.url('users');
    const created = await fetch(`${users}/v1/users`, {
      method: 'POST', headers: { ...await asGateway('users'), 'content-type': 'application/json' }, body: JSON.stringify({ email, password, name: 'Stella' }),
    });
    assert.equal(created.status, 201, await created.clone().text());
    const login = await fetch(`${users}/v1/auth/login`, {
      method: 'POST', headers: { ...await asGateway('users'), 'content-type': 'application/json' }, body: JSON.stringify({ email, password }),
    });
    return ((await login.json()) as { accessToken: string }).accessToken;
  }

  before(async () => {
    shop = await startShop(suite, {
      users: { STAFF_EMAILS: staffEmail },
      media: { UPLOAD_IDLE_TIMEOUT_MS: '1000', MAX_UPLOAD_BYTES: String(maxUploadBytes), MESSAGING_POLL_INTERVAL_MS: '50' },
    }, { only: ['users', 'inventory', 'media'] });
    media = shop.stack.url('media');
    staffToken = await signUp(staffEmail);
    shopperToken = await signUp(`sam-${randomUUID()}@example.com`);
  });

  /** An upload as the gateway passes it on: the body is the file, with the type the client said. */
  async function upload(sku: string, body: Buffer | Readable, { token = staffToken, contentType = 'image/png', headers = {} }: { token?: string; contentType?: string; headers?: Record<string, string> } = {}) {
    const response = await fetch(`${media}/v1/products/${sku}/images`, {
      method: 'POST',
      headers: { ...await asGateway('media', token), 'content-type': contentType, ...headers },
      body: body instanceof Readable ? Readable.toWeb(body) as ReadableStream : body,
      ...(body instanceof Readable ? { duplex: 'half' } : {}),
    } as RequestInit);
    return { status: response.status, body: await response.json() as Image & { code?: string; reason?: string; errors?: unknown[] } };
  }

  const get = async (path: string, headers: Record<string, string> = {}) => fetch(`${media}${path}`, { headers: { ...await asGateway('media'), ...headers } });

  /** The image once its sizes are rendered (or it failed): the worker's doing, from the event. */
  async function settled(id: string): Promise<Image> {
    let image: Image | undefined;
    assert.ok(await waitFor(async () => {
      image = await (await get(`/v1/images/${id}`)).json() as Image;
      return image.status !== 'processing';
    }, 30_000), `image ${id} still processing`);
    return image!;
  }

  /** The originals in the store: what an upload leaves (renders, writing sizes, run on beside the tests). */
  async function storedOriginals(): Promise<string[]> {
    return (await storedKeys()).filter((key) => key.startsWith('originals/'));
  }

  /** What the store holds, under the stack's var dir: every object's key. */
  async function storedKeys(): Promise<string[]> {
    const root = join(shop.stack.varDir, 'media');
    const entries = await readdir(root, { recursive: true, withFileTypes: true });
    return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name).slice(root.length + 1)).sort();
  }

  // What media's JavaScript holds: its heap, and the memory outside it that Buffers keep (a
  // file read whole would be there, not in the heap).
  const mediaHeapBytes = async () => {
    const families = parseMetrics(await (await fetch(new URL('/metrics', shop.stack.adminUrl('media')))).text());
    return metricValue(families, 'nodejs_heap_size_used_bytes') + metricValue(families, 'nodejs_external_memory_bytes');
  };

  test('a PNG is taken at once (202), rendered out of band, and then listed by media and by the catalogue, with its bytes served', async () => {
    const png = await picture('png', 1_600, 1_200);
    const taken = await upload('COFFEE-1KG', png);
    assert.equal(taken.status, 202, JSON.stringify(taken.body));
    assert.deepEqual([taken.body.status, taken.body.contentType, taken.body.width, taken.body.height, taken.body.bytes], ['processing', 'image/png', 1_600, 1_200, png.length]);
    assert.equal(taken.body.url, null, 'no URL until ready');

    const ready = await settled(taken.body.id);
    assert.equal(ready.status, 'ready');
    assert.deepEqual(ready.sizes.map(({ size, width, height }) => [size, width, height]), [[320, 320, 240], [640, 640, 480], [1280, 1280, 960]]);
    const listed = await (await get('/v1/products/COFFEE-1KG/images')).json() as { items: Image[] };
    assert.ok(listed.items.some((image) => image.id === taken.body.id));

    // The catalogue hears of it through the event: a product read lists it without asking media.
    let product: { images: Array<{ id: string; url: string; sizes: Array<{ size: number; url: string }> }> } | undefined;
    assert.ok(await waitFor(async () => {
      product = await (await fetch(`${shop.stack.url('inventory')}/v1/products/COFFEE-1KG`, { headers: await asGateway('inventory') })).json() as typeof product;
      return product!.images.some((image) => image.id === taken.body.id);
    }, 30_000), 'the catalogue never listed the image');
    const inCatalogue = product!.images.find((image) => image.id === taken.body.id)!;
    assert.equal(inCatalogue.url, `/api/v1/images/${taken.body.id}/original`);
    assert.deepEqual(inCatalogue.sizes.map((size) => size.url), [320, 640, 1280].map((size) => `/api/v1/images/${taken.body.id}/sizes/${size}`));

    const original = await get(`/v1/images/${taken.body.id}/original`);
    assert.equal(original.status, 200);
    assert.equal(original.headers.get('content-type'), 'image/png');
    assert.equal(original.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    const etag = original.headers.get('etag');
    assert.equal(etag, `"${createHash('sha256').update(png).digest('hex')}"`);
    assert.ok(Buffer.from(await original.arrayBuffer()).equals(png));
    assert.equal((await get(`/v1/images/${taken.body.id}/original`, { 'if-none-match': etag! })).status, 304);
    const part = await get(`/v1/images/${taken.body.id}/original`, { range: 'bytes=0-99' });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get('content-range'), `bytes 0-99/${png.length}`);
    assert.ok(Buffer.from(await part.arrayBuffer()).equals(png.subarray(0, 100)));
    const past = await get(`/v1/images/${taken.body.id}/original`, { range: `bytes=${png.length + 10}-` });
    assert.equal(past.status, 416);
    assert.equal(past.headers.get('content-range'), `bytes */${png.length}`);
    assert.equal(((await past.json()) as { reason: string }).reason, 'range_not_satisfiable');

    const size = await get(`/v1/images/${taken.body.id}/sizes/640`);
    assert.equal(size.status, 200);
    assert.equal(size.headers.get('content-type'), 'image/webp');
    const meta = await sharp(Buffer.from(await size.arrayBuffer())).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['webp', 640, 480]);
  });

  test('a multipart form with one file is taken as the file itself', async () => {
    const jpeg = await picture('jpeg', 800, 600);
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(jpeg)], { type: 'image/jpeg' }), 'mug.jpg');
    const response = await fetch(`${media}/v1/products/MUG-STONEWARE/images`, { method: 'POST', headers: await asGateway('media', staffToken), body: form });
    const body = await response.json() as Image;
    assert.equal(response.status, 202, JSON.stringify(body));
    assert.deepEqual([body.contentType, body.bytes, body.width], ['image/jpeg', jpeg.length, 800]);
    assert.equal((await settled(body.id)).status, 'ready');
  });

  test('the bytes decide the type: a PNG sent as a JPEG is a PNG, a text file sent as a PNG is refused (415) and nothing is kept', async () => {
    const png = await picture('png', 200, 100);
    const renamed = await upload('COFFEE-1KG', png, { contentType: 'image/jpeg' });
    assert.equal(renamed.status, 202, JSON.stringify(renamed.body));
    assert.equal(renamed.body.contentType, 'image/png');
    const keysBefore = await storedOriginals();
    const text = await upload('COFFEE-1KG', Buffer.from('just some words, not a picture at all\n'.repeat(200)), { contentType: 'image/png' });
    assert.equal(text.status, 415, JSON.stringify(text.body));
    assert.equal(text.body.reason, 'not_an_image');
    const pdf = await upload('COFFEE-1KG', Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(5_000)]), { contentType: 'application/octet-stream' });
    assert.equal(pdf.status, 415);
    assert.deepEqual(await storedOriginals(), keysBefore, 'nothing stored for a refused upload');
  });

  test('a decompression bomb (1 KB saying 100,000 × 100,000) is refused with 422 before a pixel is decoded, and nothing is kept', async () => {
    const keysBefore = await storedOriginals();
    const bomb = await upload('COFFEE-1KG', pngClaiming(100_000, 100_000));
    assert.equal(bomb.status, 422, JSON.stringify(bomb.body));
    assert.equal(bomb.body.reason, 'image_too_large');
    assert.deepEqual(await storedOriginals(), keysBefore);
  });

  test('only staff may upload, only for a product the catalogue has: 401, 403 and 404 before a byte is read', async () => {
    const png = await picture('png');
    const anonymous = await fetch(`${media}/v1/products/COFFEE-1KG/images`, { method: 'POST', headers: { ...await asGateway('media'), 'content-type': 'image/png' }, body: new Uint8Array(png) });
    assert.equal(anonymous.status, 401);
    const shopper = await upload('COFFEE-1KG', png, { token: shopperToken });
    assert.equal(shopper.status, 403);
    const unknown = await upload('NO-SUCH-PRODUCT', png);
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.reason, 'product_not_found');
    const stranger = await fetch(`${media}/v1/products/COFFEE-1KG/images`, {
      method: 'POST', headers: { ...await testIdentity.headers('orders', 'media'), authorization: `Bearer ${staffToken}`, 'content-type': 'image/png' }, body: new Uint8Array(png),
    });
    assert.equal(stranger.status, 401, 'only the gateway may call media\'s routes: another service\'s credential is not trusted here');
  });

  test('a 50 MB upload streams through: media\'s heap and buffers stay flat while it arrives', async () => {
    // 16 megapixels of noise, stored as PNG without compression: 48 MB that no encoder can shrink.
    const noise = await sharp(randomBytes(4_000 * 4_000 * 3), { raw: { width: 4_000, height: 4_000, channels: 3 } }).png({ compressionLevel: 0 }).toBuffer();
    assert.ok(noise.length > 45 * mib && noise.length <= maxUploadBytes, `${noise.length} bytes`);
    const heapBefore = await mediaHeapBytes();
    let heapMost = heapBefore;
    // Sent in 1 MiB pieces, the heap read between them: what a slow client's upload looks like.
    async function* slowly() {
      for (let offset = 0; offset < noise.length; offset += mib) {
        yield noise.subarray(offset, offset + mib);
        heapMost = Math.max(heapMost, await mediaHeapBytes());
      }
    }
    const taken = await upload('COFFEE-1KG', Readable.from(slowly()), { headers: { 'content-length': String(noise.length) } });
    assert.equal(taken.status, 202, JSON.stringify(taken.body));
    assert.equal(taken.body.bytes, noise.length);
    const grownMiB = (heapMost - heapBefore) / mib
    assert.ok(grownMiB < 24, `media's heap and buffers grew by ${grownMiB.toFixed(1)} MiB while a ${(noise.length / mib).toFixed(0)} MiB upload arrived`);
  });

  test('past the limit: a declared 51 MB upload is refused at once, and an undeclared one as soon as its bytes pass 50 MB, without reading the rest', async () => {
    const declared = await rawUpload({ declaredBytes: 51 * mib, sendBytes: 64 * 1024 });
    assert.equal(declared.status, 413);
    assert.ok(declared.sentBytes < 1 * mib, `sent ${declared.sentBytes} bytes before the answer`);
    // Chunked, with no length and no end: refused once 50 MiB are in, without waiting for the
    // rest (a server that waited would meet the 1 s idle timeout: 408). The sender then waits,
    // as a client that heard nothing would; one that went on sending could meet the close.
    const undeclared = await rawUpload({ sendBytes: 60 * mib, png: true, then: 'stall' });
    assert.equal(undeclared.status, 413, undeclared.text);
    // Renders write their sizes through .partial/ too: wait for those, then there must be none.
    assert.ok(await waitFor(async () => !(await storedKeys()).some((key) => key.startsWith('.partial/')), 30_000), 'a partial file was left');
  });

  test('an upload cut off half-way, or that stalls, leaves no object behind; a stall is answered 408', async () => {
    const keysBefore = (await storedKeys()).filter((key) => key.startsWith('originals/'));
    const cut = await rawUpload({ declaredBytes: 4 * mib, sendBytes: 2 * mib, png: true, then: 'destroy' });
    assert.equal(cut.status, undefined, 'no answer to a client that went away');
    const stalled = await rawUpload({ declaredBytes: 4 * mib, sendBytes: 2 * mib, png: true, then: 'stall' });
    assert.equal(stalled.status, 408, stalled.text);
    assert.match(stalled.text, /request_timeout/);
    assert.ok(await waitFor(async () => {
      const keys = await storedKeys();
      return keys.filter((key) => key.startsWith('originals/')).length === keysBefore.length && !keys.some((key) => key.startsWith('.partial/'));
    }, 10_000), `left behind: ${JSON.stringify(await storedKeys())}`);
  });

  /** An upload to media as the gateway passes it on, over a connection of its own. */
  const rawUpload = async (options: Omit<RawUpload, 'url' | 'headers'>) => sendRawUpload({ url: `${media}/v1/products/COFFEE-1KG/images`, headers: await asGateway('media', staffToken), ...options });

  test('media runs at a lower priority than the services of checkout (niceness 10), so its renders yield the CPU', async (t) => {
    if (!hasProcFs) return t.skip('no /proc here to read a process\'s niceness from');
    const media = nicenessOf(shop.stack.status('media').pid ?? 0);
    assert.equal(media?.niceness, 10);
    assert.equal(nicenessOf(shop.stack.status('inventory').pid ?? 0)?.niceness, 0);
    // Every thread of it: renders and file writes run on libvips's and libuv's workers.
    assert.ok((media?.threads.length ?? 0) > 4, `${media?.threads.length} threads`);
    assert.deepEqual(media?.threads.filter((n) => n !== 10), [], 'a thread of media at another niceness');
  });

  test('the metrics show uploads and the thumbnail queue', async () => {
    const text = await (await fetch(new URL('/metrics', shop.stack.adminUrl('media')))).text();
    const families = parseMetrics(text);
    assert.ok(histogramCount(text, 'media_upload_duration_seconds', 'outcome="ok"') >= 3);
    assert.ok(histogramCount(text, 'media_upload_duration_seconds', 'outcome="invalid_argument"') >= 1, 'the refused types');
    assert.equal(metricValue(families, 'media_uploads_in_flight'), 0);
    assert.equal(metricValue(families, 'media_upload_bytes_in_flight'), 0);
    assert.ok(Number.isFinite(metricValue(families, 'media_thumbnail_queue_depth')));
    assert.ok(Number.isFinite(metricValue(families, 'media_thumbnail_lag_seconds')));
  });
});
