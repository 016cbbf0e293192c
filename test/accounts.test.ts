// Several Claude credentials (issue 13), failover: the real CLI against a scripted upstream that tells
// them apart by the x-api-key / bearer token each CLI process sends. A credential the upstream refuses
// (429, 401) is taken out of rotation and the turn runs again on the next one before the client has a
// byte. (Scheduling: accounts-scheduling.test.ts; all limited: plan-limits.test.ts.)
import assert from 'node:assert/strict';
import { test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { TEST_KEY } from './support/harness.js';
import { account, DEFAULT_KEY, pooled, SECOND_KEY, status, who } from './support/accounts.js';

test('a 429 on one credential: the turn is answered by the next, before any byte (not streaming and streaming), and the limited one cools down', async () => {
  const h = await pooled([{ name: 'second', api_key: SECOND_KEY, priority: 1 }]);
  try {
    h.upstream.credentials.set(DEFAULT_KEY, { status: 429 });
    const openai = new OpenAI({ baseURL: h.baseURL, apiKey: TEST_KEY, maxRetries: 0 });
    const sentAt = Date.now();
    const r = await openai.chat.completions.create({ model: 'sonnet', messages: [{ role: 'user', content: '[[reply:from the pool]]' }] });
    assert.equal(r.choices[0].message.content, 'from the pool');
    assert.deepEqual(who(h), [DEFAULT_KEY, SECOND_KEY], 'the default was tried first (priority 0), then the second');

    const def = await account(h, 'default');
    assert.equal(def.state, 'cooling_down');
    assert.ok(Date.parse(def.cooling_down_until) >= sentAt + 29_000, 'cooling down for the fallback retry-after (30 s) from when it failed');
    const second = await account(h, 'second');
    assert.equal(second.state, 'active');
    assert.equal(second.turns_served, 1);
    assert.ok(second.last_verified_at);

    // A new conversation now goes to the healthy one at once (the limited one is not asked).
    const anthropic = new Anthropic({ baseURL: h.gw.url, apiKey: TEST_KEY, maxRetries: 0 });
    const stream = anthropic.messages.stream({ model: 'sonnet', max_tokens: 100, messages: [{ role: 'user', content: '[[reply:streamed answer]]' }] });
    const msg = await stream.finalMessage();
    assert.equal((msg.content[0] as any).text, 'streamed answer');
    assert.deepEqual(who(h), [DEFAULT_KEY, SECOND_KEY, SECOND_KEY]);

    // /metrics tells the same per credential.
    const metrics = await (await fetch(`${h.gw.url}/metrics`, { headers: { authorization: `Bearer ${TEST_KEY}` } })).text();
    const sample = (line: string) => metrics.split('\n').find((l) => l.startsWith(line + ' '))?.slice(line.length + 1);
    assert.equal(sample('ccg_claude_account_state{account="default",role="primary",state="cooling_down"}'), '1');
    assert.equal(sample('ccg_claude_account_state{account="default",role="primary",state="active"}'), '0');
    assert.equal(sample('ccg_claude_account_state{account="second",role="primary",state="active"}'), '1');
    assert.equal(sample('ccg_claude_account_turns_served{account="second"}'), '2');
    assert.equal(Number(sample('ccg_claude_account_cooling_down_until_seconds{account="default"}')), Math.floor(Date.parse(def.cooling_down_until) / 1000));

    // The key is charged for what its client was told: two answered requests, not the attempt the failover ran again.
    const usage = (await (await fetch(`${h.gw.url}/admin/usage`, { headers: { authorization: `Bearer ${TEST_KEY}` } })).json()) as any;
    const rows = usage.data.filter((r: any) => r.key_id === 'admin');
    assert.equal(rows.reduce((n: number, r: any) => n + r.requests, 0), 2);
    assert.equal(rows.reduce((n: number, r: any) => n + r.errors, 0), 0);
  } finally {
    await h.close();
  }
});

test('a 401 mid-pool while streaming: the client gets the whole answer from the other credential, the refused one is shown refused', async () => {
  const h = await pooled([{ name: 'second', api_key: SECOND_KEY, priority: 1 }]);
  try {
    h.upstream.credentials.set(DEFAULT_KEY, { status: 401 });
    const openai = new OpenAI({ baseURL: h.baseURL, apiKey: TEST_KEY, maxRetries: 0 });
    const stream = await openai.chat.completions.create({ model: 'sonnet', stream: true, messages: [{ role: 'user', content: '[[reply:one two three]]' }] });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    assert.equal(text, 'one two three');
    assert.deepEqual(who(h), [DEFAULT_KEY, SECOND_KEY]);
    const def = await account(h, 'default');
    assert.equal(def.state, 'refused');
    assert.match(def.reason, /log in again/);
    // The original status fields still describe the default credential, now refused.
    const s = await status(h);
    assert.equal(s.verified, false);
    assert.equal(s.authenticated, false);
  } finally {
    await h.close();
  }
});

