import type { FastifyReply } from 'fastify';
import { render } from 'preact-render-to-string';
import type { View } from './views/html.ts';

// Scripts, styles and images from the shop itself only, forms posted back to it, and the pages
// never framed: an injected tag could neither run nor send anything elsewhere.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/**
 * Sends a page: rendered to a string on the server (Preact's renderer escapes every value), with
 * the headers every page has. Pages show who is signed in and their cart, so no cache keeps them.
 */
export function sendPage(reply: FastifyReply, view: View, status = 200): FastifyReply {
  return reply.code(status).headers({
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
