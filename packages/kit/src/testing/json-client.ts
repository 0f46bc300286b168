import { testIdentity } from './service-identity.ts';

/** What a test reads of an HTTP answer; `body` is parsed when it is JSON. */
export interface Answer<T> {
  status: number;
  contentType: string;
  headers: Headers;
  body: T;
}

export interface SendOptions {
  /** Sent as JSON, with `content-type: application/json` unless the headers say otherwise. */
  json?: unknown;
  /** Sent as it is: for malformed or oversized bodies. */
  body?: string;
  headers?: Record<string, string>;
}

export interface ServicePair {
  caller: string;
  callee: string;
}

export interface JsonClientOptions {
  /**
   * Sends every request with `caller`'s token for `callee`, as a Baton service calling it would;
   * a function chooses them per request (the service that really calls that route).
   */
  as?: ServicePair | ((method: string, path: string) => ServicePair | undefined);
}

/**
 * A small client for a service's API over real HTTP, as tests drive it. Node's fetch keeps
 * connections alive, so concurrent tests reuse sockets like a real caller would. `T` is what
 * the test expects the body to be.
 *
 * @example
 * const api = createJsonClient(service.url);
 * const { status, body } = await api.send<Product>('GET', '/v1/products/COFFEE-1KG');
 */
export function createJsonClient(baseUrl: string, { as }: JsonClientOptions = {}) {
  async function send<T>(method: string, path: string, init: SendOptions = {}): Promise<Answer<T>> {
    const pair = typeof as === 'function' ? as(method, path) : as;
    const credential = pair === undefined ? {} : await testIdentity.headers(pair.caller, pair.callee);
    const headers: Record<string, string> = { ...credential, ...init.headers };
    let body = init.body;
    if (init.json !== undefined) {
      body = JSON.stringify(init.json);
      headers['content-type'] ??= 'application/json';
    }
    const response = await fetch(new URL(path, baseUrl), { method, headers, ...(body === undefined ? {} : { body }) });
    const contentType = response.headers.get('content-type') ?? '';
    const text = await response.text();
    return { status: response.status, contentType, headers: response.headers, body: (contentType.includes('json') && text !== '' ? JSON.parse(text) : text) as T };
  }
  return { send };
}
