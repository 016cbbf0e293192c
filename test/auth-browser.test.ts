// The /auth page end to end in a real headless Chromium (Debian's /usr/bin/chromium driven by
// playwright-core): sign in with the gateway key, Log in with Claude (scripted setup-token stand-in),
// follow the link and copy button, paste a wrong code and then the right one, see the gateway
// switched and verified, log out. The page must load nothing from anywhere but the gateway.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { type Browser } from 'playwright-core';
import { launchChromium } from './support/browser.js';
import { CREDENTIALS_FILE } from '../src/auth/credentials-store.js';
import { makeFakeClaude, tokenFor } from './support/fake-claude.js';
import { startHarness, TEST_KEY, type Harness } from './support/harness.js';

let dir: string;
let h: Harness;
let browser: Browser;

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccg-browser-'));
  h = await startHarness({ claudePath: makeFakeClaude(dir) }, { env: { ANTHROPIC_API_KEY: undefined } });
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await h?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('the /auth page: key sign-in, Log in with Claude, paste code, verified, log out', async () => {
  const context = await browser.newContext();
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: h.gw.url });
  const page = await context.newPage();
  const foreign: string[] = [];
  page.on('request', (r) => {
    if (!r.url().startsWith(h.gw.url)) foreign.push(r.url());
  });
  const problems: string[] = [];
  // The key form is answered with 401 on purpose; anything else on the console is a problem.
  page.on('console', (m) => m.type() === 'error' && !/status of 401/.test(m.text()) && problems.push(m.text()));

  // Without the key: the sign-in form, and a wrong key is refused.
  const first = await page.goto(`${h.gw.url}/auth`);
  assert.equal(first?.status(), 401);
  await page.fill('#key', 'definitely-wrong-key');
  await page.click('button[type=submit]');
  await page.getByText('That is not the gateway API key.').waitFor();
  await page.fill('#key', TEST_KEY);
  await page.click('button[type=submit]');
  await page.locator('#status').waitFor();
  const cookie = (await context.cookies()).find((c) => c.name === 'ccg_auth')!;
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.sameSite, 'Strict');
  assert.match(await page.locator('#status').innerText(), /Authenticated\s+no/);

  // Log in with Claude: the link (full target, not the CLI's shortened text) and the copy button.
  await page.click('#start-login');
  const link = page.locator('#signin-url');
  await link.waitFor();
  const href = (await link.getAttribute('href'))!;
  assert.match(href, /^https:\/\/claude\.ai\/oauth\/authorize\?code=true&.*state=attempt1x/);
  assert.equal(await link.getAttribute('target'), '_blank');
  await page.click('#copy-url');
  await page.locator('#copied').waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), href);

  // A wrong code: plain words, a new link, the code box again.
  await page.fill('#code', 'bad');
  await page.click('text=Submit code');
  await page.getByText('did not accept that code').waitFor();
  assert.match((await page.locator('#signin-url').getAttribute('href'))!, /state=attempt2x/);

  // The right code: stored, switched to, verified with a real request.
  await page.fill('#code', 'browser-code-1');
  await page.click('text=Submit code');
  await page.locator('#login-result').waitFor();
  assert.match(await page.locator('#login-result').innerText(), /Logged in with Claude\. The credentials work/);
  const status = await page.locator('#status').innerText();
  assert.match(status, /Authenticated\s+yes/);
  assert.match(status, /Method\s+oauth_token/);
  assert.match(status, /Verified\s+yes/);
  const token = tokenFor('browser-code-1');
  assert.ok(!(await page.content()).includes(token), 'the page never shows the token');
  assert.equal(fs.statSync(path.join(h.dataDir, CREDENTIALS_FILE)).mode & 0o777, 0o600);
  const last = h.upstream.requests.filter((r) => r.path === '/v1/messages').at(-1)!;
  assert.equal(last.headers.authorization, `Bearer ${token}`);

  // Verify now, then log out.
  await page.click('#verify');
  await page.locator('#flash').waitFor();
  assert.match(await page.locator('#flash').innerText(), /The credentials work/);
  await page.click('#logout');
  await page.getByText('Logged out: the stored credential was deleted.').waitFor();
  assert.match(await page.locator('#status').innerText(), /Authenticated\s+no/);

  assert.deepEqual(foreign, [], 'no external assets or requests');
  assert.deepEqual(problems, [], 'no console errors (e.g. CSP violations)');
  await context.close();
});
