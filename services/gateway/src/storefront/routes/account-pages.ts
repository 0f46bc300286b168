import type { FastifyInstance } from 'fastify';
import type { z } from 'zod';
import { loginBody, registerBody, type registeredUser, type tokenResponse } from '@baton/contracts/http';
import { Code, KitError } from '@baton/kit/errors';
import { callService } from '../../forward.ts';
import { saveCart } from '../cart.ts';
import { seeOther, sendPage } from '../send-page.ts';
import { pageContext, safeNext, textOf, type StorefrontDeps } from '../storefront-deps.ts';
import { troubleOf } from '../trouble.ts';
import { troublePage } from '../views/catalogue.ts';
import { signInPage, signUpPage } from '../views/account.ts';

const invalidForm = (error: z.ZodError) => new KitError(Code.InvalidArgument, 'the form is not valid', {
  fields: error.issues.map((issue) => ({ field: issue.path.join('.'), message: issue.message })),
});

/**
 * Signing up, in and out. The forms are checked with the public API's own schemas, the sign-in
 * goes through the same per-address throttle as the API's, and sign-up counts against the same
 * registrations-per-hour bucket (service.ts): the pages are no way around the API's limits.
 */
export function registerAccountPages(app: FastifyInstance, { upstreams, sessions, signIn }: StorefrontDeps): void {
  app.get('/sign-in', { config: { callers: 'public' } }, async (request, reply) => {
    const shopper = await sessions.shopperOf(request, reply);
    const next = safeNext(textOf(request.query, 'next'));
    if (shopper !== undefined) return seeOther(reply, next);
    return sendPage(reply, signInPage(pageContext(request, reply, 'Sign in', undefined), { email: '', next, trouble: undefined }));
  });

  app.post('/sign-in', { config: { callers: 'public' }, preHandler: app.csrfProtection }, async (request, reply) => {
    const email = textOf(request.body, 'email') ?? '';
    const next = safeNext(textOf(request.body, 'next'));
    try {
      const form = loginBody.safeParse({ email, password: textOf(request.body, 'password') ?? '' });
      if (!form.success) throw invalidForm(form.error);
      signIn.begin(request.ip);
      const { body } = await callService<z.output<typeof tokenResponse>>(request, upstreams.users, { method: 'POST', path: '/v1/auth/login', body: form.data });
      signIn.succeeded(request.ip);
      sessions.begin(request, reply, body);
      sessions.startOver(reply);
      return seeOther(reply, next);
    } catch (error) {
      const trouble = troubleOf(error);
      return sendPage(reply, signInPage(pageContext(request, reply, 'Sign in', undefined), { email, next, trouble }), trouble);
    }
  });

  app.get('/sign-up', { config: { callers: 'public' } }, async (request, reply) => {
    const shopper = await sessions.shopperOf(request, reply);
    const next = safeNext(textOf(request.query, 'next'));
    if (shopper !== undefined) return seeOther(reply, next);
    return sendPage(reply, signUpPage(pageContext(request, reply, 'Create an account', undefined), { name: '', email: '', next, trouble: undefined }));
  });

  app.post('/sign-up', { config: { callers: 'public' }, preHandler: app.csrfProtection }, async (request, reply) => {
    const name = textOf(request.body, 'name') ?? '';
    const email = textOf(request.body, 'email') ?? '';
    const next = safeNext(textOf(request.body, 'next'));
    try {
      const form = registerBody.safeParse({ name, email, password: textOf(request.body, 'password') ?? '' });
      if (!form.success) throw invalidForm(form.error);
      const { body } = await callService<z.output<typeof registeredUser>>(request, upstreams.users, { method: 'POST', path: '/v1/users', body: form.data });
      sessions.begin(request, reply, body.session);
      sessions.startOver(reply);
      return seeOther(reply, next);
    } catch (error) {
      const trouble = troubleOf(error);
      return sendPage(reply, signUpPage(pageContext(request, reply, 'Create an account', undefined), { name, email, next, trouble }), trouble);
    }
  });

  app.post('/sign-out', { config: { callers: 'public' }, preHandler: app.csrfProtection }, async (request, reply) => {
    const shopper = await sessions.shopperOf(request, reply);
    if (shopper !== undefined) {
      try {
        // The token and its session end at users; the cookies alone would leave them good until they expire.
        await callService(request, upstreams.users, { method: 'POST', path: '/v1/auth/logout', body: {}, withCredentials: true, accessToken: shopper.accessToken });
      } catch (error) {
        // Kept signed in, so that trying again can end the session where it lives.
        const trouble = troubleOf(error);
        return sendPage(reply, troublePage(pageContext(request, reply, 'Not signed out yet', shopper), 'Not signed out yet', trouble), trouble);
      }
    }
    sessions.end(reply);
    sessions.startOver(reply);
    // A shared computer: the next person finds no cart of the last one's.
    saveCart(request, reply, []);
    return seeOther(reply, '/');
  });
}
