// The login flow through the HTTP API, end to end: the real gateway and the real CLI for turns, the
// scripted stand-in for `claude setup-token`. Proves the token is captured whole, stored 0600, handed
// to the CLI alone (the upstream sees it), verified with a real request, and survives a restart.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { CREDENTIALS_FILE } from '../src/auth/credentials-store.js';
import { makeFakeClaude, tokenFor } from './support/fake-claude.js';
import { startHarness, TEST_KEY, type Harness } from './support/harness.js';

const H = { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' };
let dir: string;
let claudePath: string;

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccg-login-'));
  claudePath = makeFakeClaude(dir);
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

async function call(h: Harness, method: string, p: string, body?: object): Promise<{ status: number; json: any; text: string }> {
  const res = await fetch(`${h.gw.url}${p}`, { method, headers: H, body: body ? JSON.stringify(body) : undefined });
  const text = await res.text();
  return { status: res.status, json: JSON.parse(text), text };
}

/** A gateway with no credential from the environment, so our stored login is the active source. */
const start = (dataDir: string) => startHarness({ claudePath, dataDir }, { env: { ANTHROPIC_API_KEY: undefined } });

async function chat(h: Harness, text: string) {
  return fetch(`${h.baseURL}/chat/completions`, { method: 'POST', headers: H, body: JSON.stringify({ model: 'sonnet', messages: [{ role: 'user', content: text }] }) });
}

test('log in with Claude: bad code retries, good code is stored, switched to, verified, and survives a restart', async () => {
  const dataDir = path.join(dir, 'data1');
  let h = await start(dataDir);
  try {
    let st = await call(h, 'GET', '/auth/status');
    assert.equal(st.json.authenticated, false);
    assert.equal(st.json.method, null);
    assert.match(st.json.last_error.message, /No Claude credentials/);

    const started = await call(h, 'POST', '/auth/login/start');
    assert.equal(started.status, 200);
    assert.equal(started.json.login.state, 'awaiting_code');
    // The hyperlink target, not the shortened visible text.
    assert.match(started.json.login.url, /^https:\/\/claude\.ai\/oauth\/authorize\?code=true&client_id=fake-client&response_type=code&state=attempt1x[0-9a-f]{16}$/);

    const second = await call(h, 'POST', '/auth/login/start');
    assert.equal(second.status, 409, 'one login at a time');
    assert.match(second.json.error.message, /already in progress/);

    const bad = await call(h, 'POST', '/auth/login/code', { code: 'bad' });
    assert.equal(bad.json.login.state, 'awaiting_code');
    assert.equal(bad.json.login.error.reason, 'bad_code');
    assert.match(bad.json.login.error.message, /did not accept that code/);
    assert.match(bad.json.login.url, /state=attempt2x/, 'a new link after the retry');

    const good = await call(h, 'POST', '/auth/login/code', { code: 'good-code-1' });
    const token = tokenFor('good-code-1');
    assert.equal(good.json.login.state, 'succeeded');
    assert.equal(good.json.login.stored, true);
    assert.deepEqual(good.json.login.verification?.ok, true, good.text);
    assert.ok(!good.text.includes(token), 'the token is never returned');

    const file = path.join(dataDir, CREDENTIALS_FILE);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.equal(JSON.parse(fs.readFileSync(file, 'utf8')).secret, token, 'captured whole across two writes');

    st = await call(h, 'GET', '/auth/status');
    assert.equal(st.json.authenticated, true);
    assert.equal(st.json.method, 'oauth_token');
    assert.match(st.json.source, /^stored/);
    assert.equal(st.json.verified, true);
    assert.ok(st.json.verified_at);
    assert.equal(st.json.credential, `…${token.slice(-4)}`);
    assert.ok(st.json.expires_at, 'the CLI said "valid for 1 year"');
    assert.ok(!st.text.includes(token));

    // The CLI was handed exactly the stored token: the upstream saw it, and no API key.
    const seen = h.upstream.requests.filter((r) => r.path === '/v1/messages');
    assert.ok(seen.length > 0);
    for (const r of seen) {
      assert.equal(r.headers.authorization, `Bearer ${token}`);
      assert.equal(r.headers['x-api-key'], undefined);
    }
  } finally {
    await h.close();
  }

  // Stop and start: still authenticated with the stored login, and turns use it.
  h = await start(dataDir);
  try {
    const st = await call(h, 'GET', '/auth/status');
    assert.equal(st.json.authenticated, true);
    assert.equal(st.json.method, 'oauth_token');
    assert.match(st.json.source, /^stored/);
    assert.equal(st.json.verified, true, 'the last verification of this credential is remembered');
    const res = await chat(h, '[[reply:after restart]]');
    assert.equal(res.status, 200);
    assert.equal((await res.json()).choices[0].message.content, 'after restart');
    const last = h.upstream.requests.filter((r) => r.path === '/v1/messages').at(-1)!;
    assert.equal(last.headers.authorization, `Bearer ${tokenFor('good-code-1')}`);

    const out = await call(h, 'POST', '/auth/logout');
    assert.equal(out.json.removed, true);
    assert.equal(out.json.status.authenticated, false);
    assert.ok(!fs.existsSync(path.join(dataDir, CREDENTIALS_FILE)));
  } finally {
    await h.close();
  }
});

test('login failures end in plain words: unreachable sign-in service, CLI exit, cancel', async () => {
  const h = await start(path.join(dir, 'data2'));
  try {
    await call(h, 'POST', '/auth/login/start');
    const offline = await call(h, 'POST', '/auth/login/code', { code: 'offline' });
    assert.equal(offline.json.login.state, 'failed');
    assert.equal(offline.json.login.error.reason, 'unreachable');
    assert.match(offline.json.login.error.message, /sign-in service could not be reached/);

    await call(h, 'POST', '/auth/login/start');
    const crash = await call(h, 'POST', '/auth/login/code', { code: 'crash' });
    assert.equal(crash.json.login.state, 'failed');
    assert.equal(crash.json.login.error.reason, 'cli_exited');

    const s = await call(h, 'POST', '/auth/login/start');
    assert.equal(s.json.login.state, 'awaiting_code');
    const cancelled = await call(h, 'POST', '/auth/login/cancel');
    assert.equal(cancelled.json.login.state, 'cancelled');
    const none = await call(h, 'POST', '/auth/login/code', { code: 'late' });
    assert.equal(none.status, 409);

    const empty = await call(h, 'POST', '/auth/login/code', { code: '' });
    assert.equal(empty.status, 400);
  } finally {
    await h.close();
  }
});
