import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fastifyCookie from '@fastify/cookie';
import fastifyCsrf from '@fastify/csrf-protection';
import fastifyFormbody from '@fastify/formbody';
import type { FastifyError, FastifyInstance } from 'fastify';
import { Code, KitError } from '@baton/kit/errors';
import type { StorefrontDeps } from './storefront-deps.ts';
import { pageContext } from './storefront-deps.ts';
import { registerAccountPages } from './routes/account-pages.ts';
import { registerCartPages } from './routes/cart-pages.ts';
import { registerCataloguePages } from './routes/catalogue-pages.ts';
import { registerOrderPages } from './routes/order-pages.ts';
import { sendPage } from './send-page.ts';
import { troubleOf } from './trouble.ts';
import { troublePage } from './views/catalogue.ts';

// Read once, at start: the two files every page links to.
const assets = Object.fromEntries(([['site.css', 'text/css; charset=utf-8'], ['site.js', 'text/javascript; charset=utf-8']] as const).map(([name, type]) => {
  const body = readFileSync(new URL(`./assets/${name}`, import.meta.url));
  return [name, { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` }];
}));

/**
 * The storefront: pages rendered on the server from what the services answer, at `/`, beside the
 * public API. Forms post back to the gateway, which calls the services as the API does (the same
 * clients, deadlines and checks); a little script only makes a pending order's page update itself.
 * Its own plugin, so form bodies and cookies are read here and nowhere in the API (which takes
 * JSON only and bearer tokens only). docs/web.md says why it is built this way.
 */
export async function registerStorefront(app: FastifyInstance, deps: StorefrontDeps): Promise<void> {
  await app.register(async function storefront(web) {
    await web.register(fastifyCookie);
    await web.register(fastifyFormbody);
    // Every form carries a token tied to a secret in an HttpOnly cookie (double submit), on top of
    // SameSite=Lax session cookies: a form on another site can post here but cannot send it.
    await web.register(fastifyCsrf, { cookieOpts: { path: '/', httpOnly: true, sameSite: 'lax', secure: 'auto' } });

    web.setErrorHandler(async function pageError(error: FastifyError, request, reply) {
      // An error thrown before this plugin's own hooks ran (the gateway's rate limits, in its
      // onRequest hook) finds the cookies not read yet, and the page needs them (the cart's
      // count, the form token): without this, a 429 was a 500.
      request.cookies ??= web.parseCookie(request.headers.cookie ?? '');
      const csrf = typeof error.code === 'string' && error.code.startsWith('FST_CSRF');
      const kitError = csrf
        ? new KitError(Code.PermissionDenied, 'the form token is missing or wrong')
        : error instanceof KitError ? error
        : typeof error.statusCode === 'number' && error.statusCode < 500 && error.code?.startsWith('FST_') ? new KitError(Code.InvalidArgument, error.message)
        : KitError.from(error);
      if (kitError.code === Code.Unavailable || kitError.code === Code.DeadlineExceeded) request.log.warn({ code: kitError.code, reason: kitError.reason }, kitError.message);
      else if (kitError.code === Code.Internal || kitError.code === Code.Unknown) request.log.error({ err: error }, 'page failed');
      else request.log.info({ code: kitError.code, reason: kitError.reason }, kitError.message);
      const trouble = csrf
        ? { ...troubleOf(kitError), message: 'This form is out of date or was not sent from this shop. Go back, reload the page and send it again.' }
        : troubleOf(kitError);
      const heading = 'That could not be done';
      return sendPage(reply, troublePage(pageContext(request, reply, heading, undefined), heading, trouble, trouble.retry && request.method === 'GET' ? request.url : undefined), trouble);
    });

    web.get<{ Params: { name: string } }>('/assets/:name', { config: { callers: 'public', priority: 'low' } }, async (request, reply) => {
      // Own names only: `__proto__` or `constructor` are not files.
      const asset = Object.hasOwn(assets, request.params.name) ? assets[request.params.name] : undefined;
      if (asset === undefined) throw new KitError(Code.NotFound, 'no such file');
      void reply.headers({ etag: asset.etag, 'cache-control': 'public, max-age=300', 'x-content-type-options': 'nosniff' });
      if (request.headers['if-none-match'] === asset.etag) return reply.code(304).send();
      return reply.type(asset.type).send(asset.body);
    });

    registerCataloguePages(web, deps);
    registerCartPages(web, deps);
    registerOrderPages(web, deps);
    registerAccountPages(web, deps);
  });
}
