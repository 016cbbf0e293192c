// The lifecycle of suspended tool turns: a result that arrives after the suspended turn timed out is
// still answered right (the conversation is rebuilt from the client's history), parked turns hold no
// concurrency slot, and shutdown stops parked processes. Plus the AI SDK driving a tool loop.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { generateText, jsonSchema, stepCountIs, tool } from 'ai';
import OpenAI from 'openai';
import type { ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions';
import { startHarness, TEST_KEY, until, type Harness } from './support/harness.js';
import { answeredLive, rebuilt, weatherTool } from './support/tools.js';

let h: Harness;
let client: OpenAI;
const weather: ChatCompletionTool = { type: 'function', function: { ...weatherTool, parameters: { ...weatherTool.parameters } } };

before(async () => {
  // Suspended turns give up after a second: the shortest the config allows.
  h = await startHarness({ toolResultTimeoutMs: 1000 });
  client = new OpenAI({ baseURL: h.baseURL, apiKey: TEST_KEY, maxRetries: 0 });
});
after(() => h.close());

async function firstRound(content: string, c = client) {
  const messages: ChatCompletionMessageParam[] = [{ role: 'user', content }];
  const r = await c.chat.completions.create({ model: 'sonnet', messages, tools: [weather] });
  assert.equal(r.choices[0].finish_reason, 'tool_calls');
  const call = r.choices[0].message.tool_calls![0];
  messages.push(r.choices[0].message as ChatCompletionMessageParam);
  return { messages, call };
}

test('a tool result that arrives after the suspended turn timed out is answered by rebuilding the conversation', async () => {
  const { messages, call } = await firstRound('Weather? [[tool:get_weather:{"city":"Nice"}]] [[after-tool:Late:]]');
  const before = h.gw.engine.parked.timedOut;
  await until(() => h.gw.engine.parked.timedOut > before && h.gw.engine.parked.size === 0, 'the parked turn to time out');
  messages.push({ role: 'tool', tool_call_id: call.id, content: 'late sunshine' });
  const r = await client.chat.completions.create({ model: 'sonnet', messages, tools: [weather] });
  assert.equal(r.choices[0].message.content, 'Late: late sunshine');
  assert.equal(r.choices[0].finish_reason, 'stop');
  assert.ok(rebuilt(h.upstream, 'late sunshine'));
  assert.ok(!answeredLive(h.upstream, 'late sunshine'));
});

test('the AI SDK runs a tool and answers within stopWhen: stepCountIs(2)', async () => {
  const provider = createOpenAICompatible({ name: 'claude-code-gateway', baseURL: h.baseURL, apiKey: TEST_KEY });
  const calls: unknown[] = [];
  const r = await generateText({
    model: provider('sonnet'),
    prompt: 'Weather in Porto? [[tool:get_weather:{"city":"Porto"}]] [[after-tool:AI SDK:]]',
    tools: {
      get_weather: tool({
        description: weatherTool.description,
        inputSchema: jsonSchema<{ city: string }>({ ...weatherTool.parameters } as never),
        execute: async ({ city }) => {
          calls.push(city);
          return `mild in ${city}`;
        },
      }),
    },
    stopWhen: stepCountIs(2),
    maxRetries: 0,
  });
  assert.deepEqual(calls, ['Porto']);
  assert.equal(r.steps.length, 2);
  assert.equal(r.steps[0].finishReason, 'tool-calls');
  assert.equal(r.finishReason, 'stop');
  // The AI SDK sends tool output as JSON text: the model got exactly that.
  assert.equal(r.text, 'AI SDK: mild in Porto');
});

test('a parked turn holds no concurrency slot, and shutdown stops parked processes', async () => {
  const own = await startHarness({ toolResultTimeoutMs: 60_000, maxConcurrency: 1 });
  const c = new OpenAI({ baseURL: own.baseURL, apiKey: TEST_KEY, maxRetries: 0 });
  const { messages, call } = await firstRound('[[tool:get_weather:{"city":"Riga"}]] [[after-tool:Slot:]]', c);
  assert.equal(own.gw.engine.parked.size, 1);
  assert.equal(own.gw.engine.limiter.running, 0);
  // The only slot is free for another client while the first one runs its tool.
  const other = await c.chat.completions.create({ model: 'sonnet', messages: [{ role: 'user', content: '[[reply:meanwhile]]' }] });
  assert.equal(other.choices[0].message.content, 'meanwhile');
  messages.push({ role: 'tool', tool_call_id: call.id, content: 'windy' });
  const r = await c.chat.completions.create({ model: 'sonnet', messages, tools: [weather] });
  assert.equal(r.choices[0].message.content, 'Slot: windy');
  assert.ok(answeredLive(own.upstream, 'windy'));

  await firstRound('[[tool:get_weather:{"city":"Oslo"}]]', c);
  assert.equal(own.gw.engine.parked.size, 1);
  await own.close();
  assert.equal(own.gw.engine.parked.size, 0);
  assert.equal(own.gw.engine.liveProcesses(), 0);
});
