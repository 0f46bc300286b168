import { before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { addCleanup, createSuiteScope, type CleanupScope } from '@baton/kit/testing';
import { browserAvailability, expectAccessible, launchBrowser, screenshot, screenshotDir } from './support/browser.ts';

// The harness the storefront's browser tests stand on, shown to fail and to pass with a real
// chromium: a check that cannot fail would let every page through.

const pages: Record<string, string> = {
  // A field with no label (axe's `label`, critical) and grey on white at about 1.5:1
  // (`color-contrast`, serious); everything else on the page is right, so only those two fail.
  '/unlabelled': `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign in</title></head>
    <body><main><h1>Sign in</h1><p style="color:#ccc;background:#fff">Your email, please</p>
    <form><input id="email" type="email"><button type="submit">Continue</button></form></main></body></html>`,
  // The same page done right, taller than the window so a full-page screenshot shows its worth.
  '/accessible': `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign in</title></head>
    <body><main style="min-height:2000px"><h1>Sign in</h1><p style="color:#222;background:#fff">Your email, please</p>
    <form><label for="email">Email</label> <input id="email" type="email" autocomplete="email"><button type="submit">Continue</button></form></main></body></html>`,
};

/** Serves `pages` on a free loopback port; stopped with the scope. */
async function servePages(scope: CleanupScope): Promise<string> {
  const server = createServer((request, response) => {
    const page = pages[request.url ?? ''];
    response.writeHead(page === undefined ? 404 : 200, { 'content-type': 'text/html; charset=utf-8' });
    response.end(page ?? 'not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  addCleanup(scope, () => new Promise<void>((resolve) => {
    // Chromium keeps its connections open; they would hold close() until they time out.
    server.closeAllConnections();
    server.close(() => resolve());
  }));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

void describe('the browser harness: chromium, axe-core and screenshots', browserAvailability(), () => {
  const suite = createSuiteScope();
  let site: string;
  let browser: Browser;

  before(async () => {
    site = await servePages(suite);
    browser = await launchBrowser(suite);
  });

  /** A page in a fresh context of its own (no cookies or cache shared), closed after the test. */
  async function open(t: TestContext, path: string): Promise<Page> {
    const context = await browser.newContext();
    addCleanup(t, () => context.close());
    const page = await context.newPage();
    const response = await page.goto(`${site}${path}`);
    assert.equal(response?.status(), 200);
    return page;
  }

  test('expectAccessible fails on a page with serious violations, naming each rule and where it is', async (t) => {
    const page = await open(t, '/unlabelled');
    await screenshot(page, 'browser-support unlabelled');
    await assert.rejects(expectAccessible(page, 'the unlabelled sign-in page'), (error: unknown) => {
      assert.ok(error instanceof assert.AssertionError, String(error));
      assert.match(error.message, /^the unlabelled sign-in page \(http:\/\/127\.0\.0\.1:\d+\/unlabelled\) has 2 serious or critical/);
      assert.match(error.message, /^ {2}- label \(critical\): .+ — at #email$/m);
      assert.match(error.message, /^ {2}- color-contrast \(serious\): .+ — at p$/m);
      return true;
    });
  });

  test('expectAccessible passes an accessible page and returns what axe-core found', async (t) => {
    const page = await open(t, '/accessible');
    const results = await expectAccessible(page, 'the accessible sign-in page');
    assert.deepEqual(results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical'), []);
    // It really checked: the rules that failed on the other page passed here.
    const passed = results.passes.map((rule) => rule.id);
    assert.ok(passed.includes('label') && passed.includes('color-contrast'), passed.join(', '));
  });

  test('screenshot saves a full-page PNG under test-results/screenshots/, its name made safe', async (t) => {
    const page = await open(t, '/accessible');
    const path = await screenshot(page, 'browser-support: accessible / full page?');
    assert.equal(dirname(path), screenshotDir);
    assert.ok(path.endsWith('/browser-support-accessible-full-page.png'), path);
    const png = await readFile(path);
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'the PNG signature');
    // The IHDR chunk's height: the whole 2000 px page, not only the 720 px window.
    assert.ok(png.readUInt32BE(20) >= 2000, `height ${png.readUInt32BE(20)}`);
  });
});
