import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createClient, problemOf, type Answer, type Client, type Product, type ProductPage } from './support/http.ts';
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
      '/v1/products?minPriceCents=-1',
      '/v1/products?minPriceCents=1000&maxPriceCents=999',
      '/v1/products?sort=relevance',
      '/v1/products?sort=cheapest',
      '/v1/products?category=Coffee',
      `/v1/products?q=${'x'.repeat(201)}`,
      '/v1/products?q=%20%20',
    ]) {
      const answer = await client.send('GET', path);
      assert.equal(answer.status, 400, path);
      assert.match(answer.contentType, /^application\/problem\+json/, path);
      assert.equal(problemOf(answer).code, 'invalid_argument', path);
    }
  });

  void it('finds products by words in the name, description or category, best match first, with stemming', async () => {
    const answer = await client.products('?q=coffee&limit=100');
    assert.equal(answer.status, 200);
    const skus = answer.body.items.map((p) => p.sku);
    // "coffee" in the name outranks "coffee" in the description alone.
    const named = answer.body.items.filter((p) => /coffee/i.test(p.name)).map((p) => p.sku);
    const describedOnly = answer.body.items.filter((p) => !/coffee/i.test(p.name)).map((p) => p.sku);
    assert.ok(named.length >= 3 && describedOnly.length >= 3, `both kinds: ${skus.join(', ')}`);
    assert.ok(Math.max(...named.map((sku) => skus.indexOf(sku))) < Math.min(...describedOnly.map((sku) => skus.indexOf(sku))), `every product named coffee comes before those that only describe it: ${skus.join(', ')}`);
    assert.ok(!skus.includes('TEA-CHAMOMILE-50G'), 'a product without the word is not found');
    // English stemming: "grinds" and "grinder" are one word; a phrase and an exclusion work as on the web.
    assert.ok((await client.products('?q=grinding')).body.items.some((p) => p.sku === 'GRINDER-BURR'));
    const teaNotGreen = (await client.products('?q=tea%20-green&limit=100')).body.items.map((p) => p.sku);
    assert.ok(teaNotGreen.includes('TEA-EARLGREY-100G') && !teaNotGreen.includes('TEA-GREEN-100G'), teaNotGreen.join(', '));
    assert.deepEqual((await client.products(`?q=${encodeURIComponent('"pour-over kettle"')}`)).body.items.map((p) => p.sku), ['KETTLE-GOOSENECK']);
    assert.deepEqual((await client.products('?q=xylophone')).body, { items: [], nextCursor: null });
  });

  void it('takes any text as search words: quotes, operators and SQL are words, never SQL', async () => {
    const before = (await client.products('?limit=100')).body.items.length;
    for (const q of ["'; drop table products; --", "coffee' or '1'='1", '!!:*&|<->(', '\\', 'coffee) | (tea', "' union select password from users --", '%', '_']) {
      const answer = await client.products(`?q=${encodeURIComponent(q)}&limit=100`);
      assert.equal(answer.status, 200, `${q}: ${JSON.stringify(answer.body)}`);
      assert.ok(answer.body.items.length < before, `${q} does not match everything`);
    }
    assert.equal((await client.products('?limit=100')).body.items.length, before, 'the catalogue is whole');
    // The statement is built with the words as a parameter: the one that looks like an injection finds coffee, as words.
    assert.ok((await client.products(`?q=${encodeURIComponent("coffee' or '1'='1")}`)).body.items.every((p) => /coffee/i.test(`${p.name} ${p.description} ${p.category}`)));
  });

  void it('filters by category and price range, sorts by price or name, and pages through each order once', async () => {
    const brewing = (await client.products('?category=brewing&limit=100')).body.items;
    assert.ok(brewing.length >= 5 && brewing.every((p) => p.category === 'brewing'));
    const cheap = (await client.products('?maxPriceCents=1000&minPriceCents=500&limit=100')).body.items;
    assert.ok(cheap.length > 0 && cheap.every((p) => p.priceCents >= 500 && p.priceCents <= 1000));

    for (const [sort, inOrder] of [
      ['price', (a: Product, b: Product) => a.priceCents - b.priceCents || a.sku.localeCompare(b.sku)],
      ['-price', (a: Product, b: Product) => b.priceCents - a.priceCents || a.sku.localeCompare(b.sku)],
    ] as const) {
      const all = (await client.products(`?sort=${sort}&limit=100`)).body.items;
      assert.deepEqual(all.map((p) => p.sku), all.toSorted(inOrder).map((p) => p.sku), `sort=${sort}`);
      assert.deepEqual(await walk(`sort=${sort}`, 4), all.map((p) => p.sku), `sort=${sort}, 4 a page`);
    }
    const byName = (await client.products('?sort=name&limit=100')).body.items.map((p) => p.name);
    assert.equal(byName.length, (await client.products('?limit=100')).body.items.length);
    assert.deepEqual(await walk('sort=name', 5), (await client.products('?sort=name&limit=100')).body.items.map((p) => p.sku));
    // Ties in rank and price are broken by SKU, so a page boundary inside a tie loses nothing.
    assert.deepEqual(await walk('q=coffee', 2), (await client.products('?q=coffee&limit=100')).body.items.map((p) => p.sku));
    assert.deepEqual(await walk('q=tea&sort=price&maxPriceCents=5000', 1), (await client.products('?q=tea&sort=price&maxPriceCents=5000&limit=100')).body.items.map((p) => p.sku));
  });

  void it('refuses a cursor brought to another search or sort, naming the cursor', async () => {
    const first = await client.products('?q=coffee&limit=2');
    const cursor = encodeURIComponent(first.body.nextCursor ?? assert.fail('no second page'));
    for (const query of [`?q=tea&limit=2&cursor=${cursor}`, `?q=coffee&sort=price&limit=2&cursor=${cursor}`, `?limit=2&cursor=${cursor}`]) {
      const answer = await client.products(query);
      assert.equal(answer.status, 400, query);
      assert.deepEqual(problemOf(answer).errors?.map((e) => e.field), ['query.cursor'], query);
    }
    assert.equal((await client.products(`?q=coffee&limit=2&cursor=${cursor}`)).status, 200);
  });

  void it('refuses a forged cursor whose key is not what its sort orders by: 400, never a database error', async () => {
    const forge = (query: string, cursor: string | null, key: unknown) => {
      const position = JSON.parse(Buffer.from(cursor ?? assert.fail(`no second page for ${query}`), 'base64url').toString()) as Record<string, unknown>;
      return Buffer.from(JSON.stringify({ ...position, key })).toString('base64url');
    };
    for (const [query, keys] of [
      ['sort=price', ['x', 1.5, -1, 1e12]],
      ['sort=-price', ['x', 2 ** 40]],
      ['q=coffee', ['x', 1e40]],
      ['sort=name', [42, 'x'.repeat(201)]],
    ] as const) {
      const first = await client.products(`?${query}&limit=2`);
      for (const key of keys) {
        const answer = await client.products(`?${query}&limit=2&cursor=${forge(query, first.body.nextCursor, key)}`);
        assert.equal(answer.status, 400, `${query} with key ${String(key).slice(0, 20)}: ${JSON.stringify(answer.body)}`);
        assert.deepEqual(problemOf(answer).errors?.map((e) => e.field), ['query.cursor']);
      }
    }
  });

  void it('lists the categories with how many products each holds', async () => {
    const answer = await client.send<{ items: Array<{ name: string; products: number }> }>('GET', '/v1/categories');
    assert.equal(answer.status, 200);
    const all = (await client.products('?limit=100')).body.items;
    assert.deepEqual(answer.body.items.map((c) => c.name), [...new Set(all.map((p) => p.category))].toSorted());
    for (const category of answer.body.items) assert.equal(category.products, all.filter((p) => p.category === category.name).length, category.name);
  });

  /** Every SKU of a query, page by page, `limit` a page. */
  async function walk(query: string, limit: number): Promise<string[]> {
    const skus: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Answer<ProductPage> = await client.products(`?${query}&limit=${limit}${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`);
      assert.equal(page.status, 200, JSON.stringify(page.body));
      skus.push(...page.body.items.map((p) => p.sku));
      cursor = page.body.nextCursor;
      assert.ok(skus.length <= 100, 'paging does not end');
    } while (cursor !== null);
    assert.equal(new Set(skus).size, skus.length, `a product came twice: ${skus.join(', ')}`);
    return skus;
  }
});
