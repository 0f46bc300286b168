import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hrefOf, safeNext, textOf } from './storefront-deps.ts';

void test('safeNext keeps a path of this shop', () => {
  for (const path of ['/', '/orders', '/orders?cursor=abc%3D', '/products/COFFEE-1KG', `/${'a'.repeat(511)}`]) {
    assert.equal(safeNext(path), path);
  }
});

void test('safeNext sends anything else to /: another site, a script, a path with a space or a line break, or one too long', () => {
  for (const value of [
    '//evil.example', '//evil.example/orders', '/\\evil.example', '/\\/evil.example', '/orders\\..\\x',
    'https://evil.example', 'http:/evil.example', 'javascript:alert(1)', 'JAVASCRIPT:alert(1)', 'orders', '',
    '/orders page', '/orders\n', '/orders\r\nSet-Cookie: x=1', '/\t/evil.example', `/${'a'.repeat(599)}`,
    undefined, null, 42, ['/orders'], { next: '/orders' },
  ]) {
    assert.equal(safeNext(value), '/', JSON.stringify(value));
  }
});

void test('safeNext sends to / a path a Location header cannot carry as it is: a control character, or one past ASCII', () => {
  // Kept, each of these was a 500 after the form had done its work (Node refuses the header), or
  // sent as Latin-1 bytes a browser does not read back as the same path.
  for (const value of ['/a\u0001b', '/a\u007fb', '/\u20ac', '/caf\u00e9', '/\u{1F600}', '/orders\u2028']) {
    assert.equal(safeNext(value), '/', JSON.stringify(value));
  }
  assert.equal(safeNext('/?q=caf%C3%A9'), '/?q=caf%C3%A9', 'the same, encoded, is a path of the shop');
});

void test('hrefOf leaves out empty values and encodes the rest; textOf takes one non-empty string only', () => {
  assert.equal(hrefOf('/', {}), '/');
  assert.equal(hrefOf('/', { q: 'tea & cake', category: '', sort: undefined }), '/?q=tea+%26+cake');
  assert.equal(textOf({ q: 'tea' }, 'q'), 'tea');
  for (const fields of [{ q: '' }, { q: ['a', 'b'] }, { q: 3 }, {}, null, 'q']) assert.equal(textOf(fields, 'q'), undefined, JSON.stringify(fields));
});
