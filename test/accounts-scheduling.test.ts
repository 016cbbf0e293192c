// Several Claude credentials (issue 13), scheduling: a conversation stays on its credential until it must
// move (and is rebuilt there without the other account's thinking); overflow is used only when every
// primary is limited. The real CLI against a scripted upstream that tells credentials apart.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import { modelRequests } from './support/conversation.js';
import { TEST_KEY } from './support/harness.js';
import { account, DEFAULT_KEY, pooled, SECOND_KEY, status, who } from './support/accounts.js';

test('a conversation stays on its credential across turns, moves only when it must (rebuilt there without the other account\'s thinking), and stays where it moved', async () => {
  const h = await pooled([{ name: 'second', api_key: SECOND_KEY, priority: 1 }], { config: { fallbackRetryAfterSec: 2 } });
  try {
    const client = new Anthropic({ baseURL: h.gw.url, apiKey: TEST_KEY, maxRetries: 0 });
    const paths = () => ({ ...h.gw.engine.stats().conversation_paths });
    const thinking = { type: 'enabled' as const, budget_tokens: 1024 };
    const history: Anthropic.MessageParam[] = [{ role: 'user', content: '[[thinking:Mine.]] [[reply:signed answer]]' }];
    const turn = async (text: string) => {
      const r = await client.messages.create({ model: 'sonnet', max_tokens: 2048, thinking, messages: [...history, { role: 'user', content: text }] });
      history.push({ role: 'user', content: text }, { role: 'assistant', content: r.content });
      return r;
    };
    const first = await client.messages.create({ model: 'sonnet', max_tokens: 2048, thinking, messages: history });
    assert.ok(first.content.some((b) => b.type === 'thinking' && b.signature), 'the first answer has signed thinking');
    history.push({ role: 'assistant', content: first.content });
    await turn('turn two [[reply:two]]');
    assert.deepEqual(who(h), [DEFAULT_KEY, DEFAULT_KEY], 'the conversation stayed on its credential');
    assert.equal(paths().live, 1);

    // Its credential is limited: the turn moves to the other one and is rebuilt there.
    h.upstream.credentials.set(DEFAULT_KEY, { status: 429 });
    const before = paths();
    const moved = await turn('turn three [[reply:three]]');
    assert.equal((moved.content.find((b) => b.type === 'text') as any).text, 'three');
    assert.deepEqual(who(h).slice(2), [DEFAULT_KEY, SECOND_KEY], 'tried on its own credential first, then moved');
    assert.equal(paths().imported - before.imported, 1, 'rebuilt on the new credential by import');
    const sent = modelRequests(h.upstream).at(-1)!.body.messages as any[];
    const blocks = sent.flatMap((m) => (Array.isArray(m.content) ? m.content : [])).map((b: any) => b.type);
    assert.ok(!blocks.includes('thinking'), `no thinking signed by the other account reaches the new one: ${blocks}`);
    assert.ok(sent.some((m) => m.role === 'assistant'), 'the history went with it');

    // The first credential recovers; the conversation stays where it is now, a new one goes to the first.
    h.upstream.credentials.delete(DEFAULT_KEY);
    let def: any;
    const end = Date.now() + 15_000;
    while ((def = await account(h, 'default')).state !== 'active' && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
    assert.equal(def.state, 'active', 'the cooldown ended');
    const livePaths = paths().live;
    await turn('turn four [[reply:four]]');
    assert.equal(who(h).at(-1), SECOND_KEY, 'stays on the credential it moved to');
    assert.equal(paths().live, livePaths + 1, 'served by its live process there');
    await client.messages.create({ model: 'sonnet', max_tokens: 100, messages: [{ role: 'user', content: 'a new one [[reply:new]]' }] });
    assert.equal(who(h).at(-1), DEFAULT_KEY, 'a new conversation goes to the highest priority again');
    const second = await account(h, 'second');
    assert.equal(second.live_conversations, 1);
  } finally {
    await h.close();
  }
});

