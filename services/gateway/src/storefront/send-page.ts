import type { FastifyReply } from 'fastify';
import { render } from 'preact-render-to-string';
import type { Trouble } from './trouble.ts';
import type { View } from './views/html.ts';

// Scripts, styles and images from the shop itself only, forms posted back to it, and the pages
// never framed: an injected tag could neither run nor send anything elsewhere.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/**
 * Sends a page: rendered to a string on the server (Preact's renderer escapes every value), with
 * the headers every page has. Pages show who is signed in and their cart, so no cache keeps them.
 * A page that tells of trouble is sent with its status, and with Retry-After when it says how long
 * to wait (a 503, a 429), as the API's problem would be.
 */
export function sendPage(reply: FastifyReply, view: View, status: number | Pick<Trouble, 'status' | 'retryAfterSeconds'> | undefined = 200): FastifyReply {
  if (typeof status === 'object' && status.retryAfterSeconds !== undefined) void reply.header('retry-after', String(status.retryAfterSeconds));
  return reply.code(typeof status === 'object' ? status.status : status).headers({
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-security-policy': contentSecurityPolicy,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'same-origin',
  }).send(`<!doctype html>${render(view)}`);
}

/** After a form's post: 303, so a reload does not post it again. */
export function seeOther(reply: FastifyReply, location: string): FastifyReply {
  return reply.code(303).header('cache-control', 'no-store').redirect(location, 303);
}
