import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { before, describe, test } from 'node:test';
import sharp from 'sharp';
import { createSuiteScope, metricValue, parseMetrics } from '@baton/kit/testing';
import { picture, pngClaiming } from '../../services/media/test/support/images.ts';
import { rawUpload as sendRawUpload, waitFor, type RawUpload } from '../../services/media/test/support/uploads.ts';
import { createShopClient } from './shop-client.ts';
import { startShop, type ShopStack } from './shop-stack.ts';

interface Image { id: string; sku: string; status: string; contentType: string; bytes: number; url: string | null; sizes: Array<{ size: number; url: string }>; code?: string }
interface Product { sku: string; images: Array<{ id: string; url: string; width: number; height: number; sizes: Array<{ size: number; width: number; url: string }> }> }

const mib = 1024 * 1024;
const password = 'correct horse battery staple';

// Product images through the public API: staff upload through the gateway (the one 50 MB route,
// streamed through to media), the catalogue lists an image once media has rendered it, and its
// bytes are served back through the gateway with their validators and ranges.
void describe('product images, through the gateway', () => {
  const suite = createSuiteScope();
  const staffEmail = `staff-${randomUUID()}@example.com`;
  let shop: ShopStack;
  let api: ReturnType<typeof createShopClient>;
  let staff: string;
  let shopper: string;

  before(async () => {
    shop = await startShop(suite, {
      users: { STAFF_EMAILS: staffEmail },
      // 3 s, not the 30 s default, so the stall tests answer soon; not 1 s: media runs at a lower
      // priority, and on two loaded cores it went a second without taking a byte of a healthy
      // upload (503 to the 50 MB test, seen once in 8 runs beside other stacks).
      gateway: { UPLOAD_IDLE_TIMEOUT_MS: '3000', RATE_LIMIT_PER_ADDRESS_PER_MINUTE: '100000' },
      media: { MESSAGING_POLL_INTERVAL_MS: '50' },
    }, { media: true });
    api = createShopClient(shop.gateway);
    const registered = await api.call('POST', '/api/v1/users', { body: { email: staffEmail, password, name: 'Stella' } });
    assert.equal(registered.status, 201, JSON.stringify(registered.body));
    staff = (await api.call<{ accessToken: string }>('POST', '/api/v1/auth/login', { body: { email: staffEmail, password } })).body.accessToken;
    shopper = (await api.signUp('Sam')).token;
  });

  async function upload(sku: string, body: Buffer | Readable, { token = staff, contentType = 'image/png', headers = {} }: { token?: string; contentType?: string; headers?: Record<string, string> } = {}) {
    const response = await fetch(`${shop.gateway}/api/v1/products/${sku}/images`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': contentType, ...headers },
      body: body instanceof Readable ? Readable.toWeb(body) as ReadableStream : new Uint8Array(body),
      ...(body instanceof Readable ? { duplex: 'half' } : {}),
    } as RequestInit);
    return { status: response.status, location: response.headers.get('location'), body: await response.json() as Image };
  }

  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${shop.gateway}${path}`, { headers });

  async function ready(id: string): Promise<Image> {
    let image: Image | undefined;
    assert.ok(await waitFor(async () => {
      image = await (await get(`/api/v1/images/${id}`)).json() as Image;
      return image.status !== 'processing';
    }, 30_000), `image ${id} still processing`);
    assert.equal(image!.status, 'ready');
    return image!;
  }

  const gatewayMemoryBytes = async () => {
    const families = parseMetrics(await (await fetch(new URL('/metrics', shop.stack.adminUrl('gateway')))).text());
    return metricValue(families, 'nodejs_heap_size_used_bytes') + metricValue(families, 'nodejs_external_memory_bytes');
  };

  test('staff upload a PNG: 202 with where to follow it; once ready the product lists it, and its bytes come back with ETag, 304 and ranges', async () => {
    const png = await picture('png', 1_200, 900);
    const taken = await upload('COFFEE-1KG', png);
    assert.equal(taken.status, 202, JSON.stringify(taken.body));
    assert.equal(taken.location, `/api/v1/images/${taken.body.id}`);
    assert.equal(taken.body.status, 'processing');
    const image = await ready(taken.body.id);
    assert.deepEqual(image.sizes.map((size) => size.url), [320, 640, 1280].map((size) => `/api/v1/images/${image.id}/sizes/${size}`));

    let product: Product | undefined;
    assert.ok(await waitFor(async () => {
      product = (await api.call<Product>('GET', '/api/v1/products/COFFEE-1KG')).body;
      return product.images.some((listed) => listed.id === image.id);
    }, 30_000), 'the product never listed the image');
    const listed = product!.images.find((entry) => entry.id === image.id)!;
    assert.deepEqual([listed.url, listed.width, listed.height], [`/api/v1/images/${image.id}/original`, 1_200, 900]);

    // The file as uploaded keeps its metadata: staff only. The sizes are anyone's, and carry none.
    assert.equal((await get(listed.url)).status, 401);
    assert.equal((await get(listed.url, { authorization: `Bearer ${shopper}` })).status, 403);
    const asStaff = { authorization: `Bearer ${staff}` };
    const original = await get(listed.url, asStaff);
    assert.equal(original.status, 200);
    assert.equal(original.headers.get('content-type'), 'image/png');
    assert.equal(original.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.equal(original.headers.get('x-content-type-options'), 'nosniff');
    const etag = original.headers.get('etag')!;
    assert.equal(etag, `"${createHash('sha256').update(png).digest('hex')}"`);
    assert.ok(Buffer.from(await original.arrayBuffer()).equals(png), 'the bytes uploaded, byte for byte');
    const cached = await get(listed.url, { ...asStaff, 'if-none-match': etag });
    assert.equal(cached.status, 304);
    assert.equal(cached.headers.get('etag'), etag);
    const part = await get(listed.url, { ...asStaff, range: 'bytes=8-23' });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get('content-range'), `bytes 8-23/${png.length}`);
    assert.ok(Buffer.from(await part.arrayBuffer()).equals(png.subarray(8, 24)));
    const past = await get(listed.url, { ...asStaff, range: `bytes=${png.length}-` });
    assert.equal(past.status, 416);
    assert.equal(past.headers.get('content-range'), `bytes */${png.length}`);
    assert.equal(((await past.json()) as { code: string }).code, 'range_not_satisfiable');

    const size = listed.sizes.find((entry) => entry.size === 640)!;
    const rendered = await get(size.url);
    assert.equal(rendered.status, 200);
    assert.equal(rendered.headers.get('content-type'), 'image/webp');
    const meta = await sharp(Buffer.from(await rendered.arrayBuffer())).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['webp', 640, 480]);
    const sizeTag = rendered.headers.get('etag')!;
    assert.equal((await get(size.url, { 'if-none-match': sizeTag })).status, 304);
    assert.equal((await get(size.url, { range: 'bytes=0-9' })).status, 206);
    assert.equal((await get(size.url, { range: 'bytes=99999999-' })).status, 416);
  });

  test('the sizes anyone may fetch carry none of the photo\'s metadata (where it was taken, by whom)', async () => {
    const photo = await sharp({ create: { width: 800, height: 600, channels: 3, background: '#884422' } })
      .withExif({ IFD0: { Artist: 'John Doe', Make: 'SecretCam' } }).jpeg().toBuffer();
    assert.match((await sharp(photo).metadata()).exif?.toString('latin1') ?? '', /John Doe/, 'the upload carries it');
    const taken = await upload('COFFEE-1KG', photo, { contentType: 'image/jpeg' });
    assert.equal(taken.status, 202, JSON.stringify(taken.body));
    const image = await ready(taken.body.id);
    for (const size of image.sizes) {
      const meta = await sharp(Buffer.from(await (await get(size.url)).arrayBuffer())).metadata();
      assert.deepEqual([meta.exif, meta.xmp], [undefined, undefined], size.url);
    }
  });

  test('a one-file form works as the file itself', async () => {
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(await picture('jpeg', 640, 480))], { type: 'image/jpeg' }), 'mug.jpg');
    const response = await fetch(`${shop.gateway}/api/v1/products/MUG-STONEWARE/images`, { method: 'POST', headers: { authorization: `Bearer ${staff}` }, body: form });
    const body = await response.json() as Image;
    assert.equal(response.status, 202, JSON.stringify(body));
    assert.equal(body.contentType, 'image/jpeg');
    await ready(body.id);
  });

  test('refused by what the file is, not what it says: 415 not_an_image, 422 for a bomb and for a damaged image, each a problem document', async () => {
    const text = await upload('COFFEE-1KG', Buffer.from('these are words, not a picture\n'.repeat(300)), { contentType: 'image/png' });
    assert.deepEqual([text.status, text.body.code], [415, 'not_an_image']);
    const bomb = await upload('COFFEE-1KG', pngClaiming(100_000, 100_000));
    assert.deepEqual([bomb.status, bomb.body.code], [422, 'image_too_large']);
    // A real PNG with its colour type changed to one PNG does not have: it starts as a PNG, and its header does not hold.
    const damaged = Buffer.from(await picture('png'));
    damaged[25] = 7;
    const unreadable = await upload('COFFEE-1KG', damaged);
    assert.deepEqual([unreadable.status, unreadable.body.code], [422, 'image_unreadable']);
    // Nothing at all: refused at once (it once waited for bytes that had already all come).
    const empty = await upload('COFFEE-1KG', Buffer.alloc(0));
    assert.deepEqual([empty.status, empty.body.code], [415, 'not_an_image']);
    // A form its parser cannot read is the client's mistake: 400, not a 500.
    const formless = await upload('COFFEE-1KG', await picture('png'), { contentType: 'multipart/form-data; boundary=zzz' });
    assert.deepEqual([formless.status, formless.body.code], [400, 'invalid_request']);
  });

  test('a form\'s file name and type are not asked either: a PNG named photo.jpg is a PNG, a text file named photo.png is refused', async () => {
    const form = (bytes: Buffer, name: string, type: string) => {
      const data = new FormData();
      data.append('file', new Blob([new Uint8Array(bytes)], { type }), name);
      return fetch(`${shop.gateway}/api/v1/products/COFFEE-1KG/images`, { method: 'POST', headers: { authorization: `Bearer ${staff}` }, body: data });
    };
    const renamed = await form(await picture('png', 300, 200), 'photo.jpg', 'image/jpeg');
    const taken = await renamed.json() as Image;
    assert.deepEqual([renamed.status, taken.contentType], [202, 'image/png']);
    const text = await form(Buffer.from('not a picture, only words\n'.repeat(100)), 'photo.png', 'image/png');
    assert.deepEqual([text.status, ((await text.json()) as { code: string }).code], [415, 'not_an_image']);
  });

  test('an upload whose client goes away half-way leaves nothing behind, through the gateway as at media', async () => {
    const originals = async () => (await readdir(join(shop.stack.varDir, 'media'), { recursive: true })).filter((name) => name.startsWith('originals/') || name.startsWith('.partial/')).length;
    const before = await originals();
    const cut = await rawUpload({ declaredBytes: 8 * mib, sendBytes: 4 * mib, png: true, then: 'leave' });
    assert.equal(cut.status, undefined, 'nobody left to answer');
    assert.ok(await waitFor(async () => (await originals()) === before, 10_000), `left behind: ${JSON.stringify(await readdir(join(shop.stack.varDir, 'media'), { recursive: true }))} (before: ${before})`);
  });

  test('only staff, only for a product the shop has, and nothing unknown: 401, 403, 404', async () => {
    const png = await picture('png');
    assert.equal((await fetch(`${shop.gateway}/api/v1/products/COFFEE-1KG/images`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: new Uint8Array(png) })).status, 401);
    const asShopper = await upload('COFFEE-1KG', png, { token: shopper });
    assert.deepEqual([asShopper.status, asShopper.body.code], [403, 'staff_only']);
    const unknown = await upload('NO-SUCH-THING', png);
    assert.deepEqual([unknown.status, unknown.body.code], [404, 'not_found']);
    const nobody = randomUUID();
    for (const path of [`/api/v1/images/${nobody}`, `/api/v1/images/${nobody}/original`, `/api/v1/images/${nobody}/sizes/320`]) {
      const answer = await get(path, { authorization: `Bearer ${staff}` });
      assert.equal(answer.status, 404, path);
      assert.equal(((await answer.json()) as { code: string }).code, 'not_found');
    }
  });

  test('too large: refused at the gateway from its Content-Length, and without one as soon as 50 MiB have passed; the other routes keep their small limit', async () => {
    const declared = await rawUpload({ declaredBytes: 51 * mib, sendBytes: 256 * 1024 });
    assert.equal(declared.status, 413, declared.text);
    assert.ok(declared.sentBytes < 2 * mib, `sent ${declared.sentBytes} bytes first`);
    const chunked = await rawUpload({ sendBytes: 120 * mib, png: true });
    assert.equal(chunked.status, 413, chunked.text);
    assert.ok(chunked.sentBytes < 100 * mib, `sent ${(chunked.sentBytes / mib).toFixed(0)} MiB of 120 first`);
    const json = await api.call('POST', '/api/v1/products', { token: staff, raw: JSON.stringify({ filler: 'x'.repeat(200 * 1024) }) });
    assert.equal(json.status, 413, 'a JSON route keeps the gateway\'s own limit');
  });

  test('a large upload that is not an image is told 415 through the gateway, while its bytes are still arriving (not 503)', async () => {
    const text = await rawUpload({ declaredBytes: 20 * mib, sendBytes: 20 * mib });
    assert.equal(text.status, 415, text.text);
    assert.match(text.text, /"code":"not_an_image"/);
  });

  test('an upload that stalls is cut off with 408, at the gateway', async () => {
    const stalled = await rawUpload({ declaredBytes: 4 * mib, sendBytes: 1 * mib, png: true, then: 'stall' });
    assert.equal(stalled.status, 408, stalled.text);
    assert.match(stalled.text, /"code":"request_timeout"/);
  });

  test('media frozen mid-upload: the gateway answers 503 once media has taken no byte for the idle timeout, not at the upload\'s 10-minute deadline', async () => {
    // The client keeps sending; the gateway holds the body back, as media does not read it. That
    // time is not the client's (no 408), and media taking nothing is media's failure: 503.
    await shop.stack.kill('media', 'SIGSTOP');
    try {
      const started = performance.now();
      const frozen = await rawUpload({ declaredBytes: 40 * mib, sendBytes: 40 * mib, png: true });
      assert.equal(frozen.status, 503, frozen.text);
      assert.match(frozen.text, /"code":"service_unavailable"/);
      assert.ok(performance.now() - started < 60_000, 'answered long before the upload deadline');
    } finally {
      await shop.stack.kill('media', 'SIGCONT');
    }
  });

  test('a 50 MB upload streams through the gateway: its heap and buffers stay flat while the bytes pass', async () => {
    const noise = await sharp(randomBytes(4_000 * 4_000 * 3), { raw: { width: 4_000, height: 4_000, channels: 3 } }).png({ compressionLevel: 0 }).toBuffer();
    assert.ok(noise.length > 45 * mib && noise.length <= 50 * mib, `${noise.length} bytes`);
    const before = await gatewayMemoryBytes();
    let most = before;
    async function* slowly() {
      for (let offset = 0; offset < noise.length; offset += mib) {
        yield noise.subarray(offset, offset + mib);
        most = Math.max(most, await gatewayMemoryBytes());
      }
    }
    const taken = await upload('COFFEE-1KG', Readable.from(slowly()), { headers: { 'content-length': String(noise.length) } });
    assert.equal(taken.status, 202, JSON.stringify(taken.body));
    assert.equal(taken.body.bytes, noise.length);
    const grownMiB = (most - before) / mib;
    assert.ok(grownMiB < 24, `the gateway's heap and buffers grew by ${grownMiB.toFixed(1)} MiB while ${(noise.length / mib).toFixed(0)} MiB passed`);
  });

  /** An upload through the gateway as staff, over a connection of its own. */
  const rawUpload = (options: Omit<RawUpload, 'url' | 'headers'>) => sendRawUpload({ url: `${shop.gateway}/api/v1/products/COFFEE-1KG/images`, headers: { authorization: `Bearer ${staff}` }, ...options });
});
