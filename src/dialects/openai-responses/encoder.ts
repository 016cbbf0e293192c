// TurnEvents -> Responses. One encoder serves both forms: streaming sends every event it returns;
// non-streaming runs the same encoder and answers with the final response object. Text blocks become
// `message` items, thinking blocks `reasoning` items with summary text (what OpenAI clients show as
// reasoning; with `include: ["reasoning.encrypted_content"]` also the signed thinking, see
// reasoning.ts), client tool calls `function_call` items (with their namespace, for a namespace's
// tools) and `custom_tool_call` items with raw text for custom tools. Only event types openai-node
// knows are sent.
import type { Turn, TurnEvent, Usage } from '../../engine/types.js';
import type { GatewayError } from '../../errors.js';
import { CustomInputStream } from './custom-input.js';
import { INCLUDE_ENCRYPTED, sealThinking } from './reasoning.js';
import type { ResponsesRequest } from './schema.js';
import { toolCatalog, type ToolOrigin } from './tools.js';

type Item = Record<string, unknown> & { id: string; type: string };
type Event = Record<string, unknown> & { type: string; sequence_number: number };

interface OpenBlock {
  kind: 'text' | 'thinking' | 'tool_use' | 'custom';
  outputIndex: number;
  item: Item;
  buffer: string;
  signature?: string;
  /** A custom tool call's raw text, decoded as its JSON arrives. */
  custom?: CustomInputStream;
}

export function responsesUsage(u: Usage) {
  // OpenAI's input_tokens include cached ones; Anthropic counts them apart.
  const input = u.inputTokens + u.cacheReadTokens + u.cacheCreationTokens;
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: u.cacheReadTokens },
    output_tokens: u.outputTokens,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: input + u.outputTokens,
  };
}

export class ResponsesEncoder {
  private seq = 0;
  private readonly output: Item[] = [];
  private readonly open = new Map<number, OpenBlock>();
  private readonly id: string;
  /** The client's tools by the name the model calls them (namespaced and custom ones map back). */
  private readonly origins: Map<string, ToolOrigin>;
  /** Whether reasoning items carry the signed thinking. */
  private readonly encrypted: boolean;
  /** The final response object, once the turn is over. */
  final: Record<string, unknown> | undefined;

  constructor(
    private readonly turn: Turn,
    private readonly req: ResponsesRequest,
  ) {
    this.id = `resp_${turn.id}`;
    this.origins = toolCatalog(req.tools).origins;
    this.encrypted = !!req.include?.includes(INCLUDE_ENCRYPTED);
  }

  private snapshot(status: string, extra: Record<string, unknown> = {}) {
    const r = this.req;
    return {
      id: this.id,
      object: 'response',
      created_at: this.turn.created,
      status,
      background: false,
      error: null,
      incomplete_details: null,
      instructions: r.instructions ?? null,
      max_output_tokens: r.max_output_tokens ?? null,
      metadata: r.metadata ?? {},
      model: this.turn.model,
      output: this.output.map((i) => structuredClone(i)),
      parallel_tool_calls: r.parallel_tool_calls ?? true,
      previous_response_id: r.previous_response_id ?? null,
      reasoning: { effort: r.reasoning?.effort ?? null, summary: r.reasoning?.summary ?? null },
      service_tier: 'default',
      store: r.store !== false,
      temperature: r.temperature ?? 1,
      text: { format: r.text?.format ?? { type: 'text' } },
      tool_choice: r.tool_choice ?? 'auto',
      tools: r.tools ?? [],
      top_p: r.top_p ?? 1,
      truncation: 'disabled',
      usage: null,
      user: r.user ?? null,
      ...extra,
    };
  }

  private ev(type: string, data: Record<string, unknown>): Event {
    return { type, sequence_number: this.seq++, ...data };
  }

  start(): Event[] {
    return [this.ev('response.created', { response: this.snapshot('in_progress') }), this.ev('response.in_progress', { response: this.snapshot('in_progress') })];
  }

  encode(e: TurnEvent): Event[] {
    if (e.type === 'done') return this.finish(e);
    if (e.type === 'usage') return [];
    if (e.type === 'block_start') return this.startBlock(e.index, e.block);
    const b = this.open.get(e.index);
    if (!b) return [];
    const item_id = b.item.id;
    const output_index = b.outputIndex;
    switch (e.type) {
      case 'block_stop':
        return this.stopBlock(e.index);
      case 'text_delta':
        if (b.kind !== 'text' || !e.text) return [];
        b.buffer += e.text;
        return [this.ev('response.output_text.delta', { item_id, output_index, content_index: 0, delta: e.text, logprobs: [] })];
      case 'thinking_delta':
        if (b.kind !== 'thinking' || !e.text) return [];
        b.buffer += e.text;
        return [this.ev('response.reasoning_summary_text.delta', { item_id, output_index, summary_index: 0, delta: e.text })];
      case 'tool_input_delta': {
        if (b.kind === 'custom') {
          const delta = b.custom!.push(e.json);
          return delta ? [this.ev('response.custom_tool_call_input.delta', { item_id, output_index, delta })] : [];
        }
        if (b.kind !== 'tool_use') return [];
        b.buffer += e.json;
        return [this.ev('response.function_call_arguments.delta', { item_id, output_index, delta: e.json })];
      }
      case 'signature_delta':
        // Kept for encrypted_content; Anthropic's signature as such means nothing to an OpenAI client.
        if (b.kind === 'thinking') b.signature = (b.signature ?? '') + e.signature;
        return [];
    }
  }

  private startBlock(index: number, block: Extract<TurnEvent, { type: 'block_start' }>['block']): Event[] {
    const output_index = this.output.length;
    const n = `${this.turn.id}_${output_index}`;
    let item: Item;
    let kind: OpenBlock['kind'] = block.type;
    const events: Event[] = [];
    if (block.type === 'text') item = { id: `msg_${n}`, type: 'message', status: 'in_progress', role: 'assistant', content: [] };
    else if (block.type === 'thinking') item = { id: `rs_${n}`, type: 'reasoning', summary: [] };
    else {
      const origin = this.origins.get(block.name) ?? { kind: 'function', name: block.name };
      const namespace = origin.namespace ? { namespace: origin.namespace } : {};
      if (origin.kind === 'custom') {
        kind = 'custom';
        item = { id: `ctc_${n}`, type: 'custom_tool_call', status: 'in_progress', call_id: block.id, name: origin.name, ...namespace, input: '' };
      } else item = { id: `fc_${n}`, type: 'function_call', status: 'in_progress', call_id: block.id, name: origin.name, ...namespace, arguments: '' };
    }
    this.output.push(item);
    this.open.set(index, { kind, outputIndex: output_index, item, buffer: '', custom: kind === 'custom' ? new CustomInputStream() : undefined });
    events.push(this.ev('response.output_item.added', { output_index, item: structuredClone(item) }));
    if (block.type === 'text') {
      events.push(this.ev('response.content_part.added', { item_id: item.id, output_index, content_index: 0, part: { type: 'output_text', text: '', annotations: [], logprobs: [] } }));
    } else if (block.type === 'thinking') {
      events.push(this.ev('response.reasoning_summary_part.added', { item_id: item.id, output_index, summary_index: 0, part: { type: 'summary_text', text: '' } }));
    }
    return events;
  }

  private stopBlock(index: number): Event[] {
    const b = this.open.get(index)!;
    this.open.delete(index);
    const item_id = b.item.id;
    const output_index = b.outputIndex;
    const events: Event[] = [];
    if (b.kind === 'text') {
      const part = { type: 'output_text', text: b.buffer, annotations: [], logprobs: [] };
      events.push(this.ev('response.output_text.done', { item_id, output_index, content_index: 0, text: b.buffer, logprobs: [] }));
      events.push(this.ev('response.content_part.done', { item_id, output_index, content_index: 0, part }));
      Object.assign(b.item, { status: 'completed', content: [part] });
    } else if (b.kind === 'thinking') {
      const part = { type: 'summary_text', text: b.buffer };
      events.push(this.ev('response.reasoning_summary_text.done', { item_id, output_index, summary_index: 0, text: b.buffer }));
      events.push(this.ev('response.reasoning_summary_part.done', { item_id, output_index, summary_index: 0, part }));
      Object.assign(b.item, { summary: [part] });
      // Unsigned thinking could never go back to the API: nothing to carry.
      if (this.encrypted && b.signature) b.item.encrypted_content = sealThinking({ thinking: b.buffer, signature: b.signature });
    } else if (b.kind === 'custom') {
      const { text, rest } = b.custom!.finish();
      if (rest) events.push(this.ev('response.custom_tool_call_input.delta', { item_id, output_index, delta: rest }));
      events.push(this.ev('response.custom_tool_call_input.done', { item_id, output_index, input: text }));
      Object.assign(b.item, { status: 'completed', input: text });
    } else {
      const args = b.buffer.trim() ? b.buffer : '{}';
      events.push(this.ev('response.function_call_arguments.done', { item_id, output_index, name: b.item.name, arguments: args }));
      Object.assign(b.item, { status: 'completed', arguments: args });
    }
    events.push(this.ev('response.output_item.done', { output_index, item: structuredClone(b.item) }));
    return events;
  }

  private finish(done: Extract<TurnEvent, { type: 'done' }>): Event[] {
    const events = [...this.open.keys()].flatMap((i) => this.stopBlock(i));
    const truncated = done.stopReason === 'max_tokens';
    this.final = this.snapshot(truncated ? 'incomplete' : 'completed', {
      incomplete_details: truncated ? { reason: 'max_output_tokens' } : null,
      usage: responsesUsage(done.usage),
    });
    events.push(this.ev(truncated ? 'response.incomplete' : 'response.completed', { response: this.final }));
    return events;
  }

  /** A failure after the stream began: the response ends as failed. */
  fail(err: GatewayError): Event[] {
    const code = err.status === 429 ? 'rate_limit_exceeded' : err.status >= 500 ? 'server_error' : (err.extra.code ?? 'invalid_request');
    return [this.ev('response.failed', { response: this.snapshot('failed', { error: { code, message: err.message } }) })];
  }
}

/** Runs a whole turn through the encoder and returns the final response (non-streaming). */
export async function collectResponse(turn: Turn, req: ResponsesRequest) {
  const enc = new ResponsesEncoder(turn, req);
  enc.start();
  for await (const ev of turn.events) {
    enc.encode(ev);
    if (ev.type === 'done') break;
  }
  return enc.final!;
}
