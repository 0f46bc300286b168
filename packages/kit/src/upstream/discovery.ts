/**
 * Where the instances of one upstream are. The client keeps one connection pool per instance
 * and follows the list as it changes.
 */
export interface Discovery {
  /** The instances known now, as origins (`http://10.0.3.7:8080`). */
  instances(): readonly string[];
  /** Calls `listener` with the new list whenever it changes; returns the unsubscribe function. */
  subscribe(listener: (instances: readonly string[]) => void): () => void;
  /** Settles (never rejects) once the first lookup is over; at once for a fixed list. */
  readonly ready: Promise<void>;
  close(): void;
}

/**
 * The origin of one configured instance URL. Only an origin is accepted: a path, a query or
 * credentials in `<SERVICE>_URLS` are a configuration mistake, reported at start.
 *
 * @example
 * originOf('http://catalog-0.catalog:8080'); // 'http://catalog-0.catalog:8080'
 */
export function originOf(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url.trim());
  } catch {
    throw new TypeError(`not a URL: ${JSON.stringify(url)}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new TypeError(`not an http(s) URL: ${url}`);
  if ((parsed.pathname !== '/' && parsed.pathname !== '') || parsed.search !== '' || parsed.hash !== '' || parsed.username !== '' || parsed.password !== '') {
    throw new TypeError(`an instance URL is an origin only (scheme, host, port): ${url}`);
  }
  return parsed.origin;
}

/**
 * A fixed list of instances, as read from `<SERVICE>_URLS`.
 *
 * @example
 * const discovery = createStaticDiscovery(['http://127.0.0.1:8081', 'http://127.0.0.1:8091']);
 */
export function createStaticDiscovery(urls: readonly string[]): Discovery {
  const instances = Object.freeze([...new Set(urls.map(originOf))]);
  if (instances.length === 0) throw new TypeError('an upstream needs at least one instance URL');
  return {
    instances: () => instances,
    subscribe: () => () => {},
    ready: Promise.resolve(),
    close: () => {},
  };
}
