// The AI SDK's Anthropic provider against the gateway's Messages endpoint: text, streaming with
// reasoning, and a tool round trip driven by the SDK.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createAnthropic } from '@ai-sdk/anthropic';
import { generateText, stepCountIs, streamText, tool } from 'ai';
import { z } from 'zod';
import { startHarness, TEST_KEY, type Harness } from './support/harness.js';

let h: Harness;
let anthropic: ReturnType<typeof createAnthropic>;

before(async () => {
  h = await startHarness({}, { prewarm: ['sonnet'] });
  anthropic = createAnthropic({ baseURL: `${h.gw.url}/v1`, apiKey: TEST_KEY });
});
after(() => h.close());

test('generateText through /v1/messages', async () => {
  const r = await generateText({ model: anthropic('sonnet'), system: 'Be brief.', prompt: '[[reply:From the Messages API.]]', maxRetries: 0 });
  assert.equal(r.text, 'From the Messages API.');
  assert.equal(r.finishReason, 'stop');
  assert.ok((r.usage.inputTokens ?? 0) > 0);
});

test('streamText carries reasoning and text', async () => {
  const r = streamText({ model: anthropic('sonnet'), prompt: '[[thinking:Let me think.]] [[reply:Thought it through.]]', maxRetries: 0 });
  assert.equal(await r.text, 'Thought it through.');
  assert.match((await r.reasoningText) ?? '', /Let me think\./);
});

test('a tool round trip driven by the SDK', async () => {
  let called: unknown;
  const r = await generateText({
    model: anthropic('sonnet'),
    prompt: 'Weather in Paris? [[tool:get_weather:{"city":"Paris"}]] [[after-tool:It says]]',
    tools: {
      get_weather: tool({
        description: 'Current weather for a city',
        inputSchema: z.object({ city: z.string() }),
        execute: async (input) => {
          called = input;
          return 'sunny, 21C';
        },
      }),
    },
    stopWhen: stepCountIs(2),
    maxRetries: 0,
  });
  assert.deepEqual(called, { city: 'Paris' });
  assert.equal(r.steps.length, 2);
  assert.match(r.text, /It says .*sunny, 21C/);
});
