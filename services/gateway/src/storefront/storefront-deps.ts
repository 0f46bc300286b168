import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Authenticate } from '../auth.ts';
import type { AddressThrottle } from '../sign-in-throttle.ts';
import type { Upstreams } from '../upstreams.ts';
import { cartCount, cartOf } from './cart.ts';
import type { Sessions, Shopper } from './session.ts';
import type { PageContext } from './views/html.ts';

/** What the storefront's routes are given: the gateway's clients of the services, its checks, and the sessions. */
export interface StorefrontDeps {
  upstreams: Upstreams;
  authenticate: Authenticate;
  signIn: AddressThrottle;
  sessions: Sessions;
}

/** What every page's frame shows, for this request. */
export function pageContext(request: FastifyRequest, reply: FastifyReply, title: string, shopper: Shopper | undefined): PageContext {
  return { title, signedIn: shopper !== undefined, cartCount: cartCount(cartOf(request)), csrf: reply.generateCsrf() };
}

// A path of printable ASCII without a backslash: what a Location header carries as it is. A space,
// a control character or one past ASCII is refused (Node will not send one in a header: a 500).
const localPath = /^\/(?![/\\])[\x21-\x5b\x5d-\x7e]{0,511}$/;

/** Where to go after signing in: a path of this shop only, never another site (`//evil.example`, `https://…`). */
export function safeNext(value: unknown): string {
  return typeof value === 'string' && localPath.test(value) ? value : '/';
}

/** The link to a page of the shop with its query; empty values left out. */
export function hrefOf(path: string, query: Record<string, string | undefined>): string {
  const search = new URLSearchParams(Object.entries(query).filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== '')).toString();
  return search === '' ? path : `${path}?${search}`;
}

/** A text field of a submitted form or a query: one string, or undefined (absent, empty, or sent twice). */
export function textOf(fields: unknown, name: string): string | undefined {
  const value = typeof fields === 'object' && fields !== null ? (fields as Record<string, unknown>)[name] : undefined;
  return typeof value === 'string' && value !== '' ? value : undefined;
}
