import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { createSuiteScope } from '@baton/kit/testing';
import { startShop, type ShopStack } from './shop-stack.ts';

const password = 'correct horse battery staple';
const staffEmail = `staff-${randomUUID()}@example.com`;
// The shortest access token users allows is 1 s (TOKEN_TTL_SECONDS is any positive whole
// number). 5 s: short enough for the renewal test to wait it out, long enough that the sign-out
// test's token is still alive when it is refused, so that it is refused as revoked, not expired.
// The services' TOKEN_MAX_AGE_SECONDS (3,600 s by default) need no change: it must be at least
// the TTL, and users checks that its own is.
const tokenTtlSeconds = 5;

// Every setting of this file's stack, in one place. The gateway trusts no forwarded header
// (TRUSTED_PROXIES is unset): each test connects from an address of its own on the loopback
// network (all of 127.0.0.0/8 on Linux), so the per-address limits below count each test apart
// and the order of the tests does not matter to them.
const stackEnv = {
  users: { TOKEN_TTL_SECONDS: String(tokenTtlSeconds), STAFF_EMAILS: staffEmail },
  gateway: {
    // The gateway sees a token expire when it does, not 5 s later.
    TOKEN_CLOCK_TOLERANCE_SECONDS: '0',
    // A session ended at users (a refresh token reused) reaches the gateway's check soon.
    TOKEN_REVOCATIONS_POLL_MS: '200',
    RATE_LIMIT_PER_ADDRESS_PER_MINUTE: '100000',
    // Test 5 makes exactly three registrations from its address; no other test makes more than two.
    REGISTRATIONS_PER_ADDRESS_PER_HOUR: '2',
    // Two wrong sign-ins free; the third sets a wait of a minute, which no test outlives.
    SIGN_IN_FREE_FAILURES_PER_ADDRESS: '2',
    SIGN_IN_BASE_DELAY_MS: '60000',
  },
};
const addressOf = {
  csrf: '127.0.0.11', cookies: '127.0.0.12', renewal: '127.0.0.13', signOut: '127.0.0.14',
  limits: '127.0.0.15', escaping: '127.0.0.16', api: '127.0.0.17', outage: '127.0.0.18',
} as const;

// Longer than any deadline of the shop: a request unanswered by then is a hang.
const hangAfterMs = 60_000;

interface SetCookie { value: string; attributes: string[] }

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** The cookies this answer set (or cleared), by name. */
  cookies: Map<string, SetCookie>;
}

/** Every page (text/html answer) this file received, for the check that each had the page headers. */
const pagesSeen: Array<{ what: string; headers: IncomingHttpHeaders }> = [];

function parseSetCookie(line: string): [string, SetCookie] {
  const [pair = '', ...attributes] = line.split(';').map((part) => part.trim());
  const at = pair.indexOf('=');
  return [pair.slice(0, at), { value: pair.slice(at + 1), attributes }];
}

function cleared({ value, attributes }: SetCookie): boolean {
  return value === '' || attributes.some((a) => /^max-age=0$/i.test(a) || (/^expires=/i.test(a) && Date.parse(a.slice(8)) <= Date.now()));
}

/**
 * A browser without a browser: plain HTTP from one client address, a cookie jar, redirects not
 * followed (a test reads each 303). `fork` is a second tab: the same cookies now, its own after.
 */
function createVisitor(base: string, localAddress: string, jar = new Map<string, string>()) {
  const { hostname, port } = new URL(base);

  function send(method: string, path: string, { form, json, headers = {}, bearer }: {
    form?: Record<string, string>; json?: unknown; headers?: Record<string, string>; bearer?: string;
  } = {}): Promise<Answer> {
    const body = form !== undefined ? new URLSearchParams(form).toString() : json !== undefined ? JSON.stringify(json) : undefined;
    const cookie = [...jar].map(([name, value]) => `${name}=${value}`).join('; ');
    return new Promise<Answer>((resolve, reject) => {
      const req = httpRequest({
        host: hostname, port, localAddress, method, path, agent: false, signal: AbortSignal.timeout(hangAfterMs),
        headers: {
          ...(cookie === '' ? {} : { cookie }),
          ...(form !== undefined ? { 'content-type': 'application/x-www-form-urlencoded' } : json !== undefined ? { 'content-type': 'application/json' } : {}),
          ...(bearer === undefined ? {} : { authorization: `Bearer ${bearer}` }),
          ...headers,
        },
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const cookies = new Map((res.headers['set-cookie'] ?? []).map(parseSetCookie));
          for (const [name, set] of cookies) {
            if (cleared(set)) jar.delete(name);
            else jar.set(name, set.value);
          }
          if (res.headers['content-type']?.startsWith('text/html')) pagesSeen.push({ what: `${method} ${path} ${res.statusCode}`, headers: res.headers });
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), cookies });
        });
      });
      req.on('error', (error) => reject(error.name === 'AbortError' ? new Error(`${method} ${path}: no answer within ${hangAfterMs} ms, a hang`, { cause: error }) : error));
      req.end(body);
    });
  }

  return {
    jar,
    send,
    get: (path: string) => send('GET', path),
    post: (path: string, form: Record<string, string>) => send('POST', path, { form }),
    fork: () => createVisitor(base, localAddress, new Map(jar)),
  };
}
type Visitor = ReturnType<typeof createVisitor>;

/** The form token a page carries (every page has one: the sign-out form, the search's neighbours). */
function csrfOf(page: Answer): string {
  const token = /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1];
  assert.ok(token, `a form token on the page: ${page.body.slice(0, 300)}`);
  return token;
}

const hiddenNextOf = (page: Answer) => /name="next" value="([^"]*)"/.exec(page.body)?.[1];
const signedIn = (page: Answer) => page.body.includes('<a href="/orders">Orders</a>');
const isPage = (answer: Answer) => /^text\/html; charset=utf-8$/.test(answer.headers['content-type'] ?? '');

/** A new account through the sign-up form, with `next` in the page's address and in the form as posted. */
async function signUpByForm(visitor: Visitor, { next, postedNext }: { next?: string; postedNext?: string } = {}) {
  const page = await visitor.get(next === undefined ? '/sign-up' : `/sign-up?next=${encodeURIComponent(next)}`);
  assert.equal(page.status, 200);
  const email = `shopper-${randomUUID()}@example.com`;
  const answer = await visitor.post('/sign-up', { _csrf: csrfOf(page), name: 'Ada', email, password, next: postedNext ?? hiddenNextOf(page) ?? '/' });
  return { page, answer, email };
}

/** The claims of a JWT, unverified: only to read when it expires. */
const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as { exp: number };

/** Until `check` is true, asking again every 100 ms; fails after `timeoutMs`. Only that it happens is asserted, not when. */
async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!await check()) {
    if (Date.now() > deadline) assert.fail(`${what}: not within ${timeoutMs} ms`);
    await sleep(100);
  }
}

describe('the storefront keeps its guarantees', () => {
  const suite = createSuiteScope();
  let shop: ShopStack;
  const visitor = (address: string) => createVisitor(shop.gateway, address);

  before(async () => {
    // Orders without payment places orders unpaid; notifications and media are not needed here
    // (the gateway is told their addresses all the same, and finds nothing there).
    shop = await startShop(suite, stackEnv, { only: ['gateway', 'users', 'inventory', 'orders'] });
  });

  test('1. a form posted without its token, or with a wrong one, is a 403 page and changes nothing', async () => {
    const ada = visitor(addressOf.csrf);
    const email = `csrf-${randomUUID()}@example.com`;
    const registered = await ada.send('POST', '/api/v1/users', { json: { email, password, name: 'Ada' } });
    assert.equal(registered.status, 201, registered.body);
    const token = csrfOf(await ada.get('/'));
    const othersToken = csrfOf(await visitor(addressOf.csrf).get('/'));
    assert.notEqual(othersToken, token);
    const forgeries: Array<[string, Record<string, string>]> = [['no token', {}], ['a made-up token', { _csrf: 'not-the-token' }], ['another visitor\'s token', { _csrf: othersToken }]];

    async function refused(path: string, form: Record<string, string>, what: string) {
      const answer = await ada.post(path, form);
      assert.equal(answer.status, 403, `${path} with ${what}`);
      assert.ok(isPage(answer), `${path} with ${what}: ${answer.headers['content-type']}`);
      assert.match(answer.body, /This form is out of date or was not sent from this shop/);
      const set = [...answer.cookies.keys()].filter((name) => name.startsWith('baton_'));
      assert.deepEqual(set, [], `${path} with ${what} set no cart or session cookie`);
    }

    for (const [what, forged] of forgeries) await refused('/cart/items', { ...forged, sku: 'COFFEE-1KG', quantity: '1', back: '/' }, what);
    for (const [what, forged] of forgeries) await refused('/sign-in', { ...forged, email, password, next: '/' }, what);
    assert.ok(!signedIn(await ada.get('/')), 'no session was started');
    assert.match((await ada.get('/cart')).body, /Your cart is empty/);

    // With the page's own token, the same forms work.
    const signIn = await ada.post('/sign-in', { _csrf: token, email, password, next: '/' });
    assert.equal(signIn.status, 303, signIn.body);
    // A sign-in starts the browser's form tokens over: one from before it (or planted before it) is no good after.
    await refused('/cart/items', { _csrf: token, sku: 'COFFEE-1KG', quantity: '1', back: '/' }, 'the token from before the sign-in');
    const fresh = csrfOf(await ada.get('/'));
    assert.notEqual(fresh, token);
    const added = await ada.post('/cart/items', { _csrf: fresh, sku: 'COFFEE-1KG', quantity: '1', back: '/' });
    assert.equal(added.status, 303, added.body);
    assert.ok(ada.jar.has('baton_cart'));

    for (const [what, forged] of forgeries) await refused('/checkout', { ...forged, attempt: randomUUID(), card: 'pm_card_visa' }, what);
    const orders = await ada.get('/orders');
    assert.equal(orders.status, 200);
    assert.match(orders.body, /No orders yet/, 'no order was placed');
    assert.match((await ada.get('/cart')).body, /href="\/products\/COFFEE-1KG"/, 'the cart is as it was');
  });

  test('2. a sign-up through the form: HttpOnly, SameSite=Lax session cookies for /, not Secure over http; next=/orders is honoured, next=//evil.example is not', async () => {
    const ada = visitor(addressOf.cookies);
    const { page, answer } = await signUpByForm(ada, { next: '/orders' });
    assert.equal(hiddenNextOf(page), '/orders');
    assert.equal(answer.status, 303, answer.body);
    assert.equal(answer.headers.location, '/orders');
    for (const name of ['baton_access', 'baton_refresh']) {
      const cookie = answer.cookies.get(name);
      assert.ok(cookie !== undefined && cookie.value !== '', `${name} is set`);
      const attributes = cookie.attributes.map((a) => a.toLowerCase());
      assert.ok(attributes.includes('httponly'), `${name}: ${cookie.attributes.join('; ')}`);
      assert.ok(attributes.includes('samesite=lax'), `${name}: ${cookie.attributes.join('; ')}`);
      assert.ok(attributes.includes('path=/'), `${name}: ${cookie.attributes.join('; ')}`);
      assert.ok(!attributes.includes('secure'), `${name} is not Secure over plain http: ${cookie.attributes.join('; ')}`);
    }
    assert.ok(answer.cookies.get('baton_access')?.attributes.includes(`Max-Age=${tokenTtlSeconds}`), 'the access cookie lives as long as its token');
    const orders = await ada.get('/orders');
    assert.equal(orders.status, 200);
    assert.ok(signedIn(orders));

    const eve = visitor(addressOf.cookies);
    const evil = await signUpByForm(eve, { next: '//evil.example', postedNext: '//evil.example' });
    assert.equal(hiddenNextOf(evil.page), '/', 'the page does not carry it on');
    assert.equal(evil.answer.status, 303, evil.answer.body);
    assert.equal(evil.answer.headers.location, '/', 'nor does the form, posted with it anyway');
    // A path a Location header cannot carry (past ASCII) is not followed either: it was a 500
    // after the sign-in had succeeded.
    const again = eve.fork();
    const signIn = await again.post('/sign-in', { _csrf: csrfOf(await again.get('/')), email: evil.email, password, next: '/\u20ac' });
    assert.equal(signIn.status, 303, signIn.body);
    assert.equal(signIn.headers.location, '/');
  });

  test('3. after the access token expires, five parallel pages with the same old cookies are all signed in, by one shared renewal', async () => {
    const ada = visitor(addressOf.renewal);
    assert.equal((await signUpByForm(ada)).answer.status, 303);
    const oldAccess = ada.jar.get('baton_access') ?? '';
    const oldRefresh = ada.jar.get('baton_refresh') ?? '';
    await sleep(Math.max(0, claimsOf(oldAccess).exp * 1_000 + 100 - Date.now()));
    const expired = JSON.parse((await ada.send('GET', '/api/v1/users/me', { bearer: oldAccess })).body) as { code: string };
    assert.equal(expired.code, 'token_expired', 'the gateway now refuses the old access token');

    // Five tabs, each with the old cookies. Each finds the access token expired and renews the
    // session with the same refresh token. Users takes a refresh token once: were each request
    // to send it itself, the second to arrive would be a reuse, which users answers with
    // refresh_token_reused and by ending the session (and revoking its user's access tokens),
    // so that page would be signed out and every new cookie refused. The gateway sends it once
    // and gives all five the same answer: the same new pair in each Set-Cookie.
    const tabs = Array.from({ length: 5 }, () => ada.fork());
    const pages = await Promise.all(tabs.map((tab) => tab.get('/')));
    for (const [i, page] of pages.entries()) {
      assert.equal(page.status, 200, `tab ${i}: ${page.body.slice(0, 300)}`);
      assert.ok(signedIn(page), `tab ${i} is signed in`);
    }
    const refreshes = new Set(pages.map((page) => page.cookies.get('baton_refresh')?.value));
    const accesses = new Set(pages.map((page) => page.cookies.get('baton_access')?.value));
    assert.equal(refreshes.size, 1, `one new refresh token for all five: ${[...refreshes].join(', ')}`);
    assert.equal(accesses.size, 1, 'and one new access token');
    const [newRefresh] = refreshes;
    assert.ok(newRefresh !== undefined && newRefresh !== '' && newRefresh !== oldRefresh, 'a new one');

    const [tab] = tabs;
    assert.ok(tab);
    const orders = await tab.get('/orders');
    assert.equal(orders.status, 200, orders.body.slice(0, 300));
    assert.ok(signedIn(orders), 'the new cookies work');

    // What the sharing spares: the old refresh token sent once more, as a sixth request
    // renewing on its own would, is a reuse, and users ends the session: the new cookies too.
    const reused = JSON.parse((await ada.send('POST', '/api/v1/auth/refresh', { json: { refreshToken: oldRefresh } })).body) as { code: string };
    assert.equal(reused.code, 'refresh_token_reused');
    await eventually('the new cookies no longer sign in', async () => !signedIn(await tab.get('/')));
    assert.ok(!tab.jar.has('baton_refresh'), 'the ended session\'s cookies are cleared');
  });

  test('4. signing out through the form revokes the token at users, and clears the cookies', async () => {
    const ada = visitor(addressOf.signOut);
    assert.equal((await signUpByForm(ada)).answer.status, 303);
    const access = ada.jar.get('baton_access') ?? '';
    const before = ada.fork();
    assert.equal((await ada.send('GET', '/api/v1/users/me', { bearer: access })).status, 200);

    const out = await ada.post('/sign-out', { _csrf: csrfOf(await ada.get('/')) });
    assert.equal(out.status, 303, out.body);
    assert.equal(out.headers.location, '/');
    for (const name of ['baton_access', 'baton_refresh']) {
      const cookie = out.cookies.get(name);
      assert.ok(cookie !== undefined && cleared(cookie), `${name} is cleared: ${JSON.stringify(cookie)}`);
    }
    assert.ok(!signedIn(await ada.get('/')));

    const refused = await ada.send('GET', '/api/v1/users/me', { bearer: access });
    assert.equal(refused.status, 401);
    assert.equal((JSON.parse(refused.body) as { code: string }).code, 'token_revoked', 'refused as revoked, not as expired');
    // The cookies as they were before signing out sign in no more, once the gateway has polled
    // users for revoked tokens (200 ms here): the access token is refused, and its session cannot be renewed.
    await eventually('the old cookies no longer sign in', async () => !signedIn(await before.get('/')));
  });

  test('5. the pages are no way around the limits: registrations per address, and the sign-in throttle shared with the API', async () => {
    const ada = visitor(addressOf.limits);
    const email = `limits-${randomUUID()}@example.com`;
    const registered = await ada.send('POST', '/api/v1/users', { json: { email, password, name: 'Ada' } });
    assert.equal(registered.status, 201, registered.body);
    assert.equal((await signUpByForm(ada.fork())).answer.status, 303, 'the second registration from this address, by the form');
    const third = await signUpByForm(ada.fork());
    assert.equal(third.answer.status, 429);
    assert.ok(isPage(third.answer), String(third.answer.headers['content-type']));
    assert.ok(Number(third.answer.headers['retry-after']) >= 1, `Retry-After: ${third.answer.headers['retry-after']}`);
    assert.match(third.answer.body, /many requests from here/);
    assert.ok(!third.answer.cookies.has('baton_access'));

    const eve = visitor(addressOf.limits);
    const token = csrfOf(await eve.get('/sign-in'));
    const statuses: number[] = [];
    let last: Answer | undefined;
    while (statuses.length < 6 && last?.status !== 429) {
      last = await eve.post('/sign-in', { _csrf: token, email, password: 'not the password', next: '/' });
      statuses.push(last.status);
    }
    assert.deepEqual(statuses, [401, 401, 401, 429], 'two free, the third sets a wait, the fourth waits');
    assert.ok(last !== undefined && isPage(last));
    assert.match(last.body, /too many wrong sign-ins from here/);
    assert.ok(Number(last.headers['retry-after']) >= 1, `Retry-After: ${last.headers['retry-after']}`);

    const api = await eve.send('POST', '/api/v1/auth/login', { json: { email, password } });
    assert.equal(api.status, 429, 'the API from the same address waits too, even with the right password');
    assert.match(String(api.headers['content-type']), /application\/problem\+json/);
    assert.equal((JSON.parse(api.body) as { code: string }).code, 'sign_in_throttled');
  });

  test('6. a product\'s name is shown as text, never as a tag; every page has its CSP, nosniff and no-store', async () => {
    const staff = visitor(addressOf.escaping);
    const registered = await staff.send('POST', '/api/v1/users', { json: { email: staffEmail, password, name: 'Stella' } });
    assert.equal(registered.status, 201, registered.body);
    const { session } = JSON.parse(registered.body) as { session: { accessToken: string } };
    const name = '<script>alert(1)</script> & "quotes"';
    // 0 sorts before every other SKU: the product is on the first page of the catalogue.
    const created = await staff.send('POST', '/api/v1/products', {
      bearer: session.accessToken,
      json: { sku: '0-ESCAPING', name, description: '<img src=x onerror=alert(2)>', category: 'tests', priceCents: 100 },
    });
    assert.equal(created.status, 201, created.body);

    const pages = {
      list: await staff.get('/'),
      product: await staff.get('/products/0-ESCAPING'),
      search: await staff.get(`/?q=${encodeURIComponent('<script>alert(3)</script>')}`),
      category: await staff.get('/?category=tests'),
    };
    for (const [what, page] of Object.entries(pages)) {
      assert.equal(page.status, 200, `${what}: ${page.body.slice(0, 300)}`);
      assert.ok(isPage(page));
      assert.ok(!/<script>alert|<img src=x/.test(page.body), `${what} has no injected tag`);
      assert.equal(page.body.match(/<script/g)?.length, 1, `${what}: the one script tag is the shop's own`);
    }
    for (const what of ['list', 'product', 'category'] as const) {
      assert.match(pages[what].body, /&lt;script(>|&gt;)alert\(1\)&lt;\/script(>|&gt;) &amp; (&quot;|")quotes(&quot;|")/, `${what} shows the name as text`);
    }
    assert.match(pages.product.body, /&lt;img src=x onerror=alert\(2\)(>|&gt;)/, 'the description as text');
    assert.match(pages.search.body, /&lt;script(>|&gt;)alert\(3\)/, 'the search words as text');

    for (const path of ['/cart', '/sign-in', '/sign-up', '/orders?cursor=x', '/products/NO-SUCH-SKU']) await staff.get(path);
    assertPageHeaders(pagesSeen);
  });

  test('7. the API is as it was: no form bodies, no session cookies, and an unknown path answers as before', async () => {
    const ada = visitor(addressOf.api);
    const form = await ada.send('POST', '/api/v1/auth/login', { form: { email: 'ada@example.com', password } });
    assert.equal(form.status, 415);
    assert.match(String(form.headers['content-type']), /^application\/problem\+json/);
    assert.equal((JSON.parse(form.body) as { code: string }).code, 'unsupported_media_type');

    // Signed in by the form, the API still wants a bearer token: the session cookie is not one.
    assert.equal((await signUpByForm(ada)).answer.status, 303);
    assert.ok(ada.jar.has('baton_access'));
    const me = await ada.get('/api/v1/users/me');
    assert.equal(me.status, 401);
    assert.equal((JSON.parse(me.body) as { code: string }).code, 'sign_in_required');

    const unknown = await ada.get('/no-such-page');
    assert.equal(unknown.status, 404);
    assert.match(String(unknown.headers['content-type']), /^application\/problem\+json/);
    assert.equal((JSON.parse(unknown.body) as { code: string }).code, 'not_found');
  });

  test('8. a page with inventory stopped is a 503 page with Retry-After and a "Try again" link, not a hang', async (t) => {
    const ada = visitor(addressOf.outage);
    await shop.stack.stop('inventory');
    try {
      for (const path of ['/', '/products/COFFEE-1KG']) {
        const startedMs = performance.now();
        const page = await ada.get(path);
        t.diagnostic(`${path} with inventory stopped: ${page.status} in ${Math.round(performance.now() - startedMs)} ms, Retry-After: ${page.headers['retry-after']}`);
        assert.equal(page.status, 503, `${path}: ${page.body.slice(0, 300)}`);
        assert.ok(isPage(page), String(page.headers['content-type']));
        assert.ok(Number(page.headers['retry-after']) >= 1, `${path}: Retry-After: ${page.headers['retry-after']}`);
        assert.match(page.body, new RegExp(`<a class="button" href="${path}">Try again</a>`));
        assert.match(page.body, /a part of it is busy or restarting/);
      }
    } finally {
      const startedMs = performance.now();
      await shop.stack.start('inventory');
      t.diagnostic(`inventory started again in ${Math.round(performance.now() - startedMs)} ms`);
    }
    await eventually('the catalogue is back', async () => (await ada.get('/')).status === 200);
  });

  test('every page this file received, its error pages (403, 429, 503) included, had its CSP, nosniff and no-store', () => {
    const statuses = new Set(pagesSeen.map((page) => page.what.split(' ').at(-1)));
    for (const status of ['200', '401', '403', '404', '429', '503']) assert.ok(statuses.has(status), `a ${status} page was seen`);
    assertPageHeaders(pagesSeen);
  });
});

function assertPageHeaders(pages: typeof pagesSeen): void {
  assert.ok(pages.length > 0);
  for (const { what, headers } of pages) {
    assert.match(String(headers['content-security-policy']), /(^|; )script-src 'self'(;|$)/, what);
    assert.doesNotMatch(String(headers['content-security-policy']), /unsafe-inline|unsafe-eval/, what);
    assert.equal(headers['x-content-type-options'], 'nosniff', what);
    assert.equal(headers['cache-control'], 'no-store', what);
  }
}
