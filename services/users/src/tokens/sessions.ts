import { createHash, randomBytes } from 'node:crypto';
import type { Database, Queryable, QueryOptions } from '@baton/kit/db';
import { Code, KitError } from '@baton/kit/errors';
import { rolesOf } from '@baton/kit/auth';
import type { UserRow } from '../users/user.ts';
import type { AccessTokenIssuer } from './access-tokens.ts';
import { revokeTokensOfUser } from './revocations.ts';

export interface SessionSettings {
  /** How long one refresh token may wait to be used; each use gives a new one. */
  refreshTokenTtlSeconds: number;
  /** The longest a session lives, however often it is refreshed. */
  sessionMaxAgeSeconds: number;
  /** How long a cut-off of a user's access tokens must be published (a reuse revokes them). */
  tokenLifetimeSeconds: number;
}

/** What a sign-in, a sign-up or a refresh answers. */
export interface IssuedSession {
  accessToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
  refreshToken: string;
  refreshExpiresIn: number;
}

export type RevokedReason = 'sign_out' | 'password_change' | 'refresh_token_reused';

// 256 random bits: a SHA-256 of it is all the table needs (no salt, no slow hash), and finding
// a token from its hash is as hard as guessing it.
function newRefreshToken(): { token: string; hash: Buffer } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: hashOf(token) };
}

function hashOf(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

async function addRefreshToken(tx: Queryable, sessionId: string, ttlSeconds: number, options: QueryOptions): Promise<{ token: string; expiresIn: number }> {
  const { token, hash } = newRefreshToken();
  // Never past the session's own end.
  const { rows: [row] } = await tx.query<{ expires_in: number }>(
    `insert into refresh_tokens (token_hash, session_id, expires_at)
     select $1, id, least(now() + make_interval(secs => $3), expires_at) from sessions where id = $2
     returning ceil(extract(epoch from expires_at - now()))::int as expires_in`,
    [hash, sessionId, ttlSeconds], options);
  if (row === undefined) throw new Error(`no session ${sessionId} to add a refresh token to`);
  return { token, expiresIn: row.expires_in };
}

/**
 * Opens a session for a user who has just proved who they are (a sign-in, a sign-up), in the
 * caller's transaction: the session row and its first refresh token. `issue` signs the access
 * token once the transaction has committed, naming the session (`sid`).
 */
export async function openSession(tx: Queryable, userId: string, settings: SessionSettings, options: QueryOptions): Promise<{ sessionId: string; refreshToken: string; refreshExpiresIn: number }> {
  const { rows: [session] } = await tx.query<{ id: string }>(
    'insert into sessions (user_id, expires_at) values ($1, now() + make_interval(secs => $2)) returning id', [userId, settings.sessionMaxAgeSeconds], options);
  if (session === undefined) throw new Error('insert into sessions returned no row');
  const { token, expiresIn } = await addRefreshToken(tx, session.id, settings.refreshTokenTtlSeconds, options);
  return { sessionId: session.id, refreshToken: token, refreshExpiresIn: expiresIn };
}

/** The access token for an opened or refreshed session, with its refresh token: the answer. */
export async function sessionAnswer(
  tokens: AccessTokenIssuer,
  user: Pick<UserRow, 'id' | 'roles' | 'tokens_revoked_before'>,
  session: { sessionId: string; refreshToken: string; refreshExpiresIn: number },
  { signal }: { signal: AbortSignal },
): Promise<IssuedSession> {
  const { accessToken, expiresIn } = await tokens.issue(user.id, {
    signal, roles: rolesOf(user.roles), sessionId: session.sessionId, notBeforeMs: user.tokens_revoked_before?.getTime(),
  });
  return { accessToken, tokenType: 'Bearer', expiresIn, refreshToken: session.refreshToken, refreshExpiresIn: session.refreshExpiresIn };
}

type RefreshOutcome =
  | { kind: 'rotated'; answer: IssuedSession }
  | { kind: 'refused'; reason: 'invalid_refresh_token' | 'refresh_token_expired' | 'session_revoked' | 'refresh_token_reused' };

/**
 * Trades a refresh token for a new one and a new access token, in its session. A token is good
 * once: the first use marks it used, under a lock on the session, so of two uses at once one
 * rotates and the other is a reuse. A reuse revokes the whole session, and every access token
 * of the user issued until now (the other sessions' clients refresh theirs), and is committed
 * before the 401 is answered. Unknown, expired and revoked tokens are 401 with their reason.
 * The new access token is signed before the rotation commits: if signing fails, nothing is
 * used up, and the client's retry with the same refresh token is not taken for a reuse.
 */
export async function refreshSession(db: Database, tokens: AccessTokenIssuer, refreshToken: string, settings: SessionSettings, options: { signal: AbortSignal }): Promise<IssuedSession> {
  const hash = hashOf(refreshToken);
  const outcome = await db.transaction(async (tx): Promise<RefreshOutcome> => {
    const { rows: [found] } = await tx.query<{
      session_id: string; used: boolean; expired: boolean; revoked: boolean; user_id: string; roles: string[]; tokens_revoked_before: Date | null;
    }>(
      `select t.session_id, t.used_at is not null as used, t.expires_at <= now() as expired, s.revoked_at is not null as revoked,
              u.id as user_id, u.roles, u.tokens_revoked_before
         from refresh_tokens t join sessions s on s.id = t.session_id join users u on u.id = s.user_id
        where t.token_hash = $1
        for update of t, s`,
      [hash], options);
    if (found === undefined) return { kind: 'refused', reason: 'invalid_refresh_token' };
    if (found.revoked) return { kind: 'refused', reason: 'session_revoked' };
    if (found.used) {
      await revokeSession(tx, found.session_id, 'refresh_token_reused', options);
      await revokeTokensOfUser(tx, found.user_id, { tokenLifetimeSeconds: settings.tokenLifetimeSeconds }, options);
      return { kind: 'refused', reason: 'refresh_token_reused' };
    }
    if (found.expired) return { kind: 'refused', reason: 'refresh_token_expired' };
    await tx.query('update refresh_tokens set used_at = now() where token_hash = $1', [hash], options);
    const next = await addRefreshToken(tx, found.session_id, settings.refreshTokenTtlSeconds, options);
    const user = { id: found.user_id, roles: found.roles, tokens_revoked_before: found.tokens_revoked_before };
    const answer = await sessionAnswer(tokens, user, { sessionId: found.session_id, refreshToken: next.token, refreshExpiresIn: next.expiresIn }, options);
    return { kind: 'rotated', answer };
  }, options);
  if (outcome.kind === 'refused') throw refusalOf[outcome.reason]();
  return outcome.answer;
}

// Each refusal with its reason written out, as docs/errors.md lists them.
const refusalOf = {
  invalid_refresh_token: () => new KitError(Code.Unauthenticated, 'the refresh token is not valid; sign in again', { reason: 'invalid_refresh_token' }),
  refresh_token_expired: () => new KitError(Code.Unauthenticated, 'the refresh token has expired; sign in again', { reason: 'refresh_token_expired' }),
  session_revoked: () => new KitError(Code.Unauthenticated, 'this session has ended (signed out, or the password was changed); sign in again', { reason: 'session_revoked' }),
  refresh_token_reused: () => new KitError(Code.Unauthenticated, 'this refresh token was used before, so its session was ended; sign in again', { reason: 'refresh_token_reused' }),
} as const;

/** Ends one session: its refresh tokens are refused from now on. */
export async function revokeSession(tx: Queryable, sessionId: string, reason: RevokedReason, options: QueryOptions): Promise<void> {
  await tx.query('update sessions set revoked_at = now(), revoked_reason = $2 where id = $1 and revoked_at is null', [sessionId, reason], options);
}

/** Ends every session of a user (a sign-out everywhere, a password change). */
export async function revokeSessionsOfUser(tx: Queryable, userId: string, reason: RevokedReason, options: QueryOptions): Promise<void> {
  await tx.query('update sessions set revoked_at = now(), revoked_reason = $2 where user_id = $1 and revoked_at is null', [userId, reason], options);
}
