// Anthropic Messages through the real @anthropic-ai/sdk, both the 1.x line (Bearer auth, a 2026
// anthropic-version) and the 0.x line (x-api-key, 2023-06-01), against the real gateway and the real
// Claude Code CLI, with the scripted upstream answering.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Anthropic1 from '@anthropic-ai/sdk';
import Anthropic0 from 'anthropic-sdk-0x';
import { startHarness, TEST_KEY, type Harness } from './support/harness.js';
import { PDF_BASE64, PNG_BASE64, readSse } from './support/media.js';

let h: Harness;
const clients: [string, () => Anthropic1 | Anthropic0][] = [
  ['sdk 1.x', () => new Anthropic1({ baseURL: h.gw.url, apiKey: TEST_KEY, maxRetries: 0 })],
  ['sdk 0.x', () => new Anthropic0({ baseURL: h.gw.url, apiKey: TEST_KEY, maxRetries: 0 })],
];

before(async () => {
  h = await startHarness({}, { prewarm: ['sonnet'] });
});
after(() => h.close());

/** What reached the model, from a [[dump]] answer. */
function dumped(msg: { content: { type: string }[] }): any {
  const text = msg.content.find((b) => b.type === 'text') as unknown as { text: string };
  return JSON.parse(text.text);
}

for (const [name, make] of clients) {
  describe(name, () => {
    test('messages.create answers with text, stop reason and usage', async () => {
      const client = make() as Anthropic1;
      const m = await client.messages.create({ model: 'sonnet', max_tokens: 256, messages: [{ role: 'user', content: 'Hi [[reply:Hello there, friend.]]' }] });
      assert.equal(m.type, 'message');
      assert.equal(m.role, 'assistant');
      assert.match(m.id, /^msg_/);
      assert.match(m.model, /^claude-/);
      assert.deepEqual(m.content, [{ type: 'text', text: 'Hello there, friend.' }]);
      assert.equal(m.stop_reason, 'end_turn');
      assert.equal(m.usage.output_tokens, 3);
      assert.ok(m.usage.input_tokens > 0);
      assert.equal(m.usage.cache_read_input_tokens, h.upstream.requests.filter((r) => r.path === '/v1/messages').at(-1)?.usage?.cache_read_input_tokens);
    });

    test('messages.stream().finalMessage() carries thinking (with its signature) and text', async () => {
      const client = make() as Anthropic1;
      const deltas: string[] = [];
      const stream = client.messages.stream({
        model: 'sonnet',
        max_tokens: 2048,
        thinking: { type: 'enabled', budget_tokens: 1024 },
        messages: [{ role: 'user', content: '[[thinking:Let me ponder.]] [[reply:one two three]]' }],
      });
      stream.on('text', (t) => deltas.push(t));
      const m = await stream.finalMessage();
      assert.equal(m.content.length, 2);
      const [thinking, text] = m.content;
      assert.equal(thinking.type, 'thinking');
      assert.equal((thinking as { thinking: string }).thinking, 'Let me ponder.');
      assert.match((thinking as { signature: string }).signature, /^sig_fake_/);
      assert.deepEqual(text, { type: 'text', text: 'one two three' });
      assert.ok(deltas.length >= 3, 'text arrives in deltas');
      assert.equal(m.stop_reason, 'end_turn');
      assert.equal(m.usage.output_tokens, 3);
      assert.ok(m.usage.input_tokens > 0, 'final usage arrives with message_delta');
    });

    test('countTokens estimates the input', async () => {
      const client = make() as Anthropic1;
      const small = await client.messages.countTokens({ model: 'sonnet', messages: [{ role: 'user', content: 'Hello' }] });
      const big = await client.messages.countTokens({
        model: 'sonnet',
        system: 'You are terse.',
        messages: [{ role: 'user', content: [{ type: 'text', text: 'word '.repeat(400) }, { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG_BASE64 } }] }],
      });
      assert.ok(small.input_tokens > 0);
      assert.ok(big.input_tokens > small.input_tokens + 500);
    });

    test('models.list answers in Anthropic shape', async () => {
      const client = make() as Anthropic1;
      const ids: string[] = [];
      for await (const m of client.models.list()) {
        assert.equal(m.type, 'model');
        assert.equal(typeof m.display_name, 'string');
        assert.equal(typeof m.created_at, 'string');
        ids.push(m.id);
      }
      assert.ok(ids.includes('sonnet'));
      const one = await client.models.retrieve('sonnet');
      assert.equal(one.id, 'sonnet');
      assert.equal(one.type, 'model');
    });
  });
}

describe('request fields', () => {
  const client = () => new Anthropic1({ baseURL: h.gw.url, apiKey: TEST_KEY, maxRetries: 0 });

  test('system as string or blocks, effort, and history reach the model', async () => {
    const m = await client().messages.create({
      model: 'sonnet',
      max_tokens: 16_000,
      system: [{ type: 'text', text: 'You are a pirate.' }, { type: 'text', text: 'Say arr.' }],
      output_config: { effort: 'high' },
      messages: [
        { role: 'user', content: 'My name is Ada.' },
        { role: 'assistant', content: [{ type: 'text', text: 'Hello Ada.' }] },
        { role: 'user', content: 'Name? [[dump]]' },
      ],
    });
    const seen = dumped(m);
    assert.match(JSON.stringify(seen.system), /You are a pirate\.\\nSay arr\./);
    assert.equal(seen.output_config?.effort, 'high');
    assert.match(JSON.stringify(seen.messages), /Hello Ada\./);
  });

  test('stop_sequences end the answer with stop_reason stop_sequence', async () => {
    const m = await client().messages.create({ model: 'sonnet', max_tokens: 256, stop_sequences: ['STOP'], messages: [{ role: 'user', content: '[[reply:before STOP after]]' }] });
    assert.deepEqual(m.content, [{ type: 'text', text: 'before ' }]);
    assert.equal(m.stop_reason, 'stop_sequence');
    assert.equal(m.stop_sequence, 'STOP');
  });

  test('max_tokens truncates with stop_reason max_tokens', async () => {
    const m = await client().messages.create({ model: 'sonnet', max_tokens: 3, messages: [{ role: 'user', content: '[[long:40]]' }] });
    assert.equal(m.stop_reason, 'max_tokens');
    assert.equal((m.content[0] as { text: string }).text, 'w1 w2 w3 ');
  });

  test('images and PDF documents reach the model as native blocks', async () => {
    const m = await client().messages.create({
      model: 'sonnet',
      max_tokens: 16_000,
      metadata: { user_id: 'u-1' },
      messages: [
        {
          role: 'user',
          content: [
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG_BASE64 } },
            { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: PDF_BASE64 }, title: 'Spec' },
            { type: 'text', text: 'Describe. [[dump]]' },
          ],
        },
      ],
    });
    const user = dumped(m).messages.find((x: any) => x.role === 'user');
    const image = user.content.find((b: any) => b.type === 'image');
    const doc = user.content.find((b: any) => b.type === 'document');
    assert.deepEqual(image.source, { type: 'base64', media_type: 'image/png', data: PNG_BASE64 });
    assert.equal(doc.source.media_type, 'application/pdf');
    assert.equal(doc.source.data, PDF_BASE64);
  });

  test('output_config.format gives JSON matching the schema, streamed and not', async () => {
    const schema = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false };
    const prompt = 'Capital of France? [[tool:StructuredOutput:{"city":"Paris"}]]';
    const m = await client().messages.create({ model: 'sonnet', max_tokens: 1024, output_config: { format: { type: 'json_schema', schema } }, messages: [{ role: 'user', content: prompt }] });
    assert.equal(m.content.length, 1);
    assert.deepEqual(JSON.parse((m.content[0] as { text: string }).text), { city: 'Paris' });
    assert.equal(m.stop_reason, 'end_turn');

    const s = await client()
      .messages.stream({ model: 'sonnet', max_tokens: 1024, output_config: { format: { type: 'json_schema', schema } }, messages: [{ role: 'user', content: prompt }] })
      .finalMessage();
    assert.deepEqual(s.content.map((b) => b.type), ['text']);
    assert.deepEqual(JSON.parse((s.content[0] as { text: string }).text), { city: 'Paris' });
  });

  test('the stream follows the event contract', async () => {
    const res = await fetch(`${h.gw.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': TEST_KEY, 'anthropic-version': '2023-06-01', 'anthropic-beta': 'whatever-2099', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'sonnet', max_tokens: 1024, stream: true, messages: [{ role: 'user', content: '[[thinking:hm]] [[reply:a b]]' }] }),
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
    const events = readSse(await res.text());
    for (const e of events) assert.equal(e.event, e.data.type, 'every event has an event: line naming its type');
    const types = events.map((e) => e.event);
    assert.equal(types[0], 'message_start');
    assert.ok(events[0].data.message.usage, 'message_start carries usage');
    assert.ok(events[0].data.message.usage.input_tokens > 0, 'message_start carries the input tokens');
    assert.deepEqual(types.slice(-2), ['message_delta', 'message_stop']);
    const delta = events[events.length - 2].data;
    assert.equal(delta.delta.stop_reason, 'end_turn');
    assert.equal(delta.usage.output_tokens, 2);
    // Blocks: contiguous indexes from 0, each started, then its deltas, then stopped.
    const starts = events.filter((e) => e.event === 'content_block_start').map((e) => e.data.index);
    assert.deepEqual(starts, [0, 1]);
    for (const i of starts) {
      const mine = events.map((e, n) => ({ e, n })).filter(({ e }) => e.data.index === i);
      assert.equal(mine[0].e.event, 'content_block_start');
      assert.equal(mine[mine.length - 1].e.event, 'content_block_stop');
      assert.ok(mine.slice(1, -1).every(({ e }) => e.event === 'content_block_delta'));
    }
    const kinds = events.filter((e) => e.event === 'content_block_delta').map((e) => e.data.delta.type);
    assert.deepEqual([...new Set(kinds)], ['thinking_delta', 'signature_delta', 'text_delta']);
  });
});
