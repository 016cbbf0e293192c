// Managing the pool at run time (issue 13): adding a credential verifies it with a real request first
// (a refused one is never stored), disabling and removing take effect on the next turn (a conversation
// on a removed credential moves), the pool survives a restart, secrets never come back out; bad input
// (duplicate names, unknown credentials) is a clear error that disturbs nothing. And the command line.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import OpenAI from 'openai';
import { ACCOUNTS_FILE } from '../src/accounts/store.js';
import { startFakeUpstream } from './support/fake-upstream.js';
import { call, DEFAULT_KEY, names, who } from './support/accounts.js';
import { startHarness, TEST_KEY } from './support/harness.js';

const TEAM_B = 'sk-ant-oat01-team-b-00000000000000000000000000';
const REFUSED = 'sk-ant-oat01-refused-0000000000000000000000000';
const KEEPER = 'sk-ant-api03-keeper-00000000000000000000000000';

test('add (verified first); bad input is refused with clear errors and disturbs nothing; secrets never come back out', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccg-pool-'));
  const upstream = await startFakeUpstream();
  let h = await startHarness({}, { dataDir, upstream });
  try {
    const openai = new OpenAI({ baseURL: h.baseURL, apiKey: TEST_KEY, maxRetries: 0 });
    const added = await call(h, 'POST', '/auth/accounts', { name: 'team-b', token: TEAM_B, priority: -1 });
    assert.equal(added.status, 200, added.text);
    assert.equal(added.json.account.name, 'team-b');
    assert.equal(added.json.account.kind, 'oauth_token');
    assert.ok(added.json.account.last_verified_at, 'verified by a real request');
    assert.deepEqual(who(h), [TEAM_B], 'the verification request ran with the new credential');
    const file = path.join(dataDir, ACCOUNTS_FILE);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.ok(fs.readFileSync(file, 'utf8').includes(TEAM_B), 'stored');

    // Bad input: clear errors, nothing else changes.
    const fileBefore = fs.readFileSync(file, 'utf8');
    const dup = await call(h, 'POST', '/auth/accounts', { name: 'team-b', token: KEEPER });
    assert.equal(dup.status, 400);
    assert.equal(dup.json.error.code, 'duplicate_name');
    assert.match(dup.json.error.message, /already in the pool/);
    assert.equal((await call(h, 'POST', '/auth/accounts', { name: 'default', token: KEEPER })).json.error.code, 'duplicate_name');
    assert.equal((await call(h, 'POST', '/auth/accounts', { name: 'bad name!', token: KEEPER })).json.error.param, 'name');
    assert.equal((await call(h, 'POST', '/auth/accounts', { name: 'x', token: 'not-a-token' })).json.error.param, 'token');
    for (const [m, p] of [['POST', '/auth/accounts/nobody/disable'], ['POST', '/auth/accounts/nobody/enable'], ['DELETE', '/auth/accounts/nobody']]) {
      const r = await call(h, m, p);
      assert.equal(r.status, 404, p);
      assert.equal(r.json.error.code, 'account_not_found');
      assert.match(r.json.error.message, /no Claude credential named 'nobody'/);
    }
    h.upstream.credentials.set(REFUSED, { status: 401 });
    const refused = await call(h, 'POST', '/auth/accounts', { name: 'refused', token: REFUSED });
    assert.equal(refused.status, 400);
    assert.equal(refused.json.error.code, 'verification_failed');
    assert.match(refused.json.error.message, /'refused' was not added: a test request with it failed/);
    assert.equal(fs.readFileSync(file, 'utf8'), fileBefore, 'nothing stored');
    assert.deepEqual(await names(h), ['default', 'team-b']);
    const removeDefault = await call(h, 'DELETE', '/auth/accounts/default');
    assert.equal(removeDefault.status, 400);
    assert.equal(removeDefault.json.error.code, 'account_not_removable');

    // Secrets never come back out.
    for (const p of ['/auth/accounts', '/auth/status']) {
      const r = await call(h, 'GET', p);
      assert.ok(!r.text.includes(TEAM_B) && !r.text.includes(DEFAULT_KEY), `${p} holds no secret`);
    }
    const page = await (await fetch(`${h.gw.url}/auth`, { headers: { authorization: `Bearer ${TEST_KEY}` } })).text();
    assert.match(page, /id="account-team-b"/);
    assert.ok(!page.includes(TEAM_B));

  } finally {
    await h.close();
    await upstream.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

