// The /dashboard end to end in a real headless Chromium (Debian's /usr/bin/chromium driven by
// playwright-core): sign in with the gateway key, see the data that requests through the real clients
// produced (numbers, a live turn, a recent error, charts drawn), create an app key (shown once; it
// works) and revoke it (it stops working), all from the page. The page loads nothing from anywhere but
// the gateway and logs no console error. A screenshot is written to test-results/dashboard.png.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { type Browser, type Page } from 'playwright-core';
import { launchChromium } from './support/browser.js';
import { startHarness, TEST_KEY, until, type Harness } from './support/harness.js';

let h: Harness;
let browser: Browser;

before(async () => {
  h = await startHarness({}, { prewarm: ['sonnet'] });
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await h?.close();
});

/** How many pixels of a chart's canvas are drawn (not transparent). */
function drawnPixels(page: Page, chartId: string): Promise<number> {
  return page.evaluate((id) => {
    const canvas = document.querySelector<HTMLCanvasElement>(`#${id} canvas`);
    if (!canvas) return 0;
    const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    let n = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n++;
    return n;
  }, chartId);
}

const statText = (page: Page, id: string) => page.locator(`[data-stat="${id}"] .n`).innerText();

test('the dashboard: sign in, the data requests produced, charts, create and revoke a key', async () => {
  // Traffic through the real clients: two models, two dialects, one upstream failure, one turn still running.
  const openai = new OpenAI({ baseURL: h.baseURL, apiKey: TEST_KEY, maxRetries: 0 });
  const anthropic = new Anthropic({ baseURL: h.gw.url, apiKey: TEST_KEY, maxRetries: 0 });
  const [a, b] = await Promise.all([
    openai.chat.completions.create({ model: 'sonnet', messages: [{ role: 'user', content: 'one [[reply:alpha beta gamma]]' }] }),
    anthropic.messages.create({ model: 'haiku', max_tokens: 50, messages: [{ role: 'user', content: 'two [[reply:delta epsilon]]' }] }),
    assert.rejects(openai.chat.completions.create({ model: 'sonnet', messages: [{ role: 'user', content: 'three [[status:529]]' }] }), (e: any) => e.status === 503),
  ]);
  const hanging = new AbortController();
  const running = openai.chat.completions.create({ model: 'sonnet', messages: [{ role: 'user', content: 'four [[hang]]' }] }, { signal: hanging.signal }).catch(() => 'aborted');
  // Running: its prompt has reached the upstream, which holds it open.
  await until(() => h.upstream.open() === 1, 'the hanging turn to reach the upstream', 60_000);

  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: h.gw.url });
  const page = await context.newPage();
  const foreign: string[] = [];
  page.on('request', (r) => {
    if (!r.url().startsWith(h.gw.url)) foreign.push(r.url());
  });
  const problems: string[] = [];
  // The sign-in page is answered with 401 on purpose; anything else on the console is a problem.
  page.on('console', (m) => m.type() === 'error' && !/status of 401/.test(m.text()) && problems.push(m.text()));
  page.on('pageerror', (e) => problems.push(e.message));

  // Without a session: the gateway's sign-in form, which comes back to the dashboard.
  const first = await page.goto(`${h.gw.url}/dashboard`);
  assert.equal(first?.status(), 401);
  assert.match(first?.headers()['content-security-policy'] ?? '', /default-src 'none'/);
  await page.fill('#key', TEST_KEY);
  await page.click('button[type=submit]');
  await page.waitForURL(`${h.gw.url}/dashboard`);
  await page.waitForFunction(() => Number(document.body.dataset.loaded) >= 1);

  // Login panel.
  assert.match(await page.locator('#login-status').innerText(), /Authenticated\s+yes/);
  assert.match(await page.locator('#login-status').innerText(), /Method\s+api_key/);
  // Queue and processes: the hanging turn runs; the CLI processes are counted by state.
  assert.match(await statText(page, 'turns_running'), /^1 \/ \d+$/);
  assert.equal(await statText(page, 'proc_busy'), '1', await page.locator('#load').innerText());
  // The live turn, with its model and route.
  const live = page.locator('#live-turns tbody tr');
  assert.equal(await live.count(), 1);
  assert.match(await live.first().innerText(), /claude-sonnet.*\/v1\/chat\/completions/s);
  // The last hour: three finished turns (two answered, one failed), their tokens, charts drawn.
  assert.equal(await statText(page, 'hour_turns'), '3');
  assert.equal(await statText(page, 'hour_errors'), '1');
  const output = a.usage!.completion_tokens + b.usage.output_tokens;
  assert.equal(await statText(page, 'hour_output'), output.toLocaleString('en-US'));
  for (const chart of ['chart-model-tokens', 'chart-key-requests', 'chart-usage-keys', 'chart-usage-models']) {
    assert.ok((await drawnPixels(page, chart)) > 500, `${chart} is drawn`);
  }
  // Two models in the token chart's legend.
  const legend = await page.locator('#chart-model-tokens .u-legend').innerText();
  assert.match(legend, /claude-sonnet/);
  assert.match(legend, /claude-haiku/);
  // The daily usage table from the admin API: the admin's sonnet row with the chat turn's tokens.
  const usageRows = await page.locator('#usage-table tbody tr').allInnerTexts();
  assert.ok(usageRows.some((r) => /admin\s+claude-sonnet/.test(r)), usageRows.join('\n'));
  // The recent error: status, kind, request id.
  const errRow = page.locator('#recent-errors tbody tr').first();
  assert.match(await errRow.innerText(), /503\s+overloaded/);
  assert.match(await errRow.innerText(), /req_/);

  // Create a key: shown once, and it works.
  await page.fill('#key-name', 'dash-bot');
  await page.click('#create-key-submit');
  await page.locator('#new-key:not([hidden])').waitFor();
  const key = await page.locator('#new-key-value').innerText();
  assert.match(key, /^\S{20,}$/);
  await page.click('#copy-key');
  await page.locator('#copied:not([hidden])').waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), key);
  const row = page.locator('#keys-table tbody tr[data-key="dash-bot"]');
  await row.waitFor();
  const bot = new OpenAI({ baseURL: h.baseURL, apiKey: key, maxRetries: 0 });
  const answer = await bot.chat.completions.create({ model: 'sonnet', messages: [{ role: 'user', content: 'bot [[reply:beep]]' }] });
  assert.equal(answer.choices[0].message.content, 'beep');
  // An app key does not open the dashboard.
  assert.equal((await fetch(`${h.gw.url}/dashboard`, { headers: { authorization: `Bearer ${key}` } })).status, 403);

  // A later refresh shows the key's turn in the hour chart's key series (the hanging turn still
  // listed as live); a screenshot of it all. Then the hanging turn's client goes away.
  await page.waitForFunction(() => document.querySelector('#chart-key-requests .u-legend')?.textContent?.includes('dash-bot'));
  assert.equal(await live.count(), 1);
  fs.mkdirSync('test-results', { recursive: true });
  await page.screenshot({ path: path.join('test-results', 'dashboard.png'), fullPage: true });
  hanging.abort();
  assert.equal(await running, 'aborted');

  // Revoke it from the page (two clicks: Revoke, Confirm): the row goes and the key stops working.
  await row.locator('button[data-revoke]').click();
  await row.locator('button[data-revoke]', { hasText: 'Confirm revoke' }).click();
  await row.waitFor({ state: 'detached' });
  await assert.rejects(bot.chat.completions.create({ model: 'sonnet', messages: [{ role: 'user', content: 'x' }] }), (e: any) => e.status === 401);

  // The session cookie opens the dashboard's JSON, but not the model APIs.
  const cookie = (await context.cookies()).find((c) => c.name === 'ccg_auth')!;
  assert.equal(cookie.path, '/');
  assert.equal((await fetch(`${h.gw.url}/dashboard/api/overview`, { headers: { cookie: `ccg_auth=${cookie.value}` } })).status, 200);
  assert.equal((await fetch(`${h.gw.url}/v1/models`, { headers: { cookie: `ccg_auth=${cookie.value}` } })).status, 401);

  assert.deepEqual(foreign, [], 'no external assets or requests');
  assert.deepEqual(problems, [], 'no console errors (e.g. CSP violations)');
  await context.close();
});
