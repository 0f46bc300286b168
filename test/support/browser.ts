import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import { chromium, type Browser, type Page } from 'playwright-core';
import { addCleanup, type CleanupScope } from '@baton/kit/testing';

// The browser tests drive Debian's chromium (apt-get install chromium) with playwright-core:
// Playwright's own browser builds are never downloaded, so nothing here fetches a binary.
const chromiumPath = '/usr/bin/chromium';

/** Where every browser test saves its screenshots; CI keeps this folder as its artifacts. */
export const screenshotDir = join(import.meta.dirname, '..', '..', 'test-results', 'screenshots');

// Only the rules of WCAG 2.0, 2.1 and 2.2 at levels A and AA; axe's best practices are advice.
const wcagTags = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];
const failingImpacts = new Set(['serious', 'critical']);
const selectorsShown = 3;

/** What axe-core found on a page (axe-core's `AxeResults`, named here without importing axe-core itself). */
export type AccessibilityResults = Awaited<ReturnType<AxeBuilder['analyze']>>;

/**
 * Whether Debian's chromium is here and runs. Under CI=true it must be (.ci/run installs it);
 * elsewhere a test without it is skipped, saying so.
 */
export function browserAvailability(): { skip: false } | { skip: string } {
  if (spawnSync(chromiumPath, ['--version'], { stdio: 'ignore' }).status === 0) return { skip: false };
  if (process.env.CI === 'true') throw new Error(`chromium is required under CI=true (apt-get install chromium): ${chromiumPath} does not run`);
  return { skip: 'chromium not installed (apt-get install chromium) — skipped (CI=true requires it)' };
}

/** A headless chromium of the test's own, closed with its scope. */
export async function launchBrowser(scope: CleanupScope): Promise<Browser> {
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    // The network here is closed: without these, Chromium keeps calling Google's services
    // (updates, sync, field trials, QUIC probes) and floods the logs with refused connections.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    // A cold start on a loaded two-core machine takes seconds, not Playwright's default minutes.
    timeout: 60_000,
  });
  addCleanup(scope, () => browser.close());
  return browser;
}

/**
 * Saves a full-page PNG of `page` as `test-results/screenshots/<name>.png` (the name made safe
 * for a file; the same name overwrites) and returns its path. Names should be unique across the
 * suite, since test files run side by side.
 */
export async function screenshot(page: Page, name: string): Promise<string> {
  const safe = name.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').replace(/[^\w.-]+/g, '-').replace(/^[-.]+|-+$/g, '').slice(0, 120) || 'page';
  await mkdir(screenshotDir, { recursive: true });
  const path = join(screenshotDir, `${safe}.png`);
  await page.screenshot({ path, fullPage: true, type: 'png' });
  return path;
}

/**
 * Checks `page` with axe-core against WCAG 2.2 A and AA, and fails with every serious or critical
 * violation listed (rule id, what it asks, where), so the failure says what to fix. Minor and
 * moderate ones do not fail; they are in the result returned, for a test that wants them.
 * axe runs in the page itself (AxeBuilder's legacy mode, `axe.run`), not in a blank page that
 * AxeBuilder otherwise opens to finish each run: that page was half of every check's time
 * (1.1-2.2 s a check against 0.6-1.6 s in legacy mode, the storefront test's 17 checks, one run
 * each, timed around `analyze()` and not kept). What legacy mode leaves out is cross-origin
 * frames, which no page of the shop or the console has. AxeBuilder marks the mode deprecated for
 * its 5.0: if that release removes it, type checking fails here.
 *
 * @example
 * const page = await (await browser.newContext()).newPage();
 * await page.goto(`${shop.gateway}/`);
 * await expectAccessible(page, 'the home page');
 */
export async function expectAccessible(page: Page, what: string): Promise<AccessibilityResults> {
  const results = await new AxeBuilder({ page }).withTags(wcagTags).setLegacyMode(true).analyze();
  const failing = results.violations.filter((v) => v.impact != null && failingImpacts.has(v.impact));
  if (failing.length > 0) {
    const lines = failing.map((v) => {
      const targets = v.nodes.slice(0, selectorsShown).map((n) => n.target.map((s) => (Array.isArray(s) ? s.join(' >>> ') : s)).join(' → '));
      const more = v.nodes.length > selectorsShown ? ` and ${v.nodes.length - selectorsShown} more` : '';
      return `  - ${v.id} (${v.impact}): ${v.help} — at ${targets.join(', ')}${more}`;
    });
    assert.fail(`${what} (${page.url()}) has ${failing.length} serious or critical accessibility violation(s):\n${lines.join('\n')}`);
  }
  return results;
}
