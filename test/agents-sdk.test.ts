// The OpenAI Agents SDK (JS) against the gateway, with its Responses model and its Chat Completions
// model: a function tool round trip (the tool really runs in the SDK), a streamed run, and a
// multi-turn run that goes on from the first run's history.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Agent, OpenAIProvider, Runner, setTracingDisabled, tool } from '@openai/agents';
import { z } from 'zod';
import { startHarness, TEST_KEY, type Harness } from './support/harness.js';
import { answeredLive } from './support/tools.js';
import { installedVersion } from './support/versions.js';

// Traces would go to OpenAI with the gateway key: off.
setTracingDisabled(true);
const VERSION = installedVersion('@openai/agents');

let h: Harness;

before(async () => {
  h = await startHarness({});
});
after(() => h.close());

for (const useResponses of [true, false]) {
  describe(`@openai/agents ${VERSION}, ${useResponses ? 'Responses' : 'Chat Completions'} model`, () => {
    const tag = useResponses ? 'resp' : 'chat';
    const runner = () => new Runner({ modelProvider: new OpenAIProvider({ apiKey: TEST_KEY, baseURL: h.baseURL, useResponses }), tracingDisabled: true });
    const calls: string[] = [];
    const weather = tool({
      name: 'get_weather',
      description: 'The current weather in a city',
      parameters: z.object({ city: z.string() }),
      execute: async ({ city }) => {
        calls.push(city);
        return `sunny in ${city}`;
      },
    });
    const agent = new Agent({ name: 'Assistant', instructions: 'You are a helpful assistant.', model: 'sonnet', tools: [weather] });

    test('a function tool round trip: the SDK runs the tool and the answer is built from its result', async () => {
      const result = await runner().run(agent, `${tag}-tool Weather? [[tool:get_weather:{"city":"Paris"}]] [[after-tool:Agents:]]`);
      assert.equal(result.finalOutput, 'Agents: sunny in Paris');
      assert.deepEqual(calls, ['Paris']);
      // The result continued the suspended Claude Code turn in its live process.
      assert.ok(answeredLive(h.upstream, 'sunny in Paris'));
    });

    test('a streamed run with a tool: text deltas arrive and make the final output', async () => {
      const result = await runner().run(agent, `${tag}-stream Weather? [[tool:get_weather:{"city":"Oslo"}]] [[after-tool:Streamed answer:]]`, { stream: true });
      let text = '';
      for await (const chunk of result.toTextStream()) text += chunk;
      await result.completed;
      assert.equal(text, 'Streamed answer: sunny in Oslo');
      assert.equal(result.finalOutput, 'Streamed answer: sunny in Oslo');
    });

    test('a multi-turn run goes on from the first run', async () => {
      const first = await runner().run(agent, `${tag}-turn1 [[reply:First answer.]]`);
      assert.equal(first.finalOutput, 'First answer.');
      const second = await runner().run(agent, [...first.history, { role: 'user', content: `${tag}-turn2 [[reply:Second answer.]]` }]);
      assert.equal(second.finalOutput, 'Second answer.');
      // The model saw the first turn before the second message.
      const req = h.upstream.requests.filter((r) => JSON.stringify(r.body.messages ?? []).includes(`${tag}-turn2`)).at(-1)!;
      const seen = JSON.stringify(req.body.messages);
      assert.ok(seen.indexOf(`${tag}-turn1`) >= 0 && seen.indexOf('First answer.') > seen.indexOf(`${tag}-turn1`));
    });
  });
}
