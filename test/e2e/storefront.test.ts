import { before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Browser, BrowserContext, Locator, Page, Response } from 'playwright-core';
import { addCleanup, createSuiteScope } from '@baton/kit/testing';
import { picture } from '../../services/media/test/support/images.ts';
import { browserAvailability, expectAccessible, launchBrowser, screenshot } from '../support/browser.ts';
import { assertLedgerMatchesOrders, providerLedger, recordedOrders } from './payment-ledger.ts';
import { createShopClient, type OrderPayment } from './shop-client.ts';
import { startShop, type ShopStack } from './shop-stack.ts';

// A page, a form's answer or a polled state on this two-core machine, where the whole shop and a
// browser share the cores: generous bounds, so that only a real hang fails.
const pageTimeoutMs = 30_000;
const eventuallyMs = 45_000;
const password = 'correct horse battery staple';

interface Product { sku: string; name: string; images: Array<{ id: string; sizes: Array<{ url: string; width: number }> }> }
interface Order { id: string; status: string; totalCents: number; payment: OrderPayment | null }

// What the functions run in the page read of it (the repo's types are Node's, without the DOM's).
interface ImageElement { complete: boolean; naturalWidth: number; currentSrc: string }
declare const document: {
  documentElement: { scrollWidth: number };
  activeElement: { id: string; tagName: string; textContent: string | null; getAttribute(name: string): string | null } | null;
};
declare const window: { innerWidth: number };

/**
 * The storefront at `/`, driven by a real chromium against the whole shop as `npm start` runs it
 * (payment and media on): a shopper signs up, finds, fills a cart, pays and reads the emails; a
 * declined card, a short stock and a service down each answer with the right status and a page
 * in the shop's words; a phone-sized window scrolls only down, and the keyboard gets past the
 * header. Each page is screenshotted (test-results/screenshots/storefront-*.png) and checked
 * with axe against WCAG 2.2 AA. The runner's console runs beside the shop, as under `npm start`
 * (one stack for both: a browser suite is the heaviest there is): an operator breaks inventory
 * with it, watches the breaker and the retries, and mends it (console-*.png).
 */
void describe('the storefront in a browser, against the whole shop', browserAvailability(), () => {
  const suite = createSuiteScope();
  const staffEmail = `staff-${randomUUID()}@example.com`;
  // Each run's products are its own (names, SKUs, category), found by search and by category.
  const tag = randomUUID().slice(0, 6).toUpperCase();
  const category = `sf-${tag.toLowerCase()}`;
  let shop: ShopStack;
  let api: ReturnType<typeof createShopClient>;
  let staff: string;
  let browser: Browser;

  before(async () => {
    shop = await startShop(suite, {
      gateway: { RATE_LIMIT_PER_ADDRESS_PER_MINUTE: '1000000', RATE_LIMIT_PER_USER_PER_MINUTE: '1000000', REGISTRATIONS_PER_ADDRESS_PER_HOUR: '1000000' },
      users: { STAFF_EMAILS: staffEmail },
      media: { MESSAGING_POLL_INTERVAL_MS: '50' },
      notifications: { MESSAGING_POLL_INTERVAL_MS: '100' },
    }, { payment: true, media: true, console: true });
    api = createShopClient(shop.gateway);
    const registered = await api.call('POST', '/api/v1/users', { body: { email: staffEmail, password, name: 'Stella' } });
    assert.equal(registered.status, 201, JSON.stringify(registered.body));
    staff = await tokenOf(staffEmail);
    browser = await launchBrowser(suite);
  }, { timeout: 240_000 });

  async function tokenOf(email: string): Promise<string> {
    const signedIn = await api.call<{ accessToken: string }>('POST', '/api/v1/auth/login', { body: { email, password } });
    assert.equal(signedIn.status, 200, JSON.stringify(signedIn.body));
    return signedIn.body.accessToken;
  }

  /** A product of this run's category, with `units` in stock. */
  async function productWith({ sku, name, priceCents, units }: { sku: string; name: string; priceCents: number; units: number }): Promise<{ sku: string; name: string }> {
    const created = await api.call('POST', '/api/v1/products', { token: staff, body: { sku, name, category, priceCents, description: `${name}, made for the storefront's browser test.` } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const stocked = await api.call('POST', `/api/v1/products/${sku}/stock`, { token: staff, body: { delta: units, reason: 'restock' } });
    assert.equal(stocked.status, 201, JSON.stringify(stocked.body));
    return { sku, name };
  }

  /** Uploads a picture for `sku` as staff, and waits until the catalogue lists it as ready. */
  async function withPicture(sku: string): Promise<void> {
    const uploaded = await fetch(`${shop.gateway}/api/v1/products/${sku}/images`, {
      method: 'POST', headers: { authorization: `Bearer ${staff}`, 'content-type': 'image/png' }, body: new Uint8Array(await picture('png', 1_200, 900)),
    });
    assert.equal(uploaded.status, 202, await uploaded.text());
    await until(`the picture of ${sku} listed`, async () => (await api.call<Product>('GET', `/api/v1/products/${sku}`)).body.images.length > 0);
  }

  /** Polls `condition` until it holds; fails, saying what was awaited, after `withinMs`. */
  async function until(what: string, condition: () => Promise<boolean>, withinMs = eventuallyMs): Promise<void> {
    for (const deadline = Date.now() + withinMs; !(await condition());) {
      if (Date.now() > deadline) assert.fail(`${what}: not within ${withinMs} ms`);
      await sleep(250);
    }
  }

  /** A fresh browser context of the test's own (no cookies shared), closed after it. */
  async function openContext(t: TestContext, options: Parameters<Browser['newContext']>[0] = {}): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext(options);
    addCleanup(t, () => context.close());
    context.setDefaultTimeout(pageTimeoutMs);
    context.setDefaultNavigationTimeout(pageTimeoutMs);
    return { context, page: await context.newPage() };
  }

  /** Goes to a path of the shop; the page's own answer (its status), once it has loaded. */
  async function visit(page: Page, path: string): Promise<Response> {
    const response = await page.goto(`${shop.gateway}${path}`);
    assert.ok(response, `no answer for ${path}`);
    return response;
  }

  /**
   * Does what leads to another page (a form sent, a link followed) and returns the answer of the
   * page it ends on: after a 303 the page redirected to, else the form's own answer (a 402 page).
   * Done by the page's `load` event, which only the next document fires.
   */
  async function follow(page: Page, act: () => Promise<unknown>): Promise<Response> {
    const arrived = Promise.all([
      page.waitForResponse((r) => r.frame() === page.mainFrame() && r.request().isNavigationRequest() && (r.status() < 300 || r.status() >= 400)),
      page.waitForEvent('load'),
    ]);
    arrived.catch(() => undefined);
    await act();
    const [response] = await arrived;
    return response;
  }

  /**
   * The screenshot every page visited gets, and its check against WCAG 2.2 AA: once for each kind
   * of page and state (axe takes a second of CPU a page, and the suite is bound by CPU); a page
   * seen again in the same state (`again`) gets the screenshot only.
   */
  async function look(page: Page, name: string, { again = false }: { again?: boolean } = {}): Promise<void> {
    await screenshot(page, `storefront-${name}`);
    if (!again) await expectAccessible(page, `the storefront's ${name} page`);
  }
  let signUpChecked = false;

  /** A new shopper, signed up with the browser's form; their email. */
  async function signUp(page: Page, name: string): Promise<string> {
    const email = `${name.toLowerCase()}-${randomUUID()}@example.com`;
    assert.equal((await visit(page, '/sign-up')).status(), 200);
    await look(page, `sign-up-${name.toLowerCase()}`, { again: signUpChecked });
    signUpChecked = true;
    await page.getByLabel('Your name').fill(name);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password', { exact: true }).fill(password);
    const home = await follow(page, () => page.getByRole('button', { name: 'Create account' }).click());
    assert.equal(home.status(), 200);
    assert.equal(new URL(page.url()).pathname, '/');
    assert.equal(await page.getByRole('button', { name: 'Sign out' }).count(), 1, 'signed in');
    return email;
  }

  /** The text of the page's alert, which must be there. */
  async function alertText(page: Page): Promise<string> {
    const alert = page.getByRole('alert');
    assert.equal(await alert.count(), 1, 'one alert on the page');
    return (await alert.innerText()).replace(/\s+/g, ' ');
  }

  /** Waits until `img` has loaded from a rendered size (lazy ones are scrolled to first), and returns what it loaded. */
  async function loadedPicture(page: Page, where: string, img: Locator): Promise<{ srcset: string; currentSrc: string; naturalWidth: number }> {
    assert.equal(await img.count(), 1, `one picture on ${where}`);
    const srcset = await img.getAttribute('srcset') ?? '';
    const sizes = srcset.split(',').map((entry) => entry.trim());
    assert.ok(sizes.length > 0 && sizes.every((entry) => /^\/api\/v1\/images\/[0-9a-f-]{36}\/sizes\/\d+ \d+w$/.test(entry)), `srcset on ${where}: ${srcset}`);
    await img.scrollIntoViewIfNeeded();
    // Polled in the page: an image is loaded once complete with a width (a broken one is complete with 0).
    const handle = await img.elementHandle();
    await page.waitForFunction((el) => (el as unknown as ImageElement).complete && (el as unknown as ImageElement).naturalWidth > 0, handle, { timeout: pageTimeoutMs });
    const loaded = await img.evaluate((el) => ({ currentSrc: (el as unknown as ImageElement).currentSrc, naturalWidth: (el as unknown as ImageElement).naturalWidth }));
    assert.match(new URL(loaded.currentSrc).pathname, /^\/api\/v1\/images\/[0-9a-f-]{36}\/sizes\/\d+$/, `the picture on ${where} came from a rendered size`);
    return { srcset, ...loaded };
  }

  test('a shopper signs up, finds two products, fills the cart, pays with Visa 4242, sees the order paid and its email', { timeout: 240_000 }, async (t) => {
    const lantern = await productWith({ sku: `SF-${tag}-LANTERN`, name: `Brass lantern ${tag}`, priceCents: 1_990, units: 10 });
    const candle = await productWith({ sku: `SF-${tag}-CANDLE`, name: `Beeswax candle ${tag}`, priceCents: 750, units: 10 });
    await withPicture(lantern.sku);
    const { page } = await openContext(t);

    const email = await signUp(page, 'Ada');
    await look(page, 'products');

    // The candle, found by its category, added from the list.
    await page.getByLabel('Category').selectOption(category);
    const inCategory = await follow(page, () => page.getByRole('button', { name: 'Apply' }).click());
    assert.equal(inCategory.status(), 200);
    assert.equal(await page.getByRole('heading', { level: 1 }).innerText(), `Products in ${category}`);
    await look(page, 'products-category', { again: true });
    const added = await follow(page, () => page.getByRole('button', { name: `Add ${candle.name} to cart` }).click());
    assert.equal(added.status(), 200);
    assert.match(await page.getByRole('status').innerText(), new RegExp(`Added ${candle.sku} to your cart`));
    assert.match(await page.getByRole('link', { name: /^Cart/ }).innerText(), /\(1\)/);

    // The lantern, found with the search box; its picture in the list is a rendered size that loads.
    await page.getByRole('searchbox', { name: 'Search products' }).fill(lantern.name);
    const found = await follow(page, () => page.getByRole('searchbox', { name: 'Search products' }).press('Enter'));
    assert.equal(found.status(), 200);
    assert.equal(new URL(page.url()).searchParams.get('q'), lantern.name);
    const card = page.locator('article.product-card', { has: page.getByRole('heading', { name: lantern.name }) });
    const inList = await loadedPicture(page, 'the list', card.locator('img'));
    t.diagnostic(`list picture: ${inList.currentSrc} (${inList.naturalWidth} px wide)`);
    await look(page, 'products-search', { again: true });

    // Its own page: the picture again, and two of it into the cart.
    const productPage = await follow(page, () => page.getByRole('link', { name: lantern.name }).click());
    assert.equal(productPage.status(), 200);
    assert.equal(new URL(page.url()).pathname, `/products/${lantern.sku}`);
    const onPage = await loadedPicture(page, 'the product page', page.locator('.gallery img'));
    assert.equal(await page.locator('.gallery img').getAttribute('alt'), lantern.name);
    t.diagnostic(`product page picture: ${onPage.currentSrc} (${onPage.naturalWidth} px wide)`);
    await look(page, 'product');
    await page.getByLabel('Quantity').fill('2');
    assert.equal((await follow(page, () => page.getByRole('button', { name: 'Add to cart' }).click())).status(), 200);
    assert.match(await page.getByRole('link', { name: /^Cart/ }).innerText(), /\(3\)/);

    // The cart: both lines, then checkout with the card that pays.
    assert.equal((await follow(page, () => page.getByRole('link', { name: 'See your cart' }).click())).status(), 200);
    assert.equal(await page.getByLabel(`Quantity of ${candle.name}`).inputValue(), '1');
    assert.equal(await page.getByLabel(`Quantity of ${lantern.name}`).inputValue(), '2');
    assert.match(await page.locator('.total').innerText(), /€47\.30/);
    await look(page, 'cart');
    assert.equal((await follow(page, () => page.getByRole('link', { name: 'Check out' }).click())).status(), 200);
    await page.getByRole('radio', { name: 'Visa ending 4242 (pays)' }).check();
    await look(page, 'checkout');
    const pay = page.getByRole('button', { name: /^Place order and pay / });
    assert.equal(await pay.innerText(), 'Place order and pay €47.30');
    const placed = await follow(page, () => pay.click());
    assert.equal(placed.status(), 200);
    const orderPath = new URL(page.url()).pathname;
    const orderId = /^\/orders\/([0-9a-f-]{36})$/.exec(orderPath)?.[1];
    assert.ok(orderId, `landed on ${page.url()}`);
    assert.match(await page.getByRole('status').first().innerText(), /your order is placed/);
    // While its payment is being taken the page's script asks again every 2 s.
    const placedAt = performance.now();
    await page.locator('.order-status', { hasText: 'Status: Paid' }).waitFor({ timeout: eventuallyMs });
    t.diagnostic(`the order page said Paid ${Math.round(performance.now() - placedAt)} ms after it loaded`);
    assert.match(await page.locator('.facts').innerText(), /€47\.30 by visa ending 4242: taken/);
    await look(page, 'order');

    // Its emails, sent by events: reloaded until the receipt or the confirmation is there.
    assert.equal((await follow(page, () => page.getByRole('link', { name: 'Notifications' }).click())).status(), 200);
    const subject = new RegExp(`(Receipt for your Baton order|Your Baton order) ${orderId.slice(0, 8)}`);
    const mailFrom = performance.now();
    await until('the order\'s email on the notifications page', async () => {
      if (subject.test(await page.locator('main').innerText())) return true;
      assert.equal((await page.reload())?.status(), 200);
      return false;
    });
    t.diagnostic(`the order's email was listed ${Math.round(performance.now() - mailFrom)} ms after the notifications page first loaded`);
    await look(page, 'notifications');

    // The API, as the same account: exactly this one order, paid.
    const orders = await api.call<{ items: Order[] }>('GET', '/api/v1/orders', { token: await tokenOf(email) });
    assert.equal(orders.status, 200);
    assert.deepEqual(orders.body.items.map((o) => [o.id, o.status, o.totalCents, o.payment?.status]), [[orderId, 'paid', 4_730, 'captured']]);
  });

  test('a declined card: 402, the shop\'s words, the cart kept, no order, nothing charged', { timeout: 180_000 }, async (t) => {
    // A price of its own, so this attempt's payment is found in the provider's ledger by amount.
    const teapot = await productWith({ sku: `SF-${tag}-TEAPOT`, name: `Clay teapot ${tag}`, priceCents: 1_337, units: 5 });
    const { page } = await openContext(t);
    const email = await signUp(page, 'Declan');
    const token = await tokenOf(email);
    const ordersBefore = (await api.call<{ items: Order[] }>('GET', '/api/v1/orders', { token })).body.items;

    assert.equal((await visit(page, `/products/${teapot.sku}`)).status(), 200);
    await page.getByLabel('Quantity').fill('3');
    assert.equal((await follow(page, () => page.getByRole('button', { name: 'Add to cart' }).click())).status(), 200);
    assert.equal((await visit(page, '/checkout')).status(), 200);
    await page.getByRole('radio', { name: 'Visa ending 0002 (declined)' }).check();
    const declined = await follow(page, () => page.getByRole('button', { name: /^Place order and pay / }).click());
    assert.equal(declined.status(), 402);
    assert.equal(new URL(page.url()).pathname, '/checkout');
    const words = await alertText(page);
    assert.match(words, /declined/);
    assert.match(words, /Nothing was charged/);
    assert.equal(await page.getByRole('alert').getByRole('button', { name: 'Try again' }).count(), 0, 'no "Try again" for a definite no');
    await look(page, 'checkout-declined');

    // The cart is as it was.
    assert.equal((await visit(page, '/cart')).status(), 200);
    assert.equal(await page.getByLabel(`Quantity of ${teapot.name}`).inputValue(), '3');
    await look(page, 'cart-after-decline', { again: true });

    // No order, the stock released, and nothing taken at the provider.
    const ordersAfter = (await api.call<{ items: Order[] }>('GET', '/api/v1/orders', { token })).body.items;
    assert.deepEqual(ordersAfter, ordersBefore);
    assert.equal(await api.available(teapot.sku), 5);
    const ledger = await providerLedger(shop);
    const attempts = [...ledger.values()].flat().filter((charge) => charge.amountCents === 3 * 1_337);
    t.diagnostic(`the provider's intents for this attempt: ${JSON.stringify(attempts)}`);
    assert.deepEqual(attempts.filter((charge) => charge.receivedCents > 0), [], 'nothing taken for the declined attempt');
    assertLedgerMatchesOrders(ledger, await recordedOrders(shop));
  });

  test('short of stock: 409, the line named with what is left, nothing ordered', { timeout: 180_000 }, async (t) => {
    const kettle = await productWith({ sku: `SF-${tag}-KETTLE`, name: `Copper kettle ${tag}`, priceCents: 4_200, units: 1 });
    const { page } = await openContext(t);
    const email = await signUp(page, 'Stockton');

    assert.equal((await visit(page, `/products/${kettle.sku}`)).status(), 200);
    assert.match(await page.locator('.stock').innerText(), /Only 1 left/);
    assert.equal((await follow(page, () => page.getByRole('button', { name: 'Add to cart' }).click())).status(), 200);
    // The product page offers no more than there is; the cart takes any number.
    assert.equal((await visit(page, '/cart')).status(), 200);
    await page.getByLabel(`Quantity of ${kettle.name}`).fill('2');
    assert.equal((await follow(page, () => page.getByRole('button', { name: 'Update', exact: true }).click())).status(), 200);
    assert.equal(await page.getByLabel(`Quantity of ${kettle.name}`).inputValue(), '2');

    assert.equal((await visit(page, '/checkout')).status(), 200);
    await page.getByRole('radio', { name: 'Visa ending 4242 (pays)' }).check();
    const refused = await follow(page, () => page.getByRole('button', { name: /^Place order and pay / }).click());
    assert.equal(refused.status(), 409);
    const words = await alertText(page);
    assert.match(words, /not in stock in the quantity in your cart/);
    assert.match(words, new RegExp(`${kettle.sku}: you asked for 2, 1 is left`));
    await look(page, 'checkout-out-of-stock');

    const orders = await api.call<{ items: Order[] }>('GET', '/api/v1/orders', { token: await tokenOf(email) });
    assert.deepEqual(orders.body.items, []);
    assert.equal(await api.available(kettle.sku), 1);
  });

  test('at a phone\'s width (375 × 740) the list and the cart scroll only down; Tab reaches "Skip to content" first, which moves focus to the main part', { timeout: 180_000 }, async (t) => {
    const { page } = await openContext(t, { viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true });
    const widthOf = () => page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth }));
    // A long name, which must wrap rather than widen the card or the cart's table.
    const grinder = await productWith({ sku: `SF-${tag}-GRINDER`, name: `Hand-cranked ceramic burr coffee grinder with a walnut handle ${tag}`, priceCents: 6_490, units: 5 });
    // Signed in, the header is at its widest (orders, notifications, sign out).
    await signUp(page, 'Pip');

    for (const path of ['/', `/?category=${category}`]) {
      assert.equal((await visit(page, path)).status(), 200);
      const { scrollWidth, innerWidth } = await widthOf();
      assert.ok(scrollWidth <= innerWidth, `${path}: ${scrollWidth} px wide in a ${innerWidth} px window`);
    }
    await look(page, 'phone-products');
    assert.equal((await follow(page, () => page.getByRole('button', { name: `Add ${grinder.name} to cart` }).click())).status(), 200);
    assert.equal((await visit(page, '/cart')).status(), 200);
    assert.equal(await page.getByLabel(`Quantity of ${grinder.name}`).inputValue(), '1');
    const cart = await widthOf();
    assert.ok(cart.scrollWidth <= cart.innerWidth, `the cart: ${cart.scrollWidth} px wide in a ${cart.innerWidth} px window`);
    await look(page, 'phone-cart', { again: true });

    // The keyboard, from the top of a fresh page.
    assert.equal((await visit(page, '/')).status(), 200);
    await page.keyboard.press('Tab');
    const first = await page.evaluate(() => ({ text: document.activeElement?.textContent?.trim(), href: document.activeElement?.getAttribute('href') }));
    assert.deepEqual(first, { text: 'Skip to content', href: '#main' });
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.activeElement?.id === 'main', undefined, { timeout: pageTimeoutMs });
    assert.equal(await page.evaluate(() => document.activeElement?.tagName), 'MAIN');
  });

  /** The console's view, screenshotted (console-<name>.png) and checked with axe like the shop's pages. */
  async function lookAtConsole(page: Page, name: string): Promise<void> {
    await screenshot(page, `console-${name}`);
    await expectAccessible(page, `the console's ${name} view`);
  }

  /**
   * The product list asked for through the gateway, two requests at a time with a pause between,
   * until stopped: the traffic that trips a breaker and then closes it again.
   */
  function driveTraffic(): { lastStatus(): number | undefined; stop(): Promise<void> } {
    let stopped = false;
    let lastStatus: number | undefined;
    const loop = async () => {
      while (!stopped) {
        try {
          const answer = await fetch(`${shop.gateway}/api/v1/products`, { signal: AbortSignal.timeout(pageTimeoutMs) });
          await answer.arrayBuffer();
          lastStatus = answer.status;
        } catch {
          lastStatus = 0;
        }
        await sleep(100);
      }
    };
    const loops = [loop(), loop()];
    return { lastStatus: () => lastStatus, stop: async () => { stopped = true; await Promise.all(loops); } };
  }

  /** The newest of people's GET /api/v1/products traces in error whose waterfall shows a retry, from the console's trace API. */
  async function retriedTrace(consoleUrl: string): Promise<string | undefined> {
    const query = new URLSearchParams({ kind: 'user', q: 'GET /api/v1/products', errors: 'true', limit: '50' });
    const { traces } = await (await fetch(`${consoleUrl}/traces?${query}`)).json() as { traces: Array<{ traceId: string }> };
    for (const { traceId } of traces) {
      const waterfall = await (await fetch(`${consoleUrl}/traces/${traceId}`)).json() as { spans: Array<{ attributes: Record<string, unknown>; events: Array<{ name: string }> }> };
      if (waterfall.spans.some((s) => s.attributes['http.request.resend_count'] !== undefined || s.events.some((e) => e.name === 'baton.retry'))) return traceId;
    }
    return undefined;
  }

  test('an operator opens the console, switches inventory to fail, sees the breaker open on the map and the retries in a trace, switches it back, and sees recovery', { timeout: 240_000 }, async (t) => {
    const consoleUrl = shop.consoleUrl;
    assert.ok(consoleUrl, 'the shop runs with its console');
    const { page } = await openContext(t);
    const inventoryAdmin = { url: new URL('/admin/faults', shop.stack.adminUrl('inventory')), authorization: `Bearer ${shop.stack.adminToken('inventory')}` };
    let traffic: ReturnType<typeof driveTraffic> | undefined;
    try {
      // Services: every process of the shop, inventory ready.
      await page.goto(`${consoleUrl}/#services`);
      await page.locator('tr[data-service="inventory"] td.state', { hasText: /^ready$/ }).waitFor();
      assert.equal(await page.locator('tr[data-service]').count(), shop.stack.services.length);
      assert.match(await page.locator('header [role="status"]').innerText(), /^live/);
      await lookAtConsole(page, 'services');

      // Faults: every request to inventory answered 503.
      await page.getByRole('tab', { name: 'Faults' }).click();
      const inventoryFaults = page.locator('section[data-faults="inventory"]');
      await inventoryFaults.getByRole('button', { name: 'Fail every request (503) on inventory', exact: true }).click();
      await inventoryFaults.locator('.badge', { hasText: 'any *: 100% → 503' }).waitFor();
      assert.deepEqual(await (await fetch(inventoryAdmin.url, { headers: { authorization: inventoryAdmin.authorization } })).json(), { rules: [{ route: '*', percent: 100, status: 503 }] }, 'the rule is on inventory itself');
      await lookAtConsole(page, 'faults');
      const failingFrom = performance.now();

      // The map, with traffic: the gateway's breaker for inventory opens.
      traffic = driveTraffic();
      await page.getByRole('tab', { name: 'Map' }).click();
      const breaker = page.locator('tr[data-edge="gateway->inventory"] td.breaker');
      await until('the map shows the breaker from the gateway to inventory open', async () => (await breaker.count()) === 1 && (await breaker.innerText()).startsWith('open'));
      t.diagnostic(`the map showed the breaker open ${Math.round(performance.now() - failingFrom)} ms after the fault was switched on; the gateway's last answer: ${traffic.lastStatus()}`);
      assert.notEqual(traffic.lastStatus(), 200, 'the gateway cannot list products');
      await lookAtConsole(page, 'map-breaker-open');
      await traffic.stop();
      traffic = undefined;

      // Traces: a person's request of the list, in error, whose waterfall shows the gateway retrying.
      await page.getByRole('tab', { name: 'Traces' }).click();
      await page.getByLabel('Route, words or trace id').fill('GET /api/v1/products');
      await page.getByLabel('Errors only').check();
      let traceId: string | undefined;
      await until('a trace of GET /api/v1/products with a retry', async () => (traceId = await retriedTrace(consoleUrl)) !== undefined);
      const link = page.locator(`a[href="#trace/${traceId}"]`);
      await link.waitFor();
      assert.equal(await link.innerText(), 'gateway GET /api/v1/products');
      await lookAtConsole(page, 'traces');
      await link.click();
      const retries = page.locator('.waterfall .badge.retry', { hasText: /retry #\d|retrying after attempt \d/ });
      await retries.first().waitFor();
      t.diagnostic(`the trace's retry badges: ${JSON.stringify(await retries.allInnerTexts())}`);
      await lookAtConsole(page, 'trace');

      // Logs: inventory's own lines say it injected the fault.
      await page.getByRole('tab', { name: 'Services' }).click();
      await page.locator('tr[data-service="inventory"]').getByRole('link', { name: 'inventory' }).click();
      await page.locator('.logs .line', { hasText: 'injecting a fault' }).first().waitFor();
      await lookAtConsole(page, 'logs');

      // Faults again: cleared; with traffic the breaker closes and the list is back.
      await page.getByRole('tab', { name: 'Faults' }).click();
      await inventoryFaults.getByRole('button', { name: 'Clear inventory\'s faults', exact: true }).click();
      await inventoryFaults.getByText('No faults.').waitFor();
      const mendedFrom = performance.now();
      traffic = driveTraffic();
      await page.getByRole('tab', { name: 'Map' }).click();
      await until('the map shows the breaker closed and the gateway lists products', async () => (await breaker.innerText()).startsWith('closed') && traffic?.lastStatus() === 200);
      t.diagnostic(`the map showed the breaker closed ${Math.round(performance.now() - mendedFrom)} ms after the fault was cleared`);
      await lookAtConsole(page, 'map-recovered');
      await traffic.stop();
      traffic = undefined;
      assert.equal((await fetch(`${shop.gateway}/api/v1/products`)).status, 200);
    } finally {
      await traffic?.stop();
      // Whatever failed above, the tests after this one get inventory without faults.
      await (await fetch(inventoryAdmin.url, { method: 'DELETE', headers: { authorization: inventoryAdmin.authorization } })).arrayBuffer();
    }
  });
});
