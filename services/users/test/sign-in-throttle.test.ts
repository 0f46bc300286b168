import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createSuiteScope } from '@baton/kit/testing';
import { delayAfterMs } from '../src/sign-in-throttle.ts';
import { startUsers, uniqueEmail } from './support/users.ts';

void describe('the per-account sign-in throttle', () => {
  const suite = createSuiteScope();

  void it('waits nothing for the free failures, then doubles from the base up to the longest', () => {
    const options = { freeFailures: 3, baseDelayMs: 1_000, maxDelayMs: 10_000 };
    assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 8, 1_000_000].map((failures) => delayAfterMs(failures, options)), [0, 0, 0, 1_000, 2_000, 4_000, 8_000, 10_000, 10_000]);
  });

  void it('forgets accounts quiet for longer than the longest wait, and keeps the others', async () => {
    const users = await startUsers(suite, { SIGN_IN_MAX_DELAY_MS: '60000', PASSWORD_SCRYPT_LOG2_N: '14' });
    const [stale, waiting, recent] = [uniqueEmail('stale'), uniqueEmail('waiting'), uniqueEmail('recent')];
    await users.service.db.query(
      `insert into sign_in_attempts (email, failures, blocked_until, last_attempt_at) values
         ($1, 9, null, now() - interval '1 day'),
         ($2, 9, now() + interval '1 minute', now() - interval '1 day'),
         ($3, 2, null, now())`,
      [stale, waiting, recent]);
    assert.equal((await users.client.login(uniqueEmail(), 'whatever it is')).status, 401);
    const { rows } = await users.service.db.query<{ email: string }>('select email from sign_in_attempts where email = any($1) order by email', [[stale, waiting, recent]]);
    assert.deepEqual(rows.map((r) => r.email).sort(), [recent, waiting].sort());
  });
});
