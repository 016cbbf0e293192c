// Every tool_result content type the Messages API defines reaches the model through the real CLI:
// text and images as they are, and the blocks Claude Code's tool path cannot carry as text that says
// the same (tool_reference: ToolSearch's answer; search_result; text documents; a PDF named). Before,
// a tool_reference arrived at the API as "content": "".
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import { startHarness, TEST_KEY, type Harness } from './support/harness.js';
import { PDF_BASE64, PNG_BASE64 } from './support/media.js';
import { answeredLive } from './support/tools.js';

let h: Harness;
let anthropic: Anthropic;

before(async () => {
  h = await startHarness({});
  anthropic = new Anthropic({ baseURL: h.gw.url, apiKey: TEST_KEY, maxRetries: 0 });
});
after(() => h.close());

const tool: Anthropic.Tool = { name: 'lookup', description: 'Looks things up', input_schema: { type: 'object', properties: {} } };

test('tool_reference, search_result, documents and images in a tool_result reach the model, none empty', async () => {
  const messages: Anthropic.MessageParam[] = [{ role: 'user', content: 'content-types [[tool:lookup:{}]] [[after-tool:Got:]]' }];
  const first = await anthropic.messages.create({ model: 'sonnet', max_tokens: 100, messages, tools: [tool] });
  const use = first.content.find((b): b is Anthropic.ToolUseBlock => b.type === 'tool_use')!;
  messages.push(
    { role: 'assistant', content: first.content },
    {
      role: 'user',
      content: [
        {
          type: 'tool_result',
          tool_use_id: use.id,
          content: [
            { type: 'tool_reference', tool_name: 'mcp__deploy__release' },
            { type: 'search_result', title: 'Runbook', source: 'https://docs.example/runbook', content: [{ type: 'text', text: 'restart the worker' }] },
            { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'plain notes' }, title: 'notes.txt' },
            { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: PDF_BASE64 }, title: 'report.pdf' },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG_BASE64 } },
          ] as never,
        },
      ],
    },
  );
  const second = await anthropic.messages.create({ model: 'sonnet', max_tokens: 100, messages, tools: [tool] });
  assert.equal(second.stop_reason, 'end_turn');
  // What the model got: the request that carried the result.
  const req = h.upstream.requests.filter((r) => JSON.stringify(r.body.messages ?? []).includes('mcp__deploy__release')).at(-1);
  assert.ok(req, 'the tool_reference reached the API');
  // The suspended turn went on in its live process (the MCP path, where these blocks become text).
  assert.ok(answeredLive(h.upstream, 'Tool loaded: mcp__deploy__release'));
  const result = (req.body.messages as any[]).flatMap((m) => (Array.isArray(m.content) ? m.content : [])).find((b: any) => b.type === 'tool_result' && b.tool_use_id === use.id);
  assert.notEqual(result.content, '');
  const texts = (result.content as any[]).filter((b) => b.type === 'text').map((b) => b.text);
  assert.ok(texts.includes('Tool loaded: mcp__deploy__release'), JSON.stringify(texts));
  assert.ok(texts.includes('Search result: Runbook\nSource: https://docs.example/runbook\nrestart the worker'));
  assert.ok(texts.includes('notes.txt\nplain notes'), JSON.stringify(texts));
  assert.ok(texts.some((t) => /PDF document "report\.pdf"/.test(t)));
  assert.ok((result.content as any[]).some((b) => b.type === 'image' && b.source.data === PNG_BASE64));
});

test('a tool_result holding only a tool_reference is not empty', async () => {
  const messages: Anthropic.MessageParam[] = [{ role: 'user', content: 'only-ref [[tool:lookup:{}]] [[after-tool:Got:]]' }];
  const first = await anthropic.messages.create({ model: 'sonnet', max_tokens: 100, messages, tools: [tool] });
  const use = first.content.find((b): b is Anthropic.ToolUseBlock => b.type === 'tool_use')!;
  messages.push({ role: 'assistant', content: first.content }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: [{ type: 'tool_reference', tool_name: 'Grep' }] as never }] });
  const second = await anthropic.messages.create({ model: 'sonnet', max_tokens: 100, messages, tools: [tool] });
  assert.deepEqual(second.content, [{ type: 'text', text: 'Got: Tool loaded: Grep' }]);
});

test('a malformed block inside a tool_result is a 400 naming it, and the gateway goes on', async () => {
  for (const bad of [{ type: 'text' }, { type: 'image' }, { type: 'document', source: null }]) {
    await assert.rejects(
      anthropic.messages.create({
        model: 'sonnet',
        max_tokens: 50,
        tools: [tool],
        messages: [
          { role: 'user', content: 'x' },
          { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_bad', name: 'lookup', input: {} }] },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_bad', content: [bad] as never }] },
        ],
      }),
      (e: any) => e.status === 400 && e.error?.error?.type === 'invalid_request_error' && /messages\.2\.content\.0\.content\.0/.test(e.message),
    );
  }
  const ok = await anthropic.messages.create({ model: 'sonnet', max_tokens: 50, messages: [{ role: 'user', content: '[[reply:still here]]' }] });
  assert.deepEqual(ok.content, [{ type: 'text', text: 'still here' }]);
});
