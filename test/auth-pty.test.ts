// The PTY driver against the REAL Claude CLI (`claude setup-token`): it reaches the sign-in URL and
// the paste prompt, and a code submitted on this offline machine ends in the "sign-in service
// unreachable" state instead of hanging. Plus the ends a PTY can come to: cancel, hard cap, missing
// CLI, and the same flow through the gateway's HTTP API with the real CLI.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { loginEnv } from '../src/auth/login-manager.js';
import { LoginSession } from '../src/auth/login-session.js';
import { bundledClaudePath } from '../src/engine/claude-binary.js';
import { makeFakeClaude } from './support/fake-claude.js';
import { startHarness, TEST_KEY } from './support/harness.js';

const realClaude = bundledClaudePath()!;
let home: string;
before(() => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'ccg-pty-'));
});
after(() => fs.rmSync(home, { recursive: true, force: true }));

const env = () => loginEnv({ HOME: home, PATH: process.env.PATH });

function gone(pid: number | undefined): boolean {
  if (!pid) return true;
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}

test('real CLI: sign-in URL and paste prompt, then an offline code ends as "sign-in service unreachable"', async () => {
  assert.ok(realClaude, 'the Agent SDK ships the CLI');
  const s = new LoginSession({ claudePath: realClaude, env: env(), cwd: home });
  const waiting = await s.waitFor(['awaiting_code']);
  assert.equal(waiting.state, 'awaiting_code', JSON.stringify(waiting));
  assert.match(waiting.url!, /^https:\/\/claude\.ai\/oauth\/authorize\?\S+$/);
  s.submitCode('offline-test-code#state');
  const end = await s.waitFor(['succeeded', 'failed', 'cancelled']);
  assert.equal(end.state, 'failed');
  assert.equal(end.error?.reason, 'unreachable');
  assert.match(end.error!.message, /sign-in service could not be reached.*internet access/s);
  await s.exited;
  assert.ok(gone(s.pid), 'no PTY process outlives its session');
});

test('real CLI: cancel kills the PTY', async () => {
  const s = new LoginSession({ claudePath: realClaude, env: env(), cwd: home });
  await s.waitFor(['awaiting_code']);
  const pid = s.pid;
  s.cancel();
  assert.equal(s.snapshot().state, 'cancelled');
  await s.exited;
  assert.ok(gone(pid));
});

test('the hard cap ends a login that never finishes', async () => {
  const fake = makeFakeClaude(home);
  const s = new LoginSession({ claudePath: fake, env: env(), cwd: home, timeoutMs: 1500 });
  await s.waitFor(['awaiting_code']);
  s.submitCode('hang');
  const end = await s.waitFor(['succeeded', 'failed', 'cancelled']);
  assert.equal(end.error?.reason, 'timeout');
  assert.match(end.error!.message, /took too long/);
  await s.exited;
  assert.ok(gone(s.pid));
});

test('a missing CLI is a plain failure, not a crash', async () => {
  const s = new LoginSession({ claudePath: path.join(home, 'no-such-claude'), env: env(), cwd: home });
  const end = await s.waitFor(['failed']);
  assert.equal(end.error?.reason, 'cli_missing');
  assert.match(end.error!.message, /GATEWAY_CLAUDE_PATH/);
});

test('real CLI through the gateway: /auth/login/start shows the link, an offline code fails clearly', async () => {
  const h = await startHarness();
  const H = { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' };
  try {
    const start: any = await (await fetch(`${h.gw.url}/auth/login/start`, { method: 'POST', headers: H })).json();
    assert.equal(start.login.state, 'awaiting_code');
    assert.match(start.login.url, /^https:\/\/claude\.ai\/oauth\/authorize\?/);
    const code: any = await (await fetch(`${h.gw.url}/auth/login/code`, { method: 'POST', headers: H, body: JSON.stringify({ code: 'abc#def' }) })).json();
    assert.equal(code.login.state, 'failed');
    assert.equal(code.login.error.reason, 'unreachable');
    // The gateway's own credential is untouched by a failed login.
    const st: any = await (await fetch(`${h.gw.url}/auth/status`, { headers: H })).json();
    assert.equal(st.method, 'api_key');
  } finally {
    await h.close();
  }
});
