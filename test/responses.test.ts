// OpenAI Responses through the real openai client and the AI SDK's default OpenAI provider (which
// calls /v1/responses), against the real gateway and the real Claude Code CLI.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createOpenAI, type OpenAIProvider } from '@ai-sdk/openai';
import { generateText, Output, streamText } from 'ai';
import OpenAI from 'openai';
import { z } from 'zod';
import { startHarness, TEST_KEY, type Harness } from './support/harness.js';
import { PDF_BASE64, PNG_BASE64, PNG_DATA_URL, readSse } from './support/media.js';

let h: Harness;
let client: OpenAI;
let provider: OpenAIProvider;

before(async () => {
  h = await startHarness({}, { prewarm: ['sonnet'] });
  client = new OpenAI({ baseURL: h.baseURL, apiKey: TEST_KEY, maxRetries: 0 });
  provider = createOpenAI({ baseURL: h.baseURL, apiKey: TEST_KEY });
});
after(() => h.close());

const dumped = (text: string): any => JSON.parse(text);

describe('openai-node', () => {
  test('responses.create answers with a message item, output_text and usage', async () => {
    const r = await client.responses.create({ model: 'sonnet', input: 'Hi [[reply:Hello there, friend.]]' });
    assert.equal(r.object, 'response');
    assert.equal(r.status, 'completed');
    assert.equal(r.output_text, 'Hello there, friend.');
    assert.equal(r.output.length, 1);
    assert.equal(r.output[0].type, 'message');
    assert.match(r.model, /^claude-/);
    assert.equal(r.usage?.output_tokens, 3);
    assert.ok((r.usage?.input_tokens ?? 0) > 0);
    assert.equal(r.usage?.input_tokens_details.cached_tokens, h.upstream.requests.filter((r) => r.path === '/v1/messages').at(-1)?.usage?.cache_read_input_tokens);
  });

  test('instructions, items, images, PDFs, effort and hosted tools', async () => {
    const r = await client.responses.create({
      model: 'sonnet',
      instructions: 'You are a pirate.',
      reasoning: { effort: 'high' },
      max_output_tokens: 16_000,
      tools: [{ type: 'web_search' }],
      input: [
        { role: 'developer', content: 'Say arr.' },
        { role: 'user', content: 'My name is Ada.' },
        { role: 'assistant', content: 'Hello Ada.' },
        {
          role: 'user',
          content: [
            { type: 'input_image', image_url: PNG_DATA_URL, detail: 'auto' },
            { type: 'input_file', filename: 'spec.pdf', file_data: `data:application/pdf;base64,${PDF_BASE64}` },
            { type: 'input_text', text: 'Describe. [[dump]]' },
          ],
        },
      ],
    });
    const seen = dumped(r.output_text);
    assert.match(JSON.stringify(seen.system), /You are a pirate\.\\n\\nSay arr\./);
    assert.equal(seen.output_config?.effort, 'high');
    // Earlier turns reach the model as real turns; the new one carries the media.
    const turns = seen.messages.filter((m: any) => m.role !== 'system');
    assert.deepEqual(turns.slice(0, 2).map((m: any) => [m.role, JSON.stringify(m.content)]).map(([r, c]: string[]) => [r, /My name is Ada\.|Hello Ada\./.exec(c)?.[0]]), [['user', 'My name is Ada.'], ['assistant', 'Hello Ada.']]);
    const blocks = turns.at(-1).content;
    assert.deepEqual(blocks.find((b: any) => b.type === 'image').source, { type: 'base64', media_type: 'image/png', data: PNG_BASE64 });
    const doc = blocks.find((b: any) => b.type === 'document');
    assert.equal(doc.source.media_type, 'application/pdf');
    assert.equal(doc.title, 'spec.pdf');
  });

  test('responses.stream().finalResponse(): reasoning summary, text, and the event contract', async () => {
    const stream = client.responses.stream({ model: 'sonnet', input: '[[thinking:Pondering.]] [[reply:one two three]]' });
    const events: { type: string; sequence_number: number }[] = [];
    const deltas: string[] = [];
    stream.on('event', (e) => events.push(e));
    stream.on('response.output_text.delta', (e) => deltas.push(e.delta));
    const r = await stream.finalResponse();
    assert.equal(r.status, 'completed');
    assert.equal(r.output_text, 'one two three');
    assert.deepEqual(r.output.map((i) => i.type), ['reasoning', 'message']);
    const reasoning = r.output[0] as OpenAI.Responses.ResponseReasoningItem;
    assert.deepEqual(reasoning.summary, [{ type: 'summary_text', text: 'Pondering.' }]);
    assert.ok(deltas.length >= 3);

    const types = events.map((e) => e.type);
    assert.deepEqual(types.slice(0, 2), ['response.created', 'response.in_progress']);
    assert.equal(types[types.length - 1], 'response.completed');
    for (const t of ['response.output_item.added', 'response.content_part.added', 'response.output_text.delta', 'response.output_text.done', 'response.content_part.done', 'response.output_item.done', 'response.reasoning_summary_text.delta']) {
      assert.ok(types.includes(t), t);
    }
    assert.ok(types.indexOf('response.content_part.added') < types.indexOf('response.output_text.delta'));
    events.forEach((e, i) => assert.equal(e.sequence_number, i, 'sequence numbers increase from 0'));
    const completed = events[events.length - 1] as unknown as { response: OpenAI.Responses.Response };
    assert.equal(completed.response.output.length, 2, 'response.completed carries every output item');
    assert.equal(completed.response.usage?.output_tokens, 3);
  });

  test('max_output_tokens ends the response as incomplete', async () => {
    const r = await client.responses.create({ model: 'sonnet', input: '[[long:40]]', max_output_tokens: 3 });
    assert.equal(r.status, 'incomplete');
    assert.equal(r.incomplete_details?.reason, 'max_output_tokens');
    assert.equal(r.output_text, 'w1 w2 w3 ');
  });

  test('text.format json_schema gives JSON matching the schema', async () => {
    const r = await client.responses.create({
      model: 'sonnet',
      input: 'Capital of France? [[tool:StructuredOutput:{"city":"Paris"}]]',
      text: { format: { type: 'json_schema', name: 'city', strict: true, schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false } } },
    });
    assert.deepEqual(JSON.parse(r.output_text), { city: 'Paris' });
    assert.deepEqual(r.output.map((i) => i.type), ['message']);
  });
});

describe('errors in OpenAI shape', () => {
  const isBadRequest = (param: string) => (e: any) => e instanceof OpenAI.BadRequestError && e.param === param && e.type === 'invalid_request_error';

  test('bad input, unsupported state and unusable schemas are 400s naming the field', async () => {
    await assert.rejects(client.responses.create({ model: 'sonnet', input: 42 as never }), isBadRequest('input'));
    await assert.rejects(client.responses.create({ model: 'sonnet', input: 'x', previous_response_id: 'resp_1' }), isBadRequest('previous_response_id'));
    await assert.rejects(client.responses.create({ model: 'sonnet', input: [{ type: 'item_reference', id: 'msg_1' }] }), isBadRequest('input.0'));
    await assert.rejects(
      client.responses.create({ model: 'sonnet', input: 'x', text: { format: { type: 'json_schema', name: 'n', schema: { type: 'string' } } } }),
      isBadRequest('text.format.schema'),
    );
    await assert.rejects(client.responses.create({ model: 'sonnet', input: [{ role: 'user', content: [{ type: 'input_image', image_url: 'ftp://x', detail: 'auto' }] }] }), isBadRequest('input.0.content.0.image_url'));
  });

  test('an unknown model is 404 and an upstream 429 is a rate limit error', async () => {
    await assert.rejects(client.responses.create({ model: 'nope', input: 'x' }), (e: any) => e instanceof OpenAI.NotFoundError && e.code === 'model_not_found');
    await assert.rejects(client.responses.create({ model: 'sonnet', input: '[[status:429]]' }), (e: any) => e instanceof OpenAI.RateLimitError);
  });

  test('a failure after the stream began is response.failed', async () => {
    const res = await fetch(`${h.baseURL}/responses`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'sonnet', stream: true, input: '[[reply:one two]] [[stream-error]]' }),
    });
    assert.equal(res.status, 200);
    const events = readSse(await res.text());
    for (const e of events) assert.equal(e.event, e.data.type);
    const last = events[events.length - 1].data;
    assert.equal(last.type, 'response.failed');
    assert.equal(last.response.status, 'failed');
    assert.equal(typeof last.response.error.message, 'string');
    assert.ok(!events.some((e) => e.data.type === 'response.completed'));
  });
});

describe('AI SDK default OpenAI provider (/v1/responses)', () => {
  test('generateText', async () => {
    const r = await generateText({ model: provider('sonnet'), system: 'Be brief.', prompt: '[[reply:Brief answer.]]', maxRetries: 0 });
    assert.equal(r.text, 'Brief answer.');
    assert.equal(r.finishReason, 'stop');
    assert.equal(r.usage.outputTokens, 2);
  });

  test('streamText delivers deltas, reasoning, the finish reason and usage', async () => {
    const r = streamText({ model: provider('sonnet'), prompt: '[[thinking:Hmm.]] [[reply:one two three]]', maxRetries: 0 });
    const parts: string[] = [];
    for await (const delta of r.textStream) parts.push(delta);
    assert.equal(parts.join(''), 'one two three');
    assert.ok(parts.length >= 3);
    assert.equal(await r.reasoningText, 'Hmm.');
    assert.equal(await r.finishReason, 'stop');
    assert.equal((await r.usage).outputTokens, 3);
  });

  test('an image and a PDF reach the model; a JSON schema answer parses', async () => {
    const r = await generateText({
      model: provider('sonnet'),
      maxRetries: 0,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'image', image: Buffer.from(PNG_BASE64, 'base64'), mediaType: 'image/png' },
            { type: 'file', data: Buffer.from(PDF_BASE64, 'base64'), mediaType: 'application/pdf', filename: 'spec.pdf' },
            { type: 'text', text: '[[dump]]' },
          ],
        },
      ],
    });
    const blocks = dumped(r.text).messages.find((m: any) => m.role === 'user').content;
    assert.equal(blocks.find((b: any) => b.type === 'image').source.data, PNG_BASE64);
    assert.equal(blocks.find((b: any) => b.type === 'document').source.data, PDF_BASE64);

    const o = await generateText({
      model: provider('sonnet'),
      maxRetries: 0,
      output: Output.object({ schema: z.object({ city: z.string(), population: z.number() }) }),
      prompt: 'Paris? [[tool:StructuredOutput:{"city":"Paris","population":2100000}]]',
    });
    assert.deepEqual(o.output, { city: 'Paris', population: 2100000 });
  });
});
