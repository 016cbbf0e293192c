// Chat Completions with response_format (through the CLI's structured output) and the remote image
// policy, through the real openai client.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { startHarness, TEST_KEY, type Harness } from './support/harness.js';

let h: Harness;
let client: OpenAI;

before(async () => {
  h = await startHarness({}, { prewarm: ['sonnet'] });
  client = new OpenAI({ baseURL: h.baseURL, apiKey: TEST_KEY, maxRetries: 0 });
});
after(() => h.close());

const schema = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false };
const prompt = 'Capital of France? [[tool:StructuredOutput:{"city":"Paris"}]]';

test('json_schema: the answer is the JSON, streamed or not, with finish_reason stop', async () => {
  const r = await client.chat.completions.create({ model: 'sonnet', response_format: { type: 'json_schema', json_schema: { name: 'city', schema } }, messages: [{ role: 'user', content: prompt }] });
  assert.deepEqual(JSON.parse(r.choices[0].message.content!), { city: 'Paris' });
  assert.equal(r.choices[0].finish_reason, 'stop');

  const stream = await client.chat.completions.create({ model: 'sonnet', stream: true, response_format: { type: 'json_object' }, messages: [{ role: 'user', content: prompt }] });
  let text = '';
  for await (const c of stream) text += c.choices[0]?.delta.content ?? '';
  assert.deepEqual(JSON.parse(text), { city: 'Paris' });
});

test('a schema the CLI cannot use is a 400 naming it', async () => {
  await assert.rejects(
    client.chat.completions.create({ model: 'sonnet', response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'object', foo: 1 } } }, messages: [{ role: 'user', content: 'x' }] }),
    (e: any) => e instanceof OpenAI.BadRequestError && e.param === 'response_format.json_schema.schema',
  );
});

test('remote image URLs are refused while fetching is off', async () => {
  await assert.rejects(
    client.chat.completions.create({ model: 'sonnet', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/cat.png' } }] }] }),
    (e: any) => e instanceof OpenAI.BadRequestError && /base64/.test(e.message),
  );
});
