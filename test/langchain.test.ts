// LangChain JS against the gateway: ChatOpenAI (Chat Completions, and the Responses API) and
// ChatAnthropic (Messages). bindTools round trips with a tool that really runs, streaming,
// withStructuredOutput in each method the class offers, and the forced-tool-choice outcome that
// functionCalling depends on: a model that never calls the tool is a clean 502, not glued prose.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ChatAnthropic } from '@langchain/anthropic';
import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import { HumanMessage, type BaseMessage } from '@langchain/core/messages';
import { tool } from '@langchain/core/tools';
import { ChatOpenAI } from '@langchain/openai';
import { z } from 'zod';
import { startHarness, TEST_KEY, type Harness } from './support/harness.js';
import { answeredLive } from './support/tools.js';
import { installedVersion } from './support/versions.js';

let h: Harness;

before(async () => {
  h = await startHarness({});
});
after(() => h.close());

const city = z.object({ city: z.string().describe('The city') }).describe('A city');

const models: { name: string; make: () => BaseChatModel; methods: ('jsonSchema' | 'functionCalling' | 'jsonMode')[] }[] = [
  {
    name: `ChatOpenAI (@langchain/openai ${installedVersion('@langchain/openai')}), Chat Completions`,
    make: () => new ChatOpenAI({ model: 'sonnet', apiKey: TEST_KEY, configuration: { baseURL: h.baseURL }, maxRetries: 0 }),
    methods: ['jsonSchema', 'functionCalling', 'jsonMode'],
  },
  {
    name: `ChatOpenAI (@langchain/openai ${installedVersion('@langchain/openai')}), Responses API`,
    make: () => new ChatOpenAI({ model: 'sonnet', apiKey: TEST_KEY, configuration: { baseURL: h.baseURL }, maxRetries: 0, useResponsesApi: true }),
    methods: ['jsonSchema', 'functionCalling', 'jsonMode'],
  },
  {
    name: `ChatAnthropic (@langchain/anthropic ${installedVersion('@langchain/anthropic')})`,
    make: () => new ChatAnthropic({ model: 'sonnet', apiKey: TEST_KEY, anthropicApiUrl: h.gw.url, maxRetries: 0 }),
    // jsonMode is not an Anthropic method (LangChain falls back to jsonSchema).
    methods: ['jsonSchema', 'functionCalling'],
  },
];

models.forEach(({ name, make, methods }, n) => {
  describe(`${name}, @langchain/core ${installedVersion('@langchain/core')}`, () => {
    const tag = `lc${n}`;

    test('bindTools: the tool call comes back, the tool runs, its result makes the answer', async () => {
      const seen: string[] = [];
      const weather = tool(
        async ({ city }: { city: string }) => {
          seen.push(city);
          return `sunny in ${city}`;
        },
        { name: 'get_weather', description: 'The current weather in a city', schema: city },
      );
      const model = make().bindTools!([weather]);
      const messages: BaseMessage[] = [new HumanMessage(`${tag}-tools Weather? [[tool:get_weather:{"city":"Paris"}]] [[after-tool:LangChain:]]`)];
      const ai = await model.invoke(messages);
      assert.equal(ai.tool_calls?.length, 1);
      assert.equal(ai.tool_calls![0].name, 'get_weather');
      assert.deepEqual(ai.tool_calls![0].args, { city: 'Paris' });
      messages.push(ai, await weather.invoke(ai.tool_calls![0]));
      const final = await model.invoke(messages);
      assert.equal(final.text, 'LangChain: sunny in Paris');
      assert.deepEqual(seen, ['Paris']);
      assert.ok(answeredLive(h.upstream, 'sunny in Paris'));
    });

    test('streaming: the answer arrives in several chunks', async () => {
      let text = '';
      let chunks = 0;
      for await (const c of await make().stream(`${tag}-stream [[reply:one two three four]]`)) {
        text += c.text;
        if (c.text) chunks++;
      }
      assert.equal(text, 'one two three four');
      assert.ok(chunks > 1, `${chunks} chunks`);
    });

    for (const method of methods) {
      test(`withStructuredOutput, method ${method}: the parsed object`, async () => {
        // jsonSchema / jsonMode go through the CLI's structured output (its StructuredOutput tool);
        // functionCalling forces a call to the tool named after the schema.
        const call = method === 'functionCalling' ? 'City' : 'StructuredOutput';
        const structured = make().withStructuredOutput(city, { name: 'City', method });
        const hint = method === 'jsonMode' ? ' Answer in JSON.' : '';
        const out = await structured.invoke(`${tag}-${method} Capital of France?${hint} [[tool:${call}:{"city":"Paris"}]]`);
        assert.deepEqual(out, { city: 'Paris' });
      });
    }

    test('withStructuredOutput functionCalling, the model never calls the tool: a clean 502, no glued prose', async () => {
      const structured = make().withStructuredOutput(city, { name: 'City', method: 'functionCalling' });
      await assert.rejects(structured.invoke(`${tag}-forced-fail [[reply:I would rather chat.]]`), (e: any) => {
        const status = e.status ?? e.response?.status ?? e.error?.status;
        assert.equal(status, 502, String(e));
        assert.match(String(e.message), /without calling a tool/);
        assert.doesNotMatch(String(e.message), /rather chat|mcp__/);
        return true;
      });
    });
  });
});
