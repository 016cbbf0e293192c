// OpenAI Responses state through the real openai client (and the AI SDK) against the real gateway and
// the real Claude Code CLI: store, previous_response_id chains, item_reference, retrieve, input_items,
// delete, and that stored responses belong to the gateway key that made them.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createOpenAI } from '@ai-sdk/openai';
import { generateText } from 'ai';
import OpenAI from 'openai';
import { startHarness, TEST_KEY, type Harness } from './support/harness.js';

const OTHER_KEY = 'other-key-0123456789';

let h: Harness;
let client: OpenAI;
let other: OpenAI;

before(async () => {
  h = await startHarness({ apiKeys: [TEST_KEY, OTHER_KEY] }, { prewarm: ['sonnet'] });
  client = new OpenAI({ baseURL: h.baseURL, apiKey: TEST_KEY, maxRetries: 0 });
  other = new OpenAI({ baseURL: h.baseURL, apiKey: OTHER_KEY, maxRetries: 0 });
});
after(() => h.close());

/** What the model received in the last turn, as one string (history may arrive as turns or as a record). */
const lastSeen = () => JSON.stringify(h.upstream.requests.filter((r) => r.path === '/v1/messages').at(-1)?.body.messages);
const inOrder = (s: string, parts: string[]) => {
  let at = -1;
  for (const p of parts) {
    const i = s.indexOf(p, at + 1);
    assert.ok(i > at, `'${p}' reaches the model after the texts before it`);
    at = i;
  }
};

/** `store` is in every response object, though openai-node's Response type leaves it out. */
const storeOf = (r: object) => (r as { store?: boolean }).store;
/** An input message with the client's own item id (the API takes one; openai-node's type does not). */
const withId = (id: string, m: OpenAI.Responses.EasyInputMessage) => ({ ...m, id }) as OpenAI.Responses.ResponseInputItem;

const isNotFound = (e: unknown) => e instanceof OpenAI.NotFoundError;
const isPreviousMissing = (e: any) =>
  e instanceof OpenAI.BadRequestError && e.param === 'previous_response_id' && e.code === 'previous_response_not_found' && e.type === 'invalid_request_error';

async function raw(method: string, path: string, key = TEST_KEY, body?: unknown) {
  const res = await fetch(`${h.baseURL}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as any };
}

describe('previous_response_id', () => {
  test('a 3-link chain: the third turn sees the earlier user turns and answers; instructions are not carried over', async () => {
    const r1 = await client.responses.create({ model: 'sonnet', instructions: 'Talk like a pirate.', input: 'first question [[reply:Alpha reply.]]' });
    assert.equal(r1.output_text, 'Alpha reply.');
    assert.equal(storeOf(r1), true);
    assert.equal(r1.previous_response_id, null);

    const r2 = await client.responses.create({ model: 'sonnet', input: 'second question [[reply:Beta reply.]]', previous_response_id: r1.id });
    assert.equal(r2.output_text, 'Beta reply.');
    assert.equal(r2.previous_response_id, r1.id);

    const r3 = await client.responses.create({ model: 'sonnet', input: [{ role: 'user', content: 'third question [[dump]]' }], previous_response_id: r2.id });
    assert.equal(r3.previous_response_id, r2.id);
    inOrder(lastSeen(), ['first question', 'Alpha reply.', 'second question', 'Beta reply.', 'third question']);
    const seen = JSON.parse(r3.output_text);
    assert.doesNotMatch(JSON.stringify(seen.system), /pirate/, "only the current request's instructions apply");
    assert.doesNotMatch(lastSeen(), /pirate/);

    // The stored chain is intact: a branch from r1 does not see r2.
    await client.responses.create({ model: 'sonnet', input: 'branch [[dump]]', previous_response_id: r1.id });
    inOrder(lastSeen(), ['first question', 'Alpha reply.', 'branch']);
    assert.doesNotMatch(lastSeen(), /second question/);
  });

  test('streaming: response.completed carries store and previous_response_id, and is stored before it is sent', async () => {
    const r1 = await client.responses.create({ model: 'sonnet', input: 'streamed first [[reply:Gamma reply.]]' });
    const stream = client.responses.stream({ model: 'sonnet', input: 'streamed second [[reply:Delta reply.]]', previous_response_id: r1.id });
    const types: string[] = [];
    stream.on('event', (e) => types.push(e.type));
    const created = new Promise<OpenAI.Responses.Response>((resolve) => stream.on('response.created', (e) => resolve(e.response)));
    const r2 = await stream.finalResponse();
    assert.equal(types.at(-1), 'response.completed');
    assert.equal((await created).previous_response_id, r1.id);
    assert.equal(r2.previous_response_id, r1.id);
    assert.equal(storeOf(r2), true);
    assert.equal(r2.output_text, 'Delta reply.');
    inOrder(lastSeen(), ['streamed first', 'Gamma reply.', 'streamed second']);

    // At once, with no wait: the record is already there.
    const r3 = client.responses.stream({ model: 'sonnet', input: 'streamed third [[dump]]', previous_response_id: r2.id });
    const r3final = await r3.finalResponse();
    assert.equal(r3final.previous_response_id, r2.id);
    inOrder(lastSeen(), ['streamed first', 'Gamma reply.', 'streamed second', 'Delta reply.', 'streamed third']);
    const kept = await client.responses.retrieve(r2.id);
    assert.equal(kept.previous_response_id, r1.id);
    assert.equal(kept.output_text, 'Delta reply.');
    assert.deepEqual(kept.output.map((i) => i.id), r2.output.map((i) => i.id));
    assert.deepEqual(kept.usage, r2.usage);
  });

  test('a function_call round trip: only the function_call_output is sent with previous_response_id', async () => {
    const tools: OpenAI.Responses.FunctionTool[] = [
      { type: 'function', name: 'get_weather', description: 'Weather in a city', strict: false, parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
    ];
    const r1 = await client.responses.create({ model: 'sonnet', tools, input: 'Weather in Paris? [[tool:get_weather:{"city":"Paris"}]]' });
    const call = r1.output.find((i): i is OpenAI.Responses.ResponseFunctionToolCall => i.type === 'function_call');
    assert.ok(call, 'the model called the tool');
    assert.equal(call.name, 'get_weather');
    assert.deepEqual(JSON.parse(call.arguments), { city: 'Paris' });

    const r2 = await client.responses.create({
      model: 'sonnet',
      tools,
      previous_response_id: r1.id,
      input: [{ type: 'function_call_output', call_id: call.call_id, output: '18 degrees and sunny' }],
    });
    assert.equal(r2.status, 'completed');
    assert.equal(r2.output_text, 'Tool said: 18 degrees and sunny');
    assert.equal(r2.previous_response_id, r1.id);
  });

  test('unknown ids are a 400 in OpenAI shape', async () => {
    await assert.rejects(client.responses.create({ model: 'sonnet', input: 'x', previous_response_id: 'resp_nope' }), isPreviousMissing);
    const r = await raw('POST', '/responses', TEST_KEY, { model: 'sonnet', input: 'x', previous_response_id: 'resp_x' });
    assert.equal(r.status, 400);
    assert.deepEqual(r.json, {
      error: { message: "Previous response with id 'resp_x' not found.", type: 'invalid_request_error', param: 'previous_response_id', code: 'previous_response_not_found' },
    });
  });
});

describe('item_reference', () => {
  test('resolves against the chain; an unknown item is a 400 naming it', async () => {
    const r1 = await client.responses.create({ model: 'sonnet', input: [withId('msg_client_ref', { type: 'message', role: 'user', content: 'ref first [[reply:Epsilon reply.]]' })] });
    const r2 = await client.responses.create({ model: 'sonnet', input: 'ref second [[reply:Zeta reply.]]', previous_response_id: r1.id });
    const msg = r1.output.find((i) => i.type === 'message')!;
    await client.responses.create({
      model: 'sonnet',
      previous_response_id: r2.id,
      input: [
        { type: 'item_reference', id: msg.id },
        { type: 'item_reference', id: 'msg_client_ref' },
        { role: 'user', content: 'ref third [[dump]]' },
      ],
    });
    inOrder(lastSeen(), ['ref first', 'Epsilon reply.', 'ref second', 'Zeta reply.', 'Epsilon reply.', 'ref first', 'ref third']);

    await assert.rejects(
      client.responses.create({ model: 'sonnet', previous_response_id: r2.id, input: [{ role: 'user', content: 'x' }, { type: 'item_reference', id: 'msg_unknown' }] }),
      (e: any) => e instanceof OpenAI.BadRequestError && e.param === 'input.1' && /msg_unknown/.test(e.message),
    );
    await assert.rejects(client.responses.create({ model: 'sonnet', input: [{ type: 'item_reference', id: 'msg_1' }] }), (e: any) => e instanceof OpenAI.BadRequestError && e.param === 'input.0');
    // Another key's item is unknown too.
    await assert.rejects(other.responses.create({ model: 'sonnet', input: [{ type: 'item_reference', id: msg.id }, { role: 'user', content: 'x' }] }), (e: any) => e instanceof OpenAI.BadRequestError && e.param === 'input.0');
  });

  test('the AI SDK with its default store: true continues a conversation with item references', async () => {
    const sent: string[] = [];
    const provider = createOpenAI({
      baseURL: h.baseURL,
      apiKey: TEST_KEY,
      fetch: (url, init) => (sent.push(String(init?.body ?? '')), fetch(url, init)),
    });
    const first = await generateText({ model: provider('sonnet'), prompt: 'sdk first [[reply:Eta reply.]]', maxRetries: 0 });
    assert.equal(first.text, 'Eta reply.');
    const second = await generateText({
      model: provider('sonnet'),
      maxRetries: 0,
      messages: [{ role: 'user', content: 'sdk first [[reply:Eta reply.]]' }, ...first.response.messages, { role: 'user', content: 'sdk second [[dump]]' }],
    });
    assert.ok(second.text.length > 0);
    assert.match(sent.at(-1)!, /"type":"item_reference"/, 'the SDK referred to its earlier answer by id');
    inOrder(lastSeen(), ['sdk first', 'Eta reply.', 'sdk second']);
  });
});

describe('stored responses', () => {
  test('retrieve and input_items (order, limit, after, has_more)', async () => {
    const r = await client.responses.create({
      model: 'sonnet',
      input: [
        { role: 'developer', content: 'Be brief.' },
        { role: 'user', content: 'item one' },
        withId('msg_client_2', { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'item two [[reply:Theta reply.]]' }] }),
      ],
    });
    assert.equal(storeOf(r), true);
    const got = await client.responses.retrieve(r.id);
    assert.deepEqual(got, r);
    assert.equal(got.output_text, 'Theta reply.');

    const desc = await client.responses.inputItems.list(r.id);
    assert.equal(desc.data.length, 3);
    assert.equal(desc.has_more, false);
    assert.equal(desc.data[0].id, 'msg_client_2', 'newest first by default');
    for (const i of desc.data) assert.ok(i.id && i.type === 'message');
    const asc = await client.responses.inputItems.list(r.id, { order: 'asc' });
    assert.deepEqual(asc.data.map((i) => i.id), desc.data.map((i) => i.id).reverse());
    const [dev, one] = asc.data as OpenAI.Responses.ResponseInputMessageItem[];
    assert.equal(dev.role, 'developer');
    assert.deepEqual(one.content, [{ type: 'input_text', text: 'item one' }]);
    assert.match(one.id, /^msg_/);

    const page = await client.responses.inputItems.list(r.id, { order: 'asc', limit: 2 });
    assert.equal(page.data.length, 2);
    assert.equal(page.has_more, true);
    assert.ok(page.hasNextPage());
    const next = await page.getNextPage();
    assert.deepEqual(next.data.map((i) => i.id), ['msg_client_2']);
    assert.equal(next.has_more, false);
    const all: string[] = [];
    for await (const i of client.responses.inputItems.list(r.id, { order: 'desc', limit: 1 })) all.push(i.id);
    assert.deepEqual(all, desc.data.map((i) => i.id));

    const listed = await raw('GET', `/responses/${r.id}/input_items?limit=2`);
    assert.equal(listed.json.object, 'list');
    assert.equal(listed.json.first_id, 'msg_client_2');
    assert.equal(listed.json.last_id, one.id);
    assert.equal(listed.json.has_more, true);
    assert.equal((await raw('GET', `/responses/${r.id}/input_items?limit=0`)).status, 400);
    assert.equal((await raw('GET', `/responses/${r.id}/input_items?order=up`)).status, 400);

    // A string input is stored as one user message with an input_text part.
    const s = await client.responses.create({ model: 'sonnet', input: 'just a string [[reply:ok]]' });
    const items = await client.responses.inputItems.list(s.id);
    assert.equal(items.data.length, 1);
    const m = items.data[0] as OpenAI.Responses.ResponseInputMessageItem;
    assert.equal(m.type, 'message');
    assert.equal(m.role, 'user');
    assert.match(m.id, /^msg_/);
    assert.deepEqual(m.content, [{ type: 'input_text', text: 'just a string [[reply:ok]]' }]);
  });

  test('an incomplete response is stored; a failed one is not', async () => {
    const r = await client.responses.create({ model: 'sonnet', input: '[[long:40]]', max_output_tokens: 3 });
    assert.equal(r.status, 'incomplete');
    assert.equal((await client.responses.retrieve(r.id)).status, 'incomplete');

    const res = await fetch(`${h.baseURL}/responses`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'sonnet', stream: true, input: '[[reply:one two]] [[stream-error]]' }),
    });
    const text = await res.text();
    assert.match(text, /response\.failed/);
    const id = /"id":"(resp_[^"]+)"/.exec(text)![1];
    await assert.rejects(client.responses.retrieve(id), isNotFound);
  });

  test('delete: the record is gone; retrieve is a 404 and chaining to it a 400', async () => {
    const r = await client.responses.create({ model: 'sonnet', input: 'to delete [[reply:Iota reply.]]' });
    const del = await raw('DELETE', `/responses/${r.id}`);
    assert.equal(del.status, 200);
    assert.deepEqual(del.json, { id: r.id, object: 'response', deleted: true });
    await assert.rejects(client.responses.retrieve(r.id), isNotFound);
    await assert.rejects(client.responses.inputItems.list(r.id), isNotFound);
    await assert.rejects(client.responses.create({ model: 'sonnet', input: 'x', previous_response_id: r.id }), isPreviousMissing);
    await assert.rejects(client.responses.delete(r.id), isNotFound);

    const r2 = await client.responses.create({ model: 'sonnet', input: 'to delete too [[reply:ok]]' });
    await client.responses.delete(r2.id);
    await assert.rejects(client.responses.retrieve(r2.id), isNotFound);

    const missing = await raw('GET', '/responses/resp_x');
    assert.equal(missing.status, 404);
    assert.deepEqual(missing.json, { error: { message: "No response found with id 'resp_x'.", type: 'invalid_request_error', param: null, code: null } });
  });

  test('store: false keeps nothing', async () => {
    const r = await client.responses.create({ model: 'sonnet', store: false, input: 'not kept [[reply:ok]]' });
    assert.equal(storeOf(r), false);
    await assert.rejects(client.responses.retrieve(r.id), isNotFound);
    await assert.rejects(client.responses.create({ model: 'sonnet', input: 'x', previous_response_id: r.id }), isPreviousMissing);

    const stream = client.responses.stream({ model: 'sonnet', store: false, input: 'not kept either [[reply:ok]]' });
    const s = await stream.finalResponse();
    assert.equal(storeOf(s), false);
    await assert.rejects(client.responses.retrieve(s.id), isNotFound);
  });

  test('another gateway key cannot see, list, delete or chain a response', async () => {
    const r = await client.responses.create({ model: 'sonnet', input: 'mine [[reply:Kappa reply.]]' });
    await assert.rejects(other.responses.retrieve(r.id), isNotFound);
    await assert.rejects(other.responses.inputItems.list(r.id), isNotFound);
    await assert.rejects(other.responses.delete(r.id), isNotFound);
    await assert.rejects(other.responses.create({ model: 'sonnet', input: 'x', previous_response_id: r.id }), isPreviousMissing);
    assert.equal((await client.responses.retrieve(r.id)).id, r.id, 'still there for its owner');

    // The other key's own responses work as usual.
    const o = await other.responses.create({ model: 'sonnet', input: 'theirs [[reply:ok]]' });
    assert.equal((await other.responses.retrieve(o.id)).id, o.id);
    await assert.rejects(client.responses.retrieve(o.id), isNotFound);
  });
});
