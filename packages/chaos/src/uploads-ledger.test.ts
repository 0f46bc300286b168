import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkUploads } from './uploads-ledger.ts';

const seen = { sku: 'GIFT-CARD-25', acknowledged: ['a', 'b'], unsure: 1 };

void test('every acknowledged upload ready and listed, and no more unknown images than unsure answers: passed', () => {
  const check = checkUploads({ seen, statuses: { a: 'ready', b: 'ready' }, listedBefore: ['old'], listedAfter: ['old', 'a', 'b', 'x'] });
  assert.equal(check.passed, true, check.detail);
});

void test('an acknowledged upload lost, left unrendered or unlisted, or an image nobody was told of, fails it', () => {
  const passes = (state: Partial<Parameters<typeof checkUploads>[0]>) => checkUploads({ seen, statuses: { a: 'ready', b: 'ready' }, listedBefore: [], listedAfter: ['a', 'b'], ...state }).passed;
  assert.equal(passes({ statuses: { a: 'ready', b: 'missing' } }), false, 'an acknowledged image gone');
  assert.equal(passes({ statuses: { a: 'ready', b: 'processing' } }), false, 'never rendered');
  assert.equal(passes({ listedAfter: ['a'] }), false, 'not on its product');
  assert.equal(passes({ listedAfter: ['a', 'b', 'x', 'y'] }), false, 'two images nobody was told of, where one answer was lost');
  assert.equal(passes({ seen: { ...seen, unsure: 0 }, listedAfter: ['a', 'b', 'x'] }), false, 'a 507 said nothing was kept');
});
