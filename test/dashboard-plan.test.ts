// The dashboard's plan panel in a real headless Chromium: a subscription login's plan windows, in the
// shape the accounts layer reports them on /auth/status, are drawn with utilisation and reset time.
// (Split from dashboard.test.ts so each file fits the runner's per-file timeout on a loaded machine.)
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type Browser } from 'playwright-core';
import { launchChromium } from './support/browser.js';
import { startHarness, TEST_KEY, type Harness } from './support/harness.js';

let h: Harness;
let browser: Browser;

before(async () => {
  h = await startHarness({}, { prewarm: [] });
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await h?.close();
});

test('plan windows: a subscription login’s windows (as /auth/status reports them) are drawn with utilisation and reset', async () => {
  // This gateway logs in with an API key, which has no plan windows; the status is given the shape
  // the accounts layer reports for a subscription login (PlanLimits) on its way to the page.
  const resets = new Date(Date.now() + 3 * 3600_000).toISOString();
  const plan = { status: 'allowed_warning', window: 'five_hour', resets_at: resets, using_overage: false, overage_status: null, windows: { five_hour: { utilization: 0.82, resets_at: resets }, seven_day: { utilization: 0.31, resets_at: null } }, at: new Date().toISOString() };
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
  page.on('pageerror', (e) => problems.push(e.message));
  await context.setExtraHTTPHeaders({ authorization: `Bearer ${TEST_KEY}` });
  await page.route('**/dashboard/api/overview', async (route) => {
    const res = await route.fetch();
    const body = await res.json();
    await route.fulfill({ response: res, json: { ...body, auth: { ...body.auth, plan } } });
  });
  await page.goto(`${h.gw.url}/dashboard`);
  await page.waitForFunction(() => Number(document.body.dataset.loaded) >= 1);
  const text = await page.locator('#plan').innerText();
  assert.match(text, /Status: allowed_warning \(five_hour\)/);
  assert.match(await page.locator('[data-window="five_hour"]').innerText(), /five hour\s+82 %/);
  assert.match(await page.locator('[data-window="seven_day"]').innerText(), /seven day\s+31 %/);
  const width = await page.locator('[data-window="five_hour"] .bar > span').evaluate((e) => (e as HTMLElement).style.width);
  assert.equal(width, '82%');
  assert.deepEqual(problems, []);
  await context.close();
});
