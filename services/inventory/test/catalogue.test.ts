import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createClient, problemOf, type Client, type Product, type ProductPage } from './support/http.ts';
import { startInventory, type TestInventory } from './support/inventory.ts';

void describe('the catalogue', () => {
  let inventory: TestInventory;
  let client: Client;

  before(async () => {
    inventory = await startInventory();
    client = createClient(inventory.url);
  });
  after(async () => {
    await inventory?.stop();
  });

  void it('is seeded with at least 20 priced, stocked products in EUR', async () => {
    const answer = await client.products('?limit=100');
    assert.equal(answer.status, 200);
    assert.ok(answer.body.items.length >= 20, `only ${answer.body.items.length} products`);
    assert.equal(answer.body.nextCursor, null);
    for (const product of answer.body.items) {
      assert.match(product.sku, /^[A-Z0-9][A-Z0-9-]{1,31}$/);
      assert.ok(product.name.length > 0);
      assert.ok(Number.isInteger(product.priceCents) && product.priceCents > 0, `${product.sku} has no price`);
      assert.equal(product.currency, 'EUR');
      assert.ok(Number.isInteger(product.available) && product.available > 0, `${product.sku} has no stock`);
    }
  });

  void it('pages through every product once, in SKU order, with a cursor', async () => {
    const everything = (await client.products('?limit=100')).body.items.map((p) => p.sku);
    const walked: Product[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = cursor === null ? '?limit=7' : `?limit=7&cursor=${encodeURIComponent(cursor)}`;
      const answer = await client.products(query);
      assert.equal(answer.status, 200);
      assert.ok(answer.body.items.length <= 7);
      walked.push(...answer.body.items);
      cursor = answer.body.nextCursor;
      pages += 1;
      assert.ok(pages <= everything.length, 'paging does not end');
    } while (cursor !== null);
    const skus = walked.map((p) => p.sku);
    assert.equal(new Set(skus).size, skus.length, 'a product came twice');
    assert.deepEqual(skus, everything);
    assert.equal(pages, Math.ceil(everything.length / 7));
  });

  void it('gives 20 products a page by default', async () => {
    const answer = await client.send<ProductPage>('GET', '/v1/products');
    assert.equal(answer.status, 200);
    assert.equal(answer.body.items.length, 20);
    assert.equal(typeof answer.body.nextCursor, 'string');
  });

  void it('answers one product by SKU', async () => {
    const first = (await client.products('?limit=1')).body.items[0];
    assert.ok(first);
    const answer = await client.product(first.sku);
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.body, first);
  });

  void it('answers 404 for an unknown SKU', async () => {
    const answer = await client.product('NO-SUCH-THING');
    assert.equal(answer.status, 404);
    assert.match(answer.contentType, /^application\/problem\+json/);
    assert.equal(problemOf(answer).code, 'not_found');
  });

  void it('rejects malformed SKUs, limits and cursors with 400', async () => {
    for (const path of [
      '/v1/products/lower-case',
      '/v1/products/-LEADING-DASH',
      `/v1/products/${'A'.repeat(40)}`,
      '/v1/products?limit=0',
      '/v1/products?limit=101',
      '/v1/products?limit=ten',
      '/v1/products?cursor=not-a-cursor',
      `/v1/products?cursor=${Buffer.from(JSON.stringify({ after: 'x; drop table products' })).toString('base64url')}`,
      '/v1/products?page=2',
    ]) {
      const answer = await client.send('GET', path);
      assert.equal(answer.status, 400, path);
      assert.match(answer.contentType, /^application\/problem\+json/, path);
      assert.equal(problemOf(answer).code, 'invalid_argument', path);
    }
  });
});
