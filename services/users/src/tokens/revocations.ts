import type { TokenRevocationsPage } from '@baton/kit/auth';
import type { Database, Queryable, QueryOptions } from '@baton/kit/db';

/**
 * Revocations are few (a sign-out, a password change) and must reach verifiers in order: the
 * feed's cursor is the row's `seq`, so a row may not become visible after one with a higher
 * `seq` that a verifier already read past. Writers take turns on the table (EXCLUSIVE lets
 * plain reads go on) so sequence order is commit order; expired rows are deleted at the same
 * time, which is all the pruning a table that grows only here needs.
 */
async function writeRevocation(tx: Queryable, sql: string, parameters: unknown[], options: QueryOptions): Promise<void> {
  await tx.query('lock table token_revocations in exclusive mode', [], options);
  await tx.query('delete from token_revocations where expires_at < now()', [], options);
  await tx.query(sql, parameters, options);
}

/** A sign-out: this one token is refused from now until it would have expired (plus the slack for clocks). */
export function revokeToken(db: Database, { userId, tokenId, expiresAt }: { userId: string; tokenId: string; expiresAt: Date }, { slackSeconds }: { slackSeconds: number }, options: QueryOptions): Promise<void> {
  return db.transaction((tx) => writeRevocation(tx,
    `insert into token_revocations (user_id, token_id, expires_at) values ($1, $2, $3::timestamptz + make_interval(secs => $4))`,
    [userId, tokenId, expiresAt, slackSeconds], options), options);
}

/**
 * Every token of the user issued before now is refused, until the longest-lived of them would
 * have expired. Runs in the caller's transaction (a password change commits with its new hash).
 * Returns the cut-off, also kept on the user's row: a sign-in dates its tokens no earlier.
 */
export async function revokeTokensOfUser(tx: Queryable, userId: string, { tokenLifetimeSeconds }: { tokenLifetimeSeconds: number }, options: QueryOptions): Promise<Date> {
  const { rows } = await tx.query<{ cutoff: Date }>(
    "update users set tokens_revoked_before = date_trunc('milliseconds', clock_timestamp()) where id = $1 returning tokens_revoked_before as cutoff", [userId], options);
  const cutoff = rows[0]?.cutoff;
  if (cutoff === undefined) throw new Error(`no user ${userId} to revoke the tokens of`);
  await writeRevocation(tx,
    `insert into token_revocations (user_id, revoked_before, expires_at) values ($1, $2, $2::timestamptz + make_interval(secs => $3))`,
    [userId, cutoff, tokenLifetimeSeconds], options);
  return cutoff;
}

/** Whether a verified token is revoked, straight from the table: how users checks the tokens it is shown. */
export async function isRevoked(db: Queryable, { tokenId, userId, issuedAt }: { tokenId: string; userId: string; issuedAt: Date }, options: QueryOptions): Promise<boolean> {
  const { rows } = await db.query(
    `select 1 from token_revocations
      where expires_at >= now() and (token_id = $1 or (user_id = $2 and revoked_before > $3))
      limit 1`,
    [tokenId, userId, issuedAt], options);
  return rows.length > 0;
}

const pageSize = 500;

/** The feed: revocations after `since` still in force, oldest first, a page at a time. */
export async function listRevocations(db: Queryable, since: string, options: QueryOptions): Promise<TokenRevocationsPage> {
  const { rows } = await db.query<{ seq: string; user_id: string; token_id: string | null; revoked_before: Date | null; expires_at: Date }>(
    `select seq::text, user_id, token_id, revoked_before, expires_at from token_revocations
      where seq > $1::bigint and expires_at >= now()
      order by seq limit $2`,
    [since, pageSize + 1], options);
  const page = rows.slice(0, pageSize);
  const result: TokenRevocationsPage = { tokens: [], users: [], cursor: page.at(-1)?.seq ?? since, more: rows.length > pageSize };
  for (const row of page) {
    if (row.token_id !== null) result.tokens.push({ tokenId: row.token_id, expiresAt: row.expires_at.toISOString() });
    else if (row.revoked_before !== null) result.users.push({ userId: row.user_id, revokedBefore: row.revoked_before.toISOString(), expiresAt: row.expires_at.toISOString() });
  }
  return result;
}
