// The pure translation of custom (freeform) and namespace tools, custom tool calls, and signed
// reasoning in the Responses dialect: adapter, encoder and the streaming decoder of a custom input.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Turn, TurnEvent } from '../../engine/types.js';
import { GatewayError } from '../../errors.js';
import { toTurnRequest } from './adapter.js';
import { CustomInputStream } from './custom-input.js';
import { collectResponse, ResponsesEncoder } from './encoder.js';
import { openThinking, sealThinking } from './reasoning.js';
import { responsesRequestSchema, type ResponsesRequest } from './schema.js';
import { toolCatalog } from './tools.js';

const lark = 'start: begin_patch hunk+ end_patch\nbegin_patch: "*** Begin Patch" LF';
const req = (over: Record<string, unknown>): ResponsesRequest => responsesRequestSchema.parse({ model: 'sonnet', input: 'hi', ...over });
const bad400 = (fn: () => unknown, param: RegExp) =>
  assert.throws(fn, (e: unknown) => e instanceof GatewayError && e.status === 400 && param.test(String(e.extra.param)));

test('a custom tool becomes a tool with one string input, its grammar in the description', () => {
  const turn = toTurnRequest(req({ tools: [{ type: 'custom', name: 'apply_patch', description: 'Edit files.', format: { type: 'grammar', syntax: 'lark', definition: lark } }] }));
  const [t] = turn.tools!;
  assert.equal(t.name, 'apply_patch');
  assert.deepEqual(t.inputSchema, { type: 'object', properties: { input: { type: 'string', description: 'The raw input text.' } }, required: ['input'], additionalProperties: false });
  assert.match(t.description!, /^Edit files\./);
  assert.ok(t.description!.includes(lark), 'the grammar is given to the model');
  const text = toTurnRequest(req({ tools: [{ type: 'custom', name: 'note' }] })).tools![0];
  assert.match(text.description!, /one string property, `input`/);
  assert.ok(!/grammar/i.test(text.description!));
});

test('namespace tools are flattened to <namespace>__<name> and mapped back', () => {
  const tools = [{ type: 'namespace', name: 'crm', description: 'Customer records.', tools: [{ type: 'function', name: 'find', parameters: { type: 'object', properties: { q: { type: 'string' } } } }, { type: 'custom', name: 'sql' }] }];
  const { definitions, origins } = toolCatalog(req({ tools }).tools);
  assert.deepEqual(definitions.map((d) => d.name), ['crm__find', 'crm__sql']);
  assert.match(definitions[0].description!, /Customer records/);
  assert.deepEqual(origins.get('crm__sql'), { kind: 'custom', name: 'sql', namespace: 'crm' });
  const turn = toTurnRequest(
    req({
      tools,
      input: [
        { role: 'user', content: 'go' },
        { type: 'function_call', call_id: 'c1', name: 'find', namespace: 'crm', arguments: '{"q":"x"}' },
        { type: 'function_call_output', call_id: 'c1', output: 'found' },
        { type: 'custom_tool_call', call_id: 'c2', name: 'sql', namespace: 'crm', input: 'SELECT 1' },
        { type: 'custom_tool_call_output', call_id: 'c2', output: '1' },
      ],
    }),
  );
  assert.deepEqual(turn.messages.slice(1), [
    { role: 'assistant', content: [{ type: 'tool_call', id: 'c1', name: 'crm__find', input: { q: 'x' } }] },
    { role: 'user', content: [{ type: 'tool_result', callId: 'c1', content: [{ type: 'text', text: 'found' }] }] },
    { role: 'assistant', content: [{ type: 'tool_call', id: 'c2', name: 'crm__sql', input: { input: 'SELECT 1' } }] },
    { role: 'user', content: [{ type: 'tool_result', callId: 'c2', content: [{ type: 'text', text: '1' }] }] },
  ]);
});

test('tool definitions the gateway cannot carry are 400s naming the field; hosted tools are ignored', () => {
  const custom = (format: unknown) => () => toTurnRequest(req({ tools: [{ type: 'custom', name: 'p', format }] }));
  bad400(custom({ type: 'grammar', syntax: 'ebnf', definition: 'x' }), /^tools\.0\.format\.syntax$/);
  bad400(custom({ type: 'grammar', syntax: 'lark', definition: '  ' }), /^tools\.0\.format\.definition$/);
  bad400(custom({ type: 'grammar', syntax: 'lark', definition: 'hunk: "x"' }), /^tools\.0\.format\.definition$/);
  bad400(custom({ type: 'grammar', syntax: 'regex', definition: '(unclosed' }), /^tools\.0\.format\.definition$/);
  bad400(custom({ type: 'json' }), /^tools\.0\.format$/);
  bad400(() => toTurnRequest(req({ tools: [{ type: 'custom' }] })), /^tools\.0\.name$/);
  bad400(() => toTurnRequest(req({ tools: [{ type: 'namespace', name: 'n', tools: [{ type: 'web_search', name: 'w' }] }] })), /^tools\.0\.tools\.0\.type$/);
  bad400(() => toTurnRequest(req({ tools: [{ type: 'namespace', name: 'n', tools: [] }] })), /^tools\.0\.tools$/);
  bad400(() => toTurnRequest(req({ tools: [{ type: 'teleport' }] })), /^tools\.0\.type$/);
  // Tool search, hosted or client-executed (Codex's), is left out: the model has every tool already.
  const ok = toTurnRequest(req({ tools: [{ type: 'web_search' }, { type: 'tool_search' }, { type: 'tool_search', execution: 'client', parameters: { type: 'object' } }, { type: 'custom', name: 'r', format: { type: 'grammar', syntax: 'regex', definition: '^\\d+$' } }] }));
  assert.deepEqual(ok.tools!.map((t) => t.name), ['r']);
  assert.match(ok.tools![0].description!, /regular expression:\n\^\\d\+\$/);
});

test('unknown input item types are 400s; hosted tools items are left out', () => {
  bad400(() => toTurnRequest(req({ input: [{ role: 'user', content: 'x' }, { type: 'teleport_call', id: 't' }] })), /^input\.1\.type$/);
  const t = toTurnRequest(req({ input: [{ role: 'user', content: 'x' }, { type: 'web_search_call', id: 'ws', status: 'completed', action: { type: 'search', query: 'q' } }] }));
  assert.equal(t.messages.length, 1);
  assert.equal(responsesRequestSchema.safeParse({ model: 'm', input: [{ type: 'custom_tool_call', call_id: 'c' }] }).success, false, 'a custom_tool_call without name and input is malformed');
});

test('custom and function tool_choice name the tool the model sees', () => {
  const tools = [{ type: 'custom', name: 'apply_patch' }, { type: 'namespace', name: 'ns', description: 'd', tools: [{ type: 'function', name: 'f' }] }];
  assert.deepEqual(toTurnRequest(req({ tools, tool_choice: { type: 'custom', name: 'apply_patch' } })).toolChoice, { type: 'tool', name: 'apply_patch' });
  assert.deepEqual(toTurnRequest(req({ tools, tool_choice: { type: 'function', name: 'f', namespace: 'ns' } })).toolChoice, { type: 'tool', name: 'ns__f' });
});

test('reasoning: the envelope round-trips, foreign content is ignored, damaged content is a 400', () => {
  const sealed = sealThinking({ thinking: 'Let me see.', signature: 'sig-1' });
  assert.match(sealed, /^ccg1\.[A-Za-z0-9_-]+$/);
  assert.deepEqual(openThinking(sealed, 'input.1'), { thinking: 'Let me see.', signature: 'sig-1' });
  assert.equal(openThinking('gAAAAABopenai-opaque', 'input.1'), undefined);
  for (const damaged of ['ccg1.***', 'ccg1.' + Buffer.from('not json').toString('base64url'), 'ccg1.' + Buffer.from('{"thinking":"x"}').toString('base64url')]) {
    bad400(() => openThinking(damaged, 'input.1'), /^input\.1\.encrypted_content$/);
  }
  const input = (encrypted_content: string) => [
    { role: 'user', content: 'q' },
    { type: 'reasoning', id: 'rs_1', summary: [{ type: 'summary_text', text: 'summary' }], content: null, encrypted_content },
    { role: 'assistant', content: 'a' },
    { role: 'user', content: 'next' },
  ];
  assert.deepEqual(toTurnRequest(req({ input: input(sealed) })).messages[1].content[0], { type: 'thinking', text: 'Let me see.', signature: 'sig-1' });
  assert.deepEqual(toTurnRequest(req({ input: input('opaque') })).messages[1].content[0], { type: 'thinking', text: 'summary' });
  bad400(() => toTurnRequest(req({ input: input('ccg1.%%') })), /^input\.1\.encrypted_content$/);
});

test('the custom input decoder streams the string value as it completes, escapes and surrogates whole', () => {
  const json = JSON.stringify({ input: '*** Begin Patch\n+héllo "q" \\ 😀\n*** End Patch' });
  for (const size of [1, 2, 3, 7, json.length]) {
    const s = new CustomInputStream();
    let out = '';
    for (let i = 0; i < json.length; i += size) {
      const d = s.push(json.slice(i, i + size));
      assert.ok(!/[\uD800-\uDBFF]$/.test(d), 'a delta never ends inside a surrogate pair');
      out += d;
    }
    const { text, rest } = s.finish();
    assert.equal(out + rest, text);
    assert.equal(text, JSON.parse(json).input);
    assert.equal(rest, '', `all streamed at piece size ${size}`);
  }
  const other = new CustomInputStream();
  assert.equal(other.push('{"patch": "x"'), '');
  other.push('}');
  assert.deepEqual(other.finish(), { text: '{"patch": "x"}', rest: '{"patch": "x"}' });
});

function turnOf(events: TurnEvent[]): Turn {
  return { id: '0123456789abcdef0123456789abcdef', model: 'claude-sonnet', created: 1, events: (async function* () { yield* events; })() };
}
const done: TurnEvent = { type: 'done', stopReason: 'tool_use', stopSequence: null, usage: { inputTokens: 1, outputTokens: 1, cacheReadTokens: 0, cacheCreationTokens: 0 }, costUsd: 0 };

test('the encoder turns calls of custom and namespaced tools into their items, and seals signed thinking when asked', async () => {
  const tools = [{ type: 'custom', name: 'apply_patch' }, { type: 'namespace', name: 'ns', description: 'd', tools: [{ type: 'function', name: 'f' }] }];
  const events: TurnEvent[] = [
    { type: 'block_start', index: 0, block: { type: 'thinking' } },
    { type: 'thinking_delta', index: 0, text: 'hmm' },
    { type: 'signature_delta', index: 0, signature: 'sig-9' },
    { type: 'block_stop', index: 0 },
    { type: 'block_start', index: 1, block: { type: 'tool_use', id: 'toolu_1', name: 'apply_patch' } },
    { type: 'tool_input_delta', index: 1, json: '{"input": "line1\\nli' },
    { type: 'tool_input_delta', index: 1, json: 'ne2"}' },
    { type: 'block_stop', index: 1 },
    { type: 'block_start', index: 2, block: { type: 'tool_use', id: 'toolu_2', name: 'ns__f' } },
    { type: 'tool_input_delta', index: 2, json: '{}' },
    { type: 'block_stop', index: 2 },
    done,
  ];
  const r = req({ tools, include: ['reasoning.encrypted_content'] });
  const enc = new ResponsesEncoder(turnOf([]), r);
  const stream = [...enc.start(), ...events.flatMap((e) => enc.encode(e))];
  const deltas = stream.filter((e) => e.type === 'response.custom_tool_call_input.delta').map((e) => e.delta);
  assert.deepEqual(deltas, ['line1\nli', 'ne2']);
  assert.equal(stream.find((e) => e.type === 'response.custom_tool_call_input.done')?.input, 'line1\nline2');
  const output = enc.final!.output as Record<string, unknown>[];
  assert.deepEqual(output[1], { id: `ctc_${'0123456789abcdef0123456789abcdef'}_1`, type: 'custom_tool_call', status: 'completed', call_id: 'toolu_1', name: 'apply_patch', input: 'line1\nline2' });
  assert.equal(output[2].type, 'function_call');
  assert.equal(output[2].name, 'f');
  assert.equal(output[2].namespace, 'ns');
  assert.deepEqual(openThinking(String(output[0].encrypted_content), 'x'), { thinking: 'hmm', signature: 'sig-9' });
  // Without include, no encrypted_content (and the non-streaming path is the same encoder).
  const plain = await collectResponse(turnOf(events), req({ tools }));
  assert.equal((plain.output as Record<string, unknown>[])[0].encrypted_content, undefined);
});

test('a previous_response_id chain replays custom tool calls (with namespace) and signed reasoning, not bare summaries', async () => {
  const { chainHistory } = await import('./state.js');
  const sealed = sealThinking({ thinking: 't', signature: 's' });
  const output = [
    { id: 'rs_a', type: 'reasoning', summary: [{ type: 'summary_text', text: 'bare' }] },
    { id: 'rs_b', type: 'reasoning', summary: [{ type: 'summary_text', text: 't' }], encrypted_content: sealed },
    { id: 'ctc_c', type: 'custom_tool_call', status: 'completed', call_id: 'call_1', name: 'sql', namespace: 'crm', input: 'SELECT 1' },
  ];
  const items = chainHistory([{ response: { id: 'resp_1', output }, input: [], previous_response_id: null, owner: 'o', instructions: null }]);
  assert.deepEqual(items.map((i) => i.id), ['rs_b', 'ctc_c']);
  assert.deepEqual(items[1], { type: 'custom_tool_call', id: 'ctc_c', call_id: 'call_1', name: 'sql', namespace: 'crm', input: 'SELECT 1' });
});
