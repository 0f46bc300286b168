import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { testIdentity } from '@baton/kit/testing';
import { startUsers, uniqueEmail } from '../../services/users/test/support/users.ts';

// The attacker's view of an event feed, on the users service in this process: what reading
// `/events/v1/feed` gives once events are past OUTBOX_RETENTION_HOURS, and what hostile queries
// get. (Who may read a feed at all is the service identity's test; the mechanics of pruning and
// of `types` are packages/kit/src/messaging/retention.test.ts.)

// A bound on waiting, far above what the work takes: it fails only if something never happens.
async function waitUntil(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 2_400; i++) {
    if (await check()) return;
    await sleep(25);
  }
  assert.fail(`gave up waiting: ${what}`);
}

void test('the users feed no longer replays its history: past the retention it is 410 and holds no old address; hostile queries are 400 problem+json', async (t) => {
  const users = await startUsers(t, { OUTBOX_RETENTION_HOURS: '1', MESSAGING_PRUNE_INTERVAL_MS: '1000', PASSWORD_SCRYPT_LOG2_N: '14' });
  const { db } = users.service;
  // Read as notifications, the feed's one reader, with its service token: what an attacker who
  // got hold of that credential could do (without it, the feed is 401: service-identity.test.ts).
  const feed = async (query: string) => fetch(`${users.url}/events/v1/feed?${query}`, { headers: await testIdentity.headers('notifications', 'users') });
  const published = async () => (await db.query('select 1 from baton_outbox where feed_position is null')).rowCount === 0;

  const early = uniqueEmail('early');
  assert.equal((await users.client.register({ email: early, password: 'correct horse battery', name: 'Early Bird' })).status, 201);
  await waitUntil(published, 'the registration published');
  // A week later, as far as the outbox can tell.
  await db.query(`update baton_outbox set created_at = now() - interval '2 hours'`);
  await waitUntil(async () => (await db.query('select 1 from baton_outbox')).rowCount === 0, 'the old event pruned');

  const late = uniqueEmail('late');
  assert.equal((await users.client.register({ email: late, password: 'correct horse battery', name: 'Late Comer' })).status, 201);
  await waitUntil(published, 'the second registration published');

  const replay = await feed('after=0&limit=500');
  assert.equal(replay.status, 410);
  assert.match(replay.headers.get('content-type') ?? '', /^application\/problem\+json/);
  const problem = await replay.text();
  assert.ok(!problem.includes('@'), `no address in the answer: ${problem}`);
  const { prunedThroughPosition } = JSON.parse(problem) as { prunedThroughPosition: number };

  const rest = await (await feed(`after=${prunedThroughPosition}&limit=500`)).text();
  assert.ok(rest.includes(late), 'the event inside the retention is there');
  assert.ok(!rest.includes(early), 'the one past it is nowhere');

  for (const query of ['after=-1', 'after=1e309', 'after=abc', 'limit=100000', 'types=%00', `types=${'a,'.repeat(60)}a`, `types=${'x'.repeat(3_000)}`]) {
    const answer = await feed(query);
    assert.equal(answer.status, 400, query);
    assert.match(answer.headers.get('content-type') ?? '', /^application\/problem\+json/, query);
  }
});
