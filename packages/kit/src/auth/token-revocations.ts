import { z } from 'zod';

/**
 * What the users service publishes at `GET /v1/token-revocations?since=<cursor>` and every
 * verifier reads: the revocations made after `since`, oldest first, and the cursor to ask from
 * next. Shared by both sides so they cannot drift apart.
 */
export const tokenRevocationsPath = '/v1/token-revocations';

export const tokenRevocationsQuery = z.strictObject({
  /** The `cursor` of the previous page; absent (or `0`) for everything still in force. */
  since: z.string().regex(/^\d{1,19}$/, 'expected the cursor of an earlier answer').default('0'),
});

export const tokenRevocationsPage = z.object({
  /** Signed-out tokens, by `jti`, each until its own `exp` (after which it is refused anyway). */
  tokens: z.array(z.object({ tokenId: z.string().min(1), expiresAt: z.iso.datetime() })),
  /**
   * Users whose every token issued before `revokedBefore` is revoked (a password change, or a
   * sign-out of every session), until `expiresAt`: by then all such tokens have expired.
   */
  users: z.array(z.object({ userId: z.string().min(1), revokedBefore: z.iso.datetime(), expiresAt: z.iso.datetime() })),
  /** Where the next poll starts. */
  cursor: z.string(),
  /** True when more revocations wait past this page: ask again at once. */
  more: z.boolean(),
});

export type TokenRevocationsPage = z.infer<typeof tokenRevocationsPage>;

/** A revoked token's or user's entry, kept by a verifier until it no longer matters. */
interface UserRevocation {
  revokedBeforeMs: number;
  expiresAtMs: number;
}

/**
 * The revocations a verifier knows of, in memory: a few entries per sign-out or password change
 * in the last token lifetime, so small. Entries leave once every token they could match has
 * expired.
 */
export class RevocationList {
  readonly #tokens = new Map<string, number>();
  readonly #users = new Map<string, UserRevocation>();

  add(page: TokenRevocationsPage): void {
    for (const { tokenId, expiresAt } of page.tokens) this.#tokens.set(tokenId, Date.parse(expiresAt));
    for (const { userId, revokedBefore, expiresAt } of page.users) {
      const known = this.#users.get(userId);
      const entry = { revokedBeforeMs: Date.parse(revokedBefore), expiresAtMs: Date.parse(expiresAt) };
      // The latest cut-off wins: it revokes all an earlier one did, and more.
      if (known === undefined || entry.revokedBeforeMs >= known.revokedBeforeMs) this.#users.set(userId, entry);
    }
  }

  isRevoked({ tokenId, userId, issuedAt }: { tokenId: string; userId: string; issuedAt: Date }): boolean {
    if (this.#tokens.has(tokenId)) return true;
    const user = this.#users.get(userId);
    return user !== undefined && issuedAt.getTime() < user.revokedBeforeMs;
  }

  prune(nowMs: number): void {
    for (const [tokenId, expiresAtMs] of this.#tokens) if (expiresAtMs < nowMs) this.#tokens.delete(tokenId);
    for (const [userId, { expiresAtMs }] of this.#users) if (expiresAtMs < nowMs) this.#users.delete(userId);
  }

  get size(): number {
    return this.#tokens.size + this.#users.size;
  }
}
