declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * Who may call this route, checked before any other work once service identity is on:
     * `'public'` (no service credential: health checks, the gateway's public API, a key set),
     * `'any-service'` (any Baton service with a valid credential for this one), or the names of
     * the services that may (`['orders']`). A route that says nothing is refused to everyone.
     */
    callers?: RouteCallers;
  }
}

/** Who may call a route or RPC method: see `callers` in a route's config. */
export type RouteCallers = 'public' | 'any-service' | readonly string[];
