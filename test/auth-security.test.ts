// /auth is protected: no key, no access (page, API, unknown paths); the page's session cookie is
// HttpOnly and scoped; every cookie-authenticated post needs the session's CSRF token; the key form
// refuses cross-site posts; a pasted credential is stored 0600 and never shown back.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { CREDENTIALS_FILE } from '../src/auth/credentials-store.js';
import { startHarness, TEST_KEY, type Harness } from './support/harness.js';

let h: Harness;
before(async () => {
  // Many wrong keys from one address below: the throttle that would refuse them has its own test
  // (auth-throttle.test.ts).
  h = await startHarness({ authFreeFailures: 0 });
});
after(() => h.close());

const form = (o: Record<string, string>) => new URLSearchParams(o).toString();
const FORM = 'application/x-www-form-urlencoded';

async function signIn(): Promise<{ cookie: string; csrf: string }> {
  const res = await fetch(`${h.gw.url}/auth/session`, { method: 'POST', redirect: 'manual', headers: { 'content-type': FORM, origin: h.gw.url }, body: form({ key: TEST_KEY }) });
  assert.equal(res.status, 303);
  const setCookie = res.headers.get('set-cookie')!;
  assert.match(setCookie, /HttpOnly/i);
  assert.match(setCookie, /SameSite=Strict/i);
  // Path=/: the dashboard (and the admin API it calls) share the sign-in; the model APIs ignore cookies.
  assert.match(setCookie, /Path=\/(;|$)/i);
  const cookie = setCookie.split(';')[0];
  const page = await fetch(`${h.gw.url}/auth`, { headers: { cookie } });
  assert.equal(page.status, 200);
  const csrf = /name="csrf" value="([^"]+)"/.exec(await page.text())![1];
  return { cookie, csrf };
}

test('/auth and /auth/* refuse requests without the key', async () => {
  const cases: [string, string][] = [
    ['GET', '/auth'],
    ['GET', '/auth/status'],
    ['POST', '/auth/verify'],
    ['GET', '/auth/login'],
    ['POST', '/auth/login/start'],
    ['POST', '/auth/login/code'],
    ['POST', '/auth/token'],
    ['POST', '/auth/logout'],
    ['GET', '/auth/anything-else'],
  ];
  for (const [method, p] of cases) {
    const res = await fetch(`${h.gw.url}${p}`, { method });
    assert.equal(res.status, 401, `${method} ${p}`);
    const text = await res.text();
    assert.ok(!text.includes('sk-ant-test-upstream'));
    if (p === '/auth') assert.match(text, /<form method="post" action="\/auth\/session"/, 'the page asks for the key');
    const wrong = await fetch(`${h.gw.url}${p}`, { method, headers: { authorization: 'Bearer not-the-key-at-all' } });
    assert.equal(wrong.status, 401, `${method} ${p} with a wrong key`);
  }
  const badKey = await fetch(`${h.gw.url}/auth/session`, { method: 'POST', headers: { 'content-type': FORM, origin: h.gw.url }, body: form({ key: 'wrong-key-123' }) });
  assert.equal(badKey.status, 401);
  assert.equal(badKey.headers.get('set-cookie'), null);
});

test('the key form refuses a cross-site post', async () => {
  const res = await fetch(`${h.gw.url}/auth/session`, { method: 'POST', redirect: 'manual', headers: { 'content-type': FORM, origin: 'http://evil.example' }, body: form({ key: TEST_KEY }) });
  assert.equal(res.status, 403);
  assert.equal(res.headers.get('set-cookie'), null);
});

test('a cookie-authenticated form post without the CSRF token fails; with it, it works', async () => {
  const { cookie, csrf } = await signIn();
  const post = (body: Record<string, string>) =>
    fetch(`${h.gw.url}/auth/token`, { method: 'POST', redirect: 'manual', headers: { 'content-type': FORM, cookie }, body: form(body) });
  const pasted = 'sk-ant-api03-pasted-key-0123456789abcdefWXYZ';

  assert.equal((await post({ token: pasted })).status, 403, 'no CSRF token');
  assert.equal((await post({ token: pasted, csrf: 'forged' })).status, 403, 'a wrong CSRF token');
  assert.ok(!fs.existsSync(path.join(h.dataDir, CREDENTIALS_FILE)), 'nothing was stored');

  const ok = await post({ token: pasted, csrf });
  assert.equal(ok.status, 303);
  const file = path.join(h.dataDir, CREDENTIALS_FILE);
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);

  // The env key outranks the pasted one; the page says so, and never shows the secret.
  const page = await (await fetch(`${h.gw.url}/auth`, { headers: { cookie } })).text();
  assert.match(page, /takes precedence/);
  assert.ok(!page.includes(pasted) && !page.includes('sk-ant-test-upstream'));
  const st = await (await fetch(`${h.gw.url}/auth/status`, { headers: { cookie } })).json();
  assert.deepEqual((st as any).sources.map((x: any) => x.method), ['api_key', 'api_key']);
  assert.ok(!JSON.stringify(st).includes(pasted));

  // A JSON post with the cookie needs the token in a header.
  const noHeader = await fetch(`${h.gw.url}/auth/logout`, { method: 'POST', headers: { cookie } });
  assert.equal(noHeader.status, 403);
  const withHeader = await fetch(`${h.gw.url}/auth/logout`, { method: 'POST', headers: { cookie, 'x-csrf-token': csrf } });
  assert.equal(withHeader.status, 200);
  assert.ok(!fs.existsSync(file));

  // Leaving the page ends the session.
  const end = await fetch(`${h.gw.url}/auth/session/end`, { method: 'POST', redirect: 'manual', headers: { 'content-type': FORM, cookie }, body: form({ csrf }) });
  assert.equal(end.status, 303);
  assert.equal((await fetch(`${h.gw.url}/auth/status`, { headers: { cookie } })).status, 401);
});

test('a pasted value that is neither a token nor a key is refused in plain words', async () => {
  const res = await fetch(`${h.gw.url}/auth/token`, { method: 'POST', headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ token: 'hunter2-not-a-key' }) });
  assert.equal(res.status, 400);
  assert.match(((await res.json()) as any).error.message, /neither a Claude token/);
});
