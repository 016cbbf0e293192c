// /auth/status tells the truth: verification comes from real requests, an upstream 401 flips it to
// false with the reason (and requests get the actionable 503), and the CLI is handed exactly the
// active credential of the documented precedence, never a lower one alongside it.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { startHarness, TEST_KEY, type Harness } from './support/harness.js';

const H = { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' };

async function status(h: Harness) {
  const res = await fetch(`${h.gw.url}/auth/status`, { headers: H });
  assert.equal(res.status, 200);
  return res.json() as Promise<any>;
}

function chat(h: Harness, text: string) {
  return fetch(`${h.baseURL}/chat/completions`, { method: 'POST', headers: H, body: JSON.stringify({ model: 'sonnet', messages: [{ role: 'user', content: text }] }) });
}

test('an upstream 401 on a real request flips verified to false with the reason; a success flips it back', async () => {
  const h = await startHarness();
  try {
    let s = await status(h);
    assert.equal(s.method, 'api_key');
    assert.equal(s.source, 'env ANTHROPIC_API_KEY');
    assert.equal(s.credential, '…ream');
    assert.equal(s.verified, null, 'nothing tried yet');
    assert.equal(s.authenticated, true);
    assert.match(s.cli_version, /\d+\.\d+\.\d+/);

    const v = await fetch(`${h.gw.url}/auth/verify`, { method: 'POST', headers: H });
    const vj: any = await v.json();
    assert.equal(vj.ok, true, JSON.stringify(vj));
    assert.equal(vj.status.verified, true);

    const res = await chat(h, 'hello [[status:401]]');
    assert.equal(res.status, 503);
    const err: any = await res.json();
    assert.match(err.error.message, /not logged in or its credentials were refused/);
    assert.match(err.error.message, /claude-code-gateway login/);

    s = await status(h);
    assert.equal(s.verified, false);
    assert.equal(s.authenticated, false);
    assert.match(s.last_error.message, /refused the credentials/);
    assert.ok(!JSON.stringify(s).includes('sk-ant-test-upstream'));

    const ok = await chat(h, '[[reply:fine again]]');
    assert.equal(ok.status, 200);
    s = await status(h);
    assert.equal(s.verified, true);
    assert.equal(s.last_error, null);
  } finally {
    await h.close();
  }
});

test('precedence: the API key is active and lower credentials (OAuth token, Bedrock) never reach the CLI', async () => {
  const lower = 'sk-ant-oat01-lower-precedence-token-000000000000';
  // Were CLAUDE_CODE_USE_BEDROCK passed along, the CLI would call Bedrock, not the scripted upstream.
  const h = await startHarness({}, { env: { CLAUDE_CODE_OAUTH_TOKEN: lower, CLAUDE_CODE_USE_BEDROCK: '1', AWS_REGION: 'us-east-1' } });
  try {
    const s = await status(h);
    assert.equal(s.method, 'api_key');
    assert.deepEqual(s.sources.map((x: any) => [x.method, x.active]), [['api_key', true], ['oauth_token', false], ['bedrock', false]]);
    const res = await chat(h, '[[reply:ok]]');
    assert.equal(res.status, 200);
    const r = h.upstream.requests.filter((x) => x.path === '/v1/messages').at(-1)!;
    assert.equal(r.headers['x-api-key'], 'sk-ant-test-upstream');
    assert.ok(!JSON.stringify(r.headers).includes(lower), 'the lower-precedence token leaked to the CLI');
  } finally {
    await h.close();
  }
});

test('an existing Claude Code login in the config dir is found, with its expiry and subscription', async () => {
  const h = await startHarness({}, { env: { ANTHROPIC_API_KEY: undefined } });
  try {
    const claudeDir = path.join(h.dataDir, 'home', '.claude');
    fs.mkdirSync(claudeDir, { recursive: true });
    const expiresAt = Date.now() + 3_600_000;
    fs.writeFileSync(
      path.join(claudeDir, '.credentials.json'),
      JSON.stringify({ claudeAiOauth: { accessToken: 'sk-ant-oat01-access', refreshToken: 'sk-ant-ort01-refresh', expiresAt, scopes: ['user:inference'], subscriptionType: 'max' } }),
      { mode: 0o600 },
    );
    const s = await status(h);
    assert.equal(s.method, 'claude_login');
    assert.match(s.source, /\.claude\/\.credentials\.json\)$/);
    assert.equal(s.subscription, 'max');
    assert.equal(s.expires_at, new Date(expiresAt).toISOString());
    assert.equal(s.credential, null);
  } finally {
    await h.close();
  }
});
