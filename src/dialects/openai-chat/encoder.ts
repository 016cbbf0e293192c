// TurnEvents -> Chat Completions: one completion object, or chunks for streaming.
import type { StopReason, Turn, TurnEvent, Usage } from '../../engine/types.js';

export function finishReason(r: StopReason): string {
  switch (r) {
    case 'max_tokens':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'refusal':
      return 'content_filter';
    default:
      return 'stop';
  }
}

export function chatUsage(u: Usage, costUsd: number) {
  // OpenAI's prompt_tokens include cached ones; Anthropic counts them apart.
  const prompt = u.inputTokens + u.cacheReadTokens + u.cacheCreationTokens;
  return {
    prompt_tokens: prompt,
    completion_tokens: u.outputTokens,
    total_tokens: prompt + u.outputTokens,
    prompt_tokens_details: { cached_tokens: u.cacheReadTokens },
    completion_tokens_details: { reasoning_tokens: 0 },
    /** Extension: what the turn cost in USD as Claude Code reckons it (0 when unknown). */
    cost_usd: costUsd,
  };
}

/** Collects a whole turn into a chat.completion object. */
export async function collectCompletion(turn: Turn, events: AsyncIterable<TurnEvent>) {
  let text = '';
  let reasoning = '';
  let done: Extract<TurnEvent, { type: 'done' }> | undefined;
  const calls = new Map<number, { id: string; type: 'function'; function: { name: string; arguments: string } }>();
  for await (const ev of events) {
    if (ev.type === 'text_delta') text += ev.text;
    else if (ev.type === 'thinking_delta') reasoning += ev.text;
    else if (ev.type === 'block_start' && ev.block.type === 'tool_use') calls.set(ev.index, { id: ev.block.id, type: 'function', function: { name: ev.block.name, arguments: '' } });
    else if (ev.type === 'tool_input_delta') {
      const call = calls.get(ev.index);
      if (call) call.function.arguments += ev.json;
    } else if (ev.type === 'done') done = ev;
  }
  // As OpenAI does: a message that only calls tools has null content.
  const message: Record<string, unknown> = { role: 'assistant', content: text || (calls.size ? null : ''), refusal: null };
  if (calls.size) message.tool_calls = [...calls.values()].map((c) => ({ ...c, function: { ...c.function, arguments: c.function.arguments || '{}' } }));
  if (reasoning) message.reasoning_content = reasoning;
  return {
    id: `chatcmpl-${turn.id}`,
    object: 'chat.completion',
    created: turn.created,
    model: turn.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: finishReason(done!.stopReason) }],
    usage: chatUsage(done!.usage, done!.costUsd),
    system_fingerprint: null,
  };
}

/** Renders streaming chunks; each call returns the `data:` payloads for one event. */
export class ChunkEncoder {
  private readonly base;
  constructor(
    turn: Turn,
    private readonly includeUsage: boolean,
  ) {
    this.base = { id: `chatcmpl-${turn.id}`, object: 'chat.completion.chunk', created: turn.created, model: turn.model, system_fingerprint: null };
  }

  private chunk(delta: Record<string, unknown>, finish: string | null = null) {
    const c: Record<string, unknown> = { ...this.base, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] };
    if (this.includeUsage) c.usage = null;
    return c;
  }

  start() {
    return [this.chunk({ role: 'assistant', content: '' })];
  }

  /** Event block index -> position in tool_calls (streamed as indexed deltas). */
  private readonly toolIndex = new Map<number, number>();

  encode(ev: TurnEvent): object[] {
    switch (ev.type) {
      case 'text_delta':
        return ev.text ? [this.chunk({ content: ev.text })] : [];
      case 'thinking_delta':
        return ev.text ? [this.chunk({ reasoning_content: ev.text })] : [];
      case 'block_start': {
        if (ev.block.type !== 'tool_use') return [];
        const index = this.toolIndex.size;
        this.toolIndex.set(ev.index, index);
        return [this.chunk({ tool_calls: [{ index, id: ev.block.id, type: 'function', function: { name: ev.block.name, arguments: '' } }] })];
      }
      case 'tool_input_delta': {
        const index = this.toolIndex.get(ev.index);
        return index === undefined || !ev.json ? [] : [this.chunk({ tool_calls: [{ index, function: { arguments: ev.json } }] })];
      }
      case 'done': {
        const out: object[] = [this.chunk({}, finishReason(ev.stopReason))];
        if (this.includeUsage) out.push({ ...this.base, choices: [], usage: chatUsage(ev.usage, ev.costUsd) });
        return out;
      }
      default:
        return [];
    }
  }
}
