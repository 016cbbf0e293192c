// A forced tool_choice (Chat `required` / a named function, Responses `required`, Anthropic `any` /
// `tool`) has one clean outcome in every dialect: the response holds only the attempt that called
// the tool, or, when the model keeps answering in text after the gateway's two nudges, a 502
// `tool_choice_not_followed` in the dialect's error shape. Never the attempts glued together, never
// a streamed attempt that is later thrown away, and no nudge names the CLI's internal mcp__c__ names.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { startHarness, TEST_KEY, type Harness } from './support/harness.js';
import { weatherTool } from './support/tools.js';

let h: Harness;
let openai: OpenAI;
let anthropic: Anthropic;

before(async () => {
  // A long keepalive: a stream holds its headers until the first model event or keepalive, so a
  // failed forced call is a real HTTP status, whatever the machine's load.
  h = await startHarness({ keepaliveMs: 120_000 });
  openai = new OpenAI({ baseURL: h.baseURL, apiKey: TEST_KEY, maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: h.gw.url, apiKey: TEST_KEY, maxRetries: 0 });
});
after(() => h.close());

const weather: OpenAI.Chat.ChatCompletionTool = { type: 'function', function: { name: weatherTool.name, description: weatherTool.description, parameters: weatherTool.parameters } };
const clock: OpenAI.Chat.ChatCompletionTool = { type: 'function', function: { name: 'get_time', description: 'The time in a city', parameters: { type: 'object', properties: { city: { type: 'string' } } } } };

/** The model requests the scripted upstream got for a prompt carrying `tag`. */
function attempts(tag: string): any[] {
  return h.upstream.requests.filter((r) => r.path === '/v1/messages' && JSON.stringify(r.body.messages ?? []).includes(tag));
}

/** Every text in a message's content: text blocks and tool results (not the model's own tool_use names). */
function textsOf(content: any): string[] {
  if (typeof content === 'string') return [content];
  return (content ?? []).flatMap((b: any) => (b.type === 'text' ? [b.text] : b.type === 'tool_result' ? textsOf(b.content) : []));
}

/** What the model was told in the last request for `tag`, after the prompt: nudges, tool errors. */
function nudgesFor(tag: string): string[] {
  const last = attempts(tag).at(-1)?.body.messages ?? [];
  const at = last.findIndex((m: any) => JSON.stringify(m).includes(tag));
  return last.slice(at + 1).filter((m: any) => m.role !== 'assistant').flatMap((m: any) => textsOf(m.content));
}

function assertCleanFailure(e: any, tag: string): true {
  if (e.status !== 502) throw e;
  assert.match(e.message, /without calling a tool/);
  assert.doesNotMatch(e.message, /mcp__/);
  // Three attempts: the first answer and one after each of the two nudges.
  assert.equal(attempts(tag).length, 3);
  const nudges = nudgesFor(tag).filter((t) => /Stop hook|tool/.test(t));
  assert.ok(nudges.length >= 2, `nudges reached the model: ${JSON.stringify(nudgesFor(tag))}`);
  for (const n of nudgesFor(tag)) assert.doesNotMatch(n, /mcp__c__/);
  return true;
}

describe('Chat Completions', () => {
  test('required, and the model never calls: one 502 in the OpenAI error shape, no nudge names mcp__c__', async () => {
    await assert.rejects(
      openai.chat.completions.create({ model: 'sonnet', messages: [{ role: 'user', content: 'chat-required-fail [[reply:Just chatting.]]' }], tools: [weather], tool_choice: 'required' }),
      (e: any) => e instanceof OpenAI.APIError && (e as any).code === 'tool_choice_not_followed' && assertCleanFailure(e, 'chat-required-fail'),
    );
  });

  test('a named tool, streamed, never called: a 502 before any byte of the attempts', async () => {
    await assert.rejects(
      (async () => {
        const stream = await openai.chat.completions.create({
          model: 'sonnet',
          stream: true,
          messages: [{ role: 'user', content: 'chat-named-fail [[reply:Still just chatting.]]' }],
          tools: [weather, clock],
          tool_choice: { type: 'function', function: { name: 'get_weather' } },
        });
        for await (const _ of stream) assert.fail('no chunk may arrive');
      })(),
      (e: any) => e.status === 502 && e.code === 'tool_choice_not_followed' && assertCleanFailure(e, 'chat-named-fail'),
    );
  });

  test('required, streamed, called after a nudge: only the attempt with the call reaches the client', async () => {
    const stream = await openai.chat.completions.create({
      model: 'sonnet',
      stream: true,
      messages: [{ role: 'user', content: 'chat-required-ok [[reply:Prose first.]] [[tool-if-pushed:get_weather:{"city":"Lima"}]]' }],
      tools: [weather],
      tool_choice: 'required',
    });
    let content = '';
    const calls: string[] = [];
    let finish: string | null | undefined;
    for await (const c of stream) {
      content += c.choices[0]?.delta.content ?? '';
      for (const t of c.choices[0]?.delta.tool_calls ?? []) if (t.function?.name) calls.push(t.function.name);
      finish = c.choices[0]?.finish_reason ?? finish;
    }
    assert.equal(content, '');
    assert.deepEqual(calls, ['get_weather']);
    assert.equal(finish, 'tool_calls');
    for (const n of nudgesFor('chat-required-ok')) assert.doesNotMatch(n, /mcp__c__/);
  });

  test('a named tool: a call to another tool is refused (not shown), with a refusal that names no mcp__c__ tool', async () => {
    const r = await openai.chat.completions.create({
      model: 'sonnet',
      messages: [{ role: 'user', content: 'chat-named-refused [[tool:get_time:{}]] [[after-tool:Refused:]] [[tool-if-pushed:get_weather:{"city":"Kyiv"}]]' }],
      tools: [weather, clock],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
    });
    assert.deepEqual(
      r.choices[0].message.tool_calls!.map((c) => c.type === 'function' && c.function.name),
      ['get_weather'],
    );
    // The refusal text "Refused: ..." the model wrote after the refused call is not part of the answer.
    assert.equal(r.choices[0].message.content ?? '', '');
    const told = nudgesFor('chat-named-refused').join('\n');
    assert.match(told, /only the get_weather tool may be called/);
    assert.match(told, /Call the get_weather tool now/);
    assert.doesNotMatch(told, /mcp__c__/);
  });
});

describe('Responses', () => {
  const fn: OpenAI.Responses.FunctionTool = { type: 'function', name: weatherTool.name, description: weatherTool.description, parameters: weatherTool.parameters, strict: false };

  test('required, never called: a 502 in the Responses error shape, streamed or not', async () => {
    await assert.rejects(
      openai.responses.create({ model: 'sonnet', input: 'resp-required-fail [[reply:No.]]', tools: [fn], tool_choice: 'required' }),
      (e: any) => e.code === 'tool_choice_not_followed' && e.error?.type !== undefined && assertCleanFailure(e, 'resp-required-fail'),
    );
    await assert.rejects(
      (async () => {
        const stream = await openai.responses.create({ model: 'sonnet', stream: true, input: 'resp-stream-fail [[reply:No.]]', tools: [fn], tool_choice: { type: 'function', name: 'get_weather' } });
        for await (const _ of stream) assert.fail('no event may arrive');
      })(),
      (e: any) => e.code === 'tool_choice_not_followed' && assertCleanFailure(e, 'resp-stream-fail'),
    );
  });

  test('required, called after a nudge: one function_call item, no message items from the attempts', async () => {
    const r = await openai.responses.create({ model: 'sonnet', input: 'resp-required-ok [[reply:Prose.]] [[tool-if-pushed:get_weather:{"city":"Oslo"}]]', tools: [fn], tool_choice: 'required' });
    assert.deepEqual(
      r.output.map((o) => o.type),
      ['function_call'],
    );
  });
});

describe('Anthropic Messages', () => {
  const tool: Anthropic.Tool = { name: weatherTool.name, description: weatherTool.description, input_schema: weatherTool.parameters as Anthropic.Tool.InputSchema };

  test('any / tool, never called: a 502 api_error, streamed or not', async () => {
    await assert.rejects(
      anthropic.messages.create({ model: 'sonnet', max_tokens: 256, messages: [{ role: 'user', content: 'anth-any-fail [[reply:Nope.]]' }], tools: [tool], tool_choice: { type: 'any' } }),
      (e: any) => {
        assert.equal(e.error?.error?.type, 'api_error', JSON.stringify(e.error));
        return assertCleanFailure(e, 'anth-any-fail');
      },
    );
    await assert.rejects(
      anthropic.messages
        .stream({ model: 'sonnet', max_tokens: 256, messages: [{ role: 'user', content: 'anth-tool-fail [[reply:Nope.]]' }], tools: [tool], tool_choice: { type: 'tool', name: 'get_weather' } })
        .finalMessage(),
      (e: any) => e.status === 502 && assertCleanFailure(e, 'anth-tool-fail'),
    );
  });

  test('any, streamed, called after a nudge: the message holds the tool_use block only', async () => {
    const events: string[] = [];
    const stream = anthropic.messages.stream({ model: 'sonnet', max_tokens: 256, messages: [{ role: 'user', content: 'anth-any-ok [[reply:Text first.]] [[tool-if-pushed:get_weather:{"city":"Bern"}]]' }], tools: [tool], tool_choice: { type: 'any' } });
    stream.on('streamEvent', (e) => events.push(e.type === 'content_block_start' ? `start:${e.content_block.type}` : e.type));
    const m = await stream.finalMessage();
    assert.equal(m.stop_reason, 'tool_use');
    assert.deepEqual(
      m.content.map((b) => b.type),
      ['tool_use'],
    );
    assert.ok(!events.includes('start:text'));
  });
});
