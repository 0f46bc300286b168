import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { publicCodeOf, publicErrors } from '@baton/contracts/http';
import { Code, httpStatusOf } from '@baton/kit/errors';
import { documentedReasonRows } from './support/error-docs.ts';

const repoRoot = fileURLToPath(new URL('../', import.meta.url));

// The public API's error codes are one catalogue (contracts/http/public-errors.ts). The gateway
// keeps the status the kit decided and puts the catalogue's code on it, so the two must agree
// for every code and reason a service can send, or a client would read a 409 code on a 422.

/** `reason` → kit code, from docs/errors.md's reason tables (docs-errors.test.ts keeps them true to the source). */
async function documentedReasons(): Promise<Array<{ reason: string; code: string }>> {
  return (await documentedReasonRows()).flatMap(({ reasons, cells }) => {
    const code = /`([a-z_]+)`/.exec(cells[1] ?? '')?.[1];
    return code === undefined ? [] : reasons.map((reason) => ({ reason, code }));
  });
}

// Answers of the services' own internal routes, never forwarded by the gateway: what the public
// catalogue would call them does not matter, as long as it says nothing wrong of the status.
const internalOnly = new Set(['feed_position_pruned', 'injected_fault', 'hedge_lost']);

test('every kit code and every reason a service sends has a public code whose status is the one the client gets', async () => {
  const mismatches: string[] = [];
  for (const code of Object.values(Code)) {
    const status = httpStatusOf(code, undefined);
    const publicCode = publicCodeOf(code, undefined);
    if (publicErrors[publicCode].status !== status) mismatches.push(`${code}: ${status}, public ${publicCode} says ${publicErrors[publicCode].status}`);
  }
  const reasons = await documentedReasons();
  assert.ok(reasons.length > 50, `the reason tables were read: ${reasons.length}`);
  for (const { reason, code } of reasons) {
    if (internalOnly.has(reason) || code === 'any') continue;
    const status = httpStatusOf(code as Code, reason);
    const publicCode = publicCodeOf(code, reason);
    if (publicErrors[publicCode].status !== status) mismatches.push(`${code}/${reason}: ${status}, public ${publicCode} says ${publicErrors[publicCode].status}`);
  }
  assert.deepEqual(mismatches, []);
  // The words a shopper needs are there, not the kit's: no gRPC word is a public code.
  for (const grpcWord of ['aborted', 'failed_precondition', 'invalid_argument', 'already_exists', 'resource_exhausted', 'unavailable', 'deadline_exceeded', 'unauthenticated', 'permission_denied']) {
    assert.ok(!(grpcWord in publicErrors), `${grpcWord} is not a public code`);
  }
  assert.equal(publicCodeOf('aborted', 'out_of_stock'), 'out_of_stock');
  assert.equal(publicCodeOf('not_found', 'unknown_product'), 'unknown_product');
  assert.equal(publicCodeOf('unavailable', 'circuit_open'), 'service_unavailable', 'an internal reason is said in the general word');
  assert.equal(publicCodeOf('no_such_code', undefined), 'internal_error');
});

test('docs/errors.md lists every public code with its status and title, and no other', async () => {
  const page = await readFile(join(repoRoot, 'docs', 'errors.md'), 'utf8');
  const section = page.slice(page.indexOf("## The public API's codes"), page.indexOf('\n## ', page.indexOf("## The public API's codes") + 1));
  const rows = [...section.matchAll(/^\| `([a-z_]+)` \| (\d{3}) \| (.+) \|$/gm)].map((m) => [m[1], Number(m[2]), m[3]!.replaceAll('\\|', '|')]);
  assert.deepEqual(rows, Object.entries(publicErrors).map(([code, { status, title }]) => [code, status, title]));
});
