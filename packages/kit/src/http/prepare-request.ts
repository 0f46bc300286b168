import { requestIdHeader } from '../service/request-id.ts';
import { idempotencyKeyHeader } from './idempotency.ts';

export type QueryValue = string | number | boolean | undefined;
export type QueryParams = Readonly<Record<string, QueryValue | readonly QueryValue[]>>;

/**
 * The path with its query string. Values are encoded; `undefined` ones are left out, so an
 * optional filter can be passed as it is.
 *
 * @example
 * pathWithQuery('/v1/products', { q: 'mug', page: 2, tag: ['a', 'b'] }); // '/v1/products?q=mug&page=2&tag=a&tag=b'
 */
export function pathWithQuery(path: string, query: QueryParams | undefined): string {
  // An absolute URL or a scheme-relative one here would send the request somewhere else.
  if (!path.startsWith('/') || path.startsWith('//') || /\s/.test(path)) throw new TypeError(`a request path starts with one '/' and has no spaces: ${JSON.stringify(path)}`);
  if (query === undefined) return path;
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    for (const item of Array.isArray(value) ? (value as readonly QueryValue[]) : [value as QueryValue]) {
      if (item !== undefined) params.append(name, String(item));
    }
  }
  const search = params.toString();
  if (search === '') return path;
  return `${path}${path.includes('?') ? '&' : '?'}${search}`;
}

export interface HeaderInput {
  headers: Readonly<Record<string, string>> | undefined;
  /** The body's type; undefined without a body. */
  contentType: string | undefined;
  requestId: string | undefined;
  idempotencyKey: string | undefined;
  /** What the call reads back; a caller's own `accept` header wins. */
  accept?: string;
}

/**
 * The headers every attempt of a call shares, with lower-case names so a caller's `X-Request-Id`
 * and the client's own never go out twice. The client's own win: the request id, the
 * idempotency key and the content type are what the client was told, not what a header map says.
 *
 * @example
 * requestHeaders({ headers: {}, contentType: 'application/json', requestId, idempotencyKey: 'k-1' });
 */
export function requestHeaders({ headers, contentType, requestId, idempotencyKey, accept = 'application/json' }: HeaderInput): Record<string, string> {
  const result: Record<string, string> = { accept };
  if (headers !== undefined) for (const [name, value] of Object.entries(headers)) result[name.toLowerCase()] = value;
  if (contentType !== undefined) result['content-type'] = contentType;
  if (requestId !== undefined) result[requestIdHeader] = requestId;
  if (idempotencyKey !== undefined) result[idempotencyKeyHeader] = idempotencyKey;
  return result;
}
