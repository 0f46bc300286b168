import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '@baton/kit/config';
import { serviceSpecs } from '@baton/runner';

// The kit checks callers only for a service whose config carries the identity fields (its own
// test fixtures run without them). So a Baton service that left them out would serve every
// route to anyone: each service in the runner's list must refuse to start without a key. The
// payment provider stands outside the shop (`outside`): its callers present its secret key.
for (const { name } of serviceSpecs.filter((spec) => !('outside' in spec && spec.outside === true))) {
  void test(`${name} refuses to start without SERVICE_KEY: its config carries the identity fields`, async () => {
    const { readConfig } = await import(`../services/${name}/src/config.ts`) as { readConfig(environment: Record<string, string | undefined>): unknown };
    assert.throws(() => readConfig({}), (error: unknown) => {
      assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
      assert.ok(error.problems.some((p) => p.variable === 'SERVICE_KEY'), `SERVICE_KEY not among ${error.problems.map((p) => p.variable).join(', ')}`);
      return true;
    });
  });
}
