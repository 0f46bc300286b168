import { publicErrors, type PublicErrorCode } from '@baton/contracts/http';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The public codes this route can answer with. The OpenAPI document lists, for the route,
     * the statuses those codes have and no other, each as application/problem+json with an
     * example per code; `npm test` checks that the statuses answered are the ones listed.
     */
    problems?: readonly PublicErrorCode[];
  }
}

// What any public route can meet whatever it does: the caller's request limit, a service behind
// it down or shedding load, its deadline run out on the way, or run out before it arrived (a
// caller may send its own budget, x-baton-timeout-ms, and a spent one is refused at once).
const anyRoute = ['rate_limited', 'service_unavailable', 'timeout', 'request_timeout'] as const satisfies readonly PublicErrorCode[];
// A route that reads a query, a path or headers checks them first.
const withInput = ['invalid_request'] as const satisfies readonly PublicErrorCode[];
// A route that reads a body: JSON only, and not too much of it. (What the HTTP server answers
// before a request reaches any route, for a request too slow to arrive, headers too large or a
// path too long, is the same for every path: docs/errors.md lists it, not each operation.)
const withBody = [...withInput, 'unsupported_media_type', 'body_too_large'] as const satisfies readonly PublicErrorCode[];
// A route for a signed-in user checks the access token before anything else is done.
const signedIn = ['sign_in_required', 'token_expired', 'token_revoked'] as const satisfies readonly PublicErrorCode[];

/** The problems a route can answer with, from what it takes and who may call it, and its own. */
export function problemsOf(route: { body?: boolean; input?: boolean; caller: 'anyone' | 'user' | 'staff' }, own: readonly PublicErrorCode[] = []): PublicErrorCode[] {
  return [...new Set<PublicErrorCode>([
    ...anyRoute,
    ...(route.body ? withBody : route.input ? withInput : []),
    ...(route.caller === 'anyone' ? [] : signedIn),
    ...(route.caller === 'staff' ? ['staff_only' as const] : []),
    ...own,
  ])];
}

// What a client would read for each code in an example: the detail and the members a service
// adds, as the services write them. The rest of a problem is the catalogue's.
const exampleMembers: Partial<Record<PublicErrorCode, Record<string, unknown>>> = {
  invalid_request: { detail: 'body.items.0.quantity: Too small: expected number to be >=1', errors: [{ field: 'body.items[0].quantity', message: 'Too small: expected number to be >=1' }] },
  unsupported_media_type: { detail: 'Unsupported Media Type: text/plain' },
  out_of_stock: { detail: 'not enough stock for COFFEE-1KG', unavailable: [{ sku: 'COFFEE-1KG', requested: 3, available: 1 }] },
  payment_declined: { detail: 'the card was declined' },
  unknown_product: { detail: 'no such product: NO-SUCH-SKU', unknown: ['NO-SUCH-SKU'], errors: [{ field: 'body.items[1].sku', message: 'no such product' }] },
  insufficient_stock: { detail: 'COFFEE-1KG has 4 in stock; this takes out 10', sku: 'COFFEE-1KG', stock: 4 },
  timeout: { detail: 'the request ran out of time', hop: 'inventory' },
};

function exampleOf(code: PublicErrorCode): Record<string, unknown> {
  const { status, title } = publicErrors[code];
  return { type: `urn:baton:problem:${code}`, title, status, detail: title, code, request_id: 'c0ffee00-0000-4000-8000-000000000001', ...exampleMembers[code] };
}

/**
 * The OpenAPI responses for a route's problems: a status for each status its codes have, typed
 * application/problem+json, described by its codes and with an example of each.
 */
export function problemResponses(codes: readonly PublicErrorCode[], problemSchemaRef: string): Record<string, unknown> {
  const byStatus = new Map<number, PublicErrorCode[]>();
  for (const code of codes) byStatus.set(publicErrors[code].status, [...byStatus.get(publicErrors[code].status) ?? [], code]);
  return Object.fromEntries([...byStatus].sort(([a], [b]) => a - b).map(([status, ofStatus]) => [status, {
    description: ofStatus.map((code) => `\`${code}\`: ${publicErrors[code].title}`).join('\n\n'),
    content: {
      'application/problem+json': {
        schema: { $ref: problemSchemaRef },
        examples: Object.fromEntries(ofStatus.map((code) => [code, { summary: publicErrors[code].title, value: exampleOf(code) }])),
      },
    },
  }]));
}
