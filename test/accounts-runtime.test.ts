// The pool at run time (issue 13): a credential removed while a conversation uses it (the next turn
// moves), disable and enable, and the pool kept across a restart of the gateway.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import OpenAI from 'openai';
import { ACCOUNTS_FILE } from '../src/accounts/store.js';
import { startFakeUpstream } from './support/fake-upstream.js';
import { startHarness, TEST_KEY } from './support/harness.js';
import { call, DEFAULT_KEY, names, who } from './support/accounts.js';

const TEAM_B = 'sk-ant-oat01-team-b-00000000000000000000000000';
const KEEPER = 'sk-ant-api03-keeper-00000000000000000000000000';

test('a credential removed at run time: its conversation moves; disable and enable; the pool is kept across a restart', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccg-pool-'));
  const upstream = await startFakeUpstream();
  let h = await startHarness({}, { dataDir, upstream });
  try {
    const openai = new OpenAI({ baseURL: h.baseURL, apiKey: TEST_KEY, maxRetries: 0 });
    const file = path.join(dataDir, ACCOUNTS_FILE);
    assert.equal((await call(h, 'POST', '/auth/accounts', { name: 'team-b', token: TEAM_B, priority: -1 })).status, 200);
    // A conversation on team-b (priority -1); team-b is removed at run time: its next turn moves.
    const liveOnB = async () => (await call(h, 'GET', '/auth/accounts')).json.accounts.find((a: any) => a.name === 'team-b').live_conversations;
    const liveBefore = await liveOnB();
    const history: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: '[[reply:one]]' }];
    const first = await openai.chat.completions.create({ model: 'sonnet', messages: history });
    history.push({ role: 'assistant', content: first.choices[0].message.content }, { role: 'user', content: '[[reply:two]]' });
    assert.equal(who(h).at(-1), TEAM_B);
    assert.equal(await liveOnB(), liveBefore + 1, 'its live conversation is counted on its credential');
    const removed = await call(h, 'DELETE', '/auth/accounts/team-b');
    assert.equal(removed.status, 200, removed.text);
    assert.deepEqual(await names(h), ['default']);
    const second = await openai.chat.completions.create({ model: 'sonnet', messages: history });
    assert.equal(second.choices[0].message.content, 'two');
    assert.equal(who(h).at(-1), DEFAULT_KEY, 'the conversation moved to the remaining credential');
    assert.ok(!fs.readFileSync(file, 'utf8').includes(TEAM_B), 'the secret is gone from the file');

    // Disable and enable; then the pool outlives a restart.
    assert.equal((await call(h, 'POST', '/auth/accounts', { name: 'keeper', token: KEEPER, priority: -2, role: 'primary' })).status, 200);
    assert.equal((await call(h, 'POST', '/auth/accounts/keeper/disable')).json.account.state, 'disabled');
    await openai.chat.completions.create({ model: 'sonnet', messages: [{ role: 'user', content: '[[reply:while disabled]]' }] });
    assert.equal(who(h).at(-1), DEFAULT_KEY, 'a disabled credential is not used');
    assert.equal((await call(h, 'POST', '/auth/accounts/keeper/enable')).json.account.state, 'active');
    await h.close();
    h = await startHarness({}, { dataDir, upstream });
    const after = (await call(h, 'GET', '/auth/accounts')).json.accounts;
    assert.deepEqual(after.map((a: any) => [a.name, a.priority, a.state]), [['default', 0, 'active'], ['keeper', -2, 'active']]);
    await new OpenAI({ baseURL: h.baseURL, apiKey: TEST_KEY, maxRetries: 0 }).chat.completions.create({ model: 'sonnet', messages: [{ role: 'user', content: '[[reply:after restart]]' }] });
    assert.equal(who(h).at(-1), KEEPER, 'the restarted gateway uses the stored member');
  } finally {
    await h.close();
    await upstream.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

