import { randomInt, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import sharp from 'sharp';
import { Agent, request } from 'undici';
import { outcomeOf, type RequestKind, type RequestRecord } from './outcome.ts';
import type { SeenOrder } from './shop-ledger.ts';

export interface ShopperLoadOptions {
  /** The gateway: `http://127.0.0.1:8080`. */
  gatewayUrl: string;
  /** How many shoppers, each with an account of its own and one request in flight at a time. */
  shoppers?: number;
  /** A shopper's pause between one visit and the next (browse, buy, cancel), as a person's. */
  thinkMs?: number;
  /** The test card each checkout pays with (issue 13's: pm_card_visa succeeds). */
  paymentMethod?: string;
  /**
   * How long a request may go unanswered before the load counts it as no answer: longer than
   * any deadline the shop keeps (a checkout's is 8 s), so reaching it means a hang.
   */
  hangAfterMs?: number;
  /**
   * Each shopper calls from an address of its own (127.a.b.c; Linux answers on all of 127/8),
   * as shoppers on the internet do, so the gateway's limits per address and its registrations
   * bucket (20 an hour per address) see several people, not one machine hammering. Linux only.
   */
  spreadAddresses?: boolean;
  /**
   * A member of staff among the shoppers (an email the shop's STAFF_EMAILS makes staff), who
   * uploads a product image each visit; without it the load uploads nothing.
   */
  staffEmail?: string | undefined;
}

/** The staff member's uploads: those the shop acknowledged (202, with the image's id), and those whose answer left it unknown. */
export interface UploadsSeen {
  sku: string;
  acknowledged: readonly string[];
  /** Answered 503, 504 or not at all: the image may have been kept. */
  unsure: number;
}

export interface ShopperLoad {
  /** `performance.now()` when the visits began: the records' times count from it. */
  readonly startedAt: number;
  /** Every request so far, in the order they ended. */
  readonly records: readonly RequestRecord[];
  /** When the oldest request still in flight was sent (on the records' clock), or undefined: the seconds before it are whole. */
  oldestInFlightMs(): number | undefined;
  /** Each shopper's orders the shop acknowledged (201), and those it then cancelled (2xx). */
  readonly orders: ReadonlyArray<{ token: string; placed: readonly string[]; cancelled: readonly string[] }>;
  /** The staff member's uploads, when the load has one. */
  readonly uploads: UploadsSeen | undefined;
  /** Stops starting visits; resolves once every request in flight has ended. */
  stop(): Promise<void>;
  /** Reads every notification of every shopper (the ledger's other side). */
  notifications(): Promise<Array<Array<{ type: string; orderId?: string | null }>>>;
  /** Reads every order of every shopper as the shop recorded it (those a lost answer never told of included). */
  recordedOrders(): Promise<SeenOrder[]>;
  /** Each acknowledged upload's status as media shows it (`GET /api/v1/images/:id`; `missing` for a 404). */
  imageStatuses(): Promise<Record<string, string>>;
  /** Closes the shoppers' connections; after `stop`. */
  close(): Promise<void>;
}

// Products with a deep stock in the seed catalogue: every order is cancelled at once, so stock stays put.
export const loadSkus: readonly string[] = ['COFFEE-250G', 'FILTER-PAPER-100', 'GIFT-CARD-25', 'CHOCOLATE-DARK-70'];
const skus = loadSkus;
/** The product the staff member adds images to. */
export const uploadSku = 'GIFT-CARD-25';

/** The ids of a product's images, as its public page lists them (those media has rendered). */
export async function readImages(gatewayUrl: string, sku = uploadSku): Promise<string[]> {
  const res = await request(new URL(`/api/v1/products/${sku}`, gatewayUrl), { signal: AbortSignal.timeout(10_000) });
  const body = await res.body.json() as { images?: Array<{ id: string }> };
  if (res.statusCode !== 200 || !Array.isArray(body.images)) throw new Error(`${sku} answered ${res.statusCode}`);
  return body.images.map((image) => image.id);
}

/** Each product the load buys, with its `available` as the public API shows it now. */
export async function readStock(gatewayUrl: string): Promise<Record<string, number>> {
  const stock: Record<string, number> = {};
  for (const sku of loadSkus) {
    const res = await request(new URL(`/api/v1/products/${sku}`, gatewayUrl), { signal: AbortSignal.timeout(10_000) });
    const body = await res.body.json() as { available?: number };
    if (res.statusCode !== 200 || typeof body.available !== 'number') throw new Error(`${sku} answered ${res.statusCode}`);
    stock[sku] = body.available;
  }
  return stock;
}
const password = 'correct horse battery staple';
// Every this many visits a shopper signs in again: often enough that every fault meets some
// sign-ins, rarely enough that password hashing (scrypt, in users) is not most of the load.
const signInEvery = 8;

/**
 * Shoppers at work through the gateway's public API, as the storefront's pages call it: each
 * signs up, then visits again and again (the product list, an order paid with a test card, its
 * cancellation; every eighth visit a sign-in first), with a pause between visits. Every request is recorded with its outcome
 * (`outcome.ts`); nothing is retried, so what a person would have seen is what is counted.
 * Written here rather than with a load tool because the verdicts need each request's outcome
 * and the orders acknowledged, per shopper, to check against the shop's own records.
 */
export async function startShopperLoad(options: ShopperLoadOptions): Promise<ShopperLoad> {
  const { gatewayUrl, shoppers = 6, thinkMs = 400, paymentMethod = 'pm_card_visa', hangAfterMs = 30_000, spreadAddresses = process.platform === 'linux', staffEmail } = options;
  let started = performance.now();
  const records: RequestRecord[] = [];
  // The requests in flight that will be recorded, oldest first (a Set keeps its insertion order).
  const inFlight = new Set<{ sentAt: number }>();
  const network = `127.${randomInt(1, 255)}.${randomInt(0, 256)}`;
  // The staff member, when there is one, is the last agent.
  const agents = Array.from({ length: shoppers + (staffEmail === undefined ? 0 : 1) }, (_, i) => new Agent({ connections: 2, ...(spreadAddresses ? { localAddress: `${network}.${i + 1}` } : {}) }));

  async function call(agent: Agent, kind: RequestKind | undefined, method: 'GET' | 'POST', path: string, { token, body, headers = {} }: { token?: string; body?: unknown; headers?: Record<string, string> } = {}) {
    const sentAt = performance.now();
    const flight = { sentAt };
    if (kind !== undefined) inFlight.add(flight);
    let status = 0;
    let answer: unknown;
    let connectionRefused = false;
    try {
      // A JSON body, or an upload's bytes as they are (their Content-Type in `headers`).
      const raw = body instanceof Uint8Array;
      const res = await request(new URL(path, gatewayUrl), {
        method, dispatcher: agent, signal: AbortSignal.timeout(hangAfterMs),
        headers: { ...(body === undefined || raw ? {} : { 'content-type': 'application/json' }), ...(token === undefined ? {} : { authorization: `Bearer ${token}` }), ...headers },
        ...(body === undefined ? {} : { body: raw ? body : JSON.stringify(body) }),
      });
      const text = await res.body.text();
      status = res.statusCode;
      answer = text.length > 0 && (res.headers['content-type'] ?? '').includes('json') ? JSON.parse(text) : undefined;
    } catch (error) {
      // Reset, refused, or nothing within hangAfterMs: no answer, status 0.
      connectionRefused = (error as NodeJS.ErrnoException).code === 'ECONNREFUSED';
    }
    if (kind !== undefined) {
      inFlight.delete(flight);
      records.push({ kind, startedAtMs: sentAt - started, tookMs: performance.now() - sentAt, status, outcome: outcomeOf(status, { connectionRefused }) });
    }
    return { status, answer };
  }

  // Accounts first, a few at a time (users hashes two passwords at once); a sign-up that meets a
  // restarting shop is tried again.
  const accounts: Array<{ email: string; token: string; placed: string[]; cancelled: string[] }> = [];
  for (let i = 0; i < shoppers; i++) {
    const email = `shopper-${randomUUID()}@example.com`;
    for (let attempt = 1; ; attempt++) {
      const { status, answer } = await call(agents[i]!, undefined, 'POST', '/api/v1/users', { body: { email, password, name: `Shopper ${i + 1}` } });
      if (status === 201) {
        accounts.push({ email, token: (answer as { session: { accessToken: string } }).session.accessToken, placed: [], cancelled: [] });
        break;
      }
      if (attempt === 5) throw new Error(`the load could not sign up a shopper: the gateway answered ${status}`);
      await sleep(500 * attempt);
    }
  }

  const staff = staffEmail === undefined ? undefined : await signInStaff(agents[shoppers]!, staffEmail);
  const uploads = staffEmail === undefined ? undefined : { sku: uploadSku, acknowledged: [] as string[], unsure: 0 };
  const ready = new Set<string>();

  // The records' clock starts with the visits.
  started = performance.now();
  let running = true;
  const stopped = new AbortController();
  async function visit(i: number): Promise<void> {
    const agent = agents[i]!;
    const account = accounts[i]!;
    for (let visits = 1; running; visits++) {
      // Now and then a shopper comes back and signs in again (a password checked by users), and goes on with the new session.
      if (visits % signInEvery === 0) {
        const signedIn = await call(agent, 'sign-in', 'POST', '/api/v1/auth/login', { body: { email: account.email, password } });
        if (signedIn.status === 200) account.token = (signedIn.answer as { accessToken: string }).accessToken;
        if (!running) break;
      }
      await call(agent, 'browse', 'GET', '/api/v1/products?limit=24');
      if (!running) break;
      const sku = skus[randomInt(skus.length)]!;
      const placed = await call(agent, 'checkout', 'POST', '/api/v1/orders', {
        token: account.token, headers: { 'idempotency-key': randomUUID() },
        body: { items: [{ sku, quantity: 1 }], payment: { method: paymentMethod } },
      });
      if (placed.status === 201) {
        const id = (placed.answer as { id: string }).id;
        account.placed.push(id);
        const cancelled = await call(agent, 'cancel', 'POST', `/api/v1/orders/${id}/cancel`, { token: account.token });
        if (cancelled.status >= 200 && cancelled.status < 300) account.cancelled.push(id);
      }
      await sleep(thinkMs, undefined, { signal: stopped.signal }).catch(() => undefined);
    }
  }
  // The staff member adds a small picture to a product each visit (media stores it, then renders its sizes out of band).
  async function upload(token: string, seen: { acknowledged: string[]; unsure: number }): Promise<void> {
    const agent = agents[shoppers]!;
    for (let n = 0; running; n++) {
      const picture = await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: (n * 37) % 256, g: (n * 91) % 256, b: 128 } } }).png().toBuffer();
      const sent = await call(agent, 'upload', 'POST', `/api/v1/products/${uploadSku}/images`, { token, body: picture, headers: { 'content-type': 'image/png' } });
      if (sent.status === 202) seen.acknowledged.push((sent.answer as { id: string }).id);
      else if (outcomeOf(sent.status) === 'unavailable' || sent.status === 0) seen.unsure += 1;
      await sleep(thinkMs * 2, undefined, { signal: stopped.signal }).catch(() => undefined);
    }
  }
  const visiting = [...accounts.map((_, i) => visit(i)), ...(staff === undefined || uploads === undefined ? [] : [upload(staff, uploads)])];

  async function signInStaff(agent: Agent, email: string): Promise<string> {
    // Signed up by the first load of a shop, signed in by the next.
    for (let attempt = 1; ; attempt++) {
      const signedUp = await call(agent, undefined, 'POST', '/api/v1/users', { body: { email, password, name: 'Staff' } });
      if (signedUp.status === 201) return (signedUp.answer as { session: { accessToken: string } }).session.accessToken;
      const signedIn = signedUp.status === 409 ? await call(agent, undefined, 'POST', '/api/v1/auth/login', { body: { email, password } }) : signedUp;
      if (signedIn.status === 200) return (signedIn.answer as { accessToken: string }).accessToken;
      if (attempt === 5) throw new Error(`the load could not sign in its member of staff: the gateway answered ${signedIn.status}`);
      await sleep(500 * attempt);
    }
  }

  return {
    records,
    startedAt: started,
    oldestInFlightMs() {
      for (const flight of inFlight) return flight.sentAt - started;
      return undefined;
    },
    orders: accounts,
    uploads,
    async stop() {
      running = false;
      stopped.abort();
      await Promise.all(visiting);
    },
    async notifications() {
      const lists = [];
      for (const [i, account] of accounts.entries()) {
        const list: Array<{ type: string; orderId?: string | null }> = [];
        let cursor: string | null = null;
        do {
          const page = await call(agents[i]!, undefined, 'GET', `/api/v1/notifications?limit=100${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`, { token: account.token });
          if (page.status !== 200) throw new Error(`the notifications answered ${page.status}: ${JSON.stringify(page.answer ?? null).slice(0, 200)}`);
          const body = page.answer as { items: Array<{ type: string; orderId?: string | null }>; nextCursor: string | null };
          list.push(...body.items);
          cursor = body.nextCursor;
        } while (cursor !== null);
        lists.push(list);
      }
      return lists;
    },
    async recordedOrders() {
      const all: SeenOrder[] = [];
      for (const [i, account] of accounts.entries()) {
        let cursor: string | null = null;
        do {
          const page = await call(agents[i]!, undefined, 'GET', `/api/v1/orders?limit=100${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`, { token: account.token });
          if (page.status !== 200) throw new Error(`the orders answered ${page.status}`);
          const body = page.answer as { items: SeenOrder[]; nextCursor: string | null };
          all.push(...body.items);
          cursor = body.nextCursor;
        } while (cursor !== null);
      }
      return all;
    },
    async imageStatuses() {
      const statuses: Record<string, string> = {};
      for (const id of uploads?.acknowledged ?? []) {
        // Ready stays ready: asked once, so that looking again (until the run settles) stays within the staff member's rate limit.
        if (ready.has(id)) {
          statuses[id] = 'ready';
          continue;
        }
        const image = await call(agents[shoppers]!, undefined, 'GET', `/api/v1/images/${id}`);
        if (image.status !== 200 && image.status !== 404) throw new Error(`the image ${id} answered ${image.status}`);
        statuses[id] = image.status === 404 ? 'missing' : (image.answer as { status: string }).status;
        if (statuses[id] === 'ready') ready.add(id);
      }
      return statuses;
    },
    async close() {
      await Promise.all(agents.map((agent) => agent.close()));
    },
  };
}
