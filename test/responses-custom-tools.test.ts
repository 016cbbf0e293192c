// Custom (freeform) tools, namespace tools and signed reasoning through the Responses API with
// openai-node, against the real CLI and the scripted upstream: the model calls a custom tool with
// raw text, the client gets custom_tool_call items (streamed as input deltas, or whole), and
// custom_tool_call_output continues the suspended turn with the true result. Bad input is a 400
// in the Responses error shape and the server goes on.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { startHarness, TEST_KEY, type Harness } from './support/harness.js';
import { answeredLive } from './support/tools.js';

let h: Harness;
let openai: OpenAI;

before(async () => {
  h = await startHarness({});
  openai = new OpenAI({ baseURL: h.baseURL, apiKey: TEST_KEY, maxRetries: 0 });
});
after(() => h.close());

const GRAMMAR = 'start: begin_patch hunk+ end_patch\nbegin_patch: "*** Begin Patch" LF\nend_patch: "*** End Patch" LF?\nhunk: /(.|\\n)+/\n%import common.LF';
const applyPatch: OpenAI.Responses.CustomTool = { type: 'custom', name: 'apply_patch', description: 'Edit files with a patch.', format: { type: 'grammar', syntax: 'lark', definition: GRAMMAR } };
const PATCH = '*** Begin Patch\n*** Add File: a.txt\n+say "hi" \\ there\n*** End Patch\n';
const modelCalls = () => h.upstream.requests.filter((r) => r.path === '/v1/messages');

describe('custom tools', () => {
  test('streamed: custom_tool_call_input deltas carry the raw text, and custom_tool_call_output continues the turn', async () => {
    const input: OpenAI.Responses.ResponseInputItem[] = [{ role: 'user', content: `Patch it. [[tool-text:apply_patch:${PATCH}]] [[after-tool:Patched:]]` }];
    const stream = openai.responses.stream({ model: 'sonnet', input, tools: [applyPatch] });
    const deltas: string[] = [];
    let doneInput: string | undefined;
    stream.on('response.custom_tool_call_input.delta', (e) => deltas.push(e.delta));
    stream.on('response.custom_tool_call_input.done', (e) => (doneInput = e.input));
    const first = await stream.finalResponse();
    const call = first.output.find((o) => o.type === 'custom_tool_call') as OpenAI.Responses.ResponseCustomToolCall | undefined;
    assert.ok(call, 'a custom_tool_call item');
    assert.equal(call.name, 'apply_patch');
    assert.equal(call.input, PATCH);
    assert.ok(deltas.length >= 1);
    assert.equal(deltas.join(''), PATCH);
    assert.equal(doneInput, PATCH);

    // What the model saw: a tool with one string input, the grammar in its description.
    const tool = modelCalls().at(-1)!.body.tools.find((t: any) => String(t.name).endsWith('apply_patch'));
    assert.deepEqual(tool.input_schema.required, ['input']);
    assert.ok(tool.description.includes(GRAMMAR));

    input.push(call, { type: 'custom_tool_call_output', call_id: call.call_id, output: 'Done: A a.txt' });
    const second = await openai.responses.create({ model: 'sonnet', input, tools: [applyPatch] });
    assert.equal(second.output_text, 'Patched: Done: A a.txt');
    assert.ok(answeredLive(h.upstream, 'Done: A a.txt'), 'the result reached the suspended turn as a real tool_result');
  });

  test('not streamed, chained with previous_response_id: the output alone goes on', async () => {
    const first = await openai.responses.create({ model: 'sonnet', input: `Note it. [[tool-text:note:remember the milk]] [[after-tool:Noted:]]`, tools: [{ type: 'custom', name: 'note' }] });
    const call = first.output.find((o) => o.type === 'custom_tool_call') as OpenAI.Responses.ResponseCustomToolCall;
    assert.equal(call.input, 'remember the milk');
    assert.equal((call as OpenAI.Responses.ResponseCustomToolCallItem).status, 'completed');
    const second = await openai.responses.create({
      model: 'sonnet',
      previous_response_id: first.id,
      input: [{ type: 'custom_tool_call_output', call_id: call.call_id, output: 'saved' }],
      tools: [{ type: 'custom', name: 'note' }],
    });
    assert.equal(second.output_text, 'Noted: saved');
  });

  test('a namespace tool is called by its own name with its namespace, and its output continues the turn', async () => {
    const ns = { type: 'namespace', name: 'agents', description: 'Sub-agents.', tools: [{ type: 'function', name: 'wait_agent', parameters: { type: 'object', properties: { id: { type: 'string' } } } }] } as unknown as OpenAI.Responses.Tool;
    const input: OpenAI.Responses.ResponseInputItem[] = [{ role: 'user', content: 'Wait. [[tool:wait_agent:{"id":"a1"}]] [[after-tool:Waited:]]' }];
    const first = await openai.responses.create({ model: 'sonnet', input, tools: [ns] });
    const call = first.output.find((o) => o.type === 'function_call') as OpenAI.Responses.ResponseFunctionToolCall;
    assert.equal(call.name, 'wait_agent');
    assert.equal(call.namespace, 'agents');
    assert.deepEqual(JSON.parse(call.arguments), { id: 'a1' });
    input.push(call, { type: 'function_call_output', call_id: call.call_id, output: 'a1 finished' });
    const second = await openai.responses.create({ model: 'sonnet', input, tools: [ns] });
    assert.equal(second.output_text, 'Waited: a1 finished');
  });
});

describe('reasoning encrypted_content', () => {
  test('signed thinking comes back in encrypted_content and is restored when the history is imported', async () => {
    const include: OpenAI.Responses.ResponseIncludable[] = ['reasoning.encrypted_content'];
    const first = await openai.responses.create({ model: 'sonnet', input: 'Think. [[thinking:A careful thought.]] [[reply:Thought.]]', include, store: false });
    const reasoning = first.output.find((o) => o.type === 'reasoning') as OpenAI.Responses.ResponseReasoningItem;
    assert.ok(reasoning.encrypted_content?.startsWith('ccg1.'), 'the envelope');
    assert.equal(reasoning.summary[0]?.text, 'A careful thought.');
    const plain = await openai.responses.create({ model: 'sonnet', input: 'Think. [[thinking:Unasked.]] [[reply:Ok.]]', store: false });
    assert.equal((plain.output.find((o) => o.type === 'reasoning') as OpenAI.Responses.ResponseReasoningItem).encrypted_content, undefined);

    // A history the gateway has no session for (the answer was edited) is imported: the signed
    // thinking it handed out goes back to the API; thinking it never signed does not.
    const history = (r: OpenAI.Responses.ResponseReasoningItem): OpenAI.Responses.ResponseInputItem[] => [
      { role: 'user', content: 'Think. [[thinking:A careful thought.]] [[reply:Thought.]]' },
      r,
      { role: 'assistant', content: 'Thought, edited.' },
      { role: 'user', content: '[[reply:Next.]]' },
    ];
    const before = modelCalls().length;
    const next = await openai.responses.create({ model: 'sonnet', input: history(reasoning), include, store: false });
    assert.equal(next.output_text, 'Next.');
    const thinkingSent = () => modelCalls().slice(before).flatMap((r) => r.body.messages.flatMap((m: any) => (Array.isArray(m.content) ? m.content : []).filter((b: any) => b.type === 'thinking')));
    assert.ok(thinkingSent().some((b: any) => b.thinking === 'A careful thought.' && /^sig_fake_/.test(b.signature)), 'the signed thinking was restored');

    const forged = { ...reasoning, encrypted_content: 'ccg1.' + Buffer.from(JSON.stringify({ thinking: 'Forged.', signature: 'sig_forged' })).toString('base64url') };
    const mark = modelCalls().length;
    await openai.responses.create({ model: 'sonnet', input: history(forged).map((i, n) => (n === 2 ? { role: 'assistant' as const, content: 'Edited again.' } : i)), include, store: false });
    const sent = modelCalls().slice(mark).flatMap((r) => r.body.messages.flatMap((m: any) => (Array.isArray(m.content) ? m.content : []).filter((b: any) => b.type === 'thinking')));
    assert.equal(sent.length, 0, 'thinking the gateway never signed is not sent');
  });
});

describe('bad input', () => {
  const rejects400 = (p: Promise<unknown>, param: RegExp, message: RegExp) =>
    assert.rejects(p, (e: any) => e instanceof OpenAI.APIError && e.status === 400 && (e.error as any)?.type === 'invalid_request_error' && param.test(String(e.param)) && message.test(e.message));

  test('malformed custom tools and grammars, unknown types, unknown call ids and damaged reasoning are 400s', async () => {
    const create = (body: Record<string, unknown>) => openai.responses.create({ model: 'sonnet', input: 'x', ...body } as never);
    await rejects400(create({ tools: [{ type: 'custom', name: 'p', format: { type: 'grammar', syntax: 'ebnf', definition: 'x' } }] }), /^tools\.0\.format\.syntax$/, /grammar syntax 'ebnf'/);
    await rejects400(create({ tools: [{ type: 'custom', name: 'p', format: { type: 'grammar', syntax: 'lark', definition: 'rule: "x"' } }] }), /^tools\.0\.format\.definition$/, /no 'start' rule/);
    await rejects400(create({ tools: [{ type: 'custom', name: 'p', format: { type: 'grammar', syntax: 'regex', definition: '([a-z' } }] }), /^tools\.0\.format\.definition$/, /does not compile/);
    await rejects400(create({ tools: [{ type: 'custom', name: 'bad name!' }] }), /^tools\.0\.name$/, /Invalid tool name/);
    await rejects400(create({ tools: [{ type: 'hologram' }] }), /^tools\.0\.type$/, /Unsupported tool type 'hologram'/);
    await rejects400(create({ input: [{ role: 'user', content: 'x' }, { type: 'hologram_call', id: 'h1' }] }), /^input\.1\.type$/, /Unsupported input item type 'hologram_call'/);
    await rejects400(
      create({ tools: [{ type: 'custom', name: 'note' }], input: [{ role: 'user', content: 'x' }, { type: 'custom_tool_call_output', call_id: 'call_nobody', output: 'orphan' }] }),
      /^messages\.\d+$/,
      /No tool call with id 'call_nobody' precedes its result/,
    );
    await rejects400(
      create({ input: [{ role: 'user', content: 'x' }, { type: 'reasoning', id: 'rs_x', summary: [], encrypted_content: 'ccg1.@@@' }, { role: 'assistant', content: 'y' }, { role: 'user', content: 'z' }] }),
      /^input\.1\.encrypted_content$/,
      /damaged/,
    );
    // Reasoning from elsewhere (opaque to the gateway) is accepted, its summary standing in.
    const ok = await create({ input: [{ role: 'user', content: 'x' }, { type: 'reasoning', id: 'rs_o', summary: [{ type: 'summary_text', text: 's' }], encrypted_content: 'gAAAAopaque' }, { role: 'assistant', content: 'y' }, { role: 'user', content: '[[reply:still here]]' }] });
    assert.equal((ok as OpenAI.Responses.Response).output_text, 'still here');
  });
});
