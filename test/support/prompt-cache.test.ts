import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PromptCache, type CacheUsage } from './prompt-cache.js';

const cc = { type: 'ephemeral' };
const big = 'You are a careful assistant. '.repeat(200); // ~1450 tokens: cacheable alone
const sum = (u: CacheUsage) => u.input_tokens + u.cache_read_input_tokens + u.cache_creation_input_tokens;
/** Messages of one text block each (100 tokens apiece with `flat`), the last one a breakpoint. */
const msgs = (n: number, tag = 'm') =>
  Array.from({ length: n }, (_, i) => ({
    role: i % 2 ? 'assistant' : 'user',
    content: [{ type: 'text', text: `${tag}${i}`, ...(i === n - 1 ? { cache_control: cc } : {}) }],
  }));
/** Every block counts 100 tokens, so boundaries are easy to reason about. */
const flat = (opts: ConstructorParameters<typeof PromptCache>[0] = {}) =>
  new PromptCache({ countTokens: () => 100, minCacheableTokens: 100, ...opts });

describe('PromptCache', () => {
  test('a growing 12-turn conversation with a breakpoint on the last message reads the previous prompt', () => {
    const cache = new PromptCache();
    const messages: any[] = [];
    let previous = 0;
    for (let turn = 0; turn < 12; turn++) {
      if (turn) messages.push({ role: 'assistant', content: `answer ${turn}` });
      const prompt = messages.map((m) => ({ ...m, content: typeof m.content === 'string' ? m.content : m.content.map(({ cache_control, ...b }: any) => b) }));
      prompt.push({ role: 'user', content: [{ type: 'text', text: `question ${turn}`, cache_control: cc }] });
      messages.push({ role: 'user', content: `question ${turn}` });
      const u = cache.account({ model: 'claude-sonnet-4-5', system: big, messages: prompt }, 'k');
      assert.equal(u.cache_read_input_tokens, previous, `turn ${turn}`);
      assert.ok(u.cache_creation_input_tokens > 0);
      assert.equal(u.input_tokens, 0); // everything up to the last block is behind the breakpoint
      previous = sum(u);
    }
  });

  test('changing an early message misses; a breakpoint on the system prompt still reads that', () => {
    const cache = new PromptCache();
    const system = [{ type: 'text', text: big, cache_control: cc }];
    const first = cache.account({ model: 'm', system, messages: msgs(6) }, 'k');
    assert.equal(first.cache_read_input_tokens, 0);
    const same = cache.account({ model: 'm', system, messages: msgs(6) }, 'k');
    assert.equal(same.cache_read_input_tokens, sum(first));
    const changed = msgs(6);
    changed[0].content[0].text = 'edited';
    const u = cache.account({ model: 'm', system, messages: changed }, 'k');
    const systemOnly = new PromptCache().account({ model: 'm', system }, 'k');
    assert.equal(u.cache_read_input_tokens, sum(systemOnly));
    assert.equal(u.cache_creation_input_tokens, sum(u) - sum(systemOnly));
    const noSystemBreakpoint = new PromptCache();
    noSystemBreakpoint.account({ model: 'm', system: big, messages: msgs(6) }, 'k');
    assert.equal(noSystemBreakpoint.account({ model: 'm', system: big, messages: changed }, 'k').cache_read_input_tokens, 0);
  });

  test('a breakpoint finds a written prefix at most 20 blocks back', () => {
    const written = msgs(5);
    const longer = (n: number) => [...written.map((m) => ({ ...m, content: [{ type: 'text', text: m.content[0].text }] })), ...msgs(n, 'x')];
    const within = flat();
    within.account({ model: 'm', messages: written }, 'k');
    assert.deepEqual(within.account({ model: 'm', messages: longer(20) }, 'k'), { cache_read_input_tokens: 500, cache_creation_input_tokens: 2000, input_tokens: 0 });
    const beyond = flat();
    beyond.account({ model: 'm', messages: written }, 'k');
    assert.deepEqual(beyond.account({ model: 'm', messages: longer(21) }, 'k'), { cache_read_input_tokens: 0, cache_creation_input_tokens: 2600, input_tokens: 0 });
    // A second breakpoint within reach of the old boundary rescues the long turn.
    const anchored = flat();
    anchored.account({ model: 'm', messages: written }, 'k');
    const messages = longer(21);
    (messages[10].content[0] as any).cache_control = cc;
    assert.equal(anchored.account({ model: 'm', messages }, 'k').cache_read_input_tokens, 500);
  });

  test('entries expire ttlMs after the last write or read', () => {
    let t = 0;
    const cache = flat({ now: () => t });
    const body = { model: 'm', messages: msgs(3) };
    cache.account(body, 'k');
    t = 299_999;
    assert.equal(cache.account(body, 'k').cache_read_input_tokens, 300); // and refreshed
    t = 599_998;
    assert.equal(cache.account(body, 'k').cache_read_input_tokens, 300);
    t += 300_000;
    assert.deepEqual(cache.account(body, 'k'), { cache_read_input_tokens: 0, cache_creation_input_tokens: 300, input_tokens: 0 });
  });

  test("Claude Code's per-request billing header is left out of the prefix", () => {
    const cache = new PromptCache();
    const system = (n: number) => [
      { type: 'text', text: `x-anthropic-billing-header: cc_version=2.1.0.${n}; cc_entrypoint=sdk-cli;` },
      { type: 'text', text: big, cache_control: cc },
    ];
    const first = cache.account({ model: 'm', system: system(1), messages: [{ role: 'user', content: 'hi' }] }, 'k');
    const second = cache.account({ model: 'm', system: system(2), messages: [{ role: 'user', content: 'hi' }] }, 'k');
    assert.equal(second.cache_read_input_tokens, first.cache_creation_input_tokens);
    assert.equal(sum(second), sum(new PromptCache().account({ model: 'm', system: big, messages: [{ role: 'user', content: 'hi' }] }, 'k')));
  });

  test('string content and a text block hash alike; where cache_control sits does not change the hash', () => {
    const cache = new PromptCache();
    const tail = { role: 'assistant', content: [{ type: 'text', text: 'hello', cache_control: cc }] };
    const first = cache.account({ model: 'm', system: [{ type: 'text', text: big, cache_control: cc }], messages: [{ role: 'user', content: 'hi' }, tail] }, 'k');
    const asBlocks = cache.account({ model: 'm', system: big, messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }, tail] }, 'k');
    assert.equal(asBlocks.cache_read_input_tokens, sum(first));
    // The breakpoint moved off the old last block: its prefix is still found by lookback.
    const moved = cache.account({ model: 'm', system: big, messages: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'hello' }, { role: 'user', content: [{ type: 'text', text: 'more', cache_control: { type: 'ephemeral', ttl: '5m' } }] }] }, 'k');
    assert.equal(moved.cache_read_input_tokens, sum(first));
  });

  test('the role is part of the prefix', () => {
    const cache = flat();
    cache.account({ model: 'm', messages: [{ role: 'user', content: [{ type: 'text', text: 'a', cache_control: cc }] }] }, 'k');
    assert.equal(cache.account({ model: 'm', messages: [{ role: 'assistant', content: [{ type: 'text', text: 'a', cache_control: cc }] }] }, 'k').cache_read_input_tokens, 0);
  });

  test('caches are per scope and per model', () => {
    const cache = flat();
    const body = { model: 'm', messages: msgs(3) };
    cache.account(body, 'org-a');
    assert.equal(cache.account(body, 'org-b').cache_read_input_tokens, 0);
    assert.equal(cache.account({ ...body, model: 'other' }, 'org-a').cache_read_input_tokens, 0);
    assert.equal(cache.account(body, 'org-a').cache_read_input_tokens, 300);
  });

  test('a prefix below minCacheableTokens is not written: all of it is input', () => {
    const cache = new PromptCache();
    const body = { model: 'm', system: 'Be brief.', messages: [{ role: 'user', content: [{ type: 'text', text: 'hi', cache_control: cc }] }] };
    const first = cache.account(body, 'k');
    assert.deepEqual(first, { input_tokens: sum(first), cache_read_input_tokens: 0, cache_creation_input_tokens: 0 });
    assert.equal(cache.account(body, 'k').cache_read_input_tokens, 0);
  });

  test('tokens after the last breakpoint are input; only the first 4 breakpoints count', () => {
    const cache = flat();
    const messages = msgs(8).map((m) => ({ ...m, content: [{ ...m.content[0], cache_control: cc }] }));
    const tools = [{ name: 't', input_schema: { type: 'object' } }];
    assert.deepEqual(cache.account({ model: 'm', tools, messages }, 'k'), { cache_read_input_tokens: 0, cache_creation_input_tokens: 500, input_tokens: 400 });
  });
});
