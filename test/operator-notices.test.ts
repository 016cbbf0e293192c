// What an operator is told: the start-up banner says when Claude is not logged in and how to log in;
// every failed key attempt is a warn line naming the client (and the app key, when it is a revoked
// or expired one), never the key presented.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { startLoggedGateway } from './support/capture-log.js';
import { TEST_KEY } from './support/harness.js';

test('the banner says Claude is not logged in, with the /auth URL and the login command', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccg-banner-'));
  // No credential anywhere: no API key, no token, an empty home.
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve'], {
    env: { PATH: process.env.PATH, HOME: dataDir, GATEWAY_PORT: '0', GATEWAY_DATA_DIR: dataDir, GATEWAY_LOG_LEVEL: 'warn', GATEWAY_PREWARM_MODELS: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  try {
    const banner = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d) => {
        out += d;
        if (/! Claude is not logged in.*\n/.test(out)) resolve(out);
      });
      child.once('exit', (code) => reject(new Error(`exited early (${code}): ${out}`)));
      setTimeout(() => reject(new Error(`no login advice within 60 s:\n${out}`)), 60_000).unref();
    });
    const url = /Anthropic base URL:\s+(\S+)/.exec(banner)![1];
    assert.match(banner, /! Claude is not logged in \(no credential was found\)/);
    assert.ok(banner.includes(`${url}/auth`), banner);
    assert.ok(banner.includes('claude-code-gateway login'), banner);
    // The same, as a warn line in the log (stdout carries the JSON log too).
    const line = out.split('\n').find((l) => l.startsWith('{') && l.includes('not logged in'));
    assert.ok(line, out);
    const parsed = JSON.parse(line);
    assert.equal(parsed.level, 40);
    assert.equal(parsed.loginUrl, `${url}/auth`);
  } finally {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

test('a logged-in gateway says nothing about logging in', async () => {
  const g = await startLoggedGateway();
  try {
    assert.equal(g.lines.filter((l) => /not logged in/.test(l.msg ?? '')).length, 0);
  } finally {
    await g.close();
  }
});

test('failed key attempts are logged at warn, with the reason and the app key id, never the key', async () => {
  const g = await startLoggedGateway({ authFreeFailures: 100 });
  try {
    const call = (key: string, p = '/v1/models') => fetch(`${g.gw.url}${p}`, { headers: { authorization: `Bearer ${key}` } });
    const wrong = 'wrong-key-0123456789';
    assert.equal((await call(wrong)).status, 401);
    const created = (await (await fetch(`${g.gw.url}/admin/keys`, { method: 'POST', headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'gone' }) })).json()) as {
      id: string;
      key: string;
    };
    await fetch(`${g.gw.url}/admin/keys/${created.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${TEST_KEY}` } });
    assert.equal((await call(created.key)).status, 401);
    // The /auth page's own key check counts and logs the same way.
    assert.equal((await call(wrong, '/auth/status')).status, 401);

    const warned = g.lines.filter((l) => l.level === 40 && /authentication failed/.test(l.msg));
    assert.equal(warned.length, 3, JSON.stringify(warned));
    assert.equal(warned[0].reason, 'unknown');
    assert.ok(warned[0].client);
    assert.equal(warned[1].reason, 'revoked');
    assert.equal(warned[1].key, created.id);
    assert.equal(warned[1].keyName, 'gone');
    for (const raw of g.raw) {
      assert.ok(!raw.includes(wrong) && !raw.includes(created.key) && !raw.includes(TEST_KEY), `a key in the log: ${raw}`);
    }
  } finally {
    await g.close();
  }
});
