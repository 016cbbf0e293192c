// The Vercel AI SDK's OpenAI-compatible provider against the gateway's Chat Completions endpoint.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { generateText, streamText, type ModelMessage } from 'ai';
import { startHarness, TEST_KEY, type Harness } from './support/harness.js';

let h: Harness;
let provider: ReturnType<typeof createOpenAICompatible>;

before(async () => {
  h = await startHarness({}, { prewarm: ['sonnet'] });
  provider = createOpenAICompatible({ name: 'claude-code-gateway', baseURL: h.baseURL, apiKey: TEST_KEY, includeUsage: true });
});
after(() => h.close());

test('generateText', async () => {
  const r = await generateText({ model: provider('sonnet'), system: 'Be brief.', prompt: '[[reply:Brief answer.]]', maxRetries: 0 });
  assert.equal(r.text, 'Brief answer.');
  assert.equal(r.finishReason, 'stop');
  assert.equal(r.usage.outputTokens, 2);
});

test('streamText delivers deltas, the finish reason and usage', async () => {
  const r = streamText({ model: provider('sonnet'), prompt: '[[reply:one two three]]', maxRetries: 0 });
  const parts: string[] = [];
  for await (const delta of r.textStream) parts.push(delta);
  assert.equal(parts.join(''), 'one two three');
  assert.ok(parts.length >= 3);
  assert.equal(await r.finishReason, 'stop');
  assert.equal((await r.usage).outputTokens, 3);
});

test('streamText with maxOutputTokens reports length', async () => {
  const r = streamText({ model: provider('sonnet'), prompt: '[[long:30]]', maxOutputTokens: 2, maxRetries: 0 });
  assert.equal(await r.text, 'w1 w2 ');
  assert.equal(await r.finishReason, 'length');
});

test('a multi-turn conversation (response.messages fed back) is one live Claude Code session', async () => {
  const messages: ModelMessage[] = [];
  const before = { ...h.gw.engine.stats().conversation_paths };
  for (let i = 1; i <= 4; i++) {
    messages.push({ role: 'user', content: `turn ${i} [[reply:answer ${i}]]` });
    const r = await generateText({ model: provider('sonnet'), system: 'Be brief.', messages, maxRetries: 0 });
    assert.equal(r.text, `answer ${i}`);
    messages.push(...r.response.messages);
  }
  const after = h.gw.engine.stats().conversation_paths;
  assert.equal(after.new - before.new, 1);
  assert.equal(after.live - before.live, 3);
  const sent = (h.upstream.requests.filter((r) => r.path === '/v1/messages').at(-1)!.body.messages as any[]).filter((m) => m.role !== 'system');
  assert.deepEqual(sent.map((m) => m.role), ['user', 'assistant', 'user', 'assistant', 'user', 'assistant', 'user']);
});
