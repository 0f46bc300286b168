import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { KitError } from '../errors/index.ts';
import { createHttpClient } from '../http/index.ts';
import { addCleanup, createSilentLogger } from '../testing/index.ts';
import { startRevocationPoller } from './revocation-poller.ts';
import type { TokenRevocationsPage } from './token-revocations.ts';

/** A revocations feed whose entries and health the test changes; it answers `since` as users does. */
async function startFeed(t: Parameters<typeof addCleanup>[0]) {
  const state = { entries: [] as Array<{ seq: number; tokenId?: string; userId: string; revokedBefore?: string; expiresAt: string }>, up: true, polls: 0 };
  const server = createServer((request, response) => {
    state.polls++;
    if (!state.up) {
      response.writeHead(503, { 'content-type': 'application/problem+json' }).end(JSON.stringify({ status: 503, code: 'unavailable', title: 'down', detail: 'down' }));
      return;
    }
    const since = Number(new URL(request.url ?? '/', 'http://x').searchParams.get('since') ?? '0');
    const after = state.entries.filter((e) => e.seq > since);
    const page: TokenRevocationsPage = {
      tokens: after.flatMap((e) => e.tokenId === undefined ? [] : [{ tokenId: e.tokenId, expiresAt: e.expiresAt }]),
      users: after.flatMap((e) => e.revokedBefore === undefined ? [] : [{ userId: e.userId, revokedBefore: e.revokedBefore, expiresAt: e.expiresAt }]),
      cursor: String(after.at(-1)?.seq ?? since),
      more: false,
    };
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(page));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  addCleanup(t, () => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  }));
  return Object.assign(state, { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
}

async function reasonOf(promise: Promise<void>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    assert.ok(error instanceof KitError);
    return error.reason;
  }
}

void describe('the revocation poller', () => {
  void it('refuses a revoked token and the older tokens of a revoked user, and forgets entries once they expired', async (t) => {
    const feed = await startFeed(t);
    const client = createHttpClient({ name: 'users', urls: [feed.url], logger: createSilentLogger() });
    const poller = startRevocationPoller({ client, pollIntervalMs: 50, staleAfterMs: 10_000 });
    addCleanup(t, async () => {
      poller.close();
      await client.close();
    });
    const now = Date.now();
    const token = (tokenId: string, userId: string, issuedAt = new Date(now - 10_000)) => ({ tokenId, userId, issuedAt });
    assert.equal(await reasonOf(poller.check(token('a', 'u1'))), undefined);

    feed.entries.push({ seq: 1, tokenId: 'a', userId: 'u1', expiresAt: new Date(now + 60_000).toISOString() });
    feed.entries.push({ seq: 2, userId: 'u2', revokedBefore: new Date(now - 5_000).toISOString(), expiresAt: new Date(now + 60_000).toISOString() });
    while (await reasonOf(poller.check(token('a', 'u1'))) === undefined) await sleep(20);
    assert.equal(await reasonOf(poller.check(token('a', 'u1'))), 'token_revoked');
    assert.equal(await reasonOf(poller.check(token('b', 'u1'))), undefined);
    assert.equal(await reasonOf(poller.check(token('c', 'u2'))), 'token_revoked', 'issued before the cut-off');
    assert.equal(await reasonOf(poller.check(token('d', 'u2', new Date(now - 1_000)))), undefined, 'issued after the cut-off');
  });

  void it('answers 503 rather than accept on old news when the feed cannot be reached past staleAfterMs, and recovers', async (t) => {
    const feed = await startFeed(t);
    feed.up = false;
    const client = createHttpClient({ name: 'users', urls: [feed.url], logger: createSilentLogger(), retry: { maxAttempts: 1 } });
    const failures: unknown[] = [];
    const poller = startRevocationPoller({ client, pollIntervalMs: 50, staleAfterMs: 1_000, onPollFailed: (error) => failures.push(error) });
    addCleanup(t, async () => {
      poller.close();
      await client.close();
    });
    const token = { tokenId: 'x', userId: 'u', issuedAt: new Date() };
    // Never fetched: it cannot say the token is not revoked.
    assert.equal(await reasonOf(poller.check(token)), 'revocations_unavailable');
    feed.up = true;
    while (await reasonOf(poller.check(token)) !== undefined) await sleep(20);
    assert.ok(failures.length > 0, 'the failed polls were told');
  });
});
