import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import type { tokenResponse } from '@baton/contracts/http';
import type { VerifiedToken } from '@baton/kit/auth';
import { KitError } from '@baton/kit/errors';
import type { HttpClient } from '@baton/kit/http';
import type { Authenticate } from '../auth.ts';
import { callService } from '../forward.ts';

type Tokens = z.output<typeof tokenResponse>;

/** A signed-in shopper: the access token the pages call the services with, and what it says. */
export interface Shopper {
  accessToken: string;
  token: VerifiedToken;
}

export interface Sessions {
  /**
   * The shopper a request's cookies sign in, or undefined. An access token that no longer
   * verifies (expired, revoked) is renewed once with the refresh cookie, and the new pair set on
   * `reply`; a session that cannot be renewed is ended (its cookies cleared). A users service
   * that cannot answer is thrown (503): the shopper is not signed out for the shop's trouble.
   */
  shopperOf(request: FastifyRequest, reply: FastifyReply): Promise<Shopper | undefined>;
  /** Sets the cookies of a session just begun (sign-in, sign-up) or renewed. */
  begin(request: FastifyRequest, reply: FastifyReply, tokens: Tokens): void;
  end(reply: FastifyReply): void;
  /** After a sign-in, a sign-up or a sign-out: the browser's form-token secret is made anew on its next page. */
  startOver(reply: FastifyReply): void;
}

const accessCookie = 'baton_access';
const refreshCookie = 'baton_refresh';
// Longer than any token users issues; anything longer is not one, and is not sent on.
const maxTokenLength = 4_096;
// A renewal's answer is kept this long for the same refresh token from the same browser: a page's
// parallel requests (two tabs, a reload) that all carry the old cookie get the same new pair,
// where each sending the refresh token again would be a reuse, which ends the session (RFC 9700
// 4.14.2). The same browser means the same form-token secret cookie too (HttpOnly, its own per
// browser): someone who has only an old refresh token gets nothing from the cache, and their use
// of it reaches users, which sees the reuse and ends the session, as it should.
const renewalKeptMs = 10_000;
/** The form-token secret's cookie (@fastify/csrf-protection's own name): one per browser. */
export const browserSecretCookie = '_csrf';
const maxRenewalsKept = 10_000;

/**
 * The storefront's sessions, in two HttpOnly cookies: the access token, and the refresh token
 * that renews it. Not readable by the page's scripts (HttpOnly), sent only to this site's
 * requests and its links followed from elsewhere (SameSite=Lax: a cross-site form post carries
 * neither), Secure when the shop is reached over HTTPS. Both are the users service's own tokens:
 * the gateway checks the access token as it checks a bearer token, and each service checks it again.
 */
export function createSessions({ authenticate, users }: { authenticate: Authenticate; users: HttpClient }): Sessions {
  const renewals = new Map<string, { at: number; tokens: Promise<Tokens> }>();

  const renew = (request: FastifyRequest, refreshToken: string): Promise<Tokens> => {
    const key = createHash('sha256').update(refreshToken).update('\0').update(request.cookies[browserSecretCookie] ?? '').digest('base64url');
    const now = Date.now();
    const kept = renewals.get(key);
    if (kept !== undefined && now - kept.at < renewalKeptMs) return kept.tokens;
    const tokens = callService<Tokens>(request, users, { method: 'POST', path: '/v1/auth/refresh', body: { refreshToken } }).then((answer) => answer.body);
    renewals.set(key, { at: now, tokens });
    // A failed renewal is not kept: the next request may find the users service back.
    tokens.catch(() => renewals.delete(key));
    for (const [old, entry] of renewals) {
      if (renewals.size <= maxRenewalsKept && now - entry.at < renewalKeptMs) break;
      renewals.delete(old);
    }
    return tokens;
  };

  const sessions: Sessions = {
    async shopperOf(request, reply) {
      const accessToken = usable(request.cookies[accessCookie]);
      const refreshToken = usable(request.cookies[refreshCookie]);
      if (accessToken !== undefined) {
        try {
          return { accessToken, token: await authenticate.token(request, accessToken) };
        } catch (error) {
          if (!isRefused(error)) throw error;
        }
      }
      if (refreshToken === undefined) {
        if (accessToken !== undefined) sessions.end(reply);
        return undefined;
      }
      let tokens: Tokens;
      try {
        tokens = await renew(request, refreshToken);
      } catch (error) {
        if (!isRefused(error)) throw error;
        sessions.end(reply);
        return undefined;
      }
      sessions.begin(request, reply, tokens);
      return { accessToken: tokens.accessToken, token: await authenticate.token(request, tokens.accessToken) };
    },
    begin(request, reply, tokens) {
      const options = { path: '/', httpOnly: true, sameSite: 'lax', secure: request.protocol === 'https' } as const;
      void reply.setCookie(accessCookie, tokens.accessToken, { ...options, maxAge: tokens.expiresIn });
      void reply.setCookie(refreshCookie, tokens.refreshToken, { ...options, maxAge: tokens.refreshExpiresIn });
    },
    end(reply) {
      void reply.clearCookie(accessCookie, { path: '/' });
      void reply.clearCookie(refreshCookie, { path: '/' });
    },
    startOver(reply) {
      // A new form-token secret for a new session: one from before a sign-in (or planted) is no good after.
      void reply.clearCookie(browserSecretCookie, { path: '/' });
    },
  };
  return sessions;
}

function usable(value: string | undefined): string | undefined {
  return value === undefined || value === '' || value.length > maxTokenLength ? undefined : value;
}

/** A token or session refused (401): the shopper is signed out. Anything else is the shop's trouble, not theirs. */
function isRefused(error: unknown): boolean {
  return error instanceof KitError && error.code === 'unauthenticated';
}
