import type http2 from 'node:http2';

// Between Node.js's HTTP/2 header objects and the fetch `Headers` Connect-ES's interfaces use.
// Pseudo-headers (`:status`, `:path`, ...) stay on the Node.js side, as Connect's adapters do.

/** Node.js's received headers (or trailers) as `Headers`, without the pseudo-headers. */
export function webHeadersOf(nodeHeaders: http2.IncomingHttpHeaders): Headers {
  const headers = new Headers();
  for (const key in nodeHeaders) {
    if (key.startsWith(':')) continue;
    const value = nodeHeaders[key];
    if (typeof value === 'string') headers.append(key, value);
    else if (Array.isArray(value)) for (const item of value) headers.append(key, item);
  }
  return headers;
}

/** `Headers` as an object Node.js can send, added to `into`. */
export function nodeHeadersOf(headers: Headers, into: http2.OutgoingHttpHeaders = {}): http2.OutgoingHttpHeaders {
  headers.forEach((value, key) => { into[key] = value; });
  return into;
}
