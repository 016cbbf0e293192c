// Client tools through the Anthropic Messages and OpenAI Responses dialects: tool_use -> tool_result
// with the Anthropic SDK, function_call -> function_call_output with openai-node, each continuing
// the suspended Claude Code turn with the true results.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { startHarness, TEST_KEY, type Harness } from './support/harness.js';
import { answeredLive, weatherTool } from './support/tools.js';

let h: Harness;
let anthropic: Anthropic;
let openai: OpenAI;

before(async () => {
  h = await startHarness({});
  anthropic = new Anthropic({ baseURL: h.gw.url, apiKey: TEST_KEY, maxRetries: 0 });
  openai = new OpenAI({ baseURL: h.baseURL, apiKey: TEST_KEY, maxRetries: 0 });
});
after(() => h.close());

const anthropicTool: Anthropic.Tool = { name: weatherTool.name, description: weatherTool.description, input_schema: weatherTool.parameters as Anthropic.Tool.InputSchema };

describe('Anthropic Messages', () => {
  test('tool_use -> tool_result round trip, streamed first round, with the true result', async () => {
    const messages: Anthropic.MessageParam[] = [{ role: 'user', content: 'Weather? [[tool:get_weather:{"city":"Paris"}]] [[tool:get_weather:{"city":"Lyon"}]] [[after-tool:Anthropic:]]' }];
    const first = await anthropic.messages.stream({ model: 'sonnet', max_tokens: 512, messages, tools: [anthropicTool] }).finalMessage();
    assert.equal(first.stop_reason, 'tool_use');
    const uses = first.content.filter((b): b is Anthropic.ToolUseBlock => b.type === 'tool_use');
    assert.deepEqual(
      uses.map((u) => [u.name, u.input]),
      [
        ['get_weather', { city: 'Paris' }],
        ['get_weather', { city: 'Lyon' }],
      ],
    );
    messages.push(
      { role: 'assistant', content: first.content },
      { role: 'user', content: uses.map((u, i) => ({ type: 'tool_result' as const, tool_use_id: u.id, content: i === 0 ? 'cloudy' : [{ type: 'text' as const, text: 'rain' }] })) },
    );
    const second = await anthropic.messages.create({ model: 'sonnet', max_tokens: 512, messages, tools: [anthropicTool] });
    assert.equal(second.stop_reason, 'end_turn');
    assert.deepEqual(second.content, [{ type: 'text', text: 'Anthropic: cloudy | rain' }]);
    assert.ok(answeredLive(h.upstream, 'cloudy'));
  });

  test("tool_choice any sends a prose answer back until it calls a tool", async () => {
    const m = await anthropic.messages.create({
      model: 'sonnet',
      max_tokens: 512,
      messages: [{ role: 'user', content: '[[reply:No tools today.]] [[tool-if-pushed:get_weather:{"city":"Oslo"}]]' }],
      tools: [anthropicTool],
      tool_choice: { type: 'any' },
    });
    assert.equal(m.stop_reason, 'tool_use');
    assert.ok(m.content.some((b) => b.type === 'tool_use' && b.name === 'get_weather'));
  });

  test('a malformed input_schema and an unknown tool_use_id are 400s in the Anthropic error shape', async () => {
    await assert.rejects(
      anthropic.messages.create({ model: 'sonnet', max_tokens: 64, messages: [{ role: 'user', content: 'x' }], tools: [{ name: 'bad', input_schema: { type: 'object', properties: { a: { type: 7 } } } as never }] }),
      (e: any) => e.status === 400 && e.error?.error?.type === 'invalid_request_error' && /Invalid input schema for tool 'bad'/.test(e.message),
    );
    await assert.rejects(
      anthropic.messages.create({
        model: 'sonnet',
        max_tokens: 64,
        tools: [anthropicTool],
        messages: [
          { role: 'user', content: 'x' },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_nobody', content: 'orphan' }] },
        ],
      }),
      (e: any) => e.status === 400 && /toolu_nobody/.test(e.message),
    );
  });
});

describe('OpenAI Responses', () => {
  const fn: OpenAI.Responses.FunctionTool = { type: 'function', name: weatherTool.name, description: weatherTool.description, parameters: weatherTool.parameters, strict: false };

  test('function_call -> function_call_output, streamed, with the true result', async () => {
    const input: OpenAI.Responses.ResponseInputItem[] = [{ role: 'user', content: 'Weather? [[tool:get_weather:{"city":"Porto"}]] [[after-tool:Responses:]]' }];
    const stream = openai.responses.stream({ model: 'sonnet', input, tools: [fn] });
    let argDeltas = 0;
    stream.on('response.function_call_arguments.delta', () => argDeltas++);
    const first = await stream.finalResponse();
    const call = first.output.find((o) => o.type === 'function_call') as OpenAI.Responses.ResponseFunctionToolCall | undefined;
    assert.ok(call, 'a function_call item');
    assert.equal(call.name, 'get_weather');
    assert.deepEqual(JSON.parse(call.arguments), { city: 'Porto' });
    assert.ok(argDeltas >= 1);

    input.push(call, { type: 'function_call_output', call_id: call.call_id, output: 'bright' });
    const second = await openai.responses.create({ model: 'sonnet', input, tools: [fn] });
    assert.equal(second.output_text, 'Responses: bright');
    assert.ok(answeredLive(h.upstream, 'bright'));
  });

  test('a tool_choice Claude Code cannot force is a 400, not ignored', async () => {
    await assert.rejects(
      openai.responses.create({ model: 'sonnet', tools: [fn], input: 'x', tool_choice: { type: 'allowed_tools', mode: 'auto', tools: [{ type: 'function', name: 'get_weather' }] } }),
      (e: any) => e.status === 400 && e.param === 'tool_choice' && /allowed_tools/.test(e.message),
    );
  });

  test('an unknown call_id is a 400', async () => {
    await assert.rejects(
      openai.responses.create({ model: 'sonnet', tools: [fn], input: [{ role: 'user', content: 'x' }, { type: 'function_call_output', call_id: 'call_nobody', output: 'orphan' }] }),
      (e: any) => e.status === 400 && /call_nobody/.test(e.message),
    );
  });
});
