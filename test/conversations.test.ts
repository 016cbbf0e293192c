// Conversations are real Claude Code sessions: a multi-turn conversation reaches the API as real
// alternating turns, served by the live process that holds it, with the prompt cache kept; a
// history the gateway did not serve in this process (another branch, an edit) is resumed or
// imported, and each conversation sees exactly its own turns.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { startFakeUpstream, type FakeUpstream } from './support/fake-upstream.js';
import { answerText, cacheReuse, claudeCodeSession, modelRequests, turnsOf, turnText, withoutCacheControl } from './support/conversation.js';
import { startHarness, TEST_KEY, type Harness } from './support/harness.js';
import { PNG_BASE64, PNG_DATA_URL } from './support/media.js';
import { weatherTool } from './support/tools.js';

const OTHER_KEY = 'other-key-0123456789';
const TURNS = 12;
let h: Harness;
let chat: OpenAI;
let yardstick: number;

before(async () => {
  h = await startHarness({ apiKeys: [TEST_KEY, OTHER_KEY] }, { prewarm: ['sonnet'] });
  chat = new OpenAI({ baseURL: h.baseURL, apiKey: TEST_KEY, maxRetries: 0 });
  // Claude Code's own session on the same script, against its own upstream (its own cache).
  const own: FakeUpstream = await startFakeUpstream();
  try {
    await claudeCodeSession(own, Array.from({ length: TURNS }, (_, i) => turnText(i + 1, 'y')));
    yardstick = cacheReuse(modelRequests(own).slice(1));
  } finally {
    await own.close();
  }
});
after(() => h.close());

const paths = () => ({ ...h.gw.engine.stats().conversation_paths });
const delta = (before: Record<string, number>) => Object.fromEntries(Object.entries(paths()).map(([k, v]) => [k, v - before[k]]).filter(([, v]) => v));

/** Checks turn n's request carries the whole conversation as real alternating turns. */
function assertRealTurns(n: number, tag: string) {
  const req = modelRequests(h.upstream).at(-1)!;
  const turns = turnsOf(req);
  assert.equal(turns.length, 2 * n - 1, `turn ${n}: ${turns.map((t) => t.role).join(',')}`);
  turns.forEach((t, i) => assert.equal(t.role, i % 2 ? 'assistant' : 'user'));
  for (let k = 1; k < n; k++) assert.equal(turns[2 * k - 1].text, answerText(k, tag));
  return req;
}

test('Chat Completions: a 12-turn conversation is one live Claude Code session with the prompt cache kept', async () => {
  const before = paths();
  const first = modelRequests(h.upstream).length;
  const messages: OpenAI.ChatCompletionMessageParam[] = [];
  for (let i = 1; i <= TURNS; i++) {
    messages.push({ role: 'user', content: turnText(i, 'c') });
    const r = await chat.chat.completions.create({ model: 'sonnet', messages });
    assert.equal(r.choices[0].message.content, answerText(i, 'c'));
    messages.push({ role: 'assistant', content: r.choices[0].message.content });
    assertRealTurns(i, 'c');
    if (i > 1) assert.equal(r.usage?.prompt_tokens_details?.cached_tokens, modelRequests(h.upstream).at(-1)!.usage!.cache_read_input_tokens);
  }
  assert.deepEqual(delta(before), { new: 1, live: TURNS - 1 });
  const reuse = cacheReuse(modelRequests(h.upstream).slice(first + 1));
  assert.ok(reuse >= 0.8 && reuse >= yardstick - 0.005, `cache reuse ${reuse.toFixed(3)} (Claude Code's own session: ${yardstick.toFixed(3)})`);
});

test('Anthropic Messages: a 12-turn conversation as real turns, cache reuse like Claude Code', async () => {
  const client = new Anthropic({ baseURL: h.gw.url, apiKey: TEST_KEY, maxRetries: 0 });
  const before = paths();
  const first = modelRequests(h.upstream).length;
  const messages: Anthropic.MessageParam[] = [];
  for (let i = 1; i <= TURNS; i++) {
    messages.push({ role: 'user', content: turnText(i, 'm') });
    const m = await client.messages.create({ model: 'sonnet', max_tokens: 1024, messages });
    const text = m.content.map((b) => (b.type === 'text' ? b.text : '')).join('');
    assert.equal(text, answerText(i, 'm'));
    messages.push({ role: 'assistant', content: m.content });
    assertRealTurns(i, 'm');
    assert.equal(m.usage.cache_read_input_tokens, modelRequests(h.upstream).at(-1)!.usage!.cache_read_input_tokens);
  }
  assert.deepEqual(delta(before), { new: 1, live: TURNS - 1 });
  const reuse = cacheReuse(modelRequests(h.upstream).slice(first + 1));
  assert.ok(reuse >= 0.8 && reuse >= yardstick - 0.005, `cache reuse ${reuse.toFixed(3)} (Claude Code's own session: ${yardstick.toFixed(3)})`);
});

test('OpenAI Responses (whole input each time): a 12-turn conversation as real turns', async () => {
  const before = paths();
  const first = modelRequests(h.upstream).length;
  const input: OpenAI.Responses.ResponseInputItem[] = [];
  for (let i = 1; i <= TURNS; i++) {
    input.push({ role: 'user', content: turnText(i, 'r') });
    const r = await chat.responses.create({ model: 'sonnet', input, store: false });
    assert.equal(r.output_text, answerText(i, 'r'));
    input.push({ role: 'assistant', content: r.output_text });
    assertRealTurns(i, 'r');
    assert.equal(r.usage?.input_tokens_details.cached_tokens, modelRequests(h.upstream).at(-1)!.usage!.cache_read_input_tokens);
  }
  assert.deepEqual(delta(before), { new: 1, live: TURNS - 1 });
  const reuse = cacheReuse(modelRequests(h.upstream).slice(first + 1));
  assert.ok(reuse >= 0.8 && reuse >= yardstick - 0.005, `cache reuse ${reuse.toFixed(3)} (Claude Code's own session: ${yardstick.toFixed(3)})`);
});

test('regenerate, edit and two conversations with the same opening each reach the API with exactly their own history', async () => {
  const ask = async (messages: OpenAI.ChatCompletionMessageParam[], key = TEST_KEY) => {
    const c = key === TEST_KEY ? chat : new OpenAI({ baseURL: h.baseURL, apiKey: key, maxRetries: 0 });
    const r = await c.chat.completions.create({ model: 'sonnet', messages });
    return { text: r.choices[0].message.content!, seen: turnsOf(modelRequests(h.upstream).at(-1)!).map((t) => t.text) };
  };
  const opening: OpenAI.ChatCompletionMessageParam = { role: 'user', content: 'same opening [[reply:hello there]]' };
  await ask([opening]);
  const a: OpenAI.ChatCompletionMessageParam[] = [opening, { role: 'assistant', content: 'hello there' }];
  const b = [...a];
  // Interleaved: A and B share their first turn, then go their own ways.
  for (let i = 1; i <= 3; i++) {
    for (const [conv, tag] of [[a, 'A'], [b, 'B']] as const) {
      conv.push({ role: 'user', content: `${tag} turn ${i} [[reply:${tag} answer ${i}]]` });
      const r = await ask(conv);
      assert.equal(r.text, `${tag} answer ${i}`);
      assert.deepEqual(r.seen, conv.map((m) => m.content));
      conv.push({ role: 'assistant', content: r.text });
    }
  }
  // Regenerate: A up to its second turn, then another question; nothing later reaches the API.
  const before = paths();
  const regen = [...a.slice(0, 4), { role: 'user' as const, content: 'A instead [[reply:A other]]' }];
  const r1 = await ask(regen);
  assert.equal(r1.text, 'A other');
  assert.deepEqual(r1.seen, regen.map((m) => m.content));
  // Edit of the first message: the edited text reaches the API, the original does not.
  const edited = [{ role: 'user' as const, content: 'edited opening' }, ...a.slice(1)];
  edited.push({ role: 'user', content: 'after the edit [[reply:edited ok]]' });
  const r2 = await ask(edited);
  assert.equal(r2.text, 'edited ok');
  assert.deepEqual(r2.seen, edited.map((m) => m.content));
  assert.deepEqual(delta(before), { resumed: 1, imported: 1 });
  // Another key with the very same history never continues this key's session.
  const before2 = paths();
  const other = await ask([...a, { role: 'user', content: 'other key [[reply:fresh]]' }], OTHER_KEY);
  assert.equal(other.text, 'fresh');
  assert.deepEqual(delta(before2), { imported: 1 });
});

test('a double submit is answered twice, each from the same history', async () => {
  const conv: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'double [[reply:one]]' }];
  await chat.chat.completions.create({ model: 'sonnet', messages: conv });
  conv.push({ role: 'assistant', content: 'one' }, { role: 'user', content: 'again [[reply:two]]' });
  const before = modelRequests(h.upstream).length;
  const [x, y] = await Promise.all([0, 1].map(() => chat.chat.completions.create({ model: 'sonnet', messages: conv })));
  assert.equal(x.choices[0].message.content, 'two');
  assert.equal(y.choices[0].message.content, 'two');
  const sent = modelRequests(h.upstream).slice(before);
  assert.equal(sent.length, 2);
  for (const r of sent) assert.deepEqual(turnsOf(r).map((t) => t.text), conv.map((m) => m.content));
  // Whichever process served each, the bytes before the new turn are the same.
  assert.deepEqual(withoutCacheControl(sent[0].body.messages), withoutCacheControl(sent[1].body.messages));
});

test('tool calls and images in a history never seen reach the API as native blocks (imported)', async () => {
  const tools: OpenAI.ChatCompletionTool[] = [{ type: 'function', function: weatherTool }];
  const messages: OpenAI.ChatCompletionMessageParam[] = [
    { role: 'user', content: [{ type: 'text', text: 'What is the weather here?' }, { type: 'image_url', image_url: { url: PNG_DATA_URL } }] },
    { role: 'assistant', content: null, tool_calls: [{ id: 'call_w1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
    { role: 'tool', tool_call_id: 'call_w1', content: 'sunny, 21 C' },
    { role: 'assistant', content: 'It is sunny in Paris.' },
    { role: 'user', content: 'Thanks! [[reply:you are welcome]]' },
  ];
  const before = paths();
  const r = await chat.chat.completions.create({ model: 'sonnet', messages, tools });
  assert.equal(r.choices[0].message.content, 'you are welcome');
  assert.deepEqual(delta(before), { imported: 1 });
  const sent = (modelRequests(h.upstream).at(-1)!.body.messages as any[]).filter((m) => m.role !== 'system');
  const blocks = (m: any) => (typeof m.content === 'string' ? [{ type: 'text' }] : m.content).map((b: any) => b.type);
  assert.deepEqual(sent.map((m) => [m.role, blocks(m)]), [
    ['user', ['text', 'image']],
    ['assistant', ['tool_use']],
    ['user', ['tool_result']],
    ['assistant', ['text']],
    ['user', ['text']],
  ]);
  assert.equal(sent[1].content[0].name, 'mcp__c__get_weather');
  assert.equal(sent[2].content[0].tool_use_id, sent[1].content[0].id);
  assert.equal(sent[0].content[1].source.data, PNG_BASE64);
});

test('a live tool round trip, then the next user turn goes on in the same session', async () => {
  const tools: OpenAI.ChatCompletionTool[] = [{ type: 'function', function: weatherTool }];
  const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Weather? [[tool:get_weather:{"city":"Oslo"}]] [[after-tool:Oslo is]]' }];
  const first = await chat.chat.completions.create({ model: 'sonnet', messages, tools });
  const call = first.choices[0].message.tool_calls![0] as OpenAI.ChatCompletionMessageFunctionToolCall;
  messages.push(first.choices[0].message as OpenAI.ChatCompletionMessageParam, { role: 'tool', tool_call_id: call.id, content: 'snowing' });
  const second = await chat.chat.completions.create({ model: 'sonnet', messages, tools });
  assert.equal(second.choices[0].message.content, 'Oslo is snowing');
  messages.push({ role: 'assistant', content: second.choices[0].message.content }, { role: 'user', content: 'And tomorrow? [[reply:also snow]]' });
  const before = paths();
  const third = await chat.chat.completions.create({ model: 'sonnet', messages, tools });
  assert.equal(third.choices[0].message.content, 'also snow');
  assert.deepEqual(delta(before), { live: 1 });
  const sent = (modelRequests(h.upstream).at(-1)!.body.messages as any[]).filter((m) => m.role !== 'system');
  assert.deepEqual(sent.map((m) => m.role), ['user', 'assistant', 'user', 'assistant', 'user']);
  assert.match(JSON.stringify(sent[2]), /tool_result.*snowing/);
});

test('histories that cannot be real turns as sent are normalised or flattened, never refused for it', async () => {
  // Two assistant messages in a row are one assistant turn, as the Messages API merges them.
  const merged = await chat.chat.completions.create({
    model: 'sonnet',
    messages: [
      { role: 'user', content: 'hi' },
      { role: 'assistant', content: 'part one.' },
      { role: 'assistant', content: 'part two.' },
      { role: 'user', content: 'go on [[reply:merged]]' },
    ],
  });
  assert.equal(merged.choices[0].message.content, 'merged');
  const sent = turnsOf(modelRequests(h.upstream).at(-1)!);
  assert.deepEqual(sent.map((t) => t.role), ['user', 'assistant', 'user']);
  assert.match(sent[1].text, /part one\.\s*part two\./);
  // A history that opens with the assistant cannot be a Claude Code session: the flattened record.
  const before = paths();
  const flat = await chat.chat.completions.create({
    model: 'sonnet',
    messages: [
      { role: 'assistant', content: 'How can I help?' },
      { role: 'user', content: 'a question [[reply:flattened]]' },
    ],
  });
  assert.equal(flat.choices[0].message.content, 'flattened');
  assert.deepEqual(delta(before), { flattened: 1 });
  // A tool result for a call nobody made is still a clear 400.
  await assert.rejects(
    chat.chat.completions.create({ model: 'sonnet', messages: [{ role: 'user', content: 'x' }, { role: 'tool', tool_call_id: 'call_nope', content: 'y' }] }),
    (e: any) => e.status === 400 && /call_nope/.test(e.message),
  );
});

test("an imported history keeps the gateway's own signed thinking and drops any other", async () => {
  const client = new Anthropic({ baseURL: h.gw.url, apiKey: TEST_KEY, maxRetries: 0 });
  const thinking = { type: 'enabled' as const, budget_tokens: 1024 };
  const first = await client.messages.create({ model: 'sonnet', max_tokens: 2048, thinking, messages: [{ role: 'user', content: '[[thinking:Mine.]] [[reply:signed answer]]' }] });
  const own = first.content.find((b) => b.type === 'thinking')!;
  assert.ok(own.type === 'thinking' && own.signature);
  const before = paths();
  await client.messages.create({
    model: 'sonnet',
    max_tokens: 2048,
    thinking,
    messages: [
      { role: 'user', content: '[[thinking:Mine.]] [[reply:signed answer]]' },
      { role: 'assistant', content: first.content },
      { role: 'user', content: 'and then?' },
      // Written by the client, not by the gateway: its signature cannot go back to the API.
      { role: 'assistant', content: [{ type: 'thinking', thinking: 'Forged.', signature: 'sig_forged' }, { type: 'text', text: 'made up' }] },
      { role: 'user', content: 'last [[reply:done]]' },
    ],
  });
  assert.deepEqual(delta(before), { imported: 1 });
  const sent = (modelRequests(h.upstream).at(-1)!.body.messages as any[]).filter((m) => m.role === 'assistant');
  assert.deepEqual(sent[0].content.map((b: any) => b.type), ['thinking', 'text']);
  assert.equal(sent[0].content[0].signature, own.signature);
  assert.deepEqual(sent[1].content.map((b: any) => b.type), ['text']);
});
