// Client-defined tools through Chat Completions: real round trips through the openai client, the
// real gateway and the real CLI, against the scripted upstream (which calls tools on [[tool:...]]).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import type { ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions';
import { startHarness, TEST_KEY, type Harness } from './support/harness.js';
import { answeredLive, rebuilt, weatherTool } from './support/tools.js';

let h: Harness;
let client: OpenAI;

before(async () => {
  h = await startHarness({});
  client = new OpenAI({ baseURL: h.baseURL, apiKey: TEST_KEY, maxRetries: 0 });
});
after(() => h.close());

const weather: ChatCompletionTool = { type: 'function', function: { name: weatherTool.name, description: weatherTool.description, parameters: weatherTool.parameters } };
const clock: ChatCompletionTool = { type: 'function', function: { name: 'get_time', description: 'The time in a city', parameters: { type: 'object', properties: { city: { type: 'string' } } } } };

describe('round trips', () => {
  test('runTools drives two rounds of tool calls and gets the answer built from the true results', async () => {
    const seen: unknown[] = [];
    const runner = client.chat.completions.runTools({
      model: 'sonnet',
      messages: [{ role: 'user', content: 'Weather twice [[tool:get_weather:{"city":"Paris"}]] [[tool-rounds:2]] [[after-tool:Final:]]' }],
      tools: [
        {
          type: 'function',
          function: {
            name: 'get_weather',
            description: weatherTool.description,
            parameters: weatherTool.parameters,
            parse: JSON.parse,
            function: (args: { city: string }) => {
              seen.push(args);
              return `sunny in ${args.city} #${seen.length}`;
            },
          },
        },
      ],
    });
    assert.equal(await runner.finalContent(), 'Final: sunny in Paris #2');
    assert.deepEqual(seen, [{ city: 'Paris' }, { city: 'Paris' }]);
    const msgs = runner.messages;
    const calls = msgs.filter((m) => m.role === 'assistant' && 'tool_calls' in m && m.tool_calls?.length);
    assert.equal(calls.length, 2);
    // Both rounds continued the suspended turn in its live process (real tool_result blocks upstream).
    assert.ok(answeredLive(h.upstream, 'sunny in Paris #2'));
    assert.equal(h.gw.engine.parked.size, 0);
  });

  test('a streamed tool call arrives as indexed deltas through ChatCompletionStream, then the continuation streams', async () => {
    const messages: ChatCompletionMessageParam[] = [{ role: 'user', content: 'Stream [[tool:get_weather:{"city":"Oslo","unit":"c"}]] [[after-tool:Streamed:]]' }];
    const stream = client.chat.completions.stream({ model: 'sonnet', messages, tools: [weather], stream: true });
    let chunksWithCalls = 0;
    let argFragments = 0;
    stream.on('chunk', (c) => {
      const tc = c.choices[0]?.delta?.tool_calls;
      if (tc?.length) {
        chunksWithCalls++;
        if (tc[0].function?.arguments) argFragments++;
        assert.equal(tc[0].index, 0);
      }
    });
    const first = await stream.finalChatCompletion();
    const choice = first.choices[0];
    assert.equal(choice.finish_reason, 'tool_calls');
    const call = choice.message.tool_calls![0];
    assert.equal(call.type, 'function');
    assert.ok(call.type === 'function' && call.function.name === 'get_weather');
    assert.ok(call.type === 'function' && JSON.parse(call.function.arguments).city === 'Oslo');
    assert.match(call.id, /^toolu_/);
    assert.ok(chunksWithCalls >= 3, 'name chunk plus argument fragments');
    assert.ok(argFragments >= 2, 'arguments arrive in fragments');

    messages.push(choice.message as ChatCompletionMessageParam, { role: 'tool', tool_call_id: call.id, content: '4 degrees' });
    const second = client.chat.completions.stream({ model: 'sonnet', messages, tools: [weather], stream: true });
    const parts: string[] = [];
    second.on('content', (d) => parts.push(d));
    const final = await second.finalChatCompletion();
    assert.equal(final.choices[0].message.content, 'Streamed: 4 degrees');
    assert.equal(final.choices[0].finish_reason, 'stop');
    assert.ok(parts.length >= 2);
  });

  test('two parallel calls come back together and both results reach the model', async () => {
    const messages: ChatCompletionMessageParam[] = [
      { role: 'user', content: 'Both [[tool:get_weather:{"city":"Rome"}]] [[tool:get_time:{"city":"Rome"}]] [[after-tool:Both:]]' },
    ];
    const r1 = await client.chat.completions.create({ model: 'sonnet', messages, tools: [weather, clock] });
    const m = r1.choices[0].message;
    assert.equal(r1.choices[0].finish_reason, 'tool_calls');
    assert.equal(m.content, null);
    assert.deepEqual(
      m.tool_calls!.map((c) => c.type === 'function' && c.function.name),
      ['get_weather', 'get_time'],
    );
    assert.ok(r1.usage!.completion_tokens >= 1);
    // Results in reverse order: matched by call id, not position.
    const [w, t] = m.tool_calls!;
    messages.push(m as ChatCompletionMessageParam, { role: 'tool', tool_call_id: t.id, content: '10:00' }, { role: 'tool', tool_call_id: w.id, content: 'warm' });
    const r2 = await client.chat.completions.create({ model: 'sonnet', messages, tools: [weather, clock] });
    assert.equal(r2.choices[0].message.content, 'Both: warm | 10:00');
    assert.ok(answeredLive(h.upstream, 'warm'));
  });

  test('tool definitions reach the model sorted, with stable names, whatever order the client sends', async () => {
    const names = async (tools: ChatCompletionTool[]) => {
      const r = await client.chat.completions.create({ model: 'sonnet', messages: [{ role: 'user', content: '[[dump]]' }], tools });
      // The CLI adds a placeholder of its own (deferred tool loading); the client's tools are the mcp__ ones.
      return JSON.parse(r.choices[0].message.content!).tools.filter((n: string) => n.startsWith('mcp__'));
    };
    const a = await names([weather, clock]);
    const b = await names([clock, weather]);
    assert.deepEqual(a, ['mcp__c__get_time', 'mcp__c__get_weather']);
    assert.deepEqual(b, a);
  });
});

describe('tool_choice', () => {
  test('none: the model is not shown the tools', async () => {
    const r = await client.chat.completions.create({ model: 'sonnet', messages: [{ role: 'user', content: '[[dump]]' }], tools: [weather], tool_choice: 'none' });
    assert.deepEqual(JSON.parse(r.choices[0].message.content!).tools, []);
    assert.equal(r.choices[0].finish_reason, 'stop');
  });

  test('required: a model that answers in prose is sent back until it calls a tool', async () => {
    const r = await client.chat.completions.create({
      model: 'sonnet',
      messages: [{ role: 'user', content: '[[reply:Just chatting.]] [[tool-if-pushed:get_weather:{"city":"Lima"}]]' }],
      tools: [weather],
      tool_choice: 'required',
    });
    assert.equal(r.choices[0].finish_reason, 'tool_calls');
    assert.equal(r.choices[0].message.tool_calls!.length, 1);
  });

  test('a named tool: calls to other tools are refused and the named one is required', async () => {
    const r = await client.chat.completions.create({
      model: 'sonnet',
      messages: [{ role: 'user', content: '[[tool:get_time:{}]] [[after-tool:Refused:]] [[tool-if-pushed:get_weather:{"city":"Kyiv"}]]' }],
      tools: [weather, clock],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
    });
    const calls = r.choices[0].message.tool_calls!;
    assert.deepEqual(
      calls.map((c) => c.type === 'function' && c.function.name),
      ['get_weather'],
    );
    assert.equal(r.choices[0].finish_reason, 'tool_calls');
  });

  test('parallel_tool_calls false: one call per response', async () => {
    const r = await client.chat.completions.create({
      model: 'sonnet',
      messages: [{ role: 'user', content: '[[tool:get_weather:{"city":"A"}]] [[tool:get_time:{"city":"B"}]]' }],
      tools: [weather, clock],
      parallel_tool_calls: false,
    });
    assert.equal(r.choices[0].message.tool_calls!.length, 1);
  });

  test('a named tool that is not declared, and required without tools, are 400s', async () => {
    await assert.rejects(
      client.chat.completions.create({ model: 'sonnet', messages: [{ role: 'user', content: 'x' }], tools: [weather], tool_choice: { type: 'function', function: { name: 'nope' } } }),
      (e: any) => e.status === 400 && /nope/.test(e.message) && e.param === 'tool_choice',
    );
    await assert.rejects(
      client.chat.completions.create({ model: 'sonnet', messages: [{ role: 'user', content: 'x' }], tool_choice: 'required' }),
      (e: any) => e.status === 400 && /required/.test(e.message),
    );
  });
});

describe('clear 400s', () => {
  const bad = (parameters: Record<string, unknown>): ChatCompletionTool => ({ type: 'function', function: { name: 'bad', parameters } });
  for (const [label, parameters, pattern] of [
    ['an unknown type', { type: 'object', properties: { a: { type: 'strin' } } }, /Invalid input schema for tool 'bad' at \/properties\/a\/type/],
    ['a non-object schema', { type: 'array', items: {} }, /type must be 'object'/],
    ['properties that are not an object', { type: 'object', properties: [] }, /'properties' must be an object/],
  ] as const) {
    test(`a malformed tool schema (${label})`, async () => {
      await assert.rejects(client.chat.completions.create({ model: 'sonnet', messages: [{ role: 'user', content: 'x' }], tools: [bad(parameters)] }), (e: any) => {
        assert.equal(e.status, 400);
        assert.match(e.message, pattern);
        assert.equal(e.code, 'invalid_tools');
        return true;
      });
    });
  }

  test('duplicate tool names', async () => {
    await assert.rejects(client.chat.completions.create({ model: 'sonnet', messages: [{ role: 'user', content: 'x' }], tools: [weather, weather] }), (e: any) => e.status === 400 && /twice/.test(e.message));
  });

  test('a tool result for an unknown call id', async () => {
    await assert.rejects(
      client.chat.completions.create({
        model: 'sonnet',
        tools: [weather],
        messages: [
          { role: 'user', content: 'hi' },
          { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{}' } }] },
          { role: 'tool', tool_call_id: 'call_1', content: 'ok' },
          { role: 'tool', tool_call_id: 'call_999', content: 'who?' },
        ],
      }),
      (e: any) => e.status === 400 && e.code === 'unknown_tool_call_id' && /call_999/.test(e.message),
    );
  });

  test('a tool call left without a result', async () => {
    await assert.rejects(
      client.chat.completions.create({
        model: 'sonnet',
        tools: [weather],
        messages: [
          { role: 'user', content: 'hi' },
          { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{}' } }] },
          { role: 'user', content: 'never mind' },
        ],
      }),
      (e: any) => e.status === 400 && e.code === 'missing_tool_result',
    );
  });
});

describe('without the live turn', () => {
  test('a history the gateway never saw is rebuilt and answered with the given results', async () => {
    const r = await client.chat.completions.create({
      model: 'sonnet',
      tools: [weather],
      messages: [
        { role: 'user', content: 'Weather? [[tool:get_weather:{"city":"Bern"}]] [[after-tool:Rebuilt:]]' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_elsewhere', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Bern"}' } }] },
        { role: 'tool', tool_call_id: 'call_elsewhere', content: 'foggy' },
      ],
    });
    assert.equal(r.choices[0].message.content, 'Rebuilt: foggy');
    assert.ok(rebuilt(h.upstream, 'foggy'));
  });
});
