import { Code, KitError } from '../errors/index.ts';
import type { HttpClient } from '../http/index.ts';
import { RevocationList, tokenRevocationsPage, tokenRevocationsPath } from './token-revocations.ts';

export interface RevocationPollerOptions {
  /** A kit client of the users service, made from the service context so it carries this service's identity. */
  client: HttpClient;
  /** How often the users service is asked for new revocations. */
  pollIntervalMs: number;
  /**
   * The oldest the list may be (since its last successful poll) for a token to be accepted: past
   * it, a verification polls first, and answers 503 if that fails. It is what bounds how long a
   * revoked token may still pass, even while the users service cannot be reached.
   */
  staleAfterMs: number;
  /** How long one poll may take. */
  timeoutMs?: number;
  /** Told when a background poll fails (the next one tries again). */
  onPollFailed?: (error: unknown) => void;
}

export interface RevocationPoller {
  /** Throws `unauthenticated` (token_revoked) for a revoked token, `unavailable` when the list is too old and cannot be refreshed. */
  check(token: { tokenId: string; userId: string; issuedAt: Date }): Promise<void>;
  close(): void;
}

// After a failed poll on demand, verifications fail fast this long rather than each asking again.
const refreshCooldownMs = 1_000;

/**
 * Keeps a verifier's revocation list current by polling the users service's feed every
 * `pollIntervalMs` (and at once when created). Written here rather than taken from a library:
 * it is a cursor over Baton's own feed, a loop of a few lines around the kit's client.
 */
export function startRevocationPoller({ client, pollIntervalMs, staleAfterMs, timeoutMs = 5_000, onPollFailed }: RevocationPollerOptions): RevocationPoller {
  const list = new RevocationList();
  const closing = new AbortController();
  let cursor = '0';
  let freshAtMs = -Infinity;
  let failedAtMs = -Infinity;
  let inFlight: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;

  async function pollOnce(): Promise<void> {
    const startedAtMs = Date.now();
    let more = true;
    while (more) {
      const signal = AbortSignal.any([closing.signal, AbortSignal.timeout(timeoutMs)]);
      const { body } = await client.request({ method: 'GET', path: tokenRevocationsPath, query: { since: cursor }, signal });
      const page = tokenRevocationsPage.parse(body);
      list.add(page);
      // A page that says there is more without moving on would loop here for ever: the next poll asks again.
      more = page.more && page.cursor !== cursor;
      cursor = page.cursor;
    }
    list.prune(Date.now());
    freshAtMs = startedAtMs;
  }

  function refresh(): Promise<void> {
    inFlight ??= pollOnce()
      .catch((error: unknown) => {
        failedAtMs = Date.now();
        throw error;
      })
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  }

  function schedule(): void {
    if (closing.signal.aborted) return;
    timer = setTimeout(function pollRevocations() {
      refresh().catch((error: unknown) => {
        if (!closing.signal.aborted) onPollFailed?.(error);
      }).finally(schedule);
    }, pollIntervalMs);
    timer.unref();
  }

  refresh().catch((error: unknown) => {
    if (!closing.signal.aborted) onPollFailed?.(error);
  }).finally(schedule);

  return {
    async check(token) {
      if (Date.now() - freshAtMs > staleAfterMs) {
        if (inFlight === undefined && Date.now() - failedAtMs < refreshCooldownMs) throw revocationsUnavailable(undefined);
        try {
          await refresh();
        } catch (error) {
          throw revocationsUnavailable(error);
        }
      }
      if (list.isRevoked(token)) {
        throw new KitError(Code.Unauthenticated, 'the access token has been revoked; sign in again', { reason: 'token_revoked' });
      }
    },
    close() {
      closing.abort();
      clearTimeout(timer);
    },
  };
}

function revocationsUnavailable(cause: unknown): KitError {
  return new KitError(Code.Unavailable, 'whether the access token was revoked cannot be known now; try again shortly', {
    reason: 'revocations_unavailable',
    retryAfterSeconds: 1,
    cause,
  });
}
